/**
 * What users call: a `Sink` that ships a stream of events with back-pressure and answers with a
 * `ShipReport`, and a `Logger` that ships every Effect log line as structured JSON.
 *
 * ```ts
 * // any stream of events, with back-pressure; the result says what happened to every event
 * const report = yield* events.pipe(Stream.run(CloudWatchLogs.sink({ logGroupName, logStreamName })))
 *
 * // an Effect app whose logs go to CloudWatch (next to the default logger), drained at scope close
 * const AppLogger = CloudWatchLogs.layerLogger({ logGroupName: "orders", logStreamName: "api-1" })
 * ```
 *
 * Both run on one engine: a bounded buffer per destination, a background fiber per destination that
 * validates (`BatchValidator`), batches (`Batcher`, with a linger time) and uploads (`Uploader`) with
 * a bounded number of uploads in flight. Services found in the context (`Uploader`, `Batcher`,
 * `BatchValidator`, `SequenceTokenStore`, `UploadRateLimiter`, `RetryPolicy`) are used; the others take
 * their defaults, so `CloudWatchLogsApi` is the only requirement.
 *
 * The per-account quota is one per process: when no `UploadRateLimiter` is in context, every sink and
 * logger of the process uses the same default limiter (one per `Clock` and `Limits` in force: in
 * production, one; each test on its own `TestClock` gets its own, which follows that clock). Two sinks
 * together therefore never exceed the account's quota, and a throttling answer seen by one slows both.
 * A limiter provided in context (`UploadRateLimiter.layer(options)`) replaces it for the fibers that
 * see it. The other defaults (token store, retry policy) are built per sink or logger: to share one
 * view of sequence tokens between several of them, provide `Uploader.layer` with its services once, at
 * the top of the program.
 *
 * Delivery: every event handed in ends accepted by the service or rejected with a reason (see
 * `ShipReport`); a fatal error fails the sink with a `ShipError` carrying the events not delivered;
 * closing the scope drains what is buffered within `drainTimeoutMillis` and reports what it could not.
 * A valid event is passed on as given, not copied (the hot path allocates nothing per event): do not
 * change an event object after handing it in. Memory is bounded: per destination, `bufferCapacity`
 * events + one batch being filled; in all, `maxInFlight` batches being uploaded. A routed sink releases
 * a destination's buffer and fiber once it has been idle for `destinationIdleMillis`.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"
import type * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import type { OversizePolicy } from "./BatchValidator.js"
import type { CloudWatchLogsApi } from "./CloudWatchLogsApi.js"
import type { Destination } from "./Destination.js"
import * as Destinations from "./Destination.js"
import { checked } from "./internal/config.js"
import * as internalLogger from "./internal/logger.js"
import * as Shipper from "./internal/shipper.js"
import * as Limits from "./Limits.js"
import type { LogEvent } from "./LogEvent.js"
import type * as Metrics from "./Metrics.js"
import * as Names from "./Names.js"
import type { RejectionReason, ShipReport } from "./ShipReport.js"
import * as ShipReports from "./ShipReport.js"
import type * as Uploader from "./Uploader.js"

/**
 * How events are shipped (sink and logger alike).
 *
 * @since 0.1.0
 * @category models
 */
export interface ShippingOptions {
  /** How long a batch that is not full waits for more events (default 1000 ms; 0 or more, else refused). */
  readonly lingerMillis?: number | undefined
  /**
   * What to do with an event larger than the service accepts, or than fits alone in a batch of
   * `maxBatchBytes` (less the 26 bytes counted per event) (default `"split"`: nothing is lost).
   */
  readonly oversize?: OversizePolicy | undefined
  /** Lower the events per batch below the service's 10,000 (a whole number, 1 or more, else refused). */
  readonly maxBatchEvents?: number | undefined
  /**
   * Lower the bytes per batch below the service's 1,048,576. At least 30 (26 per event and one
   * character): less is refused when the sink or logger is made (a defect; a `ConfigError` from Config).
   */
  readonly maxBatchBytes?: number | undefined
  /** Events buffered per destination (default 10,000; a whole number, 1 or more, else refused). */
  readonly bufferCapacity?: number | undefined
  /**
   * Uploads in flight at once, all destinations together (default 4; a whole number, 1 or more, or
   * `Infinity`, else refused).
   */
  readonly maxInFlight?: number | undefined
  /**
   * When the scope closes, how long the drain of what is buffered may take (default 10,000 ms; 0 or
   * more, else refused).
   */
  readonly drainTimeoutMillis?: number | undefined
  /**
   * Tags of the per-destination metrics: `log_group` and `log_stream` (default), or `log_group` only
   * (`"group"`: for a routed sink over streams that come and go, since Effect keeps every metric key it
   * has seen). Applies to the engine's metrics and the default uploader's (an `Uploader` provided in
   * context has its own `metricLabels`).
   */
  readonly metricLabels?: Metrics.DestinationLabels | undefined
}

