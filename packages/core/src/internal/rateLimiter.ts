import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type { Destination } from "../Destination.js"
import * as DestinationKey from "../Destination.js"
import type { OperationQuotas } from "../Limits.js"
import { Limits } from "../Limits.js"
import type { Operation, Options, UploadRateLimiterShape } from "../UploadRateLimiter.js"

/**
 * A token bucket on the Clock that hands out reservations: a request takes a token at once, going into
 * debt when there is none, and waits until the debt is paid back by the refill. Waiters are therefore
 * served first come, first served, and a rate change applies to the debt from then on.
 *
 * @internal
 */
export interface Bucket {
  /** The configured rate (requests per second), the ceiling of `rate`. */
  readonly quota: number
  /** The allowed rate now. */
  rate: number
  /** Tokens at most (the burst). */
  readonly capacity: number
  /** Tokens now; negative when requests wait. */
  tokens: number
  /** When `tokens` was last brought up to date (ms on the monotonic clock, `monotonicMillis`). */
  last: number
  /** When the rate was last lowered (ms on the monotonic clock). */
  lastDecrease: number
}

/** @internal */
export interface Tuning {
  readonly decreaseFactor: number
  readonly increaseFraction: number
  readonly minFraction: number
  /** Throttling signals within this time of a decrease are one congestion event (ms). */
  readonly decreaseCooldownMillis: number
}

const MIN_RATE = 0.2

/** Streams' buckets kept before the first sweep of those back to full. */
const MIN_SWEEP = 1024

/** @internal */
export const makeBucket = (quota: number, capacity: number, now: number): Bucket => ({
  quota,
  rate: quota,
  capacity: Math.max(1, capacity),
  tokens: Math.max(1, capacity),
  last: now,
  lastDecrease: Number.NEGATIVE_INFINITY
})

/** Brings `tokens` up to `now`. A time before `last` (a clock that went back) refills nothing and is the new base. */
const refill = (bucket: Bucket, now: number): void => {
  if (now > bucket.last) {
    bucket.tokens = Math.min(bucket.capacity, bucket.tokens + ((now - bucket.last) * bucket.rate) / 1000)
  } else if (now < bucket.lastDecrease) {
    bucket.lastDecrease = now
  }
  bucket.last = now
}

/**
 * Takes one token; answers how long (ms) the caller must wait before it may start.
 *
 * @internal
 */
export const reserve = (bucket: Bucket, now: number): number => {
  refill(bucket, now)
  bucket.tokens -= 1
  if (bucket.tokens >= -1e-9) return 0
  return Math.ceil((-bucket.tokens * 1000) / bucket.rate)
}

/**
 * Gives back the token of a reservation that was never used (its holder gave up while it waited): the
 * debt it added goes. Waiters already queued keep their times, so a request made next may start with the
 * last of them (a burst of one, within the bucket's capacity).
 *
 * @internal
 */
export const giveBack = (bucket: Bucket, now: number): void => {
  refill(bucket, now)
  bucket.tokens = Math.min(bucket.capacity, bucket.tokens + 1)
}

/** @internal */
export const decrease = (bucket: Bucket, now: number, tuning: Tuning): void => {
  refill(bucket, now)
  if (now - bucket.lastDecrease < tuning.decreaseCooldownMillis) return
  bucket.lastDecrease = now
  const floor = Math.min(bucket.quota, Math.max(MIN_RATE, bucket.quota * tuning.minFraction))
  bucket.rate = Math.max(floor, bucket.rate * tuning.decreaseFactor)
  // what was saved up before the service pushed back is not to be spent at once
  bucket.tokens = Math.min(bucket.tokens, 0)
}

/** @internal */
export const increase = (bucket: Bucket, now: number, tuning: Tuning): void => {
  refill(bucket, now)
  bucket.rate = Math.min(bucket.quota, bucket.rate + bucket.quota * tuning.increaseFraction)
}

const limited = (quota: number | null | undefined): quota is number =>
  quota !== null && quota !== undefined && Number.isFinite(quota) && quota > 0

const OPERATIONS: ReadonlyArray<Operation> = [
  "putLogEvents",
  "describeLogStreams",
  "createLogStream",
  "createLogGroup",
  "putRetentionPolicy",
  "getLogEvents"
]

