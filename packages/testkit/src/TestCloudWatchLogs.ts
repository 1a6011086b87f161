/**
 * An in-memory CloudWatch Logs: a faithful model of the service (both sequence-token generations, every
 * PutLogEvents rule with AWS's error names and messages, reads with paging, retention, per-account and
 * per-stream throttling) behind the `CloudWatchLogsApi` port, plus seeded fault injection and inspection
 * for tests. Time comes from Effect's `Clock`, so `TestClock` drives it.
 *
 * ```ts
 * const program = Effect.gen(function*() {
 *   const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
 *   yield* api.createLogGroup({ logGroupName: "orders" })
 *   yield* api.createLogStream({ logGroupName: "orders", logStreamName: "api-1" })
 *   const timestamp = yield* Clock.currentTimeMillis // the model's clock: 0 on a TestClock, now otherwise
 *   yield* api.putLogEvents({ logGroupName: "orders", logStreamName: "api-1", logEvents: [{ timestamp, message: "hi" }] })
 *   const stored = yield* TestCloudWatchLogs.events("orders", "api-1") // [{ timestamp, message: "hi", ingestionTime }]
 * }).pipe(Effect.provide(TestCloudWatchLogs.layer()))
 * ```
 *
 * For the HTTP emulator, `TestCloudWatchLogsShape.invoke` answers with an `Outcome` instead of failing,
 * so a server can tell "send this answer or error" from "drop the connection":
 * - `Answered`: send `value` (200)
 * - `Failed`: send `error` as the JSON error (`__type` = `error._tag`, `message`, `expectedSequenceToken`)
 * - `LostResponse`: the request WAS applied; drop the connection without answering
 * - `ConnectionReset`: nothing applied; drop the connection (RST)
 * - `ConnectionRefused`: the outage switch is on; refuse or close at once
 *
 * The in-memory `api` maps them to errors: `LostResponse` to a `ServiceUnavailableException` whose message
 * says the response was lost, `ConnectionReset` to `NetworkError` ("reset"), `ConnectionRefused` to
 * `NetworkError` ("refused").
 *
 * @since 0.1.0
 */
import type { CloudWatchLogsApi as Api, CloudWatchLogsError } from "@cwlogs/core"
import { CloudWatchLogsApi, Limits } from "@cwlogs/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as faults from "./internal/faults.js"
import type * as model from "./internal/model.js"
import * as internal from "./internal/testCloudWatchLogs.js"

/**
 * The operations of the service, by their AWS names.
 *
 * @since 0.1.0
 * @category models
 */
export type OperationName = faults.OperationName

/**
 * A fault to inject: `unavailable` (ServiceUnavailableException, 500, nothing stored), `throttle`
 * (ThrottlingException, nothing stored), `lostResponse` (the request is applied, then the answer is
 * lost), `reset` (the connection is reset, nothing stored), `competingWriter` (before the call, another
 * writer puts one event "competing-writer N" to the same stream, advancing its sequence token).
 *
 * @since 0.1.0
 * @category models
 */
export type FaultKind = faults.FaultKind

/**
 * Fault probabilities per call (each in [0, 1]; `unavailable`, `throttle`, `lostResponse` and `reset`
 * are exclusive, drawn in that order from one number), a latency added before answering (`latencyMillis`
 * plus a uniform `0..latencyJitterMillis`), and the operations they apply to (default: PutLogEvents).
 * Three numbers are drawn from the seeded PRNG for every call of a faulted operation, so a seed gives the
 * same sequence of faults whatever the probabilities.
 *
 * @since 0.1.0
 * @category models
 */
export type FaultOptions = faults.FaultOptions

/**
 * Counts of what a stream holds (kept in `discard` mode too).
 *
 * @since 0.1.0
 * @category models
 */
export type StreamStats = model.StreamStats

/**
 * DescribeLogGroups as the model takes it: the port's request plus `logGroupClass` (only groups of that
 * class) and `logGroupIdentifiers` (1 to 50 log group names, matched exactly; no other filter with them).
 * The HTTP emulator and `invoke` pass them on; the port (`api`) passes them on when the request carries them.
 *
 * @since 0.1.0
 * @category models
 */