/**
 * Options of the sink.
 *
 * @since 0.1.0
 * @category models
 */
export interface SinkOptions extends ShippingOptions {
  /**
   * Routed sinks: what is held for a destination (its buffer, pending batch and fiber) is released once
   * the destination has had nothing buffered, pending or uploading for this long (counted from the end
   * of its last upload, or its last event taken, whichever is later), and made again when
   * events for it come; its counts stay in the report (default 60,000 ms; `Infinity`, 0 or less: never
   * for idleness alone; at `maxDestinations` a destination with nothing to do still gives its place up). A sink that
   * routes to destinations that come and go (a stream per day, per tenant, per job) then holds only the
   * recent ones.
   */
  readonly destinationIdleMillis?: number | undefined
  /**
   * Routed sinks: destinations held at once (default 10,000; a whole number, 1 or more, or `Infinity`,
   * else refused). At the cap, a new destination makes the
   * ones with nothing to do release what they hold, then waits for one to finish its work: the stream is
   * back-pressured on the number of destinations as on the number of events, so a fan-out to new
   * destinations faster than the service takes them keeps memory bounded.
   */
  readonly maxDestinations?: number | undefined
  /**
   * Called as the sink is done with events, to acknowledge upstream as they are stored (commit an
   * offset, delete a spooled record), not only at the end: after each put the service answered, with
   * the inputs it stored or refused, and at once with the inputs the sink refuses itself (empty, too old,
   * too new, over the size limit with `oversize: "drop"`: never sent), also when the sink is cut off (its
   * stream interrupted). Every input the sink was given is named once, except those it fails to deliver
   * (they are in the `ShipError`; when the drain's deadline passes, everything the sink still holds, refused
   * or not, counted `Failed`) and those without a log event's shape (possible only from untyped code;
   * counted in the report). It runs on the upload's (or
   * the destination's) fiber before the sink goes on, so a slow callback slows the sink down; a defect
   * in it is logged and ignored.
   */
  readonly onStored?: ((batch: StoredBatch) => Effect.Effect<void>) | undefined
  /**
   * The caller ships again what this sink fails to deliver (the durable spool does: its events wait on
   * disk). What the `ShipError` hands back is then not counted as rejected (`Failed`) in the metrics,
   * nor logged as not delivered, since it is not lost; the error and the reports are the same.
   */
  readonly redelivers?: boolean | undefined
}

/**
 * Inputs the sink is done with (`SinkOptions.onStored`): the very objects it was given (events routed
 * with `{ destination, event }` are the `event`s). A split event is named once, with the put that stored
 * its last part; a truncated event as the input, not the truncated copy that was stored.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredBatch {
  readonly destination: Destination
  /** The inputs, in the order they were put (or refused). */
  readonly events: ReadonlyArray<LogEvent>
  /**
   * Those refused for good, by the service or by the sink's own checks, by index into `events`; every
   * other one is stored.
   */
  readonly rejected: ReadonlyArray<{ readonly index: number; readonly reason: Exclude<RejectionReason, "Failed"> }>
}

