/**
 * Puts one batch to one destination: sequence tokens, retries by the `RetryPolicy`, rate limiting, missing
 * groups and streams, partial rejections, metrics and a span per upload.
 *
 * ## Sequence tokens, with no configuration
 *
 * The service comes in two generations (see the project's reference): the legacy one enforces sequence
 * tokens (one put at a time per stream, each carrying the token the previous one returned), today's AWS
 * ignores them (puts may go in parallel, a replay is stored twice). Each destination has a mode:
 * `"enforced"`, `"ignored"`, or `"auto"` (the default), which finds out without any extra call:
 *
 * 1. Until a first put succeeds, puts to the destination go one at a time, carrying the token the
 *    `SequenceTokenStore` holds (none for a stream never written).
 * 2. The put after that first success is a probe: it goes without a token, to a stream now known to be
 *    in use (so is the first put to a destination the uploader has no state for, `release`d or new,
 *    when the store holds a token for it: its stream was written). A legacy service must refuse it with InvalidSequenceTokenException (which carries the token
 *    to use: the put is resent with it at once): tokens are enforced. If it is accepted, the service
 *    ignores tokens. Against today's AWS the probe is an ordinary put; against a legacy service it costs
 *    one token error per uploader: the generation is the service's, so what a destination's puts proved
 *    stands for every destination whose own puts have proved nothing yet (a new one, or one written to
 *    again after its `release`), which then sends no probe (probes already in flight cost theirs). A
 *    probe that finds the stream missing is none: the stream made again is empty, any service takes a
 *    put without a token there, and the probe waits for the next put after a success.
 * 3. Any InvalidSequenceToken or DataAlreadyAccepted answer proves enforcement at any time.
 *
 * Enforced: puts to the destination go one at a time, in the order `upload` was called (a FIFO lock),
 * with tokens adopted from every response (`nextSequenceToken`) and error (`expectedSequenceToken`, from
 * the field, else from the message), and DescribeLogStreams only when a token error carried no token
 * (matching the stream name exactly, as the call filters by prefix). A put whose answer was lost is
 * replayed with the same token: the service answers DataAlreadyAccepted if it had stored it, which is a
 * success and no duplicate (but for copies that earlier lost puts under other tokens may have stored,
 * counted in `possibleDuplicates`; and the events the lost put had refused, near the time limits, are
 * learnt by reading the stream back, else by the limits at the time of the put). DataAlreadyAccepted is taken as a success only then (a put of ours under that
 * token may have been stored); otherwise it means an identical batch was stored before (the same events
 * uploaded twice, or a probe repeating the first batch): the token is adopted and the events are sent.
 *
 * When another writer puts between a lost answer and its replay, the replay gets InvalidSequenceToken
 * instead (the service only recognises the stream's last batch), and resending under the new token would
 * store a second copy if the lost put had been stored. So before resending, the uploader reads the stream
 * back: GetLogEvents over the batch's time range (first timestamp to last + 1, from the head, following
 * `nextForwardToken` until it repeats, at most 10 pages, through the `UploadRateLimiter` as
 * `getLogEvents`), no sooner than a second after the lost answer. The events of one put share one
 * `ingestionTime`: the batch was stored when the events of one ingestion time, not older than the lost
 * put (allowing 5 minutes of clock skew), hold every event of the batch in order, less at most the
 * leading or trailing events close enough to the age limits (or the destination's retention) that the
 * service may have refused them. Stored: a success (the expected token adopted, the batch accepted, no
 * resend; copies found beyond the first, possible only after an earlier read failed, are counted in
 * `possibleDuplicates`). Not stored: resent, no copy (a put under a token the stream has passed can no longer
 * be stored). The read failed, was denied, or did not end within its pages: resent, and the batch is
 * counted in `possibleDuplicates` (so the read needs `logs:GetLogEvents`; without it, this fallback). A
 * false match needs the same events (same timestamps and messages) stored in one put by another writer
 * after ours was sent, or by this writer less than 5 minutes (the clock-skew allowance) before it: an
 * identical batch uploaded again that soon, whose put is lost then passed by another writer, is taken
 * for the lost put and not resent. Against a service that ignores tokens there is no token error, hence no read.
 *
 * ## Several writers on one enforced stream (token contention)
 *
 * Writers that share nothing (separate processes, each with its own token store and rate limiter) race
 * for every token: one put wins each round, the others get InvalidSequenceToken carrying the token that
 * is now expected. Such an error is not a failure (the stream makes progress every round), so it is
 * retried under the `RetryPolicy`'s `token` schedule, which by default (`RetryPolicy.contention`) resends
 * at once once with the adopted token (the common case: one competing put), then waits a random delay in
 * `0..min(2 s, 50 ms * 2^k)` after the k-th loss in a row ("full jitter": the writers spread out instead
 * of colliding in lock-step), and gives up only when 3 minutes have passed since the upload's first token
 * error (`RetriesExhausted`, with every event of the batch). A wait makes the token held stale (the
 * others went on meanwhile), so the put after a wait mostly learns the current token: when its token error
 * gives that token (or DescribeLogStreams does), the batch is resent at once, and that is no step of the
 * schedule; only a put under a fresh token that still loses is a lost round, and backs off (those resends
 * at once are bounded by the token schedule with its delays dropped). The classes keep separate budgets: token
 * losses use none of the transient or throttling retries, and those count failures over the upload,
 * starting again only when the service answers a put with a token error (so a put that needs many rounds
 * is not failed by the occasional server fault or throttle on the way), never when it fails it in another
 * class: failures alternating between server faults and throttling end the upload (`RetriesExhausted`).
 *
 * Ignored: puts go in parallel (up to `maxParallelPerDestination`), with no token and no token call; a
 * put replayed after an answer that may have been lost (a 5xx, a reset, a timeout) may have been stored
 * twice, and its events are counted in `possibleDuplicates` (once per such answer: each lost answer may
 * have stored one copy, so this is the least count that never hides a copy; retries after answers that
 * cannot have stored the batch, such as throttling or a refused connection, add nothing). The client
 * cannot tell a server fault that stored the batch from one that did not, so against a service whose
 * faults rarely store (the emulator's `unavailable` never does) the count is well above the real copies.
 *
 * Before the mode is known (the first put of a destination), a replay is counted the same way.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { CloudWatchLogsApi } from "./CloudWatchLogsApi.js"
import type { CloudWatchLogsError } from "./CloudWatchLogsError.js"
import type { Destination } from "./Destination.js"
import * as internal from "./internal/uploader.js"
import type { LogEvent } from "./LogEvent.js"
import type { DestinationLabels } from "./Metrics.js"
import type { RetryPolicy } from "./RetryPolicy.js"
import type { SequenceTokenStore } from "./SequenceTokenStore.js"
import type { UploadRateLimiter } from "./UploadRateLimiter.js"

/**
 * What became of a batch the service took.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadResult {
  /** Events of the batch stored by the service. */
  readonly accepted: number
  /** Events of the batch the service refused (indexes into the batch), by reason. */
  readonly rejected: ReadonlyArray<{ readonly index: number; readonly reason: "TooOld" | "TooNew" | "Expired" }>
  /** Calls retried for this batch, all causes. */
  readonly retries: number
  /**
   * Events re-sent after a lost answer that could not be settled (a service that ignores tokens, the
   * first put before the mode is known, or a read-back that failed): they may be stored twice.
   */
  readonly possibleDuplicates: number
  /** Batch bytes as the service counts them (UTF-8 bytes + 26 per event). */
  readonly bytes: number
}