export type DescribeLogGroupsRequest = model.DescribeLogGroupsRequest

/**
 * CreateLogGroup as the model takes it: the port's request plus `deletionProtectionEnabled` (while on,
 * DeleteLogGroup and DeleteLogStream of the group fail with `ValidationException`).
 *
 * @since 0.1.0
 * @category models
 */
export type CreateLogGroupRequest = model.CreateLogGroupRequest

/**
 * DescribeLogGroups as the model answers it: each group also reports `kmsKeyId` (when given at creation)
 * and `deletionProtectionEnabled`.
 *
 * @since 0.1.0
 * @category models
 */
export type DescribeLogGroupsResponse = model.DescribeLogGroupsResponse

/**
 * FilterLogEvents as the model takes it: the port's request plus `startFromHead` (`false`: latest events
 * first, only with a `startTime` on or after Jan 1, 2024 UTC; a `nextToken` keeps its direction).
 *
 * @since 0.1.0
 * @category models
 */
export type FilterLogEventsRequest = model.FilterLogEventsRequest

/**
 * How to build the model.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The token generation: `enforced` (legacy) or `ignored` (AWS today, the default). */
  readonly sequenceTokens?: "enforced" | "ignored" | undefined
  /** The limits enforced (default: the `Limits` reference in context, i.e. `Limits.current` unless provided). */
  readonly limits?: Limits.LimitsShape | undefined
  /** Per-account token buckets from `limits.quotas`, and the per-stream rate when set (default off). */
  readonly throttling?: boolean | undefined
  /** Faults injected from the start. */
  readonly faults?: FaultOptions | undefined
  /** Seed of the fault PRNG (default 1). */
  readonly seed?: number | undefined
  /** Count events and bytes per stream without keeping messages (benchmarks). */
  readonly discard?: boolean | undefined
  /** Keep a log of every call for `calls` (default: on, off in `discard` mode). Counts are always kept. */
  readonly recordCalls?: boolean | undefined
  readonly accountId?: string | undefined
  readonly region?: string | undefined
}

/**
 * One call the model received.
 *
 * @since 0.1.0
 * @category models
 */
export interface Call {
  readonly operation: OperationName
  readonly logGroupName?: string | undefined
  readonly logStreamName?: string | undefined
  /** `Answered`, `LostResponse`, `ConnectionReset`, `ConnectionRefused`, or the error's `_tag`. */
  readonly outcome: string
  /** Events sent (PutLogEvents), else 0. */
  readonly eventCount: number
  /** The sequence token sent (PutLogEvents). */
  readonly sequenceToken?: string | undefined
  /** The clock reading when the call arrived (epoch ms). */
  readonly time: number
}

/**
 * Request, response and error types of each operation.
 *
 * @since 0.1.0
 * @category models
 */
export interface Operations {
  readonly PutLogEvents: {
    readonly request: Api.PutLogEventsRequest
    readonly response: Api.PutLogEventsResponse
    readonly error: Api.PutLogEventsError
  }
  readonly CreateLogGroup: {
    readonly request: CreateLogGroupRequest
    readonly response: void
    readonly error: Api.CreateLogGroupError
  }
  readonly CreateLogStream: {
    readonly request: Api.CreateLogStreamRequest
    readonly response: void
    readonly error: Api.CreateLogStreamError
  }
  readonly DeleteLogGroup: {
    readonly request: Api.DeleteLogGroupRequest
    readonly response: void
    readonly error: Api.DeleteError
  }
  readonly DeleteLogStream: {
    readonly request: Api.DeleteLogStreamRequest
    readonly response: void
    readonly error: Api.DeleteError
  }
  readonly DescribeLogGroups: {
    readonly request: DescribeLogGroupsRequest
    readonly response: DescribeLogGroupsResponse
    readonly error: CloudWatchLogsError.CommonError
  }
  readonly DescribeLogStreams: {
    readonly request: Api.DescribeLogStreamsRequest
    readonly response: Api.DescribeLogStreamsResponse
    readonly error: Api.ReadError
  }
  readonly PutRetentionPolicy: {
    readonly request: Api.PutRetentionPolicyRequest
    readonly response: void
    readonly error: Api.PutRetentionPolicyError
  }
  readonly DeleteRetentionPolicy: {
    readonly request: Api.DeleteRetentionPolicyRequest
    readonly response: void
    readonly error: Api.DeleteError
  }
  readonly GetLogEvents: {
    readonly request: Api.GetLogEventsRequest
    readonly response: Api.GetLogEventsResponse
    readonly error: Api.ReadError
  }
  readonly FilterLogEvents: {
    readonly request: FilterLogEventsRequest
    readonly response: Api.FilterLogEventsResponse
    readonly error: Api.ReadError
  }
}

