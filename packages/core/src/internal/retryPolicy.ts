import * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"
import type {
  BackoffOptions,
  ConfigOptions,
  ContentionOptions,
  RetryPolicyShape,
  RetrySchedule
} from "../RetryPolicy.js"

/**
 * Capped first, then jittered: a delay at the cap is randomised too (jittered before the cap, every
 * writer throttled together waited exactly the cap, in lock-step).
 *
 * @internal
 */
export const backoff = (options: BackoffOptions): RetrySchedule => {
  const capped = Schedule.exponential(options.base, options.factor ?? 2).pipe(
    Schedule.union(Schedule.spaced(options.cap))
  )
  return (options.jitter === false ? capped : Schedule.jittered(capped)).pipe(
    Schedule.intersect(Schedule.recurs(Math.max(0, Math.floor(options.retries))))
  )
}

/** @internal */
export const immediateThen = (immediate: number, then: RetrySchedule): RetrySchedule =>
  immediate <= 0 ? then : Schedule.andThen(Schedule.recurs(immediate), then)

/** @internal */
export const contentionDefaults = {
  immediate: 1,
  base: Duration.millis(50),
  cap: Duration.seconds(2),
  budget: Duration.minutes(3)
} as const

/** @internal */
export const contention = (options: ContentionOptions = {}): RetrySchedule => {
  const cap = Duration.decode(options.cap ?? contentionDefaults.cap)
  // the nominal delay doubles per loss until the cap; the delay taken is uniform in 0..nominal
  const fullJitter = Schedule.exponential(options.base ?? contentionDefaults.base, 2).pipe(
    Schedule.union(Schedule.spaced(cap)),
    Schedule.jitteredWith({ min: 0, max: 1 }),
    // whole milliseconds, as the service's clock and timestamps are
    Schedule.modifyDelay((_, delay) => Duration.millis(Math.round(Duration.toMillis(delay))))
  )
  return immediateThen(Math.max(0, Math.floor(options.immediate ?? contentionDefaults.immediate)), fullJitter).pipe(
    Schedule.upTo(options.budget ?? contentionDefaults.budget)
  )
}

/**
 * Retries after a missing group or stream was created: the first at once, the rest on a short backoff
 * (a new stream may take a moment to be visible). `retries` in all, 4 by default.
 *
 * @internal
 */
export const notFound = (retries: number): RetrySchedule =>
  retries <= 0
    ? Schedule.stop
    : immediateThen(1, backoff({ base: "200 millis", cap: "2 seconds", retries: retries - 1 }))

/** @internal */
export const defaults: RetryPolicyShape = {
  token: contention(),
  transient: backoff({ base: "100 millis", cap: "10 seconds", retries: 8 }),
  throttled: backoff({ base: "500 millis", cap: "30 seconds", retries: 10 }),
  notFound: notFound(4)
}

/** @internal */
export const none: RetryPolicyShape = {
  token: Schedule.stop,
  transient: Schedule.stop,
  throttled: Schedule.stop,
  notFound: Schedule.stop
}

/** A count of retries: a whole number, 0 or more. */
const isCount = (n: number): boolean => Number.isInteger(n) && n >= 0

/**
 * What is wrong with options read from configuration, if anything: counts of retries must be whole
 * numbers, 0 or more, and a backoff's factor at least 1 (below 1 its delays would shrink).
 *
 * @internal
 */
export const invalidConfigOptions = (options: ConfigOptions): string | undefined => {
  const problems: Array<string> = []
  const count = (name: string, n: number | undefined) => {
    if (n !== undefined && !isCount(n)) problems.push(`${name} must be a whole number, 0 or more (got ${n})`)
  }
  count("tokenImmediateRetries", options.tokenImmediateRetries)
  count("notFoundRetries", options.notFoundRetries)
  for (const name of ["token", "transient", "throttled"] as const) {
    const b = options[name]
    if (b === undefined) continue
    count(`${name}.retries`, b.retries)
    if (b.factor !== undefined && !(b.factor >= 1)) problems.push(`${name}.factor must be 1 or more (got ${b.factor})`)
  }
  return problems.length === 0 ? undefined : `cwlogs: invalid retry policy: ${problems.join("; ")}`
}

/** @internal */
export const fromConfigOptions = (options: ConfigOptions): RetryPolicyShape => {
  const token = options.token !== undefined
    ? immediateThen(
      Math.max(0, Math.floor(options.tokenImmediateRetries ?? contentionDefaults.immediate)),
      backoff(options.token)
    )
    : options.tokenImmediateRetries === undefined && options.tokenRetryBudget === undefined
    ? defaults.token
    : contention({
      immediate: options.tokenImmediateRetries,
      budget: options.tokenRetryBudget
    })
  return {
    token,
    transient: options.transient === undefined ? defaults.transient : backoff(options.transient),
    throttled: options.throttled === undefined ? defaults.throttled : backoff(options.throttled),
    notFound: options.notFoundRetries === undefined ? defaults.notFound : notFound(Math.floor(options.notFoundRetries))
  }
}