/**
 * An upload that died instead of answering (a defect: a bug in an uploader or in the API it calls, such
 * as one provided by the application). The engine does not let it take the batch with it: the batch
 * fails with this as its cause, and its events are handed back as undelivered.
 *
 * @since 0.1.0
 * @category errors
 */
export class UploadDefect extends Data.TaggedError("UploadDefect")<{
  readonly defect: unknown
  readonly message: string
}> {}

/**
 * A batch could not be delivered. `events` are the events of the batch not delivered (all of them: a put
 * is all or nothing), `cause` the last error of the service (or the defect of an upload that died).
 *
 * - `Fatal`: an error that is never retried (bad credentials, a broken rule, access denied, ...)
 * - `RetriesExhausted`: the retry policy gave up
 * - `DestinationMissing`: the group or stream does not exist and may not be created
 * - `Defect`: the upload died (`UploadDefect`)
 *
 * @since 0.1.0
 * @category errors
 */
export class UploadError extends Data.TaggedError("UploadError")<{
  readonly destination: Destination
  readonly events: ReadonlyArray<LogEvent>
  readonly cause: CloudWatchLogsError | UploadDefect
  readonly reason: "Fatal" | "RetriesExhausted" | "DestinationMissing" | "Defect"
  readonly message: string
  /** Calls retried for this batch before it failed, all causes (absent: none counted). */
  readonly retries?: number
  /**
   * Copies of the batch that puts whose answer was lost may have stored before it failed (absent: none):
   * its events are handed back as not delivered, and may be stored already, that many times.
   */
  readonly possiblyStored?: number
}> {}