/**
 * What became of a call, for a transport (see the module's documentation).
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome<A, E = CloudWatchLogsError.CloudWatchLogsError> =
  | { readonly _tag: "Answered"; readonly value: A }
  | { readonly _tag: "Failed"; readonly error: E }
  | { readonly _tag: "LostResponse"; readonly value: A }
  | { readonly _tag: "ConnectionReset" }
  | { readonly _tag: "ConnectionRefused" }

/**
 * One handler per operation, answering with an `Outcome`.
 *
 * @since 0.1.0
 * @category models
 */
export type Handlers = {
  readonly [K in OperationName]: (
    request: Operations[K]["request"]
  ) => Effect.Effect<Outcome<Operations[K]["response"], Operations[K]["error"]>>
}

/**
 * A model instance: the port, the transport hook, inspection and fault control.
 *
 * @since 0.1.0
 * @category models
 */
export interface TestCloudWatchLogsShape {
  /** The port, failing with typed errors (faults included). */
  readonly api: Api.CloudWatchLogsApiShape
  /** For transports (the HTTP emulator): runs one operation and tells what to do with the connection. */
  readonly invoke: <K extends OperationName>(
    operation: K,
    request: Operations[K]["request"]
  ) => Effect.Effect<Outcome<Operations[K]["response"], Operations[K]["error"]>>
  /** Events a reader would see (sorted by timestamp, retention applied); empty for a missing stream. */
  readonly events: (logGroupName: string, logStreamName: string) => Effect.Effect<ReadonlyArray<Api.OutputLogEvent>>
  /** Every call received, in order (unless `recordCalls` is off). */
  readonly calls: Effect.Effect<ReadonlyArray<Call>>
  /** Calls received of one operation (always counted). */
  readonly callCount: (operation: OperationName) => Effect.Effect<number>
  /** The stream's current sequence token (the last `nextSequenceToken` given), if any. */
  readonly token: (logGroupName: string, logStreamName: string) => Effect.Effect<string | undefined>
  /** Events and bytes stored in a stream (zeros for a missing stream). */
  readonly streamStats: (logGroupName: string, logStreamName: string) => Effect.Effect<StreamStats>
  /** Replaces the fault probabilities (the PRNG goes on). */
  readonly setFaults: (faults: FaultOptions) => Effect.Effect<void>
  /** The next `n` calls of `operation` (default PutLogEvents) get the fault `kind`. */
  readonly failNext: (n: number, kind: FaultKind, operation?: OperationName) => Effect.Effect<void>
  /** While on, every call fails as if the endpoint refused connections. */
  readonly setOutage: (outage: boolean) => Effect.Effect<void>
  /** Back to an empty service, the initial faults and the initial seed. */
  readonly reset: Effect.Effect<void>
}

/**
 * The inspection handle of the in-memory service.
 *
 * @since 0.1.0
 * @category tags
 */
export class TestCloudWatchLogs extends Context.Tag("@cwlogs/testkit/TestCloudWatchLogs")<
  TestCloudWatchLogs,
  TestCloudWatchLogsShape
>() {}

