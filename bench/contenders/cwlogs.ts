/**
 * cwlogs, as its module docs show: `CloudWatchLogs.sink` over a `Stream` of events (back-pressure), and
 * `CloudWatchLogs.layerLogger` in place of the default logger, both over `NodeCloudWatchLogs.layer`
 * pointed at the emulator. Defaults everywhere (linger 1000 ms, 4 uploads in flight, buffer 10,000).
 * Also the same Effect program on the default logger, for the overhead workload.
 *
 * @since 0.1.0
 */
import type { CloudWatchLogsApi, ShipReport } from "@cwlogs/core"
import { CloudWatchLogs, Destination as D, LogEvent as L } from "@cwlogs/core"
import { NodeCloudWatchLogs } from "@cwlogs/node"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import { line } from "../lib/events.js"
import { isMemoryWorkload } from "../lib/job.js"
import { CREDENTIALS, REGION, streamNames } from "../lib/names.js"
import type { Job } from "../lib/spec.js"
import { CHUNK, MESSAGE, payload } from "./drive.js"
import type { Hooks, Outcome } from "./types.js"

type Destination = D.Destination
type LogEvent = L.LogEvent

const api = (job: Job) =>
  NodeCloudWatchLogs.layer({
    endpoint: job.endpoint,
    region: REGION,
    credentials: {
      accessKeyId: CREDENTIALS.accessKeyId,
      secretAccessKey: Redacted.make(CREDENTIALS.secretAccessKey)
    }
  })

const describe = (e: unknown): string =>
  typeof e === "object" && e !== null && "_tag" in e
    ? `${String(e._tag)}${"message" in e ? `: ${String(e.message)}` : ""}`
    : e instanceof Error
    ? `${e.name}: ${e.message}`
    : String(e)

const rejectedOf = (rejected: Readonly<Record<string, number>>): number =>
  Object.values(rejected).reduce((a, b) => a + b, 0)