/**
 * The uploader.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploaderShape {
  /**
   * Puts one batch (sorted, valid, within every limit) to one destination, retrying by the RetryPolicy.
   * `options.bytes`, when given, is the batch's size as the service counts it (UTF-8 message bytes + 26
   * per event), already known to the caller (e.g. a batcher): the uploader then does not measure it again.
   */
  readonly upload: (
    destination: Destination,
    batch: ReadonlyArray<LogEvent>,
    options?: UploadOptions
  ) => Effect.Effect<UploadResult, UploadError>
  /**
   * Says that a user (a sink's or a logger's lane) is done with a destination: the uploader forgets what
   * it keeps for it (what its puts taught about tokens, its order lock, its metric handles) once no
   * upload to it runs (at once if none does; else when the last ends, unless an upload began after the
   * release: another user's, for whom it is kept). So an uploader shared by many sinks holds only the
   * destinations in use. Its next upload starts afresh, but for the service's token generation, which
   * the uploader keeps (no probe again), and the token, read from the `SequenceTokenStore`. Every lane
   * calls it when it ends: an idle one a routed sink retires, and each one at its sink's end. Optional:
   * an uploader without it keeps its state.
   */
  readonly release?: ((destination: Destination) => Effect.Effect<void>) | undefined
}

/**
 * Options of one upload.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadOptions {
  /** The batch's size as the service counts it, when the caller knows it (else it is computed). */
  readonly bytes?: number | undefined
  /**
   * Told, whenever it changes, how many copies of the batch the service may have stored should the upload
   * be interrupted now: the puts whose answer was lost, and the put in flight. A caller that interrupts
   * uploads (a drain's deadline) counts the batch's events as possible duplicates that many times.
   */
  readonly onPossiblyStored?: ((copies: number) => void) | undefined
  /** Told of each retry as it happens (the result's `retries` counts them too, once the upload ends). */
  readonly onRetry?: (() => void) | undefined
  /**
   * The caller ships the batch again should the upload fail (the durable spool: its events wait on
   * disk): a failed upload's events are then not counted as rejected (`Failed`) in the metrics, since
   * they are not lost. The error is the same.
   */
  readonly redelivers?: boolean | undefined
}

/**
 * The uploader.
 *
 * @since 0.1.0
 * @category tags
 */
export class Uploader extends Context.Tag("@cwlogs/core/Uploader")<Uploader, UploaderShape>() {}

/**
 * How a destination treats sequence tokens (see the module's documentation).
 *
 * @since 0.1.0
 * @category models
 */
export type TokenMode = "auto" | "enforced" | "ignored"

/**
 * Options of the uploader.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The token mode, for every destination or per destination (default `"auto"`). */
  readonly tokens?: TokenMode | ((destination: Destination) => TokenMode) | undefined
  /** Puts in flight at once to one destination whose service ignores tokens (default 4). */
  readonly maxParallelPerDestination?: number | undefined
  /** Tags of the per-destination metrics: `log_group` and `log_stream` (default), or `log_group` only. */
  readonly metricLabels?: DestinationLabels | undefined
}

/**
 * Builds an uploader.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options?: Options
): Effect.Effect<UploaderShape, never, CloudWatchLogsApi | SequenceTokenStore | UploadRateLimiter | RetryPolicy> =>
  internal.make(options)

/**
 * The uploader, with options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (
  options: Options
): Layer.Layer<Uploader, never, CloudWatchLogsApi | SequenceTokenStore | UploadRateLimiter | RetryPolicy> =>
  Layer.effect(Uploader, Effect.suspend(() => make(options)))

/**
 * The uploader, every destination in `"auto"` token mode.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  Uploader,
  never,
  CloudWatchLogsApi | SequenceTokenStore | UploadRateLimiter | RetryPolicy
> = layerWith({})

/**
 * The uploader, with options read from configuration (e.g. `layerConfig({ tokens: Config.literal("auto",
 * "enforced", "ignored")("CWLOGS_TOKENS") })`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<{
    readonly tokens?: TokenMode | undefined
    readonly maxParallelPerDestination?: number | undefined
    readonly metricLabels?: DestinationLabels | undefined
  }>
): Layer.Layer<
  Uploader,
  ConfigError.ConfigError,
  CloudWatchLogsApi | SequenceTokenStore | UploadRateLimiter | RetryPolicy
> => Layer.effect(Uploader, Effect.flatMap(Config.unwrap(config), (options) => make(options)))