/**
 * A fresh, empty service. Without `options.limits` it enforces the `Limits` in context (`Limits.current`
 * unless a `Limits.layer(...)` provides others).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<TestCloudWatchLogsShape> =>
  Effect.flatMap(
    Limits.Limits,
    (limits) => Effect.sync(() => internal.unsafeMake({ ...options, limits: options?.limits ?? limits }))
  )

/**
 * A fresh, empty service, built outside Effect (for servers and scripts); `Limits.current` by default.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake = (options?: Options): TestCloudWatchLogsShape => internal.unsafeMake(options)

/**
 * Provides the port (`CloudWatchLogsApi`) and the inspection handle from one fresh service.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi | TestCloudWatchLogs> =>
  Layer.effectContext(
    Effect.map(
      make(options),
      (shape) =>
        Context.make(TestCloudWatchLogs, shape).pipe(Context.add(CloudWatchLogsApi.CloudWatchLogsApi, shape.api))
    )
  )

/**
 * Events a reader would see in a stream.
 *
 * @since 0.1.0
 * @category accessors
 */
export const events = (
  logGroupName: string,
  logStreamName: string
): Effect.Effect<ReadonlyArray<Api.OutputLogEvent>, never, TestCloudWatchLogs> =>
  Effect.flatMap(TestCloudWatchLogs, (t) => t.events(logGroupName, logStreamName))

/**
 * Every call received, in order.
 *
 * @since 0.1.0
 * @category accessors
 */
export const calls: Effect.Effect<ReadonlyArray<Call>, never, TestCloudWatchLogs> = Effect.flatMap(
  TestCloudWatchLogs,
  (t) => t.calls
)

/**
 * Calls received of one operation.
 *
 * @since 0.1.0
 * @category accessors
 */
export const callCount = (operation: OperationName): Effect.Effect<number, never, TestCloudWatchLogs> =>
  Effect.flatMap(TestCloudWatchLogs, (t) => t.callCount(operation))

/**
 * The stream's current sequence token.
 *
 * @since 0.1.0
 * @category accessors
 */
export const token = (
  logGroupName: string,
  logStreamName: string
): Effect.Effect<string | undefined, never, TestCloudWatchLogs> =>
  Effect.flatMap(TestCloudWatchLogs, (t) => t.token(logGroupName, logStreamName))

/**
 * Events and bytes stored in a stream.
 *
 * @since 0.1.0
 * @category accessors
 */
export const streamStats = (
  logGroupName: string,
  logStreamName: string
): Effect.Effect<StreamStats, never, TestCloudWatchLogs> =>
  Effect.flatMap(TestCloudWatchLogs, (t) => t.streamStats(logGroupName, logStreamName))

/**
 * Replaces the fault probabilities.
 *
 * @since 0.1.0
 * @category faults
 */
export const setFaults = (faults: FaultOptions): Effect.Effect<void, never, TestCloudWatchLogs> =>
  Effect.flatMap(TestCloudWatchLogs, (t) => t.setFaults(faults))

/**
 * The next `n` calls of `operation` (default PutLogEvents) get the fault `kind`.
 *
 * @since 0.1.0
 * @category faults
 */
export const failNext = (
  n: number,
  kind: FaultKind,
  operation?: OperationName
): Effect.Effect<void, never, TestCloudWatchLogs> =>
  Effect.flatMap(TestCloudWatchLogs, (t) => t.failNext(n, kind, operation))

/**
 * Turns the outage (every call refused) on or off.
 *
 * @since 0.1.0
 * @category faults
 */
export const setOutage = (outage: boolean): Effect.Effect<void, never, TestCloudWatchLogs> =>
  Effect.flatMap(TestCloudWatchLogs, (t) => t.setOutage(outage))

/**
 * Back to an empty service.
 *
 * @since 0.1.0
 * @category faults
 */
export const reset: Effect.Effect<void, never, TestCloudWatchLogs> = Effect.flatMap(
  TestCloudWatchLogs,
  (t) => t.reset
)
