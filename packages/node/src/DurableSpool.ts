/**
 * A durable spool in front of `CloudWatchLogs.sink`: each event is written to a file in a directory of
 * your choosing (and synced to the disk) before the producer is answered, and shipped from there. A
 * process that crashes, is killed or loses its machine loses nothing it had handed over: the next run
 * with the same directory starts with what the last one left.
 *
 * ```ts
 * const report = yield* events.pipe(
 *   Stream.run(DurableSpool.sink({ logGroupName, logStreamName }, { directory: "/var/spool/cwlogs/api" }))
 * )
 *
 * // or the logs of an Effect app: each line on disk before its log call returns
 * const AppLogger = DurableSpool.layerLogger({ logGroupName, logStreamName, directory: "/var/spool/cwlogs/logs" })
 * ```
 *
 * How it works. Events are appended to the active *segment* (a file of length-prefixed records: the
 * message's UTF-8 bytes as they are, no escaping), which is sealed when it reaches `segmentBytes` or is
 * `segmentMillis` old. Two fibers ship the sealed segments, oldest first, each through
 * `CloudWatchLogs.sink` (with the same options: validation, batching, retries; one uploader shared by
 * all, so puts to one destination stay within its parallel slots and in token order, and `maxInFlight`
 * uploads at once in all, both segments together) and delete each once its `ShipReport` is in. A shipment
 * that fails rewrites the segment with only the events not delivered, so that nothing is sent twice. A
 * failure that passes (the retry policy gave up on a service unavailable, network errors, throttling: an
 * outage) does not stop the spool: writes go on to disk, and the shipping resumes on its own, that
 * segment first, as `resumeSchedule` says. A fatal error (`ShipError`: credentials or access refused, a
 * rule broken, a destination that may not be created) fails the shipment as the sink's does; what was
 * not delivered waits on disk for the next run.
 *
 * Delivery: at least once. As the service answers each put, its events are acknowledged in a file beside
 * their segment (`*.seg.acks`); the next run skips them. So the puts in flight when the process dies or
 * its close's deadline passes (at most `maxInFlight`, both segments together) are sent again and may be
 * stored twice; every other event is stored once. Before each put goes out, the same file says its
 * events were sent: the run that sends them again counts them in `possibleDuplicates` when they are
 * stored (as many times as copies may be stored: the put cut off, and puts whose answer was lost).
 * Memory is bounded by the two segments being shipped and the sinks' buffers; the disk by
 * `maxSpoolBytes` (the producer waits when the spool is full, as the sink's producer waits when its
 * buffer is), plus whatever an earlier run left.
 *
 * One process per directory: a lock file (`cwlogs-spool.lock`, with the process id) makes a second
 * spool on the same directory fail with `SpoolError { reason: "Locked" }`; a lock whose process is gone
 * is taken over. Do not share a directory between machines or containers that cannot see each other's
 * processes.
 *
 * @since 0.1.0
 */
import type { CloudWatchLogsApi, CloudWatchLogsError, Destination, LogEvent, ShipReport } from "@cwlogs/core"
import { CloudWatchLogs, Names } from "@cwlogs/core"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as internal from "./internal/spool.js"

