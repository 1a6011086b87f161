/**
 * The durable spool: events are written to segment files (and synced) before the producer is answered,
 * and background fibers ship the sealed segments, two at a time, oldest first, through `CloudWatchLogs.sink`
 * (`maxInFlight` uploads at once, the two together), deleting each once its report is in. Beside a
 * segment being shipped, its acknowledgements say which events were answered (a later run skips them)
 * and which were sent without an answer seen (a later run counts them as possible duplicates when it
 * stores them). A run finds what an earlier run left in the directory and ships it first.
 *
 * @internal
 */
import type { CloudWatchLogsApi, LogEvent } from "@cwlogs/core"
import {
  CloudWatchLogs,
  CloudWatchLogsError,
  Destination as Destinations,
  Metrics,
  ShipReport,
  Uploader
} from "@cwlogs/core"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as NodeFs from "node:fs"
import * as Path from "node:path"
import { ensureDirectory } from "./directory.js"
import * as format from "./spoolFormat.js"
import { lock } from "./spoolLock.js"

/** Options of the spool. @internal */
export interface SpoolOptions extends Omit<CloudWatchLogs.SinkOptions, "onStored" | "redelivers"> {
  readonly directory: string
  readonly segmentBytes?: number | undefined
  readonly segmentMillis?: number | undefined
  readonly maxSpoolBytes?: number | undefined
  readonly fsync?: boolean | undefined
  readonly resumeSchedule?: ResumeSchedule | undefined
  /**
   * How long the close's drain may ship, read when the scope closes (default: `drainTimeoutMillis`): a
   * caller that has already spent part of its deadline gives the rest.
   */
  readonly drainBudget?: Effect.Effect<number> | undefined
}

/**
 * When the spool ships again after a shipment failed for a reason that passes (retries exhausted), given
 * the service's last error. @internal
 */
export type ResumeSchedule = Schedule.Schedule<unknown, CloudWatchLogsError.CloudWatchLogsError>

/**
 * The default: 1 s, then doubling (with jitter, as the uploader's backoffs), at most a minute apart, for
 * as long as it takes. @internal
 */
export const DEFAULT_RESUME_SCHEDULE: ResumeSchedule = Schedule.exponential("1 second", 2).pipe(
  Schedule.jittered,
  Schedule.union(Schedule.spaced("1 minute"))
)

/**
 * The service's last error when a shipment failed for a reason that passes: the retry policy gave up on
 * an error it retries (a network error, a timeout, ServiceUnavailable, throttling, token contention, a
 * stream not yet visible). `undefined` for a fatal failure (a rule broken, credentials or access refused,
 * a destination that may not be created, an upload that died).
 */
const passingCause = (error: CloudWatchLogs.ShipError): CloudWatchLogsError.CloudWatchLogsError | undefined => {
  const upload = error.cause
  if (upload.reason !== "RetriesExhausted" || upload.cause._tag === "UploadDefect") return undefined
  return CloudWatchLogsError.classify(upload.cause) === "fatal" ? undefined : upload.cause
}

/** @internal */
export const DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024
/** @internal */
export const DEFAULT_MAX_SPOOL_BYTES = 256 * 1024 * 1024
/** @internal */
export { LOCK_FILE } from "./spoolLock.js"

/**
 * The size (bytes) up to which a segment's acknowledgements file may grow before it is compacted, however
 * little it needs (341 entries). @internal
 */
export const ACKS_COMPACT_FLOOR = 4096

/** Segments shipped at once. @internal */
export const SHIPPERS = 2

/** @internal */
export class SpoolError extends Data.TaggedError("SpoolError")<{
  readonly reason: "Locked" | "FileSystem" | "Closed"
  readonly directory: string
  readonly message: string
  readonly cause?: unknown
}> {}

/** @internal */
export interface SpoolReport extends ShipReport.ShipReport {
  readonly recovered: number
  readonly unreadableBytes: number
  readonly tornBytes: number
  readonly written: number
}

/** @internal */
export interface Spool {
  readonly write: (inputs: ReadonlyArray<format.Input>) => Effect.Effect<void, SpoolError | CloudWatchLogs.ShipError>
  /**
   * Writes at once, without waiting (a logger): `false` when the inputs were dropped (the spool full, or
   * a file system error), counted in `dropped` and in `Metrics.eventsDropped`.
   */
  readonly unsafeWrite: (inputs: ReadonlyArray<format.Input>) => boolean
  /**
   * Seals what was written and waits until every segment sealed until then is shipped; or until a
   * shipment fails for a reason that passes (an outage of a destination: then at once, what was written
   * synced instead of sealed if its every destination is held), the shipping has failed for good, or the
   * spool is closed: then with the report as it stands.
   */
  readonly flush: Effect.Effect<SpoolReport, SpoolError | CloudWatchLogs.ShipError>
  readonly finish: Effect.Effect<SpoolReport, SpoolError | CloudWatchLogs.ShipError>
  /** Inputs `unsafeWrite` dropped. */
  readonly dropped: () => number
  readonly report: () => SpoolReport
  /** For the tests: destinations whose "held" signal is kept now (only while uploads to them run). */
  readonly watchedDestinations: () => number
}

interface Active {
  readonly seq: number
  readonly path: string
  readonly fd: number
  /** When it was opened, on the monotonic clock (`ageClock`): a wall clock set back must not hold it. */
  readonly openedAt: number
  readonly encoder: format.Encoder
  bytes: number
  /** Bytes known synced (with `fsync`): while the shipping fails, the timer syncs instead of sealing. */
  synced: number
}

interface Sealed {
  readonly seq: number
  readonly path: string
  /** The destinations (`Destination.key`) of the events it holds, when known (not for an earlier run's). */
  keys: ReadonlySet<string> | undefined
  /** Left by an earlier run, and its events not counted in `recovered` yet (its first shipment counts them). */
  recovered: boolean
  /** Its size, counted against `maxSpoolBytes` from its queueing to its removal (`counted`). */
  readonly bytes: number
  counted: boolean
}

/** Writes all of `bytes` at `position`, synchronously. */
/**
 * Milliseconds on the monotonic clock (Effect's nanoseconds: `process.hrtime` in Node, the TestClock's
 * time in tests), for the age of segments: a wall clock set back (NTP) would hold a segment unsealed.
 */
const ageClock: Effect.Effect<number> = Effect.clockWith((clock) =>
  // `unsafeCurrentTimeNanos`: the TestClock's `currentTimeNanos` throws at a fraction of a millisecond
  Effect.sync(() => millisOf(clock.unsafeCurrentTimeNanos()))
)

const millisOf = (nanos: bigint): number => Number(nanos / 1_000_000n)

const writeAllSync = (fd: number, bytes: Uint8Array, position: number): void => {
  for (let done = 0; done < bytes.length;) {
    done += NodeFs.writeSync(fd, bytes, done, bytes.length - done, position + done)
  }
}

/** Writes all of `bytes` at `position` (positioned writes: a failed write cut off leaves no hole), then syncs. */
const writeAll = (fd: number, bytes: Uint8Array, position: number, sync: boolean): Effect.Effect<void, Error> =>
  Effect.async<void, Error>((resume) => {
    const done = (error: Error | null) => resume(error === null ? Effect.void : Effect.fail(error))
    const step = (written: number): void => {
      if (written === bytes.length) {
        if (sync) NodeFs.fdatasync(fd, done)
        else done(null)
        return
      }
      NodeFs.write(fd, bytes, written, bytes.length - written, position + written, (error, n) => {
        if (error !== null) done(error)
        else step(written + n)
      })
    }
    step(0)
  })

const toError = (cause: unknown): Error => cause instanceof Error ? cause : new Error(String(cause))

/** Closes `fd` after a failure (a second error from the close says nothing more). */
const closeQuietly = (fd: number): void => {
  try {
    NodeFs.closeSync(fd)
  } catch {
    // already said by the failure
  }
}

const fileError = (directory: string, what: string) => (cause: unknown): SpoolError =>
  new SpoolError({
    reason: "FileSystem",
    directory,
    message: `durable spool in ${directory}: ${what} failed (${String(cause)})`,
    cause
  })

/**
 * What is wrong with the options, if anything: what the sink would refuse (`CloudWatchLogs.invalidOptions`),
 * a `segmentBytes` or `maxSpoolBytes` below 1 or not a number (`Infinity` allowed: no limit), a
 * `segmentMillis` below 0 or not a number. Checked when the spool is made, before anything is written.
 * @internal
 */
