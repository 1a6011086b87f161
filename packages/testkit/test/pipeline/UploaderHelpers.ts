import {
  CloudWatchLogsApi,
  CloudWatchLogsError,
  type Destination,
  type LogEvent,
  RetryPolicy,
  SequenceTokenStore,
  Uploader,
  UploadRateLimiter
} from "@cwlogs/core"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"

export const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
export const G = "orders"
export const S = "api-1"

export interface Setup {
  readonly model?: TestCloudWatchLogs.Options | undefined
  readonly uploader?: Uploader.Options | undefined
  readonly limiter?: UploadRateLimiter.UploadRateLimiterShape | undefined
  readonly policy?: RetryPolicy.RetryPolicyShape | undefined
  readonly wrap?:
    | ((api: CloudWatchLogsApi.CloudWatchLogsApiShape) => CloudWatchLogsApi.CloudWatchLogsApiShape)
    | undefined
  /** Create the group and stream first (default true). */
  readonly create?: boolean | undefined
  /** The token store (default: a new one in memory). */
  readonly store?: SequenceTokenStore.SequenceTokenStoreShape | undefined
  /** Another uploader's service and token store, to share (a second writer in the same process). */
  readonly sharing?: Pick<Env, "model" | "store"> | undefined
}

export interface Env {
  readonly model: TestCloudWatchLogs.TestCloudWatchLogsShape
  readonly uploader: Uploader.UploaderShape
  readonly store: SequenceTokenStore.SequenceTokenStoreShape
}

/** A model, an uploader over it (through `wrap`), the clock at NOW. */
export const setup = (options: Setup = {}): Effect.Effect<Env> =>
  Effect.gen(function*() {
    yield* TestClock.setTime(NOW)
    const model = options.sharing?.model ?? (yield* TestCloudWatchLogs.make(options.model))
    if (options.create !== false && options.sharing === undefined) {
      yield* Effect.orDie(model.api.createLogGroup({ logGroupName: G }))
      yield* Effect.orDie(model.api.createLogStream({ logGroupName: G, logStreamName: S }))
    }
    const store = options.sharing?.store ?? options.store ?? (yield* SequenceTokenStore.makeMemory)
    const api = options.wrap === undefined ? model.api : options.wrap(model.api)
    const uploader = yield* Uploader.make(options.uploader).pipe(
      Effect.provide(
        Layer.mergeAll(
          Layer.succeed(CloudWatchLogsApi.CloudWatchLogsApi, api),
          Layer.succeed(SequenceTokenStore.SequenceTokenStore, store),
          Layer.succeed(UploadRateLimiter.UploadRateLimiter, options.limiter ?? UploadRateLimiter.unlimited),
          Layer.succeed(RetryPolicy.RetryPolicy, options.policy ?? RetryPolicy.defaults)
        )
      )
    )
    return { model, uploader, store }
  })

/** Runs `effect` in a fiber while moving the TestClock on in small steps, until it is done. */
export const settle = <A, E, R>(effect: Effect.Effect<A, E, R>, step = 50): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 100_000; i++) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) break
      yield* TestClock.adjust(step)
    }
    return yield* Fiber.join(fiber)
  })

export const batch = (prefix: string, n: number, at = NOW): ReadonlyArray<LogEvent.LogEvent> =>
  Array.from({ length: n }, (_, i) => ({ timestamp: at + i, message: `${prefix}-${i}` }))

export const dest = (options: Omit<Destination.Destination, "logGroupName" | "logStreamName"> = {}) => ({
  logGroupName: G,
  logStreamName: S,
  ...options
})

/** Token errors without the field (old SDKs: only the message carries the token). */
export const tokenOnlyInMessage = (
  api: CloudWatchLogsApi.CloudWatchLogsApiShape
): CloudWatchLogsApi.CloudWatchLogsApiShape => ({
  ...api,
  putLogEvents: (request) =>
    Effect.mapError(api.putLogEvents(request), (e) =>
      e._tag === "InvalidSequenceTokenException"
        ? new CloudWatchLogsError.InvalidSequenceTokenException({ message: e.message })
        : e)
})

/** Token errors that carry no token at all (a look-alike service). */
export const tokenNowhere = (
  api: CloudWatchLogsApi.CloudWatchLogsApiShape
): CloudWatchLogsApi.CloudWatchLogsApiShape => ({
  ...api,
  putLogEvents: (request) =>
    Effect.mapError(api.putLogEvents(request), (e) =>
      e._tag === "InvalidSequenceTokenException"
        ? new CloudWatchLogsError.InvalidSequenceTokenException({ message: "The given sequenceToken is invalid." })
        : e)
})

/** Counts PutLogEvents calls in flight at once (the largest number seen). */
export const inFlight = () => {
  let now = 0
  let max = 0
  const wrap = (api: CloudWatchLogsApi.CloudWatchLogsApiShape): CloudWatchLogsApi.CloudWatchLogsApiShape => ({
    ...api,
    putLogEvents: (request) =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          now++
          max = Math.max(max, now)
        }),
        () => api.putLogEvents(request),
        () => Effect.sync(() => now--)
      )
  })
  return { wrap, max: () => max }
}
