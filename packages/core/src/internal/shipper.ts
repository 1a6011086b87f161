/**
 * The shipping engine shared by the sink and the logger.
 *
 * One lane per destination: a bounded buffer of raw inputs, a background fiber that validates them
 * (BatchValidator rules), batches them (Batcher accumulator, linger time), and hands full batches to
 * the `Uploader` with a bounded number of uploads in flight across lanes. Every input is accounted for
 * exactly once in the lane's counts: accepted, or rejected with a reason (`Failed` when a fatal error or
 * the drain deadline stopped it). Each move of an input (buffer → `taken` → accumulator → `inFlight`)
 * happens in one uninterruptible or synchronous step, so the drain's deadline, whenever it strikes,
 * finds every input in exactly one of those places and accounts for it there.
 *
 * Memory is bounded by configuration: per lane, `capacity` buffered inputs + one pending batch + the
 * chunk taken (at most `capacity`) being validated; across lanes, `maxInFlight` batches being uploaded.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as FiberSet from "effect/FiberSet"
import { globalValue } from "effect/GlobalValue"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Batcher from "../Batcher.js"
import * as BatchValidator from "../BatchValidator.js"
import type { StoredBatch } from "../CloudWatchLogs.js"
import type { CloudWatchLogsApi } from "../CloudWatchLogsApi.js"
import type { Destination } from "../Destination.js"
import * as Destinations from "../Destination.js"
import * as Limits from "../Limits.js"
import type { LogEvent } from "../LogEvent.js"
import * as Metrics from "../Metrics.js"
import * as RetryPolicy from "../RetryPolicy.js"
import * as SequenceTokenStore from "../SequenceTokenStore.js"
import type { Counts, RejectionReason, ShipReport } from "../ShipReport.js"
import * as ShipReports from "../ShipReport.js"
import * as Uploader from "../Uploader.js"
import * as UploadRateLimiter from "../UploadRateLimiter.js"
import { describeThrown } from "./describe.js"
import * as Buffer from "./mailbox.js"
import { Permits } from "./permits.js"
import * as RateLimiters from "./rateLimiter.js"
import { flattenMessages } from "./utf8.js"
import { isShaped } from "./validator.js"

/** @internal */
export const INTERNAL_ANNOTATION = "cwlogs.internal"

/** @internal */
export interface ShipperOptions {
  /** Inputs buffered per destination. */
  readonly capacity: number
  readonly overflow: Buffer.Overflow
  readonly lingerMillis?: number | undefined
  readonly oversize?: BatchValidator.OversizePolicy | undefined
  readonly maxBatchEvents?: number | undefined
  readonly maxBatchBytes?: number | undefined
  /** Uploads in flight at once, all destinations together. */
  readonly maxInFlight: number
  /** Deadline of the drain when the scope closes. */
  readonly drainTimeoutMillis: number
  /** After a fatal error, stop delivering (the sink) or go on with the next batches (the logger). */
  readonly stopOnFatal: boolean
  /**
   * A lane with nothing buffered, pending or uploading for this long (from its last upload's end, or its
   * last input taken, whichever is later) is retired: its buffer is ended, its
   * fiber ends, its counts are kept for the report, and a new lane is made when inputs for its
   * destination come again. `undefined`: never (the logger offers synchronously to the lane it holds).
   */
  readonly retireIdleMillis?: number | undefined
  /** Tags of the per-destination metrics (the engine's own, and the default uploader's). */
  readonly metricLabels?: Metrics.DestinationLabels | undefined
  /**
   * The caller ships again what the engine fails to deliver (`SinkOptions.redelivers`): it is not counted
   * as rejected (`Failed`) in the metrics, nor warned of as not delivered.
   */
  readonly redelivers?: boolean | undefined
  /**
   * Lanes held at once (`undefined`: no cap; the logger never sets it). At the cap, a new destination makes the lanes with
   * nothing to do retire at once, then waits until one has ended (each lane that becomes idle retires
   * while a destination waits): back-pressure on the number of destinations, as the buffers give it on
   * the number of events.
   */
  readonly maxLanes?: number | undefined
  /** Called on the upload's fiber after each put the service answered (the sink's `onStored`). */
  readonly onStored?: ((batch: StoredBatch) => Effect.Effect<void>) | undefined
}

/**
 * Events not delivered, per destination.
 * @internal
 */
export interface Undelivered {
  readonly destination: Destination
  readonly events: ReadonlyArray<LogEvent>
}

/** @internal */
export class ShipError extends Data.TaggedError("ShipError")<{
  readonly cause: Uploader.UploadError
  readonly undelivered: ReadonlyArray<Undelivered>
  readonly report: ShipReport
  readonly message: string
}> {}

const defectError = (
  destination: Destination,
  events: ReadonlyArray<LogEvent>,
  defect: unknown
): Uploader.UploadError => {
  const what = describeThrown(defect)
  return new Uploader.UploadError({
    destination,
    events,
    cause: new Uploader.UploadDefect({ defect, message: `the upload died: ${what}` }),
    reason: "Defect",
    message: `PutLogEvents for ${
      Destinations.show(destination)
    } failed (Defect): UploadDefect: the upload died: ${what}`
  })
}

/** @internal */
export interface DrainResult {
  readonly report: ShipReport
  /** Events not delivered by the deadline (or after a fatal error). */
  readonly undelivered: ReadonlyArray<Undelivered>
  readonly timedOut: boolean
}

/**
 * An input that goes out as other objects: the parts of a split event, a truncated event, a copy. It is
 * settled (counted, and named to `onStored`) once every part is answered.
 */
interface Entry {
  /** The input the sink was given, when it has a log event's shape (what `onStored` names). */
  readonly input: LogEvent | undefined
  /** Split in parts, which must be stored in order. */
  readonly split: boolean
  remaining: number
  reason: RejectionReason | undefined
  /**
   * Copies a lost answer may have stored of it beyond the one meant: the most of any of its parts,
   * counted in `possibleDuplicates` once, when it settles (the report counts inputs, not parts).
   */
  copies: number
}

/** A batch: events in columns, tagged with their `Entry` when they stand for another input. */
type Batch = Batcher.EventBatch<Entry>

/** Events (and their tags) that will not be sent. */
interface Pieces {
  readonly events: ReadonlyArray<LogEvent>
  readonly tags: ReadonlyArray<Entry | undefined> | undefined
}

/** What the bookkeeping needs of a lane: where its inputs go and their record (a lane, or a record alone). */
interface Account {
  readonly destination: Destination
  readonly stats: Stats
}

/** What the uploader tells of a batch while it uploads it. */
interface InFlight {
  /** Copies of it the service may have stored should the upload be cut off now (lost answers, the put in flight). */
  copies: number
  /** Retries so far, already counted in the lane's report. */
  retries: number
}

interface MutableCounts {
  accepted: number
  rejected: Record<RejectionReason, number>
  split: number
  truncated: number
  batches: number
  bytes: number
  retries: number
  possibleDuplicates: number
}