/**
 * Options of the logger: where its lines go, and what to do when its buffer is full.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoggerOptions extends ShippingOptions, Destination {
  /** When the buffer is full: drop the new line (default) or the oldest buffered one. Both are counted. */
  readonly overflow?: "dropNewest" | "dropOldest" | undefined
  /** Lines below this level are not shipped. */
  readonly minimumLevel?: LogLevel.LogLevel | undefined
  /** `layerLogger` only: replace the default logger (Effect's, or the pretty one `runMain` installs) instead of adding to it (default `false`). */
  readonly replace?: boolean | undefined
}

/**
 * An event and where it goes, as a router may answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Routed {
  readonly destination: Destination
  readonly event: LogEvent
}

/**
 * A fatal error (bad credentials, a rule broken, retries exhausted, a destination that may not be
 * created) stopped the shipment. `undelivered` holds every event not delivered, per destination (the
 * parts of a split event as sent), `report` what happened to the others, `cause` the first failure.
 *
 * @since 0.1.0
 * @category errors
 */
export { ShipError } from "./internal/shipper.js"

/**
 * Events not delivered to one destination.
 *
 * @since 0.1.0
 * @category models
 */
export type Undelivered = Shipper.Undelivered

/**
 * The report of a logger: a `ShipReport`, and the lines its overflow policy dropped.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoggerReport extends ShipReport {
  readonly dropped: number
}

/**
 * The handle of a shipping logger, provided by `layerLogger`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CloudWatchLogsShape {
  /** Ships everything buffered now and waits until it was delivered (e.g. at the end of a Lambda call). */
  readonly flush: Effect.Effect<LoggerReport>
  /** What happened so far. */
  readonly report: Effect.Effect<LoggerReport>
}

/**
 * The shipping logger's handle.
 *
 * @since 0.1.0
 * @category tags
 */
export class CloudWatchLogs extends Context.Tag("@cwlogs/core/CloudWatchLogs")<CloudWatchLogs, CloudWatchLogsShape>() {}

/**
 * The log annotation that marks a line as cwlogs' own: no shipping logger ships a line annotated with it
 * `true` (any other value marks nothing), so that the library's warnings never recurse into CloudWatch Logs.
 *
 * @since 0.1.0
 * @category constants
 */
export const INTERNAL_ANNOTATION: string = Shipper.INTERNAL_ANNOTATION

/**
 * Default events buffered per destination.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_BUFFER_CAPACITY = 10_000

/**
 * Default uploads in flight.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_IN_FLIGHT = 4

/**
 * Default time after which a routed sink releases an idle destination's buffer and fiber.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_DESTINATION_IDLE_MILLIS = 60_000

/**
 * Default number of destinations a routed sink holds at once.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_DESTINATIONS = 10_000

/**
 * Default deadline of the drain at scope close.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_DRAIN_TIMEOUT_MILLIS = 10_000

/**
 * What is wrong with sink or logger options, if anything, in words: batch options out of range
 * (`Batcher.invalidOptions`), a `bufferCapacity`, `maxInFlight` or `maxDestinations` that is not a whole
 * number of 1 or more (`Infinity` allowed for the last two), a `drainTimeoutMillis` below 0, a
 * `destinationIdleMillis` that is not a number. The sink and the logger refuse such options when they
 * are made (a defect; a `ConfigError` from `layerLoggerConfig`), rather than take them for something
 * else; code that builds on them (the durable spool) can refuse them up front the same way.
 *
 * @since 0.1.0
 * @category validation
 */
export const invalidOptions = (
  options: SinkOptions,
  limits: Limits.LimitsShape = Limits.current
): string | undefined => Shipper.invalidOptions(options, limits)

/** Dies with what is wrong with the options (`invalidOptions`, the `Limits` in force), before anything is made. */
const refuseInvalid = (options: SinkOptions): Effect.Effect<void> =>
  Effect.flatMap(Limits.Limits, (limits) => {
    const invalid = invalidOptions(options, limits)
    return invalid === undefined ? Effect.void : Effect.dieMessage(`cwlogs: ${invalid}`)
  })