export const invalidOptions = (options: SpoolOptions): string | undefined => {
  const problems: Array<string> = []
  const sink = CloudWatchLogs.invalidOptions(options)
  if (sink !== undefined) problems.push(sink)
  for (const name of ["segmentBytes", "maxSpoolBytes"] as const) {
    const value = options[name]
    if (value !== undefined && !(value >= 1)) problems.push(`${name} must be 1 or more, got ${value}`)
  }
  const millis = options.segmentMillis
  if (millis !== undefined && !(millis >= 0)) problems.push(`segmentMillis must be 0 or more, got ${millis}`)
  return problems.length === 0 ? undefined : problems.join("; ")
}

/** The counts of what a sink was done with in one call of `onStored`: stored, or refused by reason. @internal */
export const countsOf = (batch: CloudWatchLogs.StoredBatch): ShipReport.Counts => {
  const rejected = { ...ShipReport.emptyCounts.rejected }
  for (const r of batch.rejected) rejected[r.reason]++
  return { ...ShipReport.emptyCounts, accepted: batch.events.length - batch.rejected.length, rejected }
}

const makeWith = (
  fs: FileSystem.FileSystem,
  options: SpoolOptions
): Effect.Effect<Spool, SpoolError, CloudWatchLogsApi.CloudWatchLogsApi | Scope.Scope> =>
  Effect.gen(function*() {
    // options the sinks would refuse are refused now (a defect, as theirs), not after writes are on disk
    const invalid = invalidOptions(options)
    if (invalid !== undefined) return yield* Effect.dieMessage(`cwlogs: DurableSpool: ${invalid}`)
    const directory = Path.resolve(options.directory)
    /** The spool's scope: its background fibers end with it at the latest. */
    const spoolScope = yield* Effect.scope
    const fail = (what: string) => fileError(directory, what)
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES
    const segmentMillis = options.segmentMillis ?? options.lingerMillis ?? 1000
    const fsync = options.fsync ?? true
    const drainMillis = options.drainTimeoutMillis ?? CloudWatchLogs.DEFAULT_DRAIN_TIMEOUT_MILLIS
    // segments on disk: SHIPPERS being shipped, `capacity` sealed and waiting, one being written
    const capacity = Math.max(
      1,
      Math.floor((options.maxSpoolBytes ?? DEFAULT_MAX_SPOOL_BYTES) / segmentBytes) - SHIPPERS - 1
    )

    yield* ensureDirectory(directory).pipe(Effect.mapError(fail("creating the directory")))
    yield* lock(directory, {
      held: (holder, path) =>
        new SpoolError({
          reason: "Locked",
          directory,
          message: `durable spool in ${directory} is in use by process ${holder} (lock file ${path})`
        }),
      failed: (what) => fileError(directory, what)
    })

    const names = yield* fs.readDirectory(directory).pipe(Effect.mapError(fail("listing the directory")))
    // a rewrite the process did not finish: the segment it was replacing is still there
    for (const name of names.filter(format.isTemporary)) yield* Effect.ignore(fs.remove(Path.join(directory, name)))
    const found = format.segments(names)
    // acknowledgements whose segment is gone (shipped, and the run ended before it removed them): a new
    // segment of the same number must not find them
    const kept = new Set(found.map(({ name }) => name))
    for (const name of names) {
      const of = format.acksSegment(name)
      if (of !== undefined && !kept.has(of)) {
        yield* fs.remove(Path.join(directory, name)).pipe(Effect.mapError(fail(`removing ${name}`)))
      }
    }
    /**
     * Segments to ship before any in the queue, oldest first: those an earlier run left, and those whose
     * shipment failed for a reason that passes (shipped again once the shipping resumes).
     */
    const ahead: Array<Sealed> = found.map(({ name, seq }) => ({
      seq,
      path: Path.join(directory, name),
      recovered: true,
      // what an earlier run left is shipped first; the bound counts what this run seals
      bytes: 0,
      counted: false,
      keys: undefined
    }))
    /** Puts a segment back among those `ahead`, in its place by age. */
    const unsafePutBack = (segment: Sealed): void => {
      const at = ahead.findIndex((s) => s.seq > segment.seq)
      if (at === -1) ahead.push(segment)
      else ahead.splice(at, 0, segment)
    }
    let nextSeq = (found.at(-1)?.seq ?? 0) + 1

    let report: ShipReport.ShipReport = ShipReport.empty
    let recoveredEvents = 0
    let unreadableBytes = 0
    let tornBytes = 0
    let dropped = 0
    /** Events this run wrote to disk (not those refused at write). */
    let written = 0
    let active: Active | undefined
    /** Sealed by `unsafeWrite` when the queue had no room: offered by the timer fiber, which may wait. */
    const waiting: Array<Sealed> = []
    /** Segments known and not yet shipped (what `flush` waits for), and a signal at each one shipped. */
    const pending = new Set<number>(ahead.map((segment) => segment.seq))
    const shippedOne = yield* Queue.sliding<void>(1)
    const failure = yield* Deferred.make<never, SpoolError | CloudWatchLogs.ShipError>()
    let failed = false
    /**
     * The destinations (by `Destination.key`) in an outage: a shipment failed on one of them for a reason
     * that passes (`passingCause`), and none of its events has been stored since. Each waits out its own
     * resume schedule (`waiting`), then one shipment at a time tries it again (`open`, then `trying`);
     * meanwhile the other shipments leave its events in their segments (put back, shipped again once it is
     * back) and ship the rest: one destination failing does not hold back the others.
     */
    const held = new Map<string, Hold>()
    /**
     * An outage: some destination is held (`held`). Meanwhile the timer does not seal by age a segment
     * whose every destination is held (nothing would ship it: it would only fill the queue's places) but
     * syncs it, and a flush does not wait.
     */
    let failing = false
    /** Done when the outage ends (no destination held any longer); a new one for each outage. */
    let outageOver = Deferred.unsafeMake<void>(FiberId.none)
    /** The fibers waiting out a held destination's delay (interrupted when the shipping ends). */
    const delays = new Set<Fiber.RuntimeFiber<void>>()
    /** A held destination's resume schedule has ended: the spool gives up, with that failure. */
    let gaveUp: Interrupted | undefined
    const resumeSchedule = options.resumeSchedule ?? DEFAULT_RESUME_SCHEDULE
    /** Whether every destination of `keys` is held (none: also). */
    const allHeld = (keys: ReadonlySet<string>): boolean => {
      for (const key of keys) if (!held.has(key)) return false
      return true
    }
    /** Events of destination `key` were stored: its outage is over (its next one starts its schedule anew). */
    const unsafeDelivered = (key: string): void => {
      if (!held.delete(key) || held.size > 0) return
      failing = false
      Deferred.unsafeDone(outageOver, Exit.void)
      unsafeWake()
    }
    /**
     * The shippers or the timer stopped (an error, or a defect: a sink that died): writers and flushes
     * waiting on them are answered with it instead of waiting forever.
     */
    const failWith = (cause: Cause.Cause<SpoolError | CloudWatchLogs.ShipError>) =>
      Cause.isInterruptedOnly(cause) ? Effect.void : Effect.suspend(() => {
        const first = !failed
        failed = true
        return Effect.zipRight(Deferred.failCause(failure, cause), Effect.sync(unsafeStopped)).pipe(
          // said once (the sink, told the spool ships again what it fails to deliver, says nothing)
          Effect.zipRight(
            first
              ? Effect.logWarning(
                `cwlogs: the durable spool in ${directory} stopped shipping; what was not delivered waits on ` +
                  "disk for the next run",
                cause
              ).pipe(Effect.annotateLogs(CloudWatchLogs.INTERNAL_ANNOTATION, true))
              : Effect.void
          )
        )
      })
    /**
     * The spool's scope has closed: nothing more is shipped in this run (what is left waits on disk for
     * the next), and no one waits for it any longer.
     */
    let closed = false
    const sealed = yield* Queue.bounded<Sealed | undefined>(capacity)
    /**
     * Bytes of the sealed segments queued or being shipped: a segment is queued only while they and it
     * stay within `maxSpoolBytes` (or when none is, whatever its size: one write may be larger), and
     * frees its share once shipped. Segments are sealed after the write that fills them, so their count
     * alone (the queue's) is no bound on bytes.
     */
    const maxSpoolBytes = options.maxSpoolBytes ?? DEFAULT_MAX_SPOOL_BYTES
    let spooled = 0
    /**
     * Fibers waiting for a change: room (a segment taken from the queue, or shipped), a failure of the
     * shipping, the close. Each looks again at what it waits for when woken.
     */
    const waiters: Array<Deferred.Deferred<void>> = []
    const unsafeWake = (): void => {
      for (const waiter of waiters.splice(0)) Deferred.unsafeDone(waiter, Exit.void)
    }
    /** The shipping has stopped (a failure, the close): every waiter is answered, the flush's too. */
    const unsafeStopped = (): void => {
      unsafeWake()
      Queue.unsafeOffer(shippedOne, undefined)
    }
    /** Waits for the next change, then looks again (`again`). Registered in the step that looked. */
    const awaitChange = <A, E>(again: () => Effect.Effect<A, E>): Effect.Effect<A, E> => {
      const waiter = Deferred.unsafeMake<void>(FiberId.none)
      waiters.push(waiter)
      return Effect.zipRight(Deferred.await(waiter), Effect.suspend(again))
    }
    const unsafeCount = (segment: Sealed): boolean => {
      if (segment.counted) return true
      if (spooled > 0 && spooled + segment.bytes > maxSpoolBytes) return false
      spooled += segment.bytes
      segment.counted = true
      return true
    }
    const unsafeUncount = (segment: Sealed): void => {
      if (!segment.counted) return
      segment.counted = false
      spooled -= segment.bytes
    }
    const unsafeFree = (segment: Sealed): void => {
      unsafeUncount(segment)
      unsafeWake()
    }
    /**
     * Queues a sealed segment if it fits, in one synchronous step: the bytes (`maxSpoolBytes`) and a
     * place in the queue. `false`, and nothing changed, when it does not.
     */
    const unsafeEnqueue = (segment: Sealed): boolean => {
      if (!unsafeCount(segment)) return false
      if (Queue.unsafeOffer(sealed, segment)) {
        // a shipper waiting for a held destination's delay takes it meanwhile
        unsafeWake()
        return true
      }
      unsafeUncount(segment)
      return false
    }
    const writing = yield* Effect.makeSemaphore(1)
    const flushing = yield* Effect.makeSemaphore(1)
    // One uploader for every segment: what it learns of the service (whether it enforces tokens) outlives a
    // segment, so that a segment's first put is not a probe again (tokens are in its token store).
    const uploader = yield* CloudWatchLogs.makeUploader({ metricLabels: options.metricLabels })
    // `maxInFlight` uploads at once, the segments being shipped together: each has a sink, each sink that
    // many upload slots of its own, and these are the spool's. One bound shared (not half each): a sink
    // with little left to send (a segment's last batch) leaves the rest to the other.
    const withUploadSlot = yield* uploadSlots(options.maxInFlight ?? CloudWatchLogs.DEFAULT_MAX_IN_FLIGHT)
    const opened = yield* Queue.sliding<void>(1)
    // the clock of the spool's fibers, read synchronously by `unsafeWrite` (a TestClock in tests)
    const clock = yield* Effect.clock

    /** Closes the active segment (synced first, with `fsync`), and answers it for shipping. */
    const sealNow = (): Sealed | undefined => {
      const segment = active
      if (segment === undefined) return undefined
      active = undefined
      try {
        if (fsync) NodeFs.fdatasyncSync(segment.fd)
      } finally {
        NodeFs.closeSync(segment.fd)
      }
      pending.add(segment.seq)
      return {
        seq: segment.seq,
        path: segment.path,
        recovered: false,
        bytes: segment.bytes,
        counted: false,
        keys: segment.encoder.keys
      }
    }

    /**
     * Queues the sealed segments waiting for room, oldest first. A segment leaves `waiting` in the step
     * that puts it in the queue, and the offerer waits for room with nothing in hand: one interrupted
     * while it waits (a write given up by its caller) leaves the segment there for the next (the timer,
     * a write, the drain), and there is no race to lose in an uninterruptible region (a flush in
     * `Effect.ensuring`): what ends the wait (room, a failure, the close) wakes it. A failure of the
     * shipping is answered as it is (a defect stays a defect); after the close the segments left wait on
     * disk for the next run (their events were written before their writers were answered).
     */
    const queueWaiting: Effect.Effect<void, SpoolError | CloudWatchLogs.ShipError> = Effect.suspend(
      function next(): Effect.Effect<void, SpoolError | CloudWatchLogs.ShipError> {
        const full = waiting[0]
        if (full === undefined || closed) return Effect.void
        if (failed) return Deferred.await(failure)
        if (!unsafeEnqueue(full)) return awaitChange(next)
        waiting.shift()
        return Effect.suspend(next)
      }
    )

    /** Puts the end in the queue (the shippers stop once they reach it), the same way. */
    const queueEnd: Effect.Effect<void, SpoolError | CloudWatchLogs.ShipError> = Effect.suspend(
      function end(): Effect.Effect<void, SpoolError | CloudWatchLogs.ShipError> {
        if (failed) return Deferred.await(failure)
        if (closed) return Effect.void
        if (Queue.unsafeOffer(sealed, undefined)) return Effect.sync(unsafeWake)
        return awaitChange(end)
      }
    )

    /** Closes the active segment and queues it for shipping (waiting for room: the disk bound). */
    const seal: Effect.Effect<void, SpoolError | CloudWatchLogs.ShipError> = Effect.suspend(() => {
      let segment: Sealed | undefined
      try {
        segment = sealNow()
      } catch (error) {
        // the sync or the close failed (a full disk, an I/O error)
        return Effect.fail(fail("sealing a segment")(error))
      }
      if (segment === undefined) return Effect.void
      waiting.push(segment)
      return queueWaiting
    })

    /** Makes the directory's entries (a file created, renamed) last, with `fsync`. */
    const syncDirectory = (): void => {
      if (!fsync) return
      const dir = NodeFs.openSync(directory, "r")
      try {
        NodeFs.fsyncSync(dir)
      } finally {
        NodeFs.closeSync(dir)
      }
    }

    /** Writes `bytes` to the file at `path` (made, or emptied), and syncs it with `fsync`. */
    const writeFileNow = (path: string, bytes: Uint8Array): Effect.Effect<void, Error> =>
      Effect.flatMap(
        Effect.try({ try: () => NodeFs.openSync(path, "w"), catch: toError }),
        (fd) =>
          writeAll(fd, bytes, 0, fsync).pipe(
            Effect.tapError(() => Effect.sync(() => closeQuietly(fd))),
            Effect.zipRight(Effect.try({ try: () => NodeFs.closeSync(fd), catch: toError }))
          )
      )

    /** A new active segment (its file created, and made to last in its directory with `fsync`). */
    const openNow = (now: number): Active => {
      const seq = nextSeq++
      const path = Path.join(directory, format.segmentName(seq))
      const fd = NodeFs.openSync(path, "wx")
      syncDirectory()
      const segment: Active = { seq, path, fd, openedAt: now, encoder: format.encoder(), bytes: 0, synced: 0 }
      active = segment
      Queue.unsafeOffer(opened, undefined)
      return segment
    }

    // tagged as the sinks' and the loggers' metrics are
    const labels = options.metricLabels ?? "stream"

    /** An event refused when written (in the report, and in `Metrics.eventsRejected` with its reason). */
    const rejectAtWrite = (destination: Destinations.Destination, reason: ShipReport.RejectionReason): void => {
      report = ShipReport.add(report, destination, rejectedOne(reason))
      Metrics.forDestination(Metrics.eventsRejected, destination, labels).pipe(Metric.tagged("reason", reason))
        .unsafeUpdate(1, [])
    }

    /** Inputs `unsafeWrite` dropped: in `dropped`, and in `Metrics.eventsDropped`. */
    const unsafeDrop = (inputs: ReadonlyArray<format.Input>): void => {
      dropped += inputs.length
      for (const { destination } of inputs) {
        Metrics.forDestination(Metrics.eventsDropped, destination, labels).unsafeUpdate(1, [])
      }
    }

    /** A write that failed half-way (a full disk) is cut off; the next one says its destination again. */
    const cutOff = (segment: Active): void => {
      segment.encoder.last = undefined
      if (segment.bytes === 0) segment.encoder.started = false
      try {
        NodeFs.ftruncateSync(segment.fd, segment.bytes)
      } catch {
        // the next write goes at segment.bytes all the same
      }
    }

    const write = (inputs: ReadonlyArray<format.Input>): Effect.Effect<void, SpoolError | CloudWatchLogs.ShipError> =>
      Effect.flatMap(Deferred.poll(failure), (failed) => {
        if (Option.isSome(failed)) return Effect.flatten(failed.value)
        if (inputs.length === 0) return Effect.void
        return writing.withPermits(1)(Effect.gen(function*() {
          // A segment sealed by a write given up while it waited for room is queued first: given up in
          // turn, this write leaves nothing more on disk (else each write given up added a segment).
          yield* queueWaiting
          // the spool's scope has closed: its lock is released, the directory may be another process's now
          if (closed) {
            return yield* new SpoolError({
              reason: "Closed",
              directory,
              message: `the spool of ${directory} is closed: ${inputs.length} events not written`
            })
          }
          const now = yield* ageClock
          const segment = active ?? (yield* Effect.try({ try: () => openNow(now), catch: fail("creating a segment") }))
          // The encoding (it records the destination written last), the write and its count are one step:
          // a write given up half-way by its caller would leave bytes the segment does not count, and the
          // next write would go over them without saying its destination.
          const wrote = yield* Effect.uninterruptible(Effect.suspend(() => {
            let refused = 0
            const bytes = format.encode(segment.encoder, inputs, (destination, reason) => {
              refused++
              rejectAtWrite(destination, reason)
            })
            if (bytes.length === 0) return Effect.succeed(false)
            return writeAll(segment.fd, bytes, segment.bytes, fsync).pipe(
              Effect.mapError(fail(`writing ${segment.path}`)),
              Effect.tapError(() => Effect.sync(() => cutOff(segment))),
              Effect.zipRight(Effect.sync(() => {
                segment.bytes += bytes.length
                if (fsync) segment.synced = segment.bytes
                written += inputs.length - refused
                return true
              }))
            )
          }))
          if (wrote && segment.bytes >= segmentBytes) yield* seal
        }))
      })

    const unsafeWrite = (inputs: ReadonlyArray<format.Input>): boolean => {
      // the spool is full (a sealed segment waits for room), has failed or is closed (its directory is no
      // longer this process's): the logger cannot wait
      if (waiting.length > 0 || failed || closed) {
        unsafeDrop(inputs)
        return false
      }
      let segment: Active | undefined
      try {
        segment = active ?? openNow(millisOf(clock.unsafeCurrentTimeNanos()))
        let refused = 0
        const bytes = format.encode(segment.encoder, inputs, (destination, reason) => {
          refused++
          rejectAtWrite(destination, reason)
        })
        writeAllSync(segment.fd, bytes, segment.bytes)
        segment.bytes += bytes.length
        written += inputs.length - refused
        if (segment.bytes >= segmentBytes) {
          const full = sealNow()
          if (full !== undefined && !unsafeEnqueue(full)) waiting.push(full)
        }
        return true
      } catch {
        if (segment !== undefined) cutOff(segment)
        unsafeDrop(inputs)
        return false
      }
    }

    /**
     * Syncs what was written to the active segment and not synced yet (with `fsync`): during an outage,
     * in place of the sealing.
     */
    const syncActive: Effect.Effect<void, SpoolError> = Effect.suspend(() => {
      const segment = active
      if (!fsync || segment === undefined || segment.synced >= segment.bytes) return Effect.void
      const bytes = segment.bytes
      return Effect.try({
        try: () => {
          NodeFs.fdatasyncSync(segment.fd)
          segment.synced = bytes
        },
        catch: fail(`syncing ${segment.path}`)
      })
    })

    /**
     * Seals the active segment once it is `segmentMillis` old, so that no event waits longer on disk.
     * During an outage it syncs it instead, every `segmentMillis` until the outage is over: a segment
     * sealed then would wait all the same, and the queue has a bounded number of places (with a segment
     * sealed every second, a logger in an outage of a minute or two found it full and dropped its lines,
     * whatever their bytes); sealed by size, they still are.
     */
    const sealOnTime: Effect.Effect<never, SpoolError | CloudWatchLogs.ShipError> = Effect.forever(
      Effect.flatMap(ageClock, (now) => {
        if (waiting.length > 0) return queueWaiting
        const segment = active
        if (segment === undefined) return Queue.take(opened)
        const due = segment.openedAt + segmentMillis - now
        if (due > 0) return Effect.sleep(due)
        if (failing && allHeld(segment.encoder.keys)) {
          return Effect.zipRight(
            writing.withPermits(1)(syncActive),
            // (a segmentMillis of 0 seals at once: here, not a loop without a pause)
            Effect.raceFirst(Effect.sleep(Math.max(segmentMillis, 10)), Deferred.await(outageOver))
          )
        }
        return writing.withPermits(1)(Effect.suspend(() => active === segment ? seal : Effect.void))
      })
    )

    /**
     * Ships a segment through a sink of its own, but for the events of the destinations `skip` (held: in
     * an outage). Shipped, it is removed (`undefined`); shipped but for held events, it is rewritten with
     * them and answered `Held` (shipped again once they are back). A shipment that fails rewrites it with
     * what was not delivered, then either fails (fatal) or, for a reason that passes, answers how
     * (`Interrupted`): the segment is shipped again, its failing destination held for a while.
     */
    const ship = (
      segment: Sealed,
      skip: ReadonlySet<string>,
      claimed: Claimed
    ): Effect.Effect<
      Interrupted | Held | undefined,
      SpoolError | CloudWatchLogs.ShipError,
      CloudWatchLogsApi.CloudWatchLogsApi
    > =>
      Effect.gen(function*() {
        const read = yield* fs.readFile(segment.path).pipe(Effect.mapError(fail(`reading ${segment.path}`)))
        const bytes = Buffer.from(read.buffer, read.byteOffset, read.byteLength)
        // what an earlier shipment of this segment had stored when it was cut off is not sent again
        const acks = acknowledgements(segment.path)
        // events are read one by one as the sink takes them, each routed by the destination recorded with it
        const { counts, entries } = format.read(bytes, acks.acked)
        let heldEvents = 0
        const shippable = skip.size === 0 ? entries : withoutHeld(entries, skip, () => heldEvents++)
        const shipped = yield* Stream.fromIterable(shippable).pipe(
          Stream.run(CloudWatchLogs.sink((entry: format.Entry) => entry, {
            ...options,
            onStored: acks.onStored,
            // what it fails to deliver stays on disk and is shipped again: not counted as Failed in the
            // metrics, nor warned of by the sink (the spool says when it pauses, and when it gives up)
            redelivers: true,
            // The sink ends with its stream; its own drain runs only when it is cut off (the spool's
            // deadline passed, or the other shipper failed), when the spool's deadline is the one to keep:
            // it stops at once, what it had not delivered stays in the segment, its acknowledgements say
            // what it had (the spool's `drainTimeoutMillis`, given it too, made the close take twice that).
            drainTimeoutMillis: 0
          })),
          Effect.provideService(Uploader.Uploader, segmentUploader(acks.onSent, claimed)),
          Effect.either,
          Effect.ensuring(Effect.sync(acks.close)),
          // cut off (the close's deadline, the other shipper failing): the sink's report goes with it, so what
          // it said it was done with is counted, and the copies earlier runs' puts may have stored of it
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              report = ShipReport.combine(report, ShipReport.combine(acks.done(), acks.duplicates()))
            })
          )
        )
        // What the segment holds besides its events, and its events an earlier run had not seen stored: read
        // to its end (a sink that failed may have stopped reading anywhere).
        const found = shipped._tag === "Right" ? counts : format.readCounts(bytes, acks.acked)
        // (a segment shipped again after a failure is a rewrite: what it holds was counted the first time)
        if (segment.recovered) {
          recoveredEvents += found.events
          segment.recovered = false
        }
        unreadableBytes += found.unreadableBytes
        tornBytes += found.tornBytes
        // the events stored that an earlier run's puts, never answered, may have stored already
        report = ShipReport.combine(report, acks.duplicates())
        /**
         * Replaces the segment with `undelivered` (each event keeping its number, so the acknowledgements,
         * left as they are, name the same events in both files: a crash or a failure at any step leaves a
         * segment and acknowledgements that agree, the old one or the rewrite, and the next shipment sends
         * again none they name). Written and synced whole before it replaces the segment (a rename), and
         * the rename synced. One step: a write cut off would leave its file descriptor to a write under way.
         */
        const rewrite = (undelivered: ReadonlyArray<format.Entry>) =>
          Effect.uninterruptible(Effect.gen(function*() {
            // bytes that could not be read are kept for a person to look at, as a segment shipped whole
            // keeps them (the rewrite holds only the events)
            if (found.unreadableBytes > 0) {
              yield* writeFileNow(`${segment.path}.unreadable`, bytes).pipe(
                Effect.mapError(fail(`keeping ${segment.path}.unreadable`))
              )
            }
            const temporary = format.temporaryOf(segment.path)
            const rewritten = format.encode(
              format.encoder(),
              undelivered.map(({ destination, event }) => ({
                destination,
                event,
                record: event instanceof format.SpoolEvent ? event.record : undefined
              })),
              rejectAtWrite
            )
            yield* writeFileNow(temporary, rewritten).pipe(
              Effect.zipRight(Effect.try({
                try: () => {
                  NodeFs.renameSync(temporary, segment.path)
                  syncDirectory()
                },
                catch: toError
              })),
              Effect.mapError(fail(`rewriting ${segment.path}`))
            )
          }))
        if (shipped._tag === "Right" && heldEvents > 0) {
          // shipped but for the events of held destinations: they stay on disk, and only they
          report = ShipReport.combine(report, shipped.right)
          const undelivered = [...format.read(bytes, acks.now().acked).entries]
          // unchanged (every event held): left as it is
          if (undelivered.length < found.events || found.unreadableBytes > 0 || found.tornBytes > 0) {
            yield* rewrite(undelivered)
          }
          segment.keys = keysOf(undelivered)
          const left = notDelivered(undelivered)
          return { _tag: "Held", path: segment.path, undelivered: left.undelivered, kept: left.report } as const
        }
        if (shipped._tag === "Right") {
          report = ShipReport.combine(report, shipped.right)
          // a segment with bytes that could not be read is kept for a person to look at, out of the way
          yield* (found.unreadableBytes > 0
            ? fs.rename(segment.path, `${segment.path}.unreadable`)
            : fs.remove(segment.path)).pipe(Effect.mapError(fail(`removing ${segment.path}`)))
          // after its segment (left alone, the next run removes it: it names no segment)
          yield* Effect.ignore(removeAcks(segment.path))
          pending.delete(segment.seq)
          unsafeFree(segment)
          yield* Queue.offer(shippedOne, undefined)
          return undefined
        }
        // What was not delivered stays on disk, and only that: the next shipment (this run's, after a
        // failure that passes; the next run's) ships it without duplicates. That is the segment's events
        // but those the sink said it was done with (stored or refused): the ones it failed to deliver, and
        // the ones it had not taken yet when it stopped.
        const error = shipped.left
        const said = acks.now()
        const undelivered = [...format.read(bytes, said.acked).entries]
        const cause = passingCause(error)
        // Events shipped again are counted when they go: not as `Failed` now, nor as possible duplicates,
        // which the shipment that stores them counts (from the sent entries the acknowledgements keep).
        // Counted `Failed`: every event the segment keeps, those the sink never took included (it stops
        // reading at its failure), in place of the sink's own count; listed undelivered, all of them. Now
        // for a fatal error; for a failure that passes, only if the spool gives up (`kept`).
        const left = notDelivered(undelivered)
        const sinkFailed = failedOnly(error.report)
        const duplicates = cause === undefined ?
          ShipReport.empty :
          keptDuplicates(error.report, undelivered, acks.sent, said.sent)
        report = ShipReport.combine(
          report,
          withoutKept(error.report, ShipReport.combine(sinkFailed, duplicates))
        )
        if (cause === undefined) report = ShipReport.combine(report, left.report)
        yield* rewrite(undelivered)
        segment.keys = keysOf(undelivered)
        const failed = { error, path: segment.path, undelivered: left.undelivered }
        if (cause !== undefined) {
          return {
            _tag: "Interrupted",
            ...failed,
            cause,
            destination: Destinations.key(error.cause.destination),
            kept: ShipReport.combine(left.report, duplicates)
          } as const
        }
        return yield* Effect.fail(fatal(failed))
      })

    /**
     * A segment's acknowledgements file (`*.seg.acks`): what an earlier run wrote, and what this one
     * appends as it ships the segment (plain writes, not synced: a process that dies leaves them to the
     * operating system, a machine that dies may lose the last ones, costing a duplicate or a possible
     * duplicate not counted, never an event). A write that fails stops the appending, for the same reason.
     * - `onStored` (the sink's) acknowledges the events of each batch the service answered, and counts as
     *   possible duplicates the copies that an earlier run's puts, sent and never answered, may have stored
     *   of the events now stored;
     * - `onSent` (for the uploader's `onPossiblyStored`) records, before each put goes out and whenever an
     *   answer changes it, how many copies of a batch's events may be stored, added to what earlier runs
     *   left of them: a run cut off (or killed) with the put in flight leaves them said.
     * Each put sends two sent entries or so per run of events (before it, and after its answer), each try
     * of a segment again: in an outage the file grew by that at every try, without bound (a one-event
     * segment's by 24 bytes a try). Once an entry would take the file past `ACKS_COMPACT_FLOOR` or twice
     * what it needs (`format.compactAcks`), the file is rewritten with only that (written aside, synced
     * with `fsync`, then renamed over it and the rename synced): a crash at any step leaves the old file
     * or the new, which say the same.
     */
    const acknowledgements = (segmentPath: string) => {
      const path = format.acksOf(segmentPath)
      let found: Uint8Array = new Uint8Array(0)
      try {
        found = NodeFs.readFileSync(path)
      } catch {
        // none yet
      }
      // `sent`: what earlier runs' puts never answered may have stored (fixed for this run)
      const { acked, end, sent } = format.readAcks(found)
      let at = end
      let fd: number | undefined
      let broken = false
      let closed = false
      /** Every entry, the earlier run's and this one's (since the last compaction), also when the file could not be written. */
      const entries: Array<Uint8Array> = [found.subarray(0, end)]
      /** The size past which the file is compacted. */
      let limit = Math.max(ACKS_COMPACT_FLOOR, 2 * format.compactAcks({ acked, sent }).length)
      /** Rewrites the file with the fewest entries that say what `entries` say (the last one included). */
      const compact = (): void => {
        const bytes = format.compactAcks(format.readAcks(Buffer.concat(entries)))
        const temporary = format.temporaryOf(path)
        try {
          const out = NodeFs.openSync(temporary, "w")
          try {
            writeAllSync(out, bytes, 0)
            if (fsync) NodeFs.fdatasyncSync(out)
          } finally {
            NodeFs.closeSync(out)
          }
          NodeFs.renameSync(temporary, path)
        } catch (error) {
          NodeFs.rmSync(temporary, { force: true })
          throw error
        }
        if (fd !== undefined) closeQuietly(fd)
        fd = undefined
        syncDirectory()
        entries.splice(0, entries.length, bytes)
        at = bytes.length
        limit = Math.max(ACKS_COMPACT_FLOOR, 2 * bytes.length)
      }
      /** The possible duplicates of the events this run stored, counted as the sink names them. */
      let duplicates: ShipReport.ShipReport = ShipReport.empty
      /** What the sink said it was done with (`onStored`): the shipment's counts, should it be interrupted. */
      let done: ShipReport.ShipReport = ShipReport.empty
      const append = (bytes: Uint8Array): void => {
        entries.push(bytes)
        if (broken || closed) return
        try {
          if (at + bytes.length > limit) return compact()
          fd ??= NodeFs.openSync(path, NodeFs.constants.O_WRONLY | NodeFs.constants.O_CREAT)
          writeAllSync(fd, bytes, at)
          at += bytes.length
        } catch {
          broken = true
        }
      }
      const onStored = (batch: CloudWatchLogs.StoredBatch): Effect.Effect<void> =>
        Effect.sync(() => {
          done = ShipReport.add(done, batch.destination, countsOf(batch))
          const records: Array<number> = []
          const refused = sent.length === 0 || batch.rejected.length === 0
            ? undefined
            : new Set(batch.rejected.map((r) => r.index))
          let copies = 0
          batch.events.forEach((event, i) => {
            if (!(event instanceof format.SpoolEvent)) return
            records.push(event.record)
            // stored now, and maybe already by an earlier run's put: each such copy is a duplicate
            if (sent.length > 0 && refused?.has(i) !== true) copies += format.copiesOf(sent, event.record)
          })
          if (copies > 0) {
            duplicates = ShipReport.add(duplicates, batch.destination, {
              ...ShipReport.emptyCounts,
              possibleDuplicates: copies
            })
          }
          if (records.length > 0) append(format.encodeAcks(records))
          if (batch.events.length > batch.rejected.length) unsafeDelivered(Destinations.key(batch.destination))
        })
      const onSent = (batch: ReadonlyArray<LogEvent.LogEvent>): (copies: number) => void => {
        let records: ReadonlyArray<number> | undefined
        let said = 0
        return (copies) => {
          // this upload's copies (the put in flight and the answers lost); until it says some, the file
          // holds what earlier runs left
          if (copies === said) return
          said = copies
          records ??= batch.flatMap((event) => event instanceof format.SpoolEvent ? [event.record] : [])
          if (records.length === 0) return
          if (sent.length === 0) return append(format.encodeSent(records, copies))
          append(Buffer.concat(groupByCopies(records, (record) => format.copiesOf(sent, record) + copies)))
        }
      }
      const close = (): void => {
        closed = true
        if (fd !== undefined) NodeFs.closeSync(fd)
        fd = undefined
      }
      /** What is said now: the events done with (acknowledged by an earlier run or by this one), and those sent. */
      const now = (): format.Acks => format.readAcks(Buffer.concat(entries))
      return { acked, sent, onStored, onSent, close, now, duplicates: () => duplicates, done: () => done }
    }

    /**
     * Done when destination `key` is held (a shipment failed on it): the uploads to it of the shipments
     * that did not claim it (under way before) are cut off then.
     */
    const heldSignals = new Map<string, HeldSignal>()
    /**
     * Runs `use` with the signal that destination `key` is held. A signal is kept only while uploads
     * watch it: the map does not grow with the destinations ever written to.
     */
    const watchingHeld = <A, E, R>(
      key: string,
      use: (signal: Deferred.Deferred<CloudWatchLogsError.CloudWatchLogsError>) => Effect.Effect<A, E, R>
    ): Effect.Effect<A, E, R> =>
      Effect.acquireUseRelease(
        Effect.sync(() => {
          let watched = heldSignals.get(key)
          if (watched === undefined) {
            watched = { signal: Deferred.unsafeMake(FiberId.none), users: 0 }
            heldSignals.set(key, watched)
          }
          watched.users++
          return watched
        }),
        (watched) => use(watched.signal),
        (watched) =>
          Effect.sync(() => {
            watched.users--
            if (watched.users === 0 && heldSignals.get(key) === watched) heldSignals.delete(key)
          })
      )

    /**
     * A segment's sink uploads through the spool's one uploader, within the spool's `maxInFlight` uploads
     * at once (the two segments being shipped together, each through a sink of its own), and says
     * (`onSent`) what each upload may have stored before its puts go out. An upload to a destination the
     * shipment did not claim (`claimed`: it tries a held destination again) is cut off once the
     * destination is held, as a failure that passes (`RetriesExhausted`, with the error that held it): a
     * shipment under way when a destination starts failing does not go on retrying it (for minutes, when
     * throttled), its shipper held up meanwhile, nor wait behind the other's try (the uploader's puts to a
     * stream in turn), and its segment is put back.
     */
    const segmentUploader = (
      onSent: (batch: ReadonlyArray<LogEvent.LogEvent>) => (copies: number) => void,
      claimed: Claimed
    ): Uploader.UploaderShape => ({
      upload: (destination, batch, options) => {
        const said = onSent(batch)
        let copies = 0
        const upload = withUploadSlot(uploader.upload(destination, batch, {
          ...options,
          // said on the disk first: the put goes out right after
          onPossiblyStored: (n) => {
            copies = n
            said(n)
            options?.onPossiblyStored?.(n)
          }
        }))
        const key = Destinations.key(destination)
        if (claimed.has(key)) return upload
        return watchingHeld(key, (signal) => {
          const cutOff = Effect.flatMap(Deferred.await(signal), (cause) =>
            Effect.suspend(() =>
              Effect.fail(
                new Uploader.UploadError({
                  destination,
                  events: batch,
                  cause,
                  reason: "RetriesExhausted",
                  message: `${Destinations.key(destination)}: cut off, the destination is held (${cause.message})`,
                  ...(copies > 0 ? { possiblyStored: copies } : {})
                })
              )
            ))
          return Effect.raceFirst(upload, cutOff)
        })
      },
      release: uploader.release
    })

    const removeAcks = (segmentPath: string): Effect.Effect<void, SpoolError> =>
      Effect.try({
        try: () => NodeFs.rmSync(format.acksOf(segmentPath), { force: true }),
        catch: fail(`removing ${format.acksOf(segmentPath)}`)
      })

    const reportNow = (): SpoolReport => ({
      ...report,
      recovered: recoveredEvents,
      unreadableBytes,
      tornBytes,
      written
    })

    /**
     * The segments put back (after a failure that passes, or shipped but for held destinations), by
     * number, with what their shipment kept.
     */
    const putBack = new Map<number, Kept>()
    /** Segments being shipped. */
    let shipping = 0

    /**
     * The error the spool fails with, `last`'s, once it gives up: on the segments `also` (a fatal error's)
     * and on every segment put back (the resume schedule's end, or a fatal error met meanwhile), their
     * events counted not delivered.
     */
    const givenUp = (last: Failed, also: ReadonlyArray<Kept | Failed>): CloudWatchLogs.ShipError => {
      // the segments put back after a failure that passes will not be shipped again in this run either:
      // their events kept count as not delivered
      const back = [...putBack.values()]
      for (const each of back) report = ShipReport.combine(report, each.kept)
      putBack.clear()
      const all = [...also, ...back].sort((a, b) => a.path < b.path ? -1 : 1)
      return new CloudWatchLogs.ShipError({
        cause: last.error.cause,
        undelivered: all.flatMap((each) => each.undelivered),
        report: reportNow(),
        message: `${last.error.message} (the events not delivered are kept in ${
          all.map((each) => each.path).join(", ")
        } for the next run)`
      })
    }

    /** A fatal error met by a shipment: the spool gives up on its segment and on those put back. */
    const fatal = (failed: Failed): CloudWatchLogs.ShipError => givenUp(failed, [failed])

    /** Whether a segment may be shipped now: some destination of its events is not held, or open to a try. */
    const eligible = (segment: Sealed): boolean => {
      if (segment.keys === undefined || held.size === 0) return true
      for (const key of segment.keys) {
        const hold = held.get(key)
        if (hold === undefined || hold.state === "open") return true
      }
      return false
    }
    /** The end was taken from the queue: the shippers stop once no segment is left ahead. */
    let ended = false
    /** A shipper is giving up (the resume schedule of a held destination ended): the others wait for it. */
    let givingUp = false

    /**
     * The next segment to ship: those ahead (an earlier run's, those put back) but for those whose every
     * destination is held, then the sealed ones as they come (while only held segments are ahead, those
     * queued meanwhile, else a wait until a delay is over or a segment is queued). The oldest go first.
     * A held destination's resume schedule at its end, the spool gives up (`givenUp`): the failure is
     * fatal, and the events of every segment put back are counted `Failed`; the other shipper's try under
     * way ends first, so that its segment, put back, is counted too.
     */
    const next: Effect.Effect<Sealed | undefined, CloudWatchLogs.ShipError> = Effect.suspend(
      function again(): Effect.Effect<Sealed | undefined, CloudWatchLogs.ShipError> {
        if (gaveUp !== undefined) {
          if (givingUp) return Effect.never
          givingUp = true
          const last = gaveUp
          return Effect.zipRight(idle, Effect.suspend(() => Effect.fail(givenUp(last, []))))
        }
        const at = ahead.findIndex(eligible)
        if (at !== -1) return Effect.succeed(ahead.splice(at, 1)[0])
        if (ahead.length === 0) {
          if (ended) return Effect.succeed(undefined)
          // room in the queue for a segment waiting; the end, seen by one worker, is put back for the other
          return Effect.flatMap(Queue.take(sealed), (segment) => {
            unsafeWake()
            if (segment !== undefined) return Effect.succeed(segment)
            ended = true
            return Effect.zipRight(Queue.offer(sealed, undefined), again())
          })
        }
        // only segments of held destinations ahead: the waiter is registered before the queue is polled,
        // so that a segment queued in between wakes it
        const waiter = Deferred.unsafeMake<void>(FiberId.none)
        waiters.push(waiter)
        return Effect.flatMap(ended ? Effect.succeedNone : Queue.poll(sealed), (polled) => {
          if (Option.isNone(polled)) return Effect.zipRight(Deferred.await(waiter), Effect.suspend(again))
          unsafeWake()
          if (polled.value !== undefined) return Effect.succeed(polled.value)
          ended = true
          return Effect.zipRight(Queue.offer(sealed, undefined), again())
        })
      }
    )

    /**
     * After a shipment failed on a destination for a reason that passes (its segment put back ahead): the
     * destination is held for the resume schedule's next delay (waited out by a fiber of its own), its
     * events left in the segments shipped meanwhile; then one shipment tries it again. A failure on it
     * from a shipment that did not try it (under way when it first failed) does not step the schedule,
     * nor one from a try of an earlier hold of it (delivered meanwhile, then held anew by another).
     * The schedule at its end, the spool gives up (in `next`).
     */
    const hold = (interrupted: Interrupted, claimed: Claimed): Effect.Effect<void> =>
      Effect.gen(function*() {
        // a flush waiting for its segments returns: it does not wait for an outage to end
        Queue.unsafeOffer(shippedOne, undefined)
        const key = interrupted.destination
        const known = held.get(key)
        if (known !== undefined && claimed.get(key) !== known) return
        const starting = held.size === 0
        const hold: Hold = known ?? { state: "waiting", driver: yield* Schedule.driver(resumeSchedule) }
        hold.state = "waiting"
        held.set(key, hold)
        const watched = heldSignals.get(key)
        if (watched !== undefined) {
          heldSignals.delete(key)
          Deferred.unsafeDone(watched.signal, Exit.succeed(interrupted.cause))
        }
        if (starting) {
          failing = true
          outageOver = Deferred.unsafeMake<void>(FiberId.none)
          yield* Effect.logWarning(
            `cwlogs: the durable spool in ${directory} could not ship (${interrupted.error.message}); ` +
              "what was not delivered waits on disk, and is shipped again after a pause"
          ).pipe(Effect.annotateLogs(CloudWatchLogs.INTERNAL_ANNOTATION, true))
        }
        const delay = yield* Effect.forkIn(
          Effect.flatMap(Effect.either(hold.driver.next(interrupted.cause)), (resumed) =>
            Effect.sync(() => {
              if (Either.isRight(resumed)) hold.state = "open"
              else gaveUp ??= interrupted
              unsafeWake()
            })),
          spoolScope
        )
        delays.add(delay)
        delay.addObserver(() => delays.delete(delay))
      })

    /**
     * The held destinations a shipment of `segment` leaves out (`skip`: waiting, or tried by another), and
     * those it tries again (`claimed`: open, and in the segment as far as is known).
     */
    const unsafeClaim = (segment: Sealed): { readonly skip: Set<string>; readonly claimed: Claimed } => {
      const skip = new Set<string>()
      const claimed = new Map<string, Hold>()
      for (const [key, hold] of held) {
        if (hold.state !== "open") skip.add(key)
        else if (segment.keys === undefined || segment.keys.has(key)) {
          hold.state = "trying"
          claimed.set(key, hold)
        }
      }
      return { skip, claimed }
    }
    /**
     * A try over without stepping the schedule (nothing stored, nothing failed on it): open again; or, no
     * segment ahead keeping events of the destination (those of the try all refused for good: too old),
     * no longer held, as if delivered: nothing would try it again, and its new events would wait on disk
     * (the timer syncing, not sealing, a segment of held destinations only) with every flush returning at
     * once. Its next failure holds it again.
     */
    const unsafeUnclaim = (claimed: Claimed): void => {
      for (const [key, mine] of claimed) {
        const hold = held.get(key)
        // (a hold made since, by another shipment, is not this try's)
        if (hold !== mine || hold.state !== "trying") continue
        if (!ahead.some((segment) => segment.keys === undefined || segment.keys.has(key))) {
          unsafeDelivered(key)
          continue
        }
        hold.state = "open"
        unsafeWake()
      }
    }

    /** Waits until no segment is being shipped. */
    const idle: Effect.Effect<void> = Effect.suspend(
      function again(): Effect.Effect<void> {
        return shipping === 0 ? Effect.void : awaitChange(again)
      }
    )

    /**
     * Ships segments, `SHIPPERS` at a time, oldest first, until told to end. Two, so that the next
     * segment's batches go out while the last batch of the one before is still on its way (with one, a
     * segment ending in a small batch cost a whole round trip of its own); the shared uploader keeps puts
     * to one destination within its parallel slots (and in order, for a service that enforces tokens).
     * A shipment that fails for a reason that passes does not end the shipping: its destination is held
     * (`hold`), and the others are shipped meanwhile.
     */
    const shipAll: Effect.Effect<void, SpoolError | CloudWatchLogs.ShipError, CloudWatchLogsApi.CloudWatchLogsApi> =
      Effect.all(
        Array.from({ length: SHIPPERS }, () =>
          Effect.gen(function*() {
            while (true) {
              const segment = yield* next
              if (segment === undefined) return
              // shipped again: what it keeps now is this shipment's to say
              putBack.delete(segment.seq)
              const { claimed, skip } = unsafeClaim(segment)
              shipping++
              const outcome = yield* ship(segment, skip, claimed).pipe(Effect.onExit((exit) =>
                Effect.sync(() => {
                  shipping--
                  if (Exit.isFailure(exit)) unsafeUnclaim(claimed)
                  unsafeWake()
                })
              ))
              if (outcome !== undefined) {
                unsafePutBack(segment)
                putBack.set(segment.seq, outcome)
              }
              if (outcome?._tag === "Interrupted") yield* hold(outcome, claimed)
              unsafeUnclaim(claimed)
            }
            // said at once, not once the other shipper, interrupted, has drained its sink
          }).pipe(Effect.tapErrorCause(failWith))),
        { concurrency: "unbounded", discard: true }
      ).pipe(Effect.ensuring(Effect.suspend(() => Fiber.interruptAll(delays))))

    const shipper = yield* Effect.forkScoped(shipAll)
    const timer = yield* Effect.forkScoped(Effect.tapErrorCause(sealOnTime, failWith))

    // At scope close without `finish` (an interruption, SIGTERM), what is written is on disk already: the
    // shipping goes on until the drain's deadline, then stops; the next run ships the rest. The drain runs
    // in a fiber of its own, interruptible: not in the finalizer's region (uninterruptible: neither its
    // deadline nor the races inside it could end) nor made interruptible there (the interruption that is
    // closing the scope, SIGTERM's, would end the drain at once).
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        yield* Fiber.interrupt(timer)
        const budget = options.drainBudget === undefined ? drainMillis : Math.max(0, yield* options.drainBudget)
        const drain = yield* Effect.forkDaemon(Effect.interruptible(
          Effect.gen(function*() {
            // after `finish` (or a failure) the shippers are gone: the queue may hold the end, and be full
            if (Option.isSome(yield* Fiber.poll(shipper))) return
            yield* writing.withPermits(1)(seal)
            yield* queueWaiting
            yield* queueEnd
            yield* Fiber.await(shipper)
          }).pipe(
            // shipping has stopped (an error, a defect): nothing will take from the queue, do not wait on it
            Effect.raceFirst(Deferred.await(failure)),
            Effect.timeout(budget),
            // the deadline, a failure or a defect: the failure is the shipment's to answer (its writers',
            // its flushes'), not the close's
            Effect.exit
          )
        ))
        const drained = yield* Fiber.join(drain)
        if (Exit.isFailure(drained)) yield* Fiber.interrupt(shipper)
        // Nothing more is shipped: writers waiting for room and flushes waiting for segments (which no
        // shipper will take now) are answered, later flushes at once; the rest waits on disk.
        yield* Effect.sync(() => {
          closed = true
          unsafeStopped()
        })
        yield* writing.withPermits(1)(Effect.sync(() => {
          const segment = active
          active = undefined
          if (segment !== undefined) NodeFs.closeSync(segment.fd)
        }))
      }).pipe(Effect.ignore)
    )

    const finish: Effect.Effect<SpoolReport, SpoolError | CloudWatchLogs.ShipError> = Effect.gen(function*() {
      // closed: nothing more is shipped in this run (what is left waits on disk for the next)
      if (closed) return reportNow()
      yield* writing.withPermits(1)(seal)
      yield* queueWaiting
      yield* queueEnd
      yield* Fiber.join(shipper)
      yield* Fiber.interrupt(timer)
      return reportNow()
    })

    /**
     * Waits until the segments up to `last` are shipped, or the shipping has failed, or is in an outage
     * (a shipment failed for a reason that passes, none shipped since), or the spool is closed.
     */
    const waitShipped = (last: number): Effect.Effect<SpoolReport, SpoolError | CloudWatchLogs.ShipError> =>
      Effect.flatMap(Deferred.poll(failure), (failedWith) => {
        if (Option.isSome(failedWith)) return Effect.flatten(failedWith.value)
        // closed, or an outage: the report as it stands (what was not shipped waits on disk, for the
        // shipping to resume or for the next run)
        if (closed || failing || ![...pending].some((seq) => seq <= last)) return Effect.sync(reportNow)
        return Effect.zipRight(Queue.take(shippedOne), waitShipped(last))
      })

    /**
     * Seals what was written, and waits for it to be shipped. In an outage it syncs it instead (a segment
     * sealed then would only take a place in the queue) and returns at once: the flush of a logger (a
     * Lambda's, at the end of each call) does not wait for the service to come back.
     */
    const flush: Effect.Effect<SpoolReport, SpoolError | CloudWatchLogs.ShipError> = flushing.withPermits(1)(
      Effect.zipRight(
        writing.withPermits(1)(
          Effect.suspend(() => failing && (active === undefined || allHeld(active.encoder.keys)) ? syncActive : seal)
        ),
        Effect.suspend(() => waitShipped(nextSeq - 1))
      )
    )

    return { write, unsafeWrite, flush, finish, dropped: () => dropped, report: reportNow, watchedDestinations: () => heldSignals.size }
  })

