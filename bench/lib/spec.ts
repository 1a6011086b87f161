/**
 * The contract between `bench/run.ts` (the orchestrator) and `bench/child.ts` (one contender on one
 * workload, in its own process): the job description going down (`job.ts`, which the child reads with
 * no library) and the measurement coming back (decoded here, in the parent).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

import { CONTENDERS, type Job, WORKLOADS } from "./job.js"

export type { Job }

/**
 * The workloads (see `job.ts`).
 *
 * @since 0.1.0
 * @category models
 */
export const Workload = Schema.Literal(...WORKLOADS)

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
export const Contender = Schema.Literal(...CONTENDERS)

/**
 * @since 0.1.0
 * @category models
 */
export type Contender = typeof Contender.Type

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
export const decodeMeasurement = Schema.decodeUnknownEither(Schema.parseJson(Measurement))
