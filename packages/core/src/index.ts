/**
 * @cwlogs/core: ship log events to Amazon CloudWatch Logs with Effect, and never lose them.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as CloudWatchLogsApi from "./CloudWatchLogsApi.js"
/** @since 0.1.0 */
export * as CloudWatchLogsError from "./CloudWatchLogsError.js"
/** @since 0.1.0 */
export * as Limits from "./Limits.js"
/** @since 0.1.0 */
export * as LogEvent from "./LogEvent.js"
/** @since 0.1.0 */
export * as Names from "./Names.js"
/** @since 0.1.0 */
export * as Destination from "./Destination.js"
/** @since 0.1.0 */
export * as ShipReport from "./ShipReport.js"
/** @since 0.1.0 */
export * as SequenceTokenStore from "./SequenceTokenStore.js"
/** @since 0.1.0 */
export * as UploadRateLimiter from "./UploadRateLimiter.js"
/** @since 0.1.0 */
export * as RetryPolicy from "./RetryPolicy.js"
/** @since 0.1.0 */
export * as Uploader from "./Uploader.js"
/** @since 0.1.0 */
export * as Metrics from "./Metrics.js"
/** @since 0.1.0 */
export * as Batcher from "./Batcher.js"
/** @since 0.1.0 */
export * as BatchValidator from "./BatchValidator.js"
/** @since 0.1.0 */
export * as CloudWatchLogs from "./CloudWatchLogs.js"