/**
 * Runs uploads at most `total` at a time (at least 1, as the sink's slots: `NaN` is 1; `Infinity`, no
 * bound).
 */
const uploadSlots = (
  total: number
): Effect.Effect<<A, E, R>(upload: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>> => {
  const n = Number.isNaN(total) ? 1 : Math.max(1, Math.floor(total))
  if (!Number.isFinite(n)) return Effect.succeed((upload) => upload)
  return Effect.map(Effect.makeSemaphore(n), (slots) => slots.withPermits(1))
}

/** Sent entries for `records` by the copies `copiesOf` gives each: one group per count, none for 0. */
const groupByCopies = (
  records: ReadonlyArray<number>,
  copiesOf: (record: number) => number
): Array<Uint8Array> => {
  const groups = new Map<number, Array<number>>()
  for (const record of records) {
    const copies = copiesOf(record)
    const group = groups.get(copies)
    if (group === undefined) groups.set(copies, [record])
    else group.push(record)
  }
  return [...groups].map(([copies, group]) => format.encodeSent(group, copies))
}

/** Done when a destination is held, and the uploads watching it (see `watchingHeld`). */
interface HeldSignal {
  readonly signal: Deferred.Deferred<CloudWatchLogsError.CloudWatchLogsError>
  users: number
}

/**
 * A segment's shipment that failed for a reason that passes: the service's last error (`cause`, for the
 * resume schedule), what the failed shipment's report counted of the events kept to be shipped again
 * (`kept`), counted `Failed` if the spool gives up (the schedule at its end).
 */
interface Interrupted extends Failed, Kept {
  readonly _tag: "Interrupted"
  readonly cause: CloudWatchLogsError.CloudWatchLogsError
  /** The destination that failed (`Destination.key`): held for the resume schedule's next delay. */
  readonly destination: string
}

/**
 * A segment put back with the events it keeps (`undelivered`), counted `Failed` in `kept` should the
 * spool give up.
 */
interface Kept {
  readonly path: string
  readonly undelivered: ReadonlyArray<CloudWatchLogs.Undelivered>
  readonly kept: ShipReport.ShipReport
}

/** A segment shipped but for the events of held destinations, which it keeps. */
interface Held extends Kept {
  readonly _tag: "Held"
}

/**
 * A destination in an outage: waiting out its resume schedule's delay, open to a try, or being tried by
 * a shipment (which steps its schedule if it fails on it again).
 */
interface Hold {
  state: "waiting" | "open" | "trying"
  readonly driver: Schedule.ScheduleDriver<unknown, CloudWatchLogsError.CloudWatchLogsError>
}

/**
 * The held destinations a shipment tries again (`Destination.key`), each with the hold it tried: a hold
 * ended (delivered) and made anew meanwhile is not this try's to step or to open.
 */
type Claimed = ReadonlyMap<string, Hold>

/** `entries` but those of the destinations `skip` (by `Destination.key`), each told to `onHeld`. */
const withoutHeld = (
  entries: Iterable<format.Entry>,
  skip: ReadonlySet<string>,
  onHeld: () => void
): Iterable<format.Entry> => ({
  *[Symbol.iterator]() {
    // a segment's reader gives the same destination object to the events after its record
    let last: Destinations.Destination | undefined
    let skipping = false
    for (const entry of entries) {
      if (entry.destination !== last) {
        last = entry.destination
        skipping = skip.has(Destinations.key(last))
      }
      if (skipping) onHeld()
      else yield entry
    }
  }
})

/** The destinations (`Destination.key`) of `entries`. */
const keysOf = (entries: ReadonlyArray<format.Entry>): ReadonlySet<string> => {
  const keys = new Set<string>()
  let last: Destinations.Destination | undefined
  for (const { destination } of entries) {
    if (destination === last) continue
    last = destination
    keys.add(Destinations.key(destination))
  }
  return keys
}

/**
 * A segment's shipment that failed: its error, and the segment, which keeps the events not delivered
 * (`undelivered`: all of them, those its sink never took included).
 */
interface Failed {
  readonly error: CloudWatchLogs.ShipError
  readonly path: string
  readonly undelivered: ReadonlyArray<CloudWatchLogs.Undelivered>
}

/**
 * The possible duplicates the report of a failed shipment (`failed`) counted of the events kept in the
 * segment (`undelivered`, by their numbers, which the rewrite keeps): the copies this shipment's puts
 * said (`after`, less what earlier shipments had said: `before`), which the shipment that stores them
 * counts in its turn.
 */
const keptDuplicates = (
  failed: ShipReport.ShipReport,
  undelivered: ReadonlyArray<format.Entry>,
  before: format.SentRanges,
  after: format.SentRanges
): ShipReport.ShipReport => {
  const copies = new Map<string, number>()
  for (const { destination, event } of undelivered) {
    if (!(event instanceof format.SpoolEvent)) continue
    const n = format.copiesOf(after, event.record) - format.copiesOf(before, event.record)
    if (n <= 0) continue
    const key = Destinations.key(destination)
    copies.set(key, (copies.get(key) ?? 0) + n)
  }
  let kept = ShipReport.empty
  for (const [key, counts] of failed.perDestination) {
    const possibleDuplicates = Math.min(counts.possibleDuplicates, copies.get(key) ?? 0)
    if (possibleDuplicates === 0) continue
    kept = ShipReport.add(kept, counts.destination, { ...ShipReport.emptyCounts, possibleDuplicates })
  }
  return kept
}

/** The `Failed` counts of a report, alone. */
const failedOnly = (report: ShipReport.ShipReport): ShipReport.ShipReport => {
  let failed = ShipReport.empty
  for (const counts of report.perDestination.values()) {
    if (counts.rejected.Failed === 0) continue
    failed = ShipReport.add(failed, counts.destination, {
      ...ShipReport.emptyCounts,
      rejected: { ...ShipReport.emptyCounts.rejected, Failed: counts.rejected.Failed }
    })
  }
  return failed
}

/** The events a segment keeps, per destination: counted `Failed`, and listed undelivered. */
const notDelivered = (entries: ReadonlyArray<format.Entry>): {
  readonly report: ShipReport.ShipReport
  readonly undelivered: ReadonlyArray<CloudWatchLogs.Undelivered>
} => {
  const byDestination = new Map<string, { destination: Destinations.Destination; events: Array<LogEvent.LogEvent> }>()
  for (const { destination, event } of entries) {
    const key = Destinations.key(destination)
    const found = byDestination.get(key)
    if (found === undefined) byDestination.set(key, { destination, events: [event] })
    else found.events.push(event)
  }
  let report = ShipReport.empty
  for (const { destination, events } of byDestination.values()) {
    report = ShipReport.add(report, destination, {
      ...ShipReport.emptyCounts,
      rejected: { ...ShipReport.emptyCounts.rejected, Failed: events.length }
    })
  }
  return { report, undelivered: [...byDestination.values()] }
}

/** `report` without the counts `kept` (`Failed` and possible duplicates only). */
const withoutKept = (report: ShipReport.ShipReport, kept: ShipReport.ShipReport): ShipReport.ShipReport => {
  const less = <C extends ShipReport.Counts>(counts: C, minus: ShipReport.Counts): C => ({
    ...counts,
    rejected: { ...counts.rejected, Failed: counts.rejected.Failed - minus.rejected.Failed },
    possibleDuplicates: counts.possibleDuplicates - minus.possibleDuplicates
  })
  const perDestination = new Map(report.perDestination)
  for (const [key, minus] of kept.perDestination) {
    const counts = perDestination.get(key)
    if (counts !== undefined) perDestination.set(key, less(counts, minus))
  }
  return { ...less(report, kept), perDestination }
}

const rejectedOne = (reason: ShipReport.RejectionReason): ShipReport.Counts => ({
  ...ShipReport.emptyCounts,
  rejected: { ...ShipReport.emptyCounts.rejected, [reason]: 1 }
})

/** @internal */
export const make = (
  options: SpoolOptions
): Effect.Effect<Spool, SpoolError, CloudWatchLogsApi.CloudWatchLogsApi | Scope.Scope> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => makeWith(fs, options)).pipe(Effect.provide(NodeFileSystem.layer))

/** Where an input of the spool's sink goes: it takes what `CloudWatchLogs.sink` takes. @internal */
export const inputOf = <A>(
  target: Destinations.Destination | ((input: A) => Destinations.Destination | CloudWatchLogs.Routed),
  input: A
): format.Input => {
  if (typeof target !== "function") return { destination: target, event: input }
  const routed = target(input)
  return "logGroupName" in routed ? { destination: routed, event: input } : routed
}