const emptyMutableCounts = (): MutableCounts => ({
  ...ShipReports.emptyCounts,
  rejected: { ...ShipReports.emptyCounts.rejected }
})

const snapshot = (c: MutableCounts): Counts => ({ ...c, rejected: { ...c.rejected } })

/** A destination's account: what happened to its inputs, kept after its lane is retired. */
interface Stats {
  readonly destination: Destination
  readonly counts: MutableCounts
  /** Events not delivered (the sink only: it hands them back in its `ShipError`). */
  readonly undelivered: Array<LogEvent>
  /** Inputs the overflow policy dropped (the logger only). */
  dropped: number
}

interface Lane {
  readonly destination: Destination
  readonly buffer: Buffer.Buffer<unknown>
  readonly acc: Batcher.EventAccumulator<Entry>
  /**
   * Inputs taken from the buffer and not yet validated. The take and this record happen in one
   * uninterruptible step, and so does their validation into the accumulator: an interruption (the drain's
   * deadline) at any moment finds every input in the buffer, here, in the accumulator or in `inFlight`.
   */
  taken: Array<ReadonlyArray<unknown>>
  /** The buffer answered that it ended and is empty. */
  takenDone: boolean
  /** What happened to this destination's inputs (shared with its record once the lane is retired). */
  stats: Stats
  readonly uploads: FiberSet.FiberSet<void>
  /**
   * Where `uploads` lives when the lane may be retired: a scope of its own, closed once it has retired
   * (else the shipper's scope would keep every retired lane's set until the end).
   */
  readonly scope: Scope.CloseableScope | undefined
  /** Batches taken out of the accumulator and not yet settled, with what their upload has told so far. */
  readonly inFlight: Map<Batch, InFlight>
  /** Completes when the last batch holding parts of a split event is done (parts go in order). */
  splitChain: Deferred.Deferred<void> | undefined
  readonly flushWaiters: Array<Deferred.Deferred<void>>
  readonly wake: Effect.Latch
  fiber: Fiber.RuntimeFiber<void> | undefined
  finished: boolean
  /** Idle for `retireIdleMillis`: its buffer ended, it left `lanes`; a new lane serves the destination. */
  retired: boolean
}

/** @internal */
export interface Shipper {
  /** The lane of a destination, created on first use. */
  readonly lane: (destination: Destination) => Effect.Effect<Lane>
  /** Offers inputs to a lane, suspending while its buffer is full. */
  readonly offerAll: (lane: Lane, inputs: ReadonlyArray<unknown>) => Effect.Effect<void>
  /** Accounts inputs handed over for a destination but never offered (cut off): `Failed`. */
  readonly cutOff: (destination: Destination, inputs: ReadonlyArray<unknown>) => Effect.Effect<void>
  /** Offers one input without waiting; counts what the overflow policy drops. */
  readonly unsafeOffer: (lane: Lane, input: unknown) => void
  /** The first fatal error, if any. */
  readonly failure: () => Uploader.UploadError | undefined
  /** Delivers everything buffered now, and waits for it. */
  readonly flush: Effect.Effect<ShipReport>
  /** What happened so far. */
  readonly report: Effect.Effect<ShipReport>
  /** Events the overflow policy dropped. */
  readonly dropped: () => number
  /** Ends the input, delivers everything, and returns the report or the fatal error. */
  readonly finish: Effect.Effect<ShipReport, ShipError>
  /** Ends the input and delivers what it can within the deadline. */
  readonly drain: (timeoutMillis: number) => Effect.Effect<DrainResult>
}

const internalLog = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.annotateLogs(effect, INTERNAL_ANNOTATION, true)

/**
 * The default limiters of the process: one per `Clock` and `Limits` in force. In production that is one
 * limiter for the whole process (one live Clock, one set of limits), shared by every sink and logger that
 * finds none in context. Each `TestClock` (each test) gets its own, driven by its own time: the limiter
 * reads the time of the fiber that uses it, which is always the clock it is filed under.
 * @internal
 */
const processLimiters = globalValue(
  Symbol.for("@cwlogs/core/internal/shipper/processLimiters"),
  () => new WeakMap<Clock.Clock, WeakMap<Limits.LimitsShape, UploadRateLimiter.UploadRateLimiterShape>>()
)

/**
 * The default `UploadRateLimiter`: the process-wide one for the fiber's `Clock` and `Limits`, made on
 * first use.
 * @internal
 */
export const processLimiter: Effect.Effect<UploadRateLimiter.UploadRateLimiterShape> = Effect.gen(function*() {
  const clock = yield* Effect.clock
  const limits = yield* Limits.Limits
  const found = processLimiters.get(clock)?.get(limits)
  if (found !== undefined) return found
  const made = yield* RateLimiters.fromLimits({})
  // Filed in one synchronous step: of two fibers racing here, the first one's limiter is the one kept.
  return yield* Effect.sync(() => {
    let byLimits = processLimiters.get(clock)
    if (byLimits === undefined) {
      byLimits = new WeakMap()
      processLimiters.set(clock, byLimits)
    }
    const existing = byLimits.get(limits)
    if (existing !== undefined) return existing
    byLimits.set(limits, made)
    return made
  })
})

/**
 * The uploader in context, else the default one built from the services in context (token store,
 * rate limiter, retry policy), each falling back to its default (the rate limiter to the process-wide one).
 * @internal
 */
export const resolveUploader = (
  options: Uploader.Options = {}
): Effect.Effect<Uploader.UploaderShape, never, CloudWatchLogsApi | Scope.Scope> =>
  Effect.gen(function*() {
    const existing = yield* Effect.serviceOption(Uploader.Uploader)
    if (Option.isSome(existing)) return existing.value
    const store = yield* Effect.serviceOption(SequenceTokenStore.SequenceTokenStore)
    const limiter = yield* Effect.serviceOption(UploadRateLimiter.UploadRateLimiter).pipe(
      Effect.flatMap(Option.match({ onNone: () => processLimiter, onSome: Effect.succeed }))
    )
    const policy = yield* Effect.serviceOption(RetryPolicy.RetryPolicy)
    const context = yield* Layer.build(Layer.mergeAll(
      Option.match(store, {
        onNone: () => SequenceTokenStore.layerMemory,
        onSome: (s) => Layer.succeed(SequenceTokenStore.SequenceTokenStore, s)
      }),
      Layer.succeed(UploadRateLimiter.UploadRateLimiter, limiter),
      Option.match(policy, {
        onNone: () => RetryPolicy.layerDefault,
        onSome: (p) => Layer.succeed(RetryPolicy.RetryPolicy, p)
      })
    ))
    return yield* Effect.provide(Uploader.make(options), context)
  })