/**
 * Options of the spool: where it keeps its files, and the options of the sink it ships through (but
 * `onStored`: the spool acknowledges its own records with it; and `redelivers`: it always ships again
 * what a shipment failed to deliver).
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Omit<CloudWatchLogs.SinkOptions, "onStored" | "redelivers"> {
  /** The spool's directory (created if missing). One process at a time. */
  readonly directory: string
  /** A segment is sealed and shipped once it holds this many bytes (default 4 MiB; 1 or more). */
  readonly segmentBytes?: number | undefined
  /** ... or once it is this old (default `lingerMillis`, else 1,000 ms; 0 or more). */
  readonly segmentMillis?: number | undefined
  /** Bytes not yet shipped before the producer waits (default 256 MiB). */
  readonly maxSpoolBytes?: number | undefined
  /**
   * Sync every write to the disk before answering the producer (default `true`). Without it a write
   * still survives the process (it is in the operating system's cache), not a crash of the machine.
   */
  readonly fsync?: boolean | undefined
  /**
   * When to ship again after a shipment failed for a reason that passes: the retry policy gave up on
   * errors it retries (the service unavailable, network errors and timeouts, throttling), as in an
   * outage. The schedule is the failing destination's own: meanwhile writes go on to disk (within
   * `maxSpoolBytes`) and the other destinations are shipped; at each of the schedule's recurrences (given
   * the service's last error) one shipment tries the destination again, its oldest segment first, until
   * an event of it is stored, which ends its outage (the next one starts the schedule afresh). Default
   * `defaultResumeSchedule`: 1 s, doubling, at most a minute apart, for as long as it takes. At the
   * schedule's end the failure is fatal (`Schedule.stop`: at the first failure, as a fatal error), the
   * events of every segment put back counted `Failed` and listed in its `undelivered`.
   */
  readonly resumeSchedule?: Schedule.Schedule<unknown, CloudWatchLogsError.CloudWatchLogsError> | undefined
}

/**
 * When a spool ships again after an outage (`Options.resumeSchedule`'s default): 1 s after the failure,
 * then each delay twice the one before (with jitter), at most a minute, for as long as it takes.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultResumeSchedule: Schedule.Schedule<unknown, CloudWatchLogsError.CloudWatchLogsError> =
  internal.DEFAULT_RESUME_SCHEDULE

/**
 * The spool's directory could not be used: held by another process (`Locked`), or a file operation
 * failed (`FileSystem`, with the cause).
 *
 * @since 0.1.0
 * @category errors
 */
export const SpoolError = internal.SpoolError

/**
 * @since 0.1.0
 * @category errors
 */
export type SpoolError = internal.SpoolError

/**
 * What a spool shipped: the `ShipReport` of this run (the events an earlier run left included), and
 * what it found on disk. Its `possibleDuplicates` include the events an earlier run had sent without
 * seeing the answer (a put cut off by its close or its death, an answer lost) that this run stored again.
 *
 * @since 0.1.0
 * @category models
 */
export interface SpoolReport extends ShipReport.ShipReport {
  /** Events found in segments an earlier run left, shipped by this one (counted in the report too). */
  readonly recovered: number
  /** Bytes that could not be read as events (a damaged file); their segment is kept as `*.seg.unreadable`. */
  readonly unreadableBytes: number
  /** Bytes of a write an earlier run did not finish (never acknowledged, so not an event lost). */
  readonly tornBytes: number
  /**
   * Events this run wrote to disk: what its writes were answered for (those refused at write, counted in
   * `rejected`, are not). `written + recovered`, less the events the report counts as delivered or
   * refused after they were written, is what waits on disk.
   */
  readonly written: number
}

/**
 * An open spool: `write` returns once the events are on disk, `finish` ships everything and reports.
 *
 * @since 0.1.0
 * @category models
 */
export interface Spool {
  /**
   * Writes events (synced, with `fsync`); waits while the spool is full. Fails once the shipping has failed
   * for good (a fatal error; an outage is not one), and with `SpoolError { reason: "Closed" }` once the
   * spool's scope has closed (its directory is no longer this process's).
   */
  readonly write: (
    events: ReadonlyArray<CloudWatchLogs.Routed>
  ) => Effect.Effect<void, SpoolError | CloudWatchLogs.ShipError>
  /** Seals what was written, ships every segment and reports (in an outage, once the service is back). */
  readonly finish: Effect.Effect<SpoolReport, SpoolError | CloudWatchLogs.ShipError>
  /**
   * What the spool has shipped so far; after its scope has closed, with what the close's drain shipped
   * (a shipment the deadline cut off counts the events it was done with: stored or refused).
   */
  readonly report: () => SpoolReport
}