/** Let the Node event loop turn (sockets, timers), as an application's fiber does between requests. */
const yieldToLoop = Effect.async<void>((resume) => {
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

/**
 * An event and its destination, for a routed sink.
 *
 * @since 0.1.0
 * @category models
 */
export interface Routed {
  readonly destination: Destination
  readonly event: LogEvent
}

/**
 * Pre-built events (throughput, many streams: the limit sends pre-built batches too), stream after stream
 * in slices of `CHUNK`, handed over as fast as the sink takes them. Building them is not timed.
 */
const prebuilt = (job: Job, destinations: ReadonlyArray<Destination>): { events: Array<Routed>; bytes: number } => {
  const events: Array<Routed> = []
  let bytes = 0
  const now = Date.now()
  for (let base = 0; base < job.events; base += CHUNK) {
    for (const destination of destinations) {
      for (let i = base; i < Math.min(job.events, base + CHUNK); i++) {
        const message = line(i, now)
        bytes += Buffer.byteLength(message)
        events.push({ destination, event: { timestamp: now, message } })
      }
    }
  }
  return { events, bytes }
}

/** Bytes of the messages made on the fly, counted as they are made (`line` is ASCII: length = bytes). */
interface Made {
  bytes: number
}

/** Events made as they are handed over (memory workload: nothing held in advance), stamped then. */
const generated = (job: Job, made: Made): Stream.Stream<LogEvent> =>
  Stream.range(0, job.events - 1).pipe(
    Stream.map((i): LogEvent => {
      const now = Date.now()
      const message = line(i, now)
      made.bytes += message.length
      return { timestamp: now, message }
    })
  )

/** `rate` events per second, in ticks of 10 ms, stamped when each tick hands them over. */
const paced = (job: Job, made: Made): Stream.Stream<LogEvent> => {
  const perTick = Math.max(1, Math.round(job.rate / 100))
  const ticks = Math.ceil(job.events / perTick)
  return Stream.fromSchedule(Schedule.fixed("10 millis")).pipe(
    Stream.take(ticks),
    Stream.mapConcat((tick) => {
      const now = Date.now()
      const out: Array<LogEvent> = []
      for (let i = tick * perTick; i < Math.min(job.events, (tick + 1) * perTick); i++) {
        const message = line(i, now)
        made.bytes += message.length
        out.push({ timestamp: now, message })
      }
      return out
    })
  )
}

/** The sinks a contender ships through: to one destination, and routed. */
export interface Sinks {
  readonly one: (
    destination: Destination
  ) => Sink.Sink<ShipReport.ShipReport, LogEvent, never, unknown, CloudWatchLogsApi.CloudWatchLogsApi>
  readonly routed: Sink.Sink<ShipReport.ShipReport, Routed, never, unknown, CloudWatchLogsApi.CloudWatchLogsApi>
}

const plainSinks: Sinks = {
  one: (destination) => CloudWatchLogs.sink(destination),
  routed: CloudWatchLogs.sink((input: Routed) => input)
}

/**
 * Through `CloudWatchLogs.sink`: the sink of the one destination, or (many streams) one sink routing
 * each element to its stream, the streams' events interleaved `CHUNK` per stream at a time.
 *
 * @since 0.1.0
 * @category contenders
 */
export const run = (job: Job, hooks: Hooks): Promise<Outcome> => runWith(plainSinks, job, hooks)

/**
 * Ship the workload through the given sinks (those of `CloudWatchLogs`, or of the durable spool).
 *
 * @since 0.1.0
 * @category contenders
 */
export const runWith = async (sinks: Sinks, job: Job, hooks: Hooks): Promise<Outcome> => {
  const destinations: Array<Destination> = streamNames(job.logStreamName, job.streams).map((logStreamName) => ({
    logGroupName: job.logGroupName,
    logStreamName
  }))
  const built = job.rate > 0 || isMemoryWorkload(job.workload)
    ? undefined
    : prebuilt(job, destinations)
  // Counted while made, not by making every line once more beforehand: that would fill the heap with
  // garbage before the run and inflate the memory workload's peak RSS.
  const made: Made = { bytes: 0 }
  // One stream: a stream of `LogEvent`s into the sink of its destination, as a user would write it (the
  // pre-built ones unwrapped before the clock starts); many: one routed sink over the interleaved events.
  const single: Stream.Stream<LogEvent> | undefined = destinations.length !== 1
    ? undefined
    : built !== undefined
    ? Stream.fromIterable(built.events.map((routed) => routed.event)).pipe(Stream.rechunk(4096))
    : job.rate > 0
    ? paced(job, made)
    : generated(job, made)
  const bytesOf = () => built?.bytes ?? made.bytes
  const program = Effect.gen(function*() {
    hooks.start()
    const begin = performance.now()
    const report = yield* single !== undefined
      ? single.pipe(Stream.run(sinks.one(destinations[0])))
      : built !== undefined
      ? Stream.fromIterable(built.events).pipe(Stream.rechunk(4096), Stream.run(sinks.routed))
      : Effect.dieMessage("many streams are driven with pre-built events only")
    return { report, elapsedSeconds: (performance.now() - begin) / 1000 }
  })
  return Effect.runPromise(
    program.pipe(
      Effect.provide(api(job)),
      Effect.map(({ elapsedSeconds, report }): Outcome => ({
        sent: job.events * job.streams,
        bytes: bytesOf(),
        elapsedSeconds,
        reportedFailed: rejectedOf(report.rejected),
        note: `${report.batches} batches, ${report.retries} retries`
      })),
      Effect.catchAll((e) =>
        Effect.succeed<Outcome>({
          sent: job.events * job.streams,
          bytes: bytesOf(),
          elapsedSeconds: Number.NaN,
          error: describe(e)
        })
      )
    )
  )
}

/** One `Effect.log` per event, `CHUNK` at a time, the event loop turning between chunks. */
const logAll = (job: Job, timed: boolean) =>
  Effect.gen(function*() {
    let nanos = 0n
    let counted = 0
    const warmUp = Math.floor(job.events / 2 / CHUNK) * CHUNK
    for (let base = 0; base < job.events; base += CHUNK) {
      const end = Math.min(job.events, base + CHUNK)
      const t0 = process.hrtime.bigint()
      for (let i = base; i < end; i++) yield* Effect.log(MESSAGE, payload(i))
      if (timed && base >= warmUp) {
        nanos += process.hrtime.bigint() - t0
        counted += end - base
      }
      yield* yieldToLoop
    }
    return counted === 0 ? undefined : Number(nanos) / counted
  })

/** `rate` log lines per second, in ticks of 10 ms. */
const logPaced = (job: Job) => {
  const perTick = Math.max(1, Math.round(job.rate / 100))
  return Stream.fromSchedule(Schedule.fixed("10 millis")).pipe(
    Stream.take(Math.ceil(job.events / perTick)),
    Stream.runForEach((tick) =>
      Effect.forEach(
        Array.from(
          { length: Math.max(0, Math.min(perTick, job.events - tick * perTick)) },
          (_, k) => tick * perTick + k
        ),
        (i) => Effect.log(MESSAGE, payload(i)),
        { discard: true }
      )
    )
  )
}

const approxBytes = (job: Job): number =>
  Buffer.byteLength(JSON.stringify({ message: [MESSAGE, payload(0)] })) * job.events

/**
 * Through the Effect logger: `CloudWatchLogs.layerLogger({ ..., replace: true })`, every event one
 * `Effect.log` on the application fiber, then `CloudWatchLogs.flush`.
 *
 * @since 0.1.0
 * @category contenders
 */
export const runLogger = (job: Job, hooks: Hooks): Promise<Outcome> =>
  runLoggerWith(
    CloudWatchLogs.layerLogger({ logGroupName: job.logGroupName, logStreamName: job.logStreamName, replace: true }),
    job,
    hooks
  )

/**
 * Log the workload through the given logger layer, then flush.
 *
 * @since 0.1.0
 * @category contenders
 */
export const runLoggerWith = async (
  logger: Layer.Layer<CloudWatchLogs.CloudWatchLogs, unknown, CloudWatchLogsApi.CloudWatchLogsApi>,
  job: Job,
  hooks: Hooks
): Promise<Outcome> => {
  const program = Effect.gen(function*() {
    hooks.start()
    const begin = performance.now()
    const nanosPerCall = job.rate > 0 ? undefined : yield* logAll(job, job.workload === "overhead")
    if (job.rate > 0) yield* logPaced(job)
    const report = yield* CloudWatchLogs.flush
    return { report, nanosPerCall, elapsedSeconds: (performance.now() - begin) / 1000 }
  })
  const layer = logger.pipe(Layer.provide(api(job)))
  return Effect.runPromise(
    program.pipe(
      Effect.provide(layer),
      Effect.map(({ elapsedSeconds, nanosPerCall, report }): Outcome => ({
        sent: job.events,
        bytes: approxBytes(job),
        elapsedSeconds,
        ...(nanosPerCall === undefined ? {} : { nanosPerCall }),
        reportedFailed: rejectedOf(report.rejected) + report.dropped,
        note: `${report.batches} batches, ${report.dropped} dropped by the overflow policy`
      })),
      Effect.catchAll((e) =>
        Effect.succeed<Outcome>({ sent: job.events, bytes: 0, elapsedSeconds: Number.NaN, error: describe(e) })
      )
    )
  )
}

/**
 * The same program on Effect's default logger (to stdout), for the overhead workload: nothing shipped.
 *
 * @since 0.1.0
 * @category contenders
 */
export const runDefaultLogger = async (job: Job, hooks: Hooks): Promise<Outcome> => {
  const program = Effect.gen(function*() {
    hooks.start()
    const begin = performance.now()
    const nanosPerCall = yield* logAll(job, true)
    return { nanosPerCall, elapsedSeconds: (performance.now() - begin) / 1000 }
  })
  const { elapsedSeconds, nanosPerCall } = await Effect.runPromise(program)
  return {
    sent: job.events,
    bytes: approxBytes(job),
    elapsedSeconds,
    ...(nanosPerCall === undefined ? {} : { nanosPerCall }),
    note: "stdout, nothing shipped"
  }
}