/** The options of a sink or logger that `invalidOptions` checks, by their public names. @internal */
export interface CheckedOptions extends Batcher.BatcherOptions {
  readonly bufferCapacity?: number | undefined
  readonly maxInFlight?: number | undefined
  readonly drainTimeoutMillis?: number | undefined
  readonly maxDestinations?: number | undefined
  readonly destinationIdleMillis?: number | undefined
}

/**
 * What is wrong with the options, if anything: the batch options (`Batcher.invalidOptions`), a
 * `bufferCapacity` that is not a whole number of 1 or more, a `maxInFlight` that is not a whole number of
 * 1 or more (`Infinity`: no limit), a `drainTimeoutMillis` below 0 or not a number, a `maxDestinations`
 * that is not a whole number of 1 or more (`Infinity`: no limit), a `destinationIdleMillis` that is not
 * a number. (Before, each of these quietly meant something else: a buffer of one, which made a logger
 * drop nearly every line; one upload at a time; no drain at all; no limit on destinations.)
 * @internal
 */
export const invalidOptions = (options: CheckedOptions, limits: Limits.LimitsShape): string | undefined => {
  const problems: Array<string> = []
  const batch = Batcher.invalidOptions(options, limits)
  if (batch !== undefined) problems.push(batch)
  const capacity = options.bufferCapacity
  if (capacity !== undefined && !(Number.isInteger(capacity) && capacity >= 1)) {
    problems.push(`bufferCapacity must be a whole number, 1 or more, got ${capacity}`)
  }
  const inFlight = options.maxInFlight
  if (inFlight !== undefined && !(Number.isInteger(inFlight) && inFlight >= 1) && inFlight !== Infinity) {
    problems.push(`maxInFlight must be a whole number, 1 or more, got ${inFlight}`)
  }
  const drain = options.drainTimeoutMillis
  if (drain !== undefined && !(drain >= 0)) problems.push(`drainTimeoutMillis must be 0 or more, got ${drain}`)
  const lanes = options.maxDestinations
  if (lanes !== undefined && !(Number.isInteger(lanes) && lanes >= 1) && lanes !== Infinity) {
    problems.push(`maxDestinations must be a whole number, 1 or more, got ${lanes}`)
  }
  const idle = options.destinationIdleMillis
  if (idle !== undefined && Number.isNaN(idle)) problems.push(`destinationIdleMillis must be a number, got ${idle}`)
  return problems.length === 0 ? undefined : problems.join("; ")
}

/**
 * The engine, for the lifetime of the scope. Its callers refuse invalid options first (`invalidOptions`,
 * on the options as the user gave them: the sink and the logger).
 * @internal
 */
