/**
 * The contract between `bench/run.ts` (the orchestrator) and `bench/child.ts` (one contender on one
 * workload, in its own process): the job description going down and the measurement coming back.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * The five workloads of the issue, and workload 3 again with the heap capped (`memory-capped`): a
 * contender whose memory is bounded completes it, one that buffers without bound runs out of heap.
 *
 * @since 0.1.0
 * @category models
 */
export const Workload = Schema.Literal("throughput", "overhead", "memory", "memory-capped", "latency", "streams")

/**
 * @since 0.1.0
 * @category models
 */
export type Workload = typeof Workload.Type

/**
 * Every contender the harness knows.
 *
 * @since 0.1.0
 * @category models
 */
export const Contender = Schema.Literal(
  "raw-sdk-c1",
  "raw-sdk-cN",
  "raw-sdk-native",
  "cwlogs-sink",
  "cwlogs-logger",
  "effect-default-logger",
  "winston-cloudwatch",
  "pino-cloudwatch",
  "logtape-cloudwatch"
)

/**
 * @since 0.1.0
 * @category models
 */
export type Contender = typeof Contender.Type

/**
 * What a child must do.
 *
 * @since 0.1.0
 * @category models
 */
export const Job = Schema.Struct({
  workload: Workload,
  contender: Contender,
  endpoint: Schema.String,
  logGroupName: Schema.String,
  /** One stream, or the prefix of `streams` streams named `<prefix>-<n>`. */
  logStreamName: Schema.String,
  /** Events per stream. */
  events: Schema.Number,
  streams: Schema.Number,
  /** Events per second (latency workload), 0 = as fast as the contender takes them. */
  rate: Schema.Number,
  /** Requests in flight for the raw SDK loop. */
  concurrency: Schema.Number,
  /** Milliseconds the child has before the parent kills it. */
  deadlineMillis: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export type Job = typeof Job.Type

/**
 * What a child measured, printed as the last line of its stdout.
 *
 * @since 0.1.0
 * @category models
 */
export const Measurement = Schema.Struct({
  workload: Workload,
  contender: Contender,
  /** Events handed over to the contender. */
  sent: Schema.Number,
  /** UTF-8 bytes of the messages handed over (as formatted by the harness, before the logger's framing). */
  bytes: Schema.Number,
  /** Seconds from the first event handed over to the contender's own acknowledgement of the last one. */
  elapsedSeconds: Schema.Number,
  /** CPU seconds (user + system) of the whole child process during the measured part. */
  cpuSeconds: Schema.Number,
  /** Peak resident set size of the child process. */
  peakRssBytes: Schema.Number,
  /** Overhead workload: nanoseconds per log call on the caller. */
  nanosPerCall: Schema.optional(Schema.Number),
  /** What the contender reported as failed or dropped, if it says. */
  reportedFailed: Schema.optional(Schema.Number),
  /** A failure of the contender (it threw, rejected, or timed out on its own). */
  error: Schema.optional(Schema.String),
  note: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Measurement = typeof Measurement.Type

/**
 * @since 0.1.0
 * @category encoding
 */
export const decodeJob = Schema.decodeUnknownSync(Schema.parseJson(Job))

/**
 * @since 0.1.0
 * @category encoding
 */
export const decodeMeasurement = Schema.decodeUnknownEither(Schema.parseJson(Measurement))
