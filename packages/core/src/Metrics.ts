/**
 * The library's metrics (Effect `Metric`s): counters of events and uploads, histograms of batch bytes and
 * upload latency. Per-destination values carry the tags `log_group` and `log_stream` (see
 * `forDestination`); rejections carry `reason`, retries carry `class`. Tags are part of a metric's key in
 * order: the destination's come first (`forDestination(metric, d).pipe(Metric.tagged("reason", r))`).
 *
 * Who updates what: the `Uploader` updates `uploads`, `eventsAccepted`, `batchBytes`, `uploadLatency`,
 * `retries`, and `eventsRejected` for the events the service refused (`TooOld`, `Expired`, `TooNew`) and
 * for every event of a batch that failed with an `UploadError` (`Failed`; not when the caller ships the
 * batch again, `UploadOptions.redelivers`). The sink and the logger update `eventsRejected` for what they
 * reject before upload, for a batch whose upload died (not with `SinkOptions.redelivers`), and
 * `eventsDropped`; the durable spool (`@cwlogs/node`) for what it refuses at write, and what its logger
 * drops.
 *
 * The uploader's counters count events as they were sent, as the service counts them (its own
 * `IncomingLogEvents`): the parts of an event split to fit (`oversize: "split"`) count one each. A
 * `ShipReport` counts the inputs given to the sink or logger, a split event once: the two differ when
 * events were split (the report's `split`).
 *
 * @since 0.1.0
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import type { Destination } from "./Destination.js"

/**
 * Events stored by the service.
 *
 * @since 0.1.0
 * @category metrics
 */
export const eventsAccepted: Metric.Metric.Counter<number> = Metric.counter("cwlogs_events_accepted", {
  description: "Log events stored by CloudWatch Logs",
  incremental: true
})

/**
 * Events not stored, tagged `reason` (a `ShipReport.RejectionReason`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const eventsRejected: Metric.Metric.Counter<number> = Metric.counter("cwlogs_events_rejected", {
  description: "Log events not stored, by reason",
  incremental: true
})

/**
 * Events the logger dropped because its buffer was full (its overflow policy).
 *
 * @since 0.1.0
 * @category metrics
 */
export const eventsDropped: Metric.Metric.Counter<number> = Metric.counter("cwlogs_events_dropped", {
  description: "Log events dropped by the logger on buffer overflow",
  incremental: true
})

/**
 * Calls retried, tagged `class` (a `CloudWatchLogsError.ErrorClass`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const retries: Metric.Metric.Counter<number> = Metric.counter("cwlogs_retries", {
  description: "Calls to CloudWatch Logs retried, by error class",
  incremental: true
})

/**
 * PutLogEvents calls that stored a batch.
 *
 * @since 0.1.0
 * @category metrics
 */
export const uploads: Metric.Metric.Counter<number> = Metric.counter("cwlogs_uploads", {
  description: "Batches stored by CloudWatch Logs",
  incremental: true
})

/**
 * Sizes of the batches the service stored something of, as it counts them (bytes).
 *
 * @since 0.1.0
 * @category metrics
 */
export const batchBytes: Metric.Metric.Histogram<number> = Metric.histogram(
  "cwlogs_batch_bytes",
  MetricBoundaries.exponential({ start: 256, factor: 4, count: 9 }),
  "Bytes of the batches uploaded, as CloudWatch Logs counts them"
)

/**
 * Time an upload took, from the call of `upload` to its answer: waiting for its turn on an enforced stream,
 * rate limiting and retries included (milliseconds).
 *
 * @since 0.1.0
 * @category metrics
 */
export const uploadLatency: Metric.Metric.Histogram<number> = Metric.histogram(
  "cwlogs_upload_latency_ms",
  MetricBoundaries.exponential({ start: 1, factor: 2, count: 16 }),
  "Time to upload one batch, retries included, in milliseconds"
)

/**
 * Destinations with a lane now (a buffer, a pending batch and a fiber), all sinks and loggers of the
 * process together: up while a routed sink meets new destinations, down as it releases idle ones
 * (`destinationIdleMillis`) and when sinks and loggers end.
 *
 * @since 0.1.0
 * @category metrics
 */
export const destinationsHeld: Metric.Metric.Gauge<number> = Metric.gauge("cwlogs_destinations_held", {
  description: "Destinations with a buffer and a fiber now, all sinks and loggers together"
})

/**
 * Which of a destination's names tag its metrics: both (`"stream"`, the default) or the group's only
 * (`"group"`). Effect keeps every metric key it has seen for the life of the process, ~7 KB each set per
 * destination here: a routed sink over streams that come and go (one per job, per request) should tag
 * by group.
 *
 * @since 0.1.0
 * @category models
 */
export type DestinationLabels = "stream" | "group"

/**
 * A metric tagged with a destination's `log_group` and (unless `labels` is `"group"`) `log_stream`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const forDestination = <Type, In, Out>(
  metric: Metric.Metric<Type, In, Out>,
  destination: Pick<Destination, "logGroupName" | "logStreamName">,
  labels: DestinationLabels = "stream"
): Metric.Metric<Type, In, Out> => {
  const byGroup = Metric.tagged(metric, "log_group", destination.logGroupName)
  return labels === "group" ? byGroup : Metric.tagged(byGroup, "log_stream", destination.logStreamName)
}