/**
 * What is wrong with the options, if anything: a quota must be more than zero (`Infinity`, or `null`
 * per stream, for none: zero is no quota of "none"), the burst more than zero, `decreaseFactor` in
 * (0, 1), `increaseFraction` in (0, 1], `minFraction` in [0, 1]. Out of those ranges a throttle would
 * raise the rate, a success lower it to nothing, or a quota of zero lift every limit.
 *
 * @internal
 */
export const invalidOptions = (
  options: Options & { readonly quotas?: Partial<OperationQuotas> | undefined }
): string | undefined => {
  const positive = (x: number) => x > 0
  const checks: ReadonlyArray<readonly [string, number | null | undefined, (x: number) => boolean, string]> = [
    ...OPERATIONS.map((op) => [`quotas.${op}`, options.quotas?.[op], positive, "more than zero"] as const),
    ["perStreamPutsPerSecond", options.perStreamPutsPerSecond, positive, "more than zero, or null for none"],
    ["burstSeconds", options.burstSeconds, (x) => x > 0 && Number.isFinite(x), "more than zero"],
    ["decreaseFactor", options.decreaseFactor, (x) => x > 0 && x < 1, "between 0 and 1 (both excluded)"],
    ["increaseFraction", options.increaseFraction, (x) => x > 0 && x <= 1, "more than 0 and at most 1"],
    ["minFraction", options.minFraction, (x) => x >= 0 && x <= 1, "between 0 and 1"]
  ]
  for (const [name, value, valid, range] of checks) {
    if (value !== undefined && value !== null && !valid(value)) return `${name} must be ${range} (got ${value})`
  }
  return undefined
}

/** @internal */
export const make = (
  options: Options & { readonly quotas: OperationQuotas; readonly perStreamPutsPerSecond: number | null }
): Effect.Effect<UploadRateLimiterShape> =>
  Effect.suspend(() => {
    const invalid = invalidOptions(options)
    return invalid === undefined ? makeValid(options) : Effect.dieMessage(`cwlogs: UploadRateLimiter: ${invalid}`)
  })

/**
 * Milliseconds on the monotonic clock (Effect's nanoseconds: `process.hrtime` in Node, the TestClock's time
 * in tests): a wall clock set back (NTP) would stop the refills until it caught up.
 *
 * @internal
 */
export const monotonicMillis: Effect.Effect<number> = Effect.clockWith((clock) =>
  // `unsafeCurrentTimeNanos`, not `currentTimeNanos`: the TestClock's `currentTimeNanos` throws once its
  // time is a fraction of a millisecond (after a jittered sleep), where this one rounds down
  Effect.sync(() => Number(clock.unsafeCurrentTimeNanos() / 1_000_000n))
)