/**
 * Opens the spool for the scope and starts shipping what an earlier run left. When the scope closes
 * without `finish`, the shipping goes on for `drainTimeoutMillis`; what is left stays on disk. Options
 * out of range (what the sink refuses, `CloudWatchLogs.invalidOptions`, or a `segmentBytes` or
 * `maxSpoolBytes` below 1, a `segmentMillis` below 0) are a defect, before anything is written.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options: Options
) => Effect.Effect<Spool, SpoolError, CloudWatchLogsApi.CloudWatchLogsApi | Scope.Scope> = internal.make

/**
 * Ships what an earlier run left in the directory, and nothing else. In an outage it waits for the
 * service (`resumeSchedule`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const recover = (
  options: Options
): Effect.Effect<SpoolReport, SpoolError | CloudWatchLogs.ShipError, CloudWatchLogsApi.CloudWatchLogsApi> =>
  Effect.scoped(Effect.flatMap(make(options), (spool) => spool.finish))

/**
 * A sink that takes what `CloudWatchLogs.sink` takes (one destination, or a route) and spools it: a
 * chunk is taken once it is on disk. It ends with the `SpoolReport` once everything (what an earlier run
 * left included) was shipped, or fails with a fatal `ShipError` (the events not delivered stay on disk) or
 * a `SpoolError`. An outage does not fail it: chunks are still taken (within `maxSpoolBytes`), and its end
 * waits for the shipping to resume (`resumeSchedule`) and deliver everything.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sink: {
  (
    destination: Destination.Destination,
    options: Options
  ): Sink.Sink<
    SpoolReport,
    LogEvent.LogEvent,
    never,
    SpoolError | CloudWatchLogs.ShipError,
    CloudWatchLogsApi.CloudWatchLogsApi
  >
  <A extends LogEvent.LogEvent>(
    route: (event: A) => Destination.Destination,
    options: Options
  ): Sink.Sink<SpoolReport, A, never, SpoolError | CloudWatchLogs.ShipError, CloudWatchLogsApi.CloudWatchLogsApi>
  <A>(
    route: (input: A) => CloudWatchLogs.Routed,
    options: Options
  ): Sink.Sink<SpoolReport, A, never, SpoolError | CloudWatchLogs.ShipError, CloudWatchLogsApi.CloudWatchLogsApi>
} = <A>(
  target: Destination.Destination | ((input: A) => Destination.Destination | CloudWatchLogs.Routed),
  options: Options
): Sink.Sink<SpoolReport, A, never, SpoolError | CloudWatchLogs.ShipError, CloudWatchLogsApi.CloudWatchLogsApi> =>
  Sink.unwrapScoped(Effect.map(
    internal.make(options),
    (spool) =>
      Sink.forEachChunk((chunk: Chunk.Chunk<A>) =>
        spool.write(Chunk.toReadonlyArray(chunk).map((input) => internal.inputOf(target, input)))
      ).pipe(Sink.mapEffect(() => spool.finish))
  ))

/**
 * Options of the durable logger: the shipping logger's (destination, level, `replace`, shipping) but
 * `overflow` (a full spool drops the newest line), and the spool's.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoggerOptions extends Omit<CloudWatchLogs.LoggerOptions, "overflow"> {
  /** The spool's directory (created if missing). One process at a time. */
  readonly directory: string
  /** A segment is sealed and shipped once it holds this many bytes (default 4 MiB; 1 or more). */
  readonly segmentBytes?: number | undefined
  /** ... or once it is this old (default `lingerMillis`, else 1,000 ms; 0 or more). */
  readonly segmentMillis?: number | undefined
  /** Bytes not yet shipped before new lines are dropped (and counted): a logger cannot wait (default 256 MiB). */
  readonly maxSpoolBytes?: number | undefined
  /**
   * Sync each segment to the disk when it is sealed and at `flush` (default `true`). A line is in the
   * operating system's hands when its log call returns, so it survives the process at once; it survives
   * a crash of the machine once its segment is synced.
   */
  readonly fsync?: boolean | undefined
  /**
   * When to ship again after a shipment failed for a reason that passes: the retry policy gave up on
   * errors it retries (the service unavailable, network errors and timeouts, throttling), as in an
   * outage. The schedule is the failing destination's own: meanwhile writes go on to disk (within
   * `maxSpoolBytes`) and the other destinations are shipped; at each of the schedule's recurrences (given
   * the service's last error) one shipment tries the destination again, its oldest segment first, until
   * an event of it is stored, which ends its outage (the next one starts the schedule afresh). Default
   * `defaultResumeSchedule`: 1 s, doubling, at most a minute apart, for as long as it takes. At the
   * schedule's end the failure is fatal (`Schedule.stop`: at the first failure, as a fatal error), the
   * events of every segment put back counted `Failed` and listed in its `undelivered`.
   */
  readonly resumeSchedule?: Schedule.Schedule<unknown, CloudWatchLogsError.CloudWatchLogsError> | undefined
}