const shipperOptions = (
  options: ShippingOptions,
  overflow: "suspend" | "dropNewest" | "dropOldest",
  stopOnFatal: boolean
): Shipper.ShipperOptions => ({
  capacity: options.bufferCapacity ?? DEFAULT_BUFFER_CAPACITY,
  overflow,
  lingerMillis: options.lingerMillis,
  oversize: options.oversize,
  maxBatchEvents: options.maxBatchEvents,
  maxBatchBytes: options.maxBatchBytes,
  maxInFlight: options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
  drainTimeoutMillis: options.drainTimeoutMillis ?? DEFAULT_DRAIN_TIMEOUT_MILLIS,
  stopOnFatal,
  metricLabels: options.metricLabels
})

const isDestination = (target: Destination | Routed): target is Destination => "logGroupName" in target

/**
 * A sink that ships events. Offers suspend while a destination's buffer is full (back-pressure). It
 * ends with a `ShipReport` once everything was delivered, or fails with a `ShipError` carrying the
 * events not delivered. Given a function, each element is routed: to the `Destination` it returns (the
 * element is the event), or as the `{ destination, event }` it returns.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sink: {
  (
    destination: Destination,
    options?: SinkOptions
  ): Sink.Sink<ShipReport, LogEvent, never, Shipper.ShipError, CloudWatchLogsApi>
  <A extends LogEvent>(
    route: (event: A) => Destination,
    options?: SinkOptions
  ): Sink.Sink<ShipReport, A, never, Shipper.ShipError, CloudWatchLogsApi>
  <A>(
    route: (input: A) => Routed,
    options?: SinkOptions
  ): Sink.Sink<ShipReport, A, never, Shipper.ShipError, CloudWatchLogsApi>
} = <A>(
  target: Destination | ((input: A) => Destination | Routed),
  options: SinkOptions = {}
): Sink.Sink<ShipReport, A, never, Shipper.ShipError, CloudWatchLogsApi> =>
  Sink.unwrapScoped(Effect.zipRight(
    refuseInvalid(options),
    Effect.map(
      Shipper.make({
        ...shipperOptions(options, "suspend", true),
        // A sink to one destination keeps its one lane; a routed sink releases the idle ones.
        retireIdleMillis: typeof target === "function"
          ? options.destinationIdleMillis ?? DEFAULT_DESTINATION_IDLE_MILLIS
          : undefined,
        maxLanes: typeof target === "function" ? options.maxDestinations ?? DEFAULT_MAX_DESTINATIONS : undefined,
        onStored: options.onStored,
        redelivers: options.redelivers
      }),
      (shipper) => {
        const offer = (chunk: Chunk.Chunk<A>): Effect.Effect<void> => {
          if (typeof target !== "function") {
            return Effect.flatMap(shipper.lane(target), (lane) => shipper.offerAll(lane, Chunk.toReadonlyArray(chunk)))
          }
          return Effect.suspend(() => {
            // Group by destination, keeping the order within each. Runs of elements routed to the same
            // destination object (built once, as routers do) look its group up once.
            const groups = new Map<string, { destination: Destination; inputs: Array<unknown> }>()
            let last: Destination | undefined
            let group: { destination: Destination; inputs: Array<unknown> } | undefined
            for (const input of chunk) {
              const routed = target(input)
              const destination = isDestination(routed) ? routed : routed.destination
              const event: unknown = isDestination(routed) ? input : routed.event
              if (destination !== last || group === undefined) {
                const k = Destinations.key(destination)
                group = groups.get(k)
                if (group === undefined) {
                  group = { destination, inputs: [] }
                  groups.set(k, group)
                }
                last = destination
              }
              group.inputs.push(event)
            }
            // Cut off (the stream interrupted), the groups not yet handed to an offer are counted, not lost:
            // one whose offer began counts what it had not buffered itself.
            const list = [...groups.values()]
            let offered = 0
            return Effect.onInterrupt(
              Effect.forEach(
                list,
                (g) =>
                  Effect.flatMap(shipper.lane(g.destination), (lane) => {
                    offered++
                    return shipper.offerAll(lane, g.inputs)
                  }),
                { discard: true }
              ),
              () =>
                Effect.forEach(list.slice(offered), (g) => shipper.cutOff(g.destination, g.inputs), { discard: true })
            )
          })
        }
        return Sink.foldChunksEffect(
          undefined,
          () => shipper.failure() === undefined,
          (_: void, chunk: Chunk.Chunk<A>) => offer(chunk)
        ).pipe(Sink.ignoreLeftover, Sink.mapEffect(() => shipper.finish))
      }
    )
  ))

/**
 * The uploader a sink or logger would make for itself: the `Uploader` in context, else one over the
 * services in context (`SequenceTokenStore`, `UploadRateLimiter`, `RetryPolicy`) or their defaults (the
 * process's rate limiter). Provide it to several sinks run one after the other or side by side, and they
 * share what it learns: the service's token generation, and each destination's tokens (in its token
 * store). It keeps a destination's state only while a sink uses it (`Uploader.release`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeUploader = (
  options: { readonly metricLabels?: Metrics.DestinationLabels | undefined } = {}
): Effect.Effect<Uploader.UploaderShape, never, CloudWatchLogsApi | Scope.Scope> =>
  Shipper.resolveUploader({ metricLabels: options.metricLabels ?? "stream" })

/**
 * A logger that turns each log line into the event the shipping logger ships (its time, and the line as
 * structured JSON: level, message, fiber, annotations, spans, cause) and hands it to `offer`, at once and
 * synchronously; lines below `minimumLevel`, and the library's own, are skipped. For loggers that ship
 * another way (e.g. `@cwlogs/node`'s durable spool).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeEventLogger = (
  offer: (event: LogEvent) => void,
  options: { readonly minimumLevel?: LogLevel.LogLevel | undefined } = {}
): Logger.Logger<unknown, void> => internalLogger.make(offer, { minimumLevel: options.minimumLevel })

/**
 * A shipping logger and its handle, for the lifetime of the scope (which drains the buffer when it
 * closes, within `drainTimeoutMillis`). A group or stream name the service would refuse is a defect
 * here, at once (a logger cannot fail its callers: every line would be lost, told only on stderr).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeLogger = (
  options: LoggerOptions
): Effect.Effect<
  { readonly logger: Logger.Logger<unknown, void>; readonly handle: CloudWatchLogsShape },
  never,
  CloudWatchLogsApi | Scope.Scope
> =>
  Effect.gen(function*() {
    const named = Names.validateDestination(options)
    if (Either.isLeft(named)) return yield* Effect.dieMessage(`cwlogs: the logger's destination: ${named.left.message}`)
    yield* refuseInvalid(options)
    const shipper = yield* Shipper.make(shipperOptions(options, options.overflow ?? "dropNewest", false))
    const destination: Destination = {
      logGroupName: options.logGroupName,
      logStreamName: options.logStreamName,
      createGroup: options.createGroup,
      createStream: options.createStream,
      retentionInDays: options.retentionInDays
    }
    const lane = yield* shipper.lane(destination)
    const withDropped = (report: ShipReport): LoggerReport => ({ ...report, dropped: shipper.dropped() })
    const logger = internalLogger.make((event) => shipper.unsafeOffer(lane, event), {
      minimumLevel: options.minimumLevel
    })
    const handle: CloudWatchLogsShape = {
      flush: Effect.map(shipper.flush, withDropped),
      report: Effect.map(shipper.report, withDropped)
    }
    return { logger, handle }
  })

/**
 * A shipping logger, for the lifetime of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const logger = (
  options: LoggerOptions
): Effect.Effect<Logger.Logger<unknown, void>, never, CloudWatchLogsApi | Scope.Scope> =>
  Effect.map(makeLogger(options), (made) => made.logger)

/**
 * Installs `logger` next to the loggers in place, or with `replace: true` in place of the default one:
 * Effect's `Logger.defaultLogger`, or the pretty logger that `NodeRuntime.runMain` (and every platform's
 * `runMain`) puts in its place. Other loggers the application installed stay.
 *
 * @since 0.1.0
 * @category layers
 */
