/**
 * The rules of CloudWatch Logs as data: today's AWS values by default, a legacy preset for look-alike
 * services, and a `Limits` service so tests and emulators can change them.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"

/**
 * Per-account requests per second, per operation.
 *
 * @since 0.1.0
 * @category models
 */
export interface OperationQuotas {
  readonly putLogEvents: number
  readonly describeLogStreams: number
  readonly createLogStream: number
  readonly createLogGroup: number
  readonly putRetentionPolicy: number
  /** GetLogEvents (the uploader reads a stream back to settle a lost answer, see `Uploader`). */
  readonly getLogEvents: number
}

/**
 * Every limit the service enforces on writes.
 *
 * @since 0.1.0
 * @category models
 */
export interface LimitsShape {
  /** Events in one PutLogEvents call. */
  readonly maxBatchEvents: number
  /** Sum over events of UTF-8 message bytes + `perEventOverheadBytes`. */
  readonly maxBatchBytes: number
  /** Bytes the service adds per event when sizing a batch. */
  readonly perEventOverheadBytes: number
  /** Largest single event, counted as message bytes + `perEventOverheadBytes`. */
  readonly maxEventBytes: number
  /** Largest span between the first and last timestamp of one batch. */
  readonly maxBatchSpanMillis: number
  /** Events older than this (relative to now) are rejected as too old. */
  readonly maxEventAgeMillis: number
  /** Events further than this in the future are rejected as too new. */
  readonly maxEventFutureMillis: number
  /** Per-account request rate per operation. */
  readonly quotas: OperationQuotas
  /** Legacy per-stream PutLogEvents rate (requests per second); `undefined` when there is none. */
  readonly perStreamPutsPerSecond: number | undefined
}

const HOUR = 60 * 60 * 1000
const DAY = 24 * HOUR

/**
 * Today's AWS values (1 MB events, no per-stream rate).
 *
 * @since 0.1.0
 * @category presets
 */
export const current: LimitsShape = {
  maxBatchEvents: 10_000,
  maxBatchBytes: 1_048_576,
  perEventOverheadBytes: 26,
  maxEventBytes: 1_048_576,
  maxBatchSpanMillis: DAY,
  maxEventAgeMillis: 14 * DAY,
  maxEventFutureMillis: 2 * HOUR,
  quotas: {
    putLogEvents: 5_000,
    describeLogStreams: 25,
    createLogStream: 50,
    createLogGroup: 10,
    putRetentionPolicy: 5,
    getLogEvents: 10
  },
  perStreamPutsPerSecond: undefined
}

/**
 * The rules before 2023–2025: 256 KB events, 5 PutLogEvents per second per stream, DescribeLogStreams
 * at 5 TPS.
 *
 * @since 0.1.0
 * @category presets
 */
export const legacy: LimitsShape = {
  ...current,
  maxEventBytes: 262_144,
  quotas: { ...current.quotas, describeLogStreams: 5 },
  perStreamPutsPerSecond: 5
}

/**
 * The largest message (in UTF-8 bytes) that fits in one event and in one batch.
 *
 * @since 0.1.0
 * @category sizing
 */
export const maxMessageBytes = (limits: LimitsShape): number =>
  Math.min(limits.maxEventBytes, limits.maxBatchBytes) - limits.perEventOverheadBytes

/**
 * The retention periods (days) that PutRetentionPolicy accepts.
 *
 * @since 0.1.0
 * @category constants
 */
export const RETENTION_DAYS: ReadonlyArray<number> = [
  1,
  3,
  5,
  7,
  14,
  30,
  60,
  90,
  120,
  150,
  180,
  365,
  400,
  545,
  731,
  1096,
  1827,
  2192,
  2557,
  2922,
  3288,
  3653
]

/**
 * The limits in force, with today's AWS values as the default.
 *
 * @since 0.1.0
 * @category tags
 */
export class Limits extends Context.Reference<Limits>()("@cwlogs/core/Limits", {
  defaultValue: (): LimitsShape => current
}) {}

/**
 * Provides other limits (e.g. `legacy`, or a look-alike service's).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (limits: LimitsShape): Layer.Layer<Limits> => Layer.succeed(Limits, limits)
