import * as Schedule from "effect/Schedule"
import type { BackoffOptions, ConfigOptions, RetryPolicyShape, RetrySchedule } from "../RetryPolicy.js"

/** @internal */
export const backoff = (options: BackoffOptions): RetrySchedule => {
  const exponential = Schedule.exponential(options.base, options.factor ?? 2)
  const jittered = options.jitter === false ? exponential : Schedule.jittered(exponential)
  return jittered.pipe(
    Schedule.union(Schedule.spaced(options.cap)),
    Schedule.intersect(Schedule.recurs(Math.max(0, options.retries)))
  )
}

/** @internal */
export const immediateThen = (immediate: number, then: RetrySchedule): RetrySchedule =>
  immediate <= 0 ? then : Schedule.andThen(Schedule.recurs(immediate), then)

/** @internal */
export const defaults: RetryPolicyShape = {
  token: immediateThen(3, backoff({ base: "50 millis", cap: "2 seconds", retries: 7 })),
  transient: backoff({ base: "100 millis", cap: "10 seconds", retries: 8 }),
  throttled: backoff({ base: "500 millis", cap: "30 seconds", retries: 10 }),
  // at once after creating; then a short backoff, as a new stream may take a moment to be visible
  notFound: immediateThen(1, backoff({ base: "200 millis", cap: "2 seconds", retries: 3 }))
}

/** @internal */
export const none: RetryPolicyShape = {
  token: Schedule.stop,
  transient: Schedule.stop,
  throttled: Schedule.stop,
  notFound: Schedule.stop
}

/** @internal */
export const fromConfigOptions = (options: ConfigOptions): RetryPolicyShape => {
  const token = options.token === undefined && options.tokenImmediateRetries === undefined
    ? defaults.token
    : immediateThen(
      options.tokenImmediateRetries ?? 3,
      backoff(options.token ?? { base: "50 millis", cap: "2 seconds", retries: 7 })
    )
  return {
    token,
    transient: options.transient === undefined ? defaults.transient : backoff(options.transient),
    throttled: options.throttled === undefined ? defaults.throttled : backoff(options.throttled),
    notFound: options.notFoundRetries === undefined ? defaults.notFound : Schedule.recurs(options.notFoundRetries)
  }
}