export const make = (
  options: ShipperOptions
): Effect.Effect<Shipper, never, CloudWatchLogsApi | Scope.Scope> =>
  Effect.gen(function*() {
    const labels = options.metricLabels ?? "stream"
    const uploader = yield* resolveUploader({ metricLabels: labels })
    const batcher = yield* Option.match(yield* Effect.serviceOption(Batcher.Batcher), {
      onNone: () =>
        Batcher.make({
          lingerMillis: options.lingerMillis,
          maxBatchEvents: options.maxBatchEvents,
          maxBatchBytes: options.maxBatchBytes
        }),
      onSome: Effect.succeed
    })
    // The validator cuts events to what fits alone in a batch of the batcher in use (its `maxBatchBytes`,
    // lowered or not), not only to the service's event limit: else the batcher sends a larger one alone.
    // No retention: a destination's `retentionInDays` is what a group the library creates gets, not that
    // of a group found there (it may keep events longer); the service reports `Expired`.
    const validator = yield* Option.match(yield* Effect.serviceOption(BatchValidator.BatchValidator), {
      onNone: () => BatchValidator.make({ oversize: options.oversize, maxBatchBytes: batcher.limits.maxBytes }),
      onSome: Effect.succeed
    })
    const linger = batcher.lingerMillis
    const onStored = options.onStored
    // Upload slots, all lanes together, served in the order lanes asked (internal/permits.ts).
    const permits = new Permits(options.maxInFlight)
    const lanes = new Map<string, Lane>()
    /**
     * Lanes whose fiber has not ended, retired or not. A retired lane's fiber ends once its uploads have,
     * with their `onStored` callbacks: `finish` and the drain wait for (or cut off) all of these, not only
     * the lanes in `lanes`, so the sink does not end before a retired lane's work does.
     */
    const running = new Set<Lane>()
    /** The accounts of destinations whose lane was retired (merged when a lane is retired again). */
    const retired = new Map<string, Stats>()
    const retireAfter = options.retireIdleMillis !== undefined && options.retireIdleMillis > 0 &&
        Number.isFinite(options.retireIdleMillis)
      ? options.retireIdleMillis
      : undefined
    // Lanes are made one at a time (by the sink's one offering fiber, in practice: no queue to speak of).
    const creating = yield* Effect.makeSemaphore(1)
    /** A slot per lane held (routed sinks with a cap), freed when the lane's fiber ends. */
    const laneSlots = options.maxLanes !== undefined && options.maxLanes > 0 ? new Permits(options.maxLanes) : undefined
    /** New destinations waiting for a slot: while there are some, a lane retires as soon as it is idle. */
    let slotsWanted = 0
    // Lanes and their uploads live in a child scope, closed after the drain (finalizers run last-in
    // first-out, and this scope is forked before the drain's finalizer is added).
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    let failure: Uploader.UploadError | undefined
    /**
     * The first lane that died (a defect: a bug, in a validator or batcher the application provided, say).
     * The sink dies with it rather than wait forever on that lane's full buffer.
     */
    let laneDefect: Cause.Cause<never> | undefined
    let ended = false

    // ---- accounting ------------------------------------------------------------------------------

    const settle = (lane: Account, entry: Entry | undefined, reason: RejectionReason | undefined): void => {
      if (entry === undefined) {
        if (reason === undefined) lane.stats.counts.accepted++
        else lane.stats.counts.rejected[reason]++
        return
      }
      if (reason !== undefined && entry.reason === undefined) entry.reason = reason
      entry.remaining--
      if (entry.remaining === 0) {
        if (entry.reason === undefined) lane.stats.counts.accepted++
        else lane.stats.counts.rejected[entry.reason]++
        lane.stats.counts.possibleDuplicates += entry.copies
      }
    }

    /**
     * Events of which a lost answer may have stored `copies` copies beyond the one meant: counted in
     * `possibleDuplicates` per input, an event on its own at once, the parts of an input on its `Entry`
     * (settled later). Call it before the events settle.
     */
    const unsafeMayBeStored = (lane: Account, pieces: Pieces, copies: number): void => {
      if (copies <= 0) return
      const tags = pieces.tags
      if (tags === undefined) {
        lane.stats.counts.possibleDuplicates += pieces.events.length * copies
        return
      }
      for (let i = 0; i < pieces.events.length; i++) mayBeStored(lane, tags[i], copies)
    }

    /** One event of `unsafeMayBeStored`: an input of its own, or a part of its `Entry`'s input. */
    const mayBeStored = (lane: Account, entry: Entry | undefined, copies: number): void => {
      if (entry === undefined) lane.stats.counts.possibleDuplicates += copies
      else if (entry.copies < copies) entry.copies = copies
    }

    /**
     * The sink hands undelivered events back (it stops at the first fatal error, so they are few). The
     * logger goes on after a failure, possibly for hours: it only counts them, to stay bounded.
     */
    const keepUndelivered = (lane: Account, event: LogEvent): void => {
      if (options.stopOnFatal) lane.stats.undelivered.push(event)
    }

    const redelivers = options.redelivers === true
    const rejectedMetric = (lane: Account, reason: RejectionReason, n: number) =>
      n === 0 || (redelivers && reason === "Failed") ? Effect.void : Metric.incrementBy(
        Metrics.forDestination(Metrics.eventsRejected, lane.destination, labels).pipe(Metric.tagged("reason", reason)),
        n
      )

    /** Events that will never be sent: counted `Failed` (synchronously), kept as undelivered. */
    const unsafeFail = (lane: Account, pieces: Pieces): void => {
      const { events, tags } = pieces
      for (let i = 0; i < events.length; i++) {
        settle(lane, tags === undefined ? undefined : tags[i], "Failed")
        keepUndelivered(lane, events[i])
      }
    }

    /** Events that will never be sent: counted `Failed`, kept as undelivered, and in the metric. */
    const failPieces = (lane: Account, pieces: Pieces): Effect.Effect<void> =>
      Effect.suspend(() => {
        unsafeFail(lane, pieces)
        return rejectedMetric(lane, "Failed", pieces.events.length)
      })

    /** Names to `onStored` the inputs the sink is done with (stored or refused for good); a defect is logged. */
    const acknowledge = (lane: Account, events: ReadonlyArray<LogEvent>, rejected: StoredBatch["rejected"]) =>
      onStored === undefined || events.length === 0 ? Effect.void : Effect.catchAllDefect(
        // suspended: a callback that throws rather than returning an Effect is a defect like any other
        Effect.suspend(() => onStored({ destination: lane.destination, events, rejected })),
        (defect) => Effect.logWarning("cwlogs: the sink's onStored callback failed", Cause.die(defect))
      )

    // ---- uploads ---------------------------------------------------------------------------------

    const upload = (lane: Lane, batch: Batch): Effect.Effect<void> =>
      uploader.upload(lane.destination, batch.events, {
        bytes: batch.bytes,
        onPossiblyStored: (copies) => {
          const tracked = lane.inFlight.get(batch)
          if (tracked !== undefined) tracked.copies = copies
        },
        // counted as they happen: an upload cut off at the drain's deadline has retried too
        onRetry: () => {
          const tracked = lane.inFlight.get(batch)
          if (tracked === undefined) return
          tracked.retries++
          lane.stats.counts.retries++
        },
        redelivers
      }).pipe(
        // an upload that dies would otherwise take its batch with it (its fiber's defect goes nowhere)
        // (the uploader counts a failed upload's events in its metrics; one that died it never saw fail)
        Effect.catchAllDefect((defect) =>
          Effect.zipRight(
            rejectedMetric(lane, "Failed", batch.events.length),
            Effect.fail(defectError(lane.destination, batch.events, defect))
          )
        ),
        Effect.matchEffect({
          onSuccess: (result) =>
            Effect.suspend(() => {
              const reasons = new Map<number, RejectionReason>()
              for (const r of result.rejected) reasons.set(r.index, r.reason)
              const tags = batch.tags
              // What `onStored` names: the inputs this put settled (a split event's with its last part).
              const done: Array<LogEvent> | undefined = onStored === undefined || tags === undefined ? undefined : []
              const refused: Array<StoredBatch["rejected"][number]> = []
              // The uploader counts each event stored once per copy a lost answer may have added (the same
              // for all): without tags, as is; with tags, per input (`mayBeStored`).
              const c = lane.stats.counts
              const copies = tags === undefined || result.accepted <= 0
                ? 0
                : Math.ceil(result.possibleDuplicates / result.accepted)
              if (tags === undefined) c.possibleDuplicates += result.possibleDuplicates
              for (let i = 0; i < batch.events.length; i++) {
                const entry = tags === undefined ? undefined : tags[i]
                const reason = reasons.size === 0 ? undefined : reasons.get(i)
                if (copies > 0 && reason === undefined) mayBeStored(lane, entry, copies)
                settle(lane, entry, reason)
                if (done === undefined) continue
                if (entry === undefined) {
                  if (reason !== undefined && reason !== "Failed") refused.push({ index: done.length, reason })
                  done.push(batch.events[i])
                } else if (entry.remaining === 0 && entry.input !== undefined && entry.reason !== "Failed") {
                  if (entry.reason !== undefined) refused.push({ index: done.length, reason: entry.reason })
                  done.push(entry.input)
                }
              }
              if (result.accepted > 0) {
                c.batches++
                c.bytes += result.bytes
              }
              c.retries += result.retries - countedRetries(lane, batch)
              untrack(lane, batch)
              return done === undefined
                ? acknowledge(lane, batch.events, result.rejected)
                : acknowledge(lane, done, refused)
            }),
          onFailure: (error) =>
            Effect.gen(function*() {
              // handed back as not delivered, and maybe stored already by puts whose answer was lost
              unsafeMayBeStored(lane, batch, error.possiblyStored ?? 0)
              // The uploader counted these in its metrics (reason Failed): settle without the metric.
              unsafeFail(lane, batch)
              lane.stats.counts.retries += (error.retries ?? 0) - countedRetries(lane, batch)
              untrack(lane, batch)
              if (failure === undefined) failure = error
              if (redelivers) return
              yield* Effect.logWarning(
                `cwlogs: ${batch.events.length} events to ${
                  Destinations.show(lane.destination)
                } not delivered: ${error.message}`
              )
            })
        }),
        internalLog
      )

    /** Retries of a batch the uploader has told of as they happened (an uploader of the caller's may not). */
    const countedRetries = (lane: Lane, batch: Batch): number => lane.inFlight.get(batch)?.retries ?? 0

    /**
     * A batch settled: it leaves `inFlight`, and a lane left with nothing to do gives its place to a
     * destination waiting for one (the lane's own loop may already be waiting on its buffer, with nothing
     * to wake it). Every removal from `inFlight` before the end goes through here.
     */
    const untrack = (lane: Lane, batch: Batch): void => {
      lane.inFlight.delete(batch)
      if (slotsWanted > 0) unsafeRetire(lane)
      // the lane's idle time starts now: its wait starts it over (`runLane`)
      if (retireAfter !== undefined && lane.inFlight.size === 0 && !lane.retired) lane.wake.unsafeOpen()
    }

    /** Fails a batch that was tracked but will not be sent (a fatal error came first). */
    const failTracked = (lane: Lane, batch: Batch): Effect.Effect<void> =>
      Effect.suspend(() => {
        unsafeFail(lane, batch)
        untrack(lane, batch)
        return rejectedMetric(lane, "Failed", batch.events.length)
      })

    const dispatch = (lane: Lane, batch: Batch): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (options.stopOnFatal && failure !== undefined) return failTracked(lane, batch)
        // Waiting for a permit is where a slow service pushes back on the lane (and so on producers).
        return Effect.uninterruptibleMask((restore) =>
          Effect.zipRight(
            restore(permits.take),
            Effect.suspend(() => {
              if (options.stopOnFatal && failure !== undefined) {
                return Effect.zipRight(permits.release, failTracked(lane, batch))
              }
              const send = upload(lane, batch)
              let run = send
              // Batches may go in parallel, but the parts of a split event must be stored in order: a
              // batch holding parts waits for the previous one that did (and is not sent if that one
              // failed the sink: the rest of an event whose first part failed is handed back with it).
              if (batch.tags !== undefined && batch.tags.some((t) => t !== undefined && t.split)) {
                const previous = lane.splitChain
                const done = Deferred.unsafeMake<void>(FiberId.none)
                lane.splitChain = done
                const waited = previous === undefined ? run : Effect.zipRight(
                  Deferred.await(previous),
                  Effect.suspend(() => options.stopOnFatal && failure !== undefined ? failTracked(lane, batch) : send)
                )
                run = Effect.ensuring(waited, Deferred.succeed(done, undefined))
              }
              return FiberSet.run(lane.uploads, Effect.interruptible(Effect.ensuring(run, permits.release)))
            })
          )
        ).pipe(Effect.asVoid)
      })

    /**
     * Batches are tracked (in `inFlight`) in the same synchronous step that takes them out of the
     * accumulator (`unsafeTrack`): if the drain's deadline interrupts the lane at any later moment (while
     * it waits for a permit, say), they are still accounted for.
     */
    const unsafeTrack = (lane: Lane, batches: ReadonlyArray<Batch>): ReadonlyArray<Batch> => {
      for (const b of batches) lane.inFlight.set(b, { copies: 0, retries: 0 })
      return batches
    }

    const dispatchAll = (lane: Lane, batches: ReadonlyArray<Batch>): Effect.Effect<void> =>
      batches.length === 0 ? Effect.void : Effect.forEach(batches, (b) => dispatch(lane, b), { discard: true })

    // ---- the lane loop ---------------------------------------------------------------------------

    const standIn = (input: unknown, split: boolean, parts: number): Entry => ({
      input: isShaped(input) ? input : undefined,
      split,
      remaining: parts,
      reason: undefined,
      copies: 0
    })

    /** One per shipper: the validator's fast path writes into it (lanes validate synchronously). */
    const scratch = BatchValidator.makeScratch()

    /**
     * Validates and batches the inputs taken (`lane.taken`), all in one synchronous step: they leave
     * `taken` and enter the accumulator (or the counts, or `inFlight`) with no interruption point between.
     * Returns the deadline of the pending batch.
     */
    const ingest = (lane: Lane, now: number, deadline: number): Effect.Effect<number> =>
      Effect.suspend(() => {
        const chunks = lane.taken
        if (chunks.length === 0) return Effect.succeed(deadline)
        lane.taken = []
        let full: Array<Batch> | undefined
        const acc = lane.acc
        const { check, checkValid } = validator
        let rejections: Map<RejectionReason, number> | undefined
        // Inputs refused here, never sent: `onStored` names them too (the sink is done with them).
        let refused: { events: Array<LogEvent>; rejected: Array<StoredBatch["rejected"][number]> } | undefined
        const push = (out: ReadonlyArray<Batch>) => {
          if (out.length > 0) {
            if (full === undefined) full = []
            for (const b of out) full.push(b)
            if (acc.size > 0) deadline = now + linger
          }
        }
        for (let c = 0; c < chunks.length; c++) {
          const inputs = chunks[c]
          for (let i = 0; i < inputs.length; i++) {
            if (acc.size === 0) deadline = now + linger
            const input = inputs[i]
            // The common case allocates nothing: the caller's event and its size go into the columns.
            if (checkValid(input, now, scratch)) {
              const out = acc.add(scratch.event, scratch.bytes)
              if (out.length > 0) push(out)
              continue
            }
            const o = check(input, now)
            switch (o._tag) {
              case "Valid":
                // a copy (read through getters, or made by an application's validator) stands for the input
                push(acc.add(o.event, o.bytes, o.event === input ? undefined : standIn(input, false, 1)))
                break
              case "Truncated":
                lane.stats.counts.truncated++
                push(acc.add(o.event, o.bytes, standIn(input, false, 1)))
                break
              case "Split": {
                lane.stats.counts.split++
                const entry = standIn(input, true, o.parts.length)
                for (let p = 0; p < o.parts.length; p++) push(acc.add(o.parts[p], o.bytes[p], entry))
                break
              }
              case "Rejected":
                lane.stats.counts.rejected[o.reason]++
                if (rejections === undefined) rejections = new Map()
                rejections.set(o.reason, (rejections.get(o.reason) ?? 0) + 1)
                if (onStored !== undefined && isShaped(input) && o.reason !== "Failed") {
                  if (refused === undefined) refused = { events: [], rejected: [] }
                  refused.rejected.push({ index: refused.events.length, reason: o.reason })
                  refused.events.push(input)
                }
                break
            }
          }
        }
        const batches = full === undefined ? [] : unsafeTrack(lane, full)
        const metrics = rejections === undefined
          ? Effect.void
          : Effect.forEach(rejections, ([reason, n]) => rejectedMetric(lane, reason, n), { discard: true })
        const acknowledged = refused === undefined
          ? metrics
          : Effect.zipRight(metrics, acknowledge(lane, refused.events, refused.rejected))
        return Effect.as(Effect.zipRight(acknowledged, dispatchAll(lane, batches)), deadline)
      })

    const ingestNow = (lane: Lane, deadline: number): Effect.Effect<number> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => ingest(lane, now, deadline))

    const flushPending = (lane: Lane): Effect.Effect<void> =>
      Effect.suspend(() => dispatchAll(lane, unsafeTrack(lane, lane.acc.flush())))

    /**
     * Waits for inputs and records them in `lane.taken`, in one uninterruptible step once they are there
     * (so no interruption falls between the take and the record). The wait itself is not interruptible
     * either: nothing interrupts this fiber but the end of its lane's fiber, which happens after the
     * buffer was ended (the drain and `finish` end the buffers first), and an ended buffer answers at once.
     */
    const takeInto = (lane: Lane): Effect.Effect<void> =>
      Effect.uninterruptible(Effect.flatMap(lane.buffer.takeAll, ([inputs, done]) =>
        Effect.sync(() => {
          if (inputs.length > 0) lane.taken.push(inputs)
          if (done) lane.takenDone = true
        })))

    /** Takes what is buffered now into `lane.taken` (uninterruptible, as `takeInto`). */
    const pollInto = (lane: Lane): Effect.Effect<void> =>
      Effect.uninterruptible(Effect.flatMap(lane.buffer.poll, (inputs) =>
        Effect.sync(() => {
          if (inputs.length > 0) lane.taken.push(inputs)
        })))

    type Wait = "Taken" | "Linger" | "Wake" | "Idle"

    /**
     * Retires an idle lane, in one synchronous step (no offer, take or upload can come between the checks
     * and the end of its buffer): only a lane with nothing buffered, taken, pending, uploading or waiting
     * for a flush, and only while the shipper has not ended. Its account joins the destination's record;
     * an offer that still holds the lane finds its buffer ended and goes to a new lane (`offerAll`).
     */
    const unsafeRetire = (lane: Lane): boolean => {
      if (
        ended || lane.retired || lane.buffer.size() > 0 || lane.taken.length > 0 || lane.takenDone ||
        lane.acc.size > 0 || lane.inFlight.size > 0 || lane.flushWaiters.length > 0
      ) return false
      const k = Destinations.key(lane.destination)
      if (lanes.get(k) !== lane || !lane.buffer.unsafeEnd()) return false
      lane.retired = true
      lanes.delete(k)
      const kept = retired.get(k)
      if (kept === undefined) {
        retired.set(k, lane.stats)
      } else {
        Object.assign(kept.counts, ShipReports.addCounts(kept.counts, lane.stats.counts))
        for (const e of lane.stats.undelivered) kept.undelivered.push(e)
        kept.dropped += lane.stats.dropped
        lane.stats = kept
      }
      return true
    }

    /** Whether the drain's deadline passed and it interrupted the lanes. */
    let cutOff = false

    /** Answers the flushes waiting on a lane (they read the report as it stands). */
    const answerFlushes = (lane: Lane): Effect.Effect<void> =>
      Effect.forEach(lane.flushWaiters.splice(0), (w) => Deferred.succeed(w, undefined), { discard: true })

    const runLane = (lane: Lane): Effect.Effect<void> =>
      Effect.gen(function*() {
        let deadline = 0
        // The take in progress: it records what it takes in `lane.taken` itself, so a linger timeout or a
        // wake-up never loses its result (and neither does an interruption).
        let pending: Fiber.RuntimeFiber<void> | undefined
        while (true) {
          if (lane.flushWaiters.length > 0) {
            const waiters = lane.flushWaiters.splice(0)
            lane.wake.unsafeClose()
            // answered however this ends: a lane that dies or is cut off at the drain's deadline too
            yield* Effect.gen(function*() {
              yield* pollInto(lane)
              deadline = yield* ingestNow(lane, deadline)
              yield* flushPending(lane)
              yield* FiberSet.awaitEmpty(lane.uploads)
            }).pipe(Effect.ensuring(Effect.suspend(() => {
              // cut off at the drain's deadline: the drain answers them once it has accounted for the rest
              if (cutOff) {
                lane.flushWaiters.push(...waiters)
                return Effect.void
              }
              return Effect.forEach(waiters, (w) => Deferred.succeed(w, undefined), { discard: true })
            })))
            continue
          }
          if (lane.taken.length > 0 || lane.takenDone) {
            deadline = yield* ingestNow(lane, deadline)
            if (lane.takenDone) {
              yield* flushPending(lane)
              yield* FiberSet.awaitEmpty(lane.uploads)
              return
            }
            continue
          }
          if (pending === undefined) pending = yield* Effect.fork(takeInto(lane))
          const take: Effect.Effect<Wait> = Effect.as(Fiber.await(pending), "Taken")
          const wake: Effect.Effect<Wait> = Effect.as(lane.wake.await, "Wake")
          let wait: Wait
          if (lane.acc.size === 0) {
            if (slotsWanted > 0 && unsafeRetire(lane)) {
              // A new destination waits for this lane's slot (whether or not idle lanes retire on their
              // own): the take in progress answers "done" next.
              continue
            } else if (retireAfter === undefined || lane.inFlight.size > 0) {
              // Uploading is not idle: the idle time counts from the last upload's end (`untrack` wakes the
              // lane then), not from when it was sent; no wake-up meanwhile.
              wait = yield* Effect.raceFirst(take, wake)
            } else {
              const idle: Effect.Effect<Wait> = Effect.as(Effect.sleep(retireAfter), "Idle")
              wait = yield* Effect.raceAll([take, wake, idle])
              // Retired: the buffer has ended, so the take in progress answers "done" and the loop ends.
              if (wait === "Idle") unsafeRetire(lane)
            }
          } else {
            const now = yield* Clock.currentTimeMillis
            // a new destination waiting for a lane's place does not wait out this lane's linger
            if (deadline <= now || slotsWanted > 0) {
              yield* flushPending(lane)
              continue
            }
            const sleep: Effect.Effect<Wait> = Effect.as(Effect.sleep(deadline - now), "Linger")
            wait = yield* Effect.raceAll([take, wake, sleep])
          }
          if (wait === "Taken") pending = undefined
          // woken for a place wanted (not for a flush): the next wait waits again
          else if (wait === "Wake" && lane.flushWaiters.length === 0) lane.wake.unsafeClose()
        }
      }).pipe(
        Effect.ensuring(Effect.sync(() => {
          lane.finished = true
        })),
        // A lane that dies ends its buffer and empties it into `taken`, where the drain accounts for it:
        // an offer waiting for room is let through (a buffer ended but not emptied keeps its waiting
        // offers forever), and the next one dies with the lane's defect. Interruption is not a death.
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause) ? Effect.failCause(cause) : Effect.gen(function*() {
            laneDefect ??= cause
            yield* lane.buffer.end
            while (true) {
              const held = yield* lane.buffer.poll
              if (held.length === 0) break
              lane.taken.push(held)
            }
            yield* Effect.logError(`cwlogs: shipping to ${Destinations.show(lane.destination)} died`, cause)
          })
        ),
        // The flushes waiting are answered however the lane ends: done or died here; cut off at the drain's
        // deadline (an interruption, which the step above passes on), by the drain once it has accounted
        // for what the lane held, so that they read the report whole.
        Effect.ensuring(Effect.suspend(() => cutOff ? Effect.void : answerFlushes(lane))),
        // However the lane ends (retired, at the shipper's end, cut off), it no longer uses its destination:
        // the uploader, which other sinks may share, forgets it once no upload to it runs.
        Effect.ensuring(Effect.suspend(() => {
          if (uploader.release === undefined) return Effect.void
          return uploader.release(lane.destination)
        })),
        // A retired lane has no upload left: its scope goes (the drain handles the lanes still in `lanes`).
        Effect.zipRight(Effect.suspend(() => {
          if (!lane.retired || lane.scope === undefined) return Effect.void
          return Scope.close(lane.scope, Exit.void)
        })),
        internalLog
      )

    const newLane = (destination: Destination): Effect.Effect<Lane> =>
      Effect.gen(function*() {
        const laneScope = retireAfter === undefined && laneSlots === undefined
          ? undefined
          : yield* Scope.fork(scope, ExecutionStrategy.sequential)
        const lane: Lane = {
          destination,
          // a whole number, 1 or more (`invalidOptions`)
          buffer: yield* Buffer.make<unknown>(options.capacity, options.overflow),
          acc: batcher.eventAccumulator<Entry>(),
          taken: [],
          takenDone: false,
          stats: { destination, counts: emptyMutableCounts(), undelivered: [], dropped: 0 },
          uploads: yield* Scope.extend(FiberSet.make<void>(), laneScope ?? scope),
          scope: laneScope,
          inFlight: new Map(),
          splitChain: undefined,
          flushWaiters: [],
          wake: yield* Effect.makeLatch(false),
          fiber: undefined,
          finished: false,
          retired: false
        }
        // Interruptible whatever the caller's region (a lane is made in one uninterruptible step with its slot).
        lane.fiber = yield* Effect.forkIn(Effect.interruptible(runLane(lane)), scope)
        // Counted while its fiber lives (an observer runs however the fiber ends, even before it started).
        Metrics.destinationsHeld.unsafeModify(1, [])
        running.add(lane)
        lane.fiber.addObserver(() => {
          running.delete(lane)
          Metrics.destinationsHeld.unsafeModify(-1, [])
          laneSlots?.unsafeRelease()
        })
        return lane
      })

    /**
     * A slot for a new lane. At the cap, the lanes with nothing to do retire now (their slots come back as
     * their fibers end), and while this waits, every lane retires as soon as it is idle.
     */
    const takeLaneSlot = (slots: Permits): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (slots.available() > 0) return slots.take
        slotsWanted++
        for (const l of [...lanes.values()]) {
          // idle lanes give their place now; lanes lingering over a batch send it now, and give it after
          if (!unsafeRetire(l) && l.acc.size > 0) l.wake.unsafeOpen()
        }
        return Effect.ensuring(
          slots.take,
          Effect.sync(() => {
            slotsWanted--
          })
        )
      })

    const lane = (destination: Destination): Effect.Effect<Lane> =>
      Effect.suspend(() => {
        const k = Destinations.key(destination)
        const existing = lanes.get(k)
        if (existing !== undefined) return Effect.succeed(existing)
        return creating.withPermits(1)(Effect.suspend(() => {
          const again = lanes.get(k)
          if (again !== undefined) return Effect.succeed(again)
          const made = Effect.tap(newLane(destination), (l) => Effect.sync(() => lanes.set(k, l)))
          if (laneSlots === undefined) return made
          // The slot and the lane it is for are one step: an interruption cannot fall between them.
          return Effect.uninterruptibleMask((restore) => Effect.zipRight(restore(takeLaneSlot(laneSlots)), made))
        }))
      })

    // ---- reports ---------------------------------------------------------------------------------

    /**
     * Every destination's account: of its lane, of its retired lanes (a record), or both when a
     * destination came back after its lane was retired (a live lane's `stats` is never its record).
     */
    const accounts = (): Map<string, Array<Stats>> => {
      const out = new Map<string, Array<Stats>>()
      for (const [k, stats] of retired) out.set(k, [stats])
      for (const [k, l] of lanes) {
        const found = out.get(k)
        if (found === undefined) out.set(k, [l.stats])
        else found.push(l.stats)
      }
      return out
    }

    /** One pass over the destinations: linear in their number. */
    const reportNow = (): ShipReport => {
      let total: Counts = ShipReports.emptyCounts
      const perDestination = new Map<string, { readonly destination: Destination } & Counts>()
      for (const [k, parts] of accounts()) {
        let counts = snapshot(parts[0].counts)
        for (let i = 1; i < parts.length; i++) counts = ShipReports.addCounts(counts, parts[i].counts)
        total = ShipReports.addCounts(total, counts)
        perDestination.set(k, { destination: parts[0].destination, ...counts })
      }
      return { ...total, perDestination }
    }

    const droppedNow = (): number => {
      let n = 0
      for (const l of lanes.values()) n += l.stats.dropped
      for (const stats of retired.values()) n += stats.dropped
      return n
    }

    const undeliveredNow = (): Array<Undelivered> => {
      const out: Array<Undelivered> = []
      for (const parts of accounts().values()) {
        const events = parts.flatMap((p) => p.undelivered)
        if (events.length > 0) out.push({ destination: parts[0].destination, events })
      }
      return out
    }

    // ---- the public face -------------------------------------------------------------------------

    const offerAll = (l: Lane, inputs: ReadonlyArray<unknown>): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (laneDefect !== undefined) return Effect.failCause(laneDefect)
        flattenMessages(inputs)
        return offerTo(l, inputs)
      })

    /**
     * What a retired lane refuses goes to the destination's new lane; after the end, it is `Failed`. So is
     * what an offer interrupted while it waits for room (the sink's stream cut off) had not buffered yet:
     * handed over, so counted, never silently gone.
     */
    const offerTo = (l: Lane, inputs: ReadonlyArray<unknown>): Effect.Effect<void> =>
      Effect.flatMap(l.buffer.offerAll(inputs, (rest) => refusedAfterEnd(l, rest)), (refused) => {
        if (refused.length === 0) return Effect.void
        if (l.retired && !ended) {
          // cut off while it waits for the destination's new lane: counted (once offered, the offer counts)
          let offered = false
          return Effect.onInterrupt(
            Effect.flatMap(lane(l.destination), (fresh) => {
              offered = true
              return offerTo(fresh, refused)
            }),
            () => offered ? Effect.void : countCutOff(l.destination, refused)
          )
        }
        return refusedAfterEnd(l, refused)
      })

    /**
     * Inputs offered after the end, or cut off (an offer interrupted, the drain's deadline): accounted as
     * `Failed` (never silently lost). Those the sink's checks refuse are refused for good, as at any time,
     * and named to `onStored` like them; but not at the drain's deadline (`judged` false): what it still
     * holds then is not delivered, refused or not (`Failed`, handed back, not named), and no callback of the
     * caller runs after the deadline.
     */
    const refusedAfterEnd = (l: Account, refused: ReadonlyArray<unknown>, judged = true): Effect.Effect<void> => {
      if (refused.length === 0) return Effect.void
      return Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.suspend(() => {
          const events: Array<LogEvent> = []
          const tags: Array<Entry | undefined> = []
          const rejected = new Map<RejectionReason, number>()
          // refused for good: named to `onStored`, as the lane's own refusals are (`ingest`)
          const named: Array<LogEvent> = []
          const reasons: Array<StoredBatch["rejected"][number]> = []
          for (const input of refused) {
            const o = validator.check(input, now)
            switch (o._tag) {
              case "Rejected":
                if (!judged && isShaped(input)) {
                  events.push(input)
                  tags.push(undefined)
                  break
                }
                l.stats.counts.rejected[o.reason]++
                rejected.set(o.reason, (rejected.get(o.reason) ?? 0) + 1)
                if (onStored !== undefined && isShaped(input) && o.reason !== "Failed") {
                  reasons.push({ index: named.length, reason: o.reason })
                  named.push(input)
                }
                break
              case "Split": {
                const entry = standIn(input, true, o.parts.length)
                for (const part of o.parts) {
                  events.push(part)
                  tags.push(entry)
                }
                break
              }
              default:
                events.push(o.event)
                tags.push(undefined)
            }
          }
          return Effect.zipRight(
            Effect.forEach(rejected, ([reason, n]) => rejectedMetric(l, reason, n), { discard: true }),
            Effect.zipRight(failPieces(l, { events, tags }), acknowledge(l, named, reasons))
          )
        }))
    }

    /**
     * Inputs handed over for a destination and never offered to a lane (the sink's stream cut off while
     * an earlier destination of the chunk waited for room, or while this one waited for a lane's place):
     * `Failed`, in its lane's record or, without a lane, in the destination's own.
     */
    const countCutOff = (destination: Destination, inputs: ReadonlyArray<unknown>): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (inputs.length === 0) return Effect.void
        const k = Destinations.key(destination)
        const held = lanes.get(k)
        if (held !== undefined) return refusedAfterEnd(held, inputs)
        let stats = retired.get(k)
        if (stats === undefined) {
          stats = { destination, counts: emptyMutableCounts(), undelivered: [], dropped: 0 }
          retired.set(k, stats)
        }
        return refusedAfterEnd({ destination, stats }, inputs)
      })

    const unsafeOffer = (l: Lane, input: unknown): void => {
      const result = l.buffer.unsafeOffer(input)
      if (result !== "Offered") {
        l.stats.dropped++
        Metrics.forDestination(Metrics.eventsDropped, l.destination, labels).unsafeUpdate(1, [])
      }
    }

    const flush: Effect.Effect<ShipReport> = Effect.gen(function*() {
      const waits: Array<Deferred.Deferred<void>> = []
      for (const l of lanes.values()) {
        if (l.finished) continue
        const d = yield* Deferred.make<void>()
        l.flushWaiters.push(d)
        yield* l.wake.open
        waits.push(d)
      }
      for (const d of waits) yield* Deferred.await(d)
      return reportNow()
    })

    const endAll = Effect.suspend(() => {
      ended = true
      return Effect.forEach(lanes.values(), (l) => l.buffer.end, { discard: true })
    })

    /** The fibers of the lanes still running, retired ones included (`running`). */
    const laneFibers = () => {
      const out: Array<Fiber.RuntimeFiber<void>> = []
      for (const l of running) if (l.fiber !== undefined) out.push(l.fiber)
      return out
    }

    const finish: Effect.Effect<ShipReport, ShipError> = Effect.gen(function*() {
      yield* endAll
      yield* Fiber.awaitAll(laneFibers())
      if (laneDefect !== undefined) return yield* Effect.failCause(laneDefect)
      const report = reportNow()
      if (failure !== undefined) {
        const undelivered = undeliveredNow()
        const n = undelivered.reduce((k, u) => k + u.events.length, 0)
        return yield* new ShipError({
          cause: failure,
          undelivered,
          report,
          message: `${n} events not delivered: ${failure.message}`
        })
      }
      return report
    })

    const drain = (timeoutMillis: number): Effect.Effect<DrainResult> =>
      Effect.gen(function*() {
        yield* endAll
        const held = [...running]
        const fibers = laneFibers()
        const done = yield* Effect.interruptible(Fiber.awaitAll(fibers)).pipe(
          Effect.timeoutOption(timeoutMillis)
        )
        const timedOut = Option.isNone(done)
        /** Inputs handed back whose upload was cut off after a put of them was sent. */
        let possiblyStored = 0
        /** Those of them that went out in parts (counted once). */
        const sent = new Set<Entry>()
        if (timedOut) {
          cutOff = true
          yield* Fiber.interruptAll(fibers)
          // a retired lane holds nothing to account for, but its uploads may still run `onStored`
          for (const l of held) if (l.retired) yield* FiberSet.clear(l.uploads)
        }
        // The lane fibers have ended (done, interrupted at the deadline, or died). Every input not yet
        // accounted for is somewhere: in a batch tracked or pending, taken but not validated, or still
        // buffered. (After a normal end all of these are empty.)
        for (const l of lanes.values()) {
          yield* FiberSet.clear(l.uploads)
          // a batch whose upload was cut off may have been stored by its put in flight, or by earlier puts
          // whose answer was lost: handed back as not delivered, and counted as possible duplicates
          for (const [b, { copies }] of l.inFlight) {
            if (copies <= 0) continue
            unsafeMayBeStored(l, b, copies)
            for (let i = 0; i < b.events.length; i++) {
              const entry = b.tags === undefined ? undefined : b.tags[i]
              if (entry === undefined) possiblyStored++
              else if (!sent.has(entry)) {
                sent.add(entry)
                possiblyStored++
              }
            }
          }
          const batches = [...l.inFlight.keys(), ...l.acc.flush()]
          // not through `untrack`: after the end no lane retires
          l.inFlight.clear()
          for (const b of batches) yield* failPieces(l, b)
          const taken = l.taken.flat()
          l.taken = []
          // at the deadline, not delivered, refused or not (no callback after it); after a lane died, judged
          yield* refusedAfterEnd(l, taken, !timedOut)
          yield* refusedAfterEnd(l, yield* l.buffer.poll, !timedOut)
        }
        for (const l of lanes.values()) yield* answerFlushes(l)
        const report = reportNow()
        // what the caller ships again is not lost: not warned of
        const failed = redelivers ? 0 : report.rejected.Failed
        const dropped = droppedNow()
        if (failed > 0 || dropped > 0) {
          yield* internalLog(Effect.logWarning(
            (!timedOut
              ? "cwlogs: "
              : timeoutMillis > 0
              ? `cwlogs: drain deadline of ${timeoutMillis} ms passed; `
              : "cwlogs: stopped with no time to drain; ") +
              `${failed} events not delivered` +
              (possiblyStored > 0
                ? ` (${possiblyStored} of them were sent and may have been stored: their answer had not come back)`
                : "") +
              `, ${dropped} dropped on buffer overflow`
          ))
        }
        return { report, undelivered: undeliveredNow(), timedOut }
      })

    yield* Effect.addFinalizer(() => Effect.asVoid(drain(options.drainTimeoutMillis)))

    return {
      lane: (destination) =>
        Effect.suspend(() => {
          if (ended) return Effect.dieMessage("cwlogs: offer after the shipper ended")
          return lane(destination)
        }),
      offerAll,
      cutOff: countCutOff,
      unsafeOffer,
      failure: () => failure,
      flush,
      report: Effect.sync(reportNow),
      dropped: droppedNow,
      finish,
      drain
    }
  })