/**
 * A logger whose lines are written to the spool's current segment before the log call returns (one
 * write to the file per line, no wait), and its handle (`flush`: seal and ship everything written, e.g.
 * at the end of a Lambda call; `report`). The lines are the shipping logger's (structured JSON). A line
 * logged when the spool is full (`maxSpoolBytes` not yet shipped), or that the file system refused, is
 * dropped and counted in `dropped` (and in `Metrics.eventsDropped`). In an outage (the retry policy gave up on a service unavailable,
 * network errors, throttling) lines are still written, and shipped once the shipping resumes
 * (`resumeSchedule`); meanwhile `flush` syncs them and returns at once with the report as it stands. After
 * a fatal error (a `ShipError`: credentials or access refused, a rule broken) nothing more is shipped:
 * what is on disk waits for the next run, and new lines are dropped. A group or stream name the service
 * would refuse, or options out of range (as for `make`), are a defect here, at once (as
 * `CloudWatchLogs.makeLogger`'s).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeLogger = (
  options: LoggerOptions
): Effect.Effect<
  { readonly logger: Logger.Logger<unknown, void>; readonly handle: CloudWatchLogs.CloudWatchLogsShape },
  SpoolError,
  CloudWatchLogsApi.CloudWatchLogsApi | Scope.Scope
> =>
  Effect.flatMap(
    Either.match(Names.validateDestination(options), {
      onLeft: (error) => Effect.dieMessage(`cwlogs: the durable logger's destination: ${error.message}`),
      onRight: () => internal.make(options)
    }),
    (spool) =>
      Effect.sync(() => {
        const destination: Destination.Destination = {
          logGroupName: options.logGroupName,
          logStreamName: options.logStreamName,
          createGroup: options.createGroup,
          createStream: options.createStream,
          retentionInDays: options.retentionInDays
        }
        const logger = CloudWatchLogs.makeEventLogger((event) => {
          spool.unsafeWrite([{ destination, event }])
        }, { minimumLevel: options.minimumLevel })
        const current = (): CloudWatchLogs.LoggerReport => ({ ...spool.report(), dropped: spool.dropped() })
        const handle: CloudWatchLogs.CloudWatchLogsShape = {
          // a fatal failure is in the report (its events counted as not delivered), and they are on disk
          flush: spool.flush.pipe(Effect.matchEffect({
            onFailure: () => Effect.sync(current),
            onSuccess: () => Effect.sync(current)
          })),
          report: Effect.sync(current)
        }
        return { logger, handle }
      })
  )

/**
 * The durable logger next to the default one (or in its place with `replace: true`), and its handle
 * (`CloudWatchLogs.flush`, `CloudWatchLogs.report`). Closing the layer's scope ships what it can within
 * `drainTimeoutMillis`; the rest waits on disk for the next run.
 *
 * @example
 * ```ts
 * const AppLogger = DurableSpool.layerLogger({
 *   logGroupName: "orders",
 *   logStreamName: "api-1",
 *   directory: "/var/spool/cwlogs/orders-logs"
 * }).pipe(Layer.provide(NodeCloudWatchLogs.layer()))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerLogger = (
  options: LoggerOptions
): Layer.Layer<CloudWatchLogs.CloudWatchLogs, SpoolError, CloudWatchLogsApi.CloudWatchLogsApi> =>
  Layer.unwrapScoped(
    Effect.map(makeLogger(options), ({ handle, logger }) =>
      Layer.merge(CloudWatchLogs.installLogger(logger, options), CloudWatchLogs.layerHandle(handle)))
  )