export const installLogger = <A>(
  logger: Logger.Logger<unknown, A>,
  options: { readonly replace?: boolean | undefined } = {}
): Layer.Layer<never> =>
  options.replace === true
    ? Logger.remove(Logger.defaultLogger).pipe(
      Layer.flatMap(() => Logger.remove(Logger.prettyLoggerDefault)),
      Layer.flatMap(() => Logger.add(logger))
    )
    : Logger.add(logger)

/** The handles of the shipping loggers in place for a fiber: each `layerHandle` adds its own. */
const handlesInPlace = globalValue(
  Symbol.for("@cwlogs/core/CloudWatchLogs/handlesInPlace"),
  () => FiberRef.unsafeMakeHashSet(HashSet.empty<CloudWatchLogsShape>())
)

/**
 * The handles whose layer was closed. Its scope restores `handlesInPlace` when it closes, but not always
 * (layers built together, by `Layer.merge`, leave their changes in place, as Effect's `Logger.add` does):
 * a handle closed is left out whatever the fiber still holds.
 */
const closedHandles = globalValue(
  Symbol.for("@cwlogs/core/CloudWatchLogs/closedHandles"),
  () => new WeakSet<CloudWatchLogsShape>()
)

const emptyLoggerReport: LoggerReport = { ...ShipReports.empty, dropped: 0 }