const makeValid = (
  options: Options & { readonly quotas: OperationQuotas; readonly perStreamPutsPerSecond: number | null }
): Effect.Effect<UploadRateLimiterShape> =>
  Effect.map(monotonicMillis, (start): UploadRateLimiterShape => {
    const tuning: Tuning = {
      decreaseFactor: options.decreaseFactor ?? 0.5,
      increaseFraction: options.increaseFraction ?? 0.05,
      minFraction: options.minFraction ?? 0.01,
      decreaseCooldownMillis: 1000
    }
    const burstSeconds = options.burstSeconds ?? 1
    const account = new Map<Operation, Bucket>()
    for (const operation of OPERATIONS) {
      const quota = options.quotas[operation]
      if (limited(quota)) account.set(operation, makeBucket(quota, quota * burstSeconds, start))
    }
    const perStream = options.perStreamPutsPerSecond
    const streams = new Map<string, Bucket>()
    /** The number of streams' buckets at which the next sweep is due (twice what the last one kept). */
    let sweepAt = MIN_SWEEP
    /**
     * Forgets the buckets back to full at the full rate: such a bucket is the same as none, and a process
     * writing to ever new streams (a routed sink, the streams of a day) would keep one for each for ever.
     * Amortised: due when the map has doubled since the last sweep.
     */
    const sweep = (now: number): void => {
      for (const [k, bucket] of streams) {
        refill(bucket, now)
        if (bucket.tokens >= bucket.capacity && bucket.rate >= bucket.quota) streams.delete(k)
      }
      sweepAt = Math.max(MIN_SWEEP, streams.size * 2)
    }
    const streamBucket = (destination: Destination, operation: Operation, now: number): Bucket | undefined => {
      if (operation !== "putLogEvents" || !limited(perStream)) return undefined
      const k = DestinationKey.key(destination)
      let bucket = streams.get(k)
      if (bucket === undefined) {
        if (streams.size >= sweepAt) sweep(now)
        // one request at a time: at most `perStream` starts in any second
        bucket = makeBucket(perStream, 1, now)
        streams.set(k, bucket)
      }
      return bucket
    }
    /**
     * Waits `millis` for a reservation of `bucket`, interruptibly (`restore`); given up, the reservation is
     * given back. Run in an uninterruptible region, so nothing comes between the reservation and this.
     */
    const hold = (
      restore: <A>(effect: Effect.Effect<A>) => Effect.Effect<A>,
      bucket: Bucket,
      millis: number
    ): Effect.Effect<void> =>
      millis > 0
        ? Effect.onInterrupt(
          restore(Effect.sleep(Duration.millis(millis))),
          () => Effect.map(monotonicMillis, (now) => giveBack(bucket, now))
        )
        : Effect.void
    const acquire = (destination: Destination, operation: Operation): Effect.Effect<void> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(monotonicMillis, (now) => {
          const stream = streamBucket(destination, operation, now)
          const accountStage = Effect.flatMap(monotonicMillis, (later) => {
            const bucket = account.get(operation)
            return bucket === undefined ? Effect.void : hold(restore, bucket, reserve(bucket, later))
          })
          // given up while it waits for the account, the request gives its stream's token back too: the
          // put never went out
          return stream === undefined
            ? accountStage
            : Effect.zipRight(
              hold(restore, stream, reserve(stream, now)),
              Effect.onInterrupt(accountStage, () => Effect.map(monotonicMillis, (at) => giveBack(stream, at)))
            )
        })
      )
    const signal =
      (f: (bucket: Bucket, now: number, tuning: Tuning) => void) =>
      (destination: Destination, operation: Operation): Effect.Effect<void> =>
        Effect.flatMap(monotonicMillis, (now) =>
          Effect.sync(() => {
            const bucket = account.get(operation)
            if (bucket !== undefined) f(bucket, now, tuning)
            const stream = streamBucket(destination, operation, now)
            if (stream !== undefined) f(stream, now, tuning)
          }))
    return {
      withPermit: (destination, operation) => (effect) => Effect.zipRight(acquire(destination, operation), effect),
      throttled: signal(decrease),
      succeeded: signal(increase),
      currentRate: (operation) => Effect.sync(() => account.get(operation)?.rate ?? Number.POSITIVE_INFINITY),
      currentStreamRate: (destination) =>
        Effect.sync(() =>
          streams.get(DestinationKey.key(destination))?.rate ??
            (limited(perStream) ? perStream : Number.POSITIVE_INFINITY)
        )
    }
  })

/** @internal */
export const fromLimits = (options: Options): Effect.Effect<UploadRateLimiterShape> =>
  Effect.flatMap(Limits, (limits) =>
    make({
      ...options,
      quotas: { ...limits.quotas, ...definedQuotas(options.quotas) },
      perStreamPutsPerSecond: options.perStreamPutsPerSecond === undefined
        ? limits.perStreamPutsPerSecond ?? null
        : options.perStreamPutsPerSecond
    }))

const definedQuotas = (quotas: Partial<OperationQuotas> | undefined): Partial<OperationQuotas> => {
  const out: { -readonly [K in Operation]?: number } = {}
  if (quotas === undefined) return out
  for (const operation of OPERATIONS) {
    const q = quotas[operation]
    if (q !== undefined) out[operation] = q
  }
  return out
}

/** @internal */
export const unlimited: UploadRateLimiterShape = {
  withPermit: () => (effect) => effect,
  throttled: () => Effect.void,
  succeeded: () => Effect.void,
  currentRate: () => Effect.succeed(Number.POSITIVE_INFINITY),
  currentStreamRate: () => Effect.succeed(Number.POSITIVE_INFINITY)
}