const combineLoggerReports = (reports: Iterable<LoggerReport>): LoggerReport => {
  let out = emptyLoggerReport
  for (const r of reports) out = { ...ShipReports.combine(out, r), dropped: out.dropped + r.dropped }
  return out
}

/**
 * Provides `handle` as the `CloudWatchLogs` service, among the handles of the shipping loggers already in
 * place: the service's `flush` and `report` cover all of them, so that a program with two shipping
 * loggers (two destinations, say) flushes both, whichever layer provided the service last.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHandle = (handle: CloudWatchLogsShape): Layer.Layer<CloudWatchLogs> =>
  Layer.scopedContext(Effect.gen(function*() {
    yield* Effect.locallyScopedWith(handlesInPlace, HashSet.add(handle))
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closedHandles.add(handle)
      })
    )
    const all = (of: (h: CloudWatchLogsShape) => Effect.Effect<LoggerReport>) =>
      Effect.flatMap(FiberRef.get(handlesInPlace), (handles) => {
        const open = HashSet.add(HashSet.filter(handles, (h) => !closedHandles.has(h)), handle)
        return Effect.map(Effect.forEach(open, of, { concurrency: "unbounded" }), combineLoggerReports)
      })
    return Context.make(CloudWatchLogs, { flush: all((h) => h.flush), report: all((h) => h.report) })
  }))

/**
 * Adds the shipping logger next to the default one (or in its place with `replace: true`: see
 * `installLogger`), and provides its handle (`flush`, `report`: these cover every shipping logger in
 * place, see `layerHandle`). Closing the layer's scope drains the buffer within the deadline.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerLogger = (options: LoggerOptions): Layer.Layer<CloudWatchLogs, never, CloudWatchLogsApi> =>
  Layer.unwrapScoped(
    Effect.map(
      makeLogger(options),
      ({ handle, logger }) => Layer.merge(installLogger(logger, options), layerHandle(handle))
    )
  )

/**
 * `layerLogger` with its options read from `Config`, e.g.
 * `layerLoggerConfig({ logGroupName: Config.string("LOG_GROUP"), logStreamName: Config.string("LOG_STREAM") })`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerLoggerConfig = (
  config: Config.Config.Wrap<LoggerOptions>
): Layer.Layer<CloudWatchLogs, ConfigError.ConfigError, CloudWatchLogsApi> =>
  Layer.unwrapEffect(Effect.map(
    checked(Config.unwrap(config), (options) =>
      Either.match(Names.validateDestination(options), {
        onLeft: (error) => `the logger's destination: ${error.message}`,
        onRight: () => invalidOptions(options)
      })),
    layerLogger
  ))

/**
 * Ships everything the logger has buffered and waits until it was delivered.
 *
 * @since 0.1.0
 * @category accessors
 */
export const flush: Effect.Effect<LoggerReport, never, CloudWatchLogs> = Effect.flatMap(CloudWatchLogs, (h) => h.flush)

/**
 * What the logger has shipped so far.
 *
 * @since 0.1.0
 * @category accessors
 */
export const report: Effect.Effect<LoggerReport, never, CloudWatchLogs> = Effect.flatMap(
  CloudWatchLogs,
  (h) => h.report
)
