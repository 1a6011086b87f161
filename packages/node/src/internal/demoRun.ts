/**
 * The demo's effects: the backend (embedded emulator or a real endpoint), the producers, the progress
 * display, the read-back and the verdict.
 *
 * @internal
 */
import { CloudWatchLogsApi, CloudWatchLogsError, Destination, ShipReport } from "@cwlogs/core"
import type { LogEvent } from "@cwlogs/core"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Pure from "./demo.js"
import type { Summary } from "./demo.js"
import * as Shipping from "./demoShipping.js"

// ---------------------------------------------------------------------------------------------------
// options and results
// ---------------------------------------------------------------------------------------------------

/** Where the demo ships to. */
export type Backend =
  | {
    readonly _tag: "Embedded"
    readonly sequenceTokens: "enforced" | "ignored"
    readonly faults: boolean
  }
  | {
    readonly _tag: "Remote"
    readonly endpoint?: string | undefined
    readonly region?: string | undefined
  }

/** How the demo runs. */
export interface Options {
  readonly events: number
  readonly producers: number
  readonly messageBytes: number
  readonly logGroupName: string
  readonly logStreamName: string
  readonly appStreamName: string
  readonly backend: Backend
  readonly seed: number
  readonly pipeline: "independent" | "shared"
  readonly progress: "live" | "lines" | "off"
  /** Writes text to the terminal as is (no newline added). */
  readonly write: (text: string) => Effect.Effect<void>
}

/** The demo ran but something was lost (or duplicated where the service promises no duplicate). */
export class DemoFailed extends Data.TaggedError("DemoFailed")<{
  readonly message: string
  readonly summary: Summary
}> {}

// ---------------------------------------------------------------------------------------------------
// the run
// ---------------------------------------------------------------------------------------------------

const sentCounts = (options: Options): ReadonlyArray<number> =>
  Array.from(
    { length: options.producers },
    (_, p) => Math.floor(options.events / options.producers) + (p < options.events % options.producers ? 1 : 0)
  )

const producerStream = (
  producer: number,
  count: number,
  firstTimestamp: number,
  messageBytes: number,
  handed: Ref.Ref<number>
): Stream.Stream<LogEvent.LogEvent> =>
  Stream.range(0, count - 1, 1024).pipe(
    Stream.mapChunks((seqs) =>
      Chunk.map(seqs, (seq): LogEvent.LogEvent => ({
        timestamp: firstTimestamp + seq,
        message: Pure.eventMessage(producer, seq, messageBytes)
      }))
    ),
    Stream.mapChunksEffect((chunk) => Effect.as(Ref.update(handed, (n) => n + chunk.length), chunk)),
    count === 0 ? (s) => Stream.take(s, 0) : (s) => s
  )

const progressFiber = (
  options: Options,
  stats: Pure.CallStats,
  handed: Ref.Ref<number>,
  total: number,
  startedAt: number
) =>
  Effect.gen(function*() {
    if (options.progress === "off") return yield* Effect.never
    const live = options.progress === "live"
    const line = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const errors = [...stats.errors.values()].reduce((a, b) => a + b, 0)
      return Pure.progressLine({
        elapsedMillis: now - startedAt,
        handed: yield* Ref.get(handed),
        total,
        stored: Pure.countOf(stats.eventsPut, options.logStreamName),
        putCalls: Pure.countOf(stats.calls, "PutLogEvents"),
        errors
      })
    })
    const draw = Effect.flatMap(line, (text) => options.write(live ? `\r\x1b[2K${text}` : `${text}\n`))
    return yield* Effect.ensuring(
      Effect.repeat(Effect.delay(draw, live ? "100 millis" : "1 second"), Schedule.forever),
      Effect.flatMap(line, (text) => options.write(live ? `\r\x1b[2K${text}\n` : `${text}\n`))
    )
  })

/** Reads every event of a stream from its head, following `nextForwardToken` until it stops moving. */
export const readAll = (
  logGroupName: string,
  logStreamName: string
): Effect.Effect<ReadonlyArray<string>, CloudWatchLogsApi.ReadError, CloudWatchLogsApi.CloudWatchLogsApi> =>
  Effect.flatMap(CloudWatchLogsApi.CloudWatchLogsApi, (api) =>
    Effect.map(
      CloudWatchLogsApi.readAll(api, { logGroupName, logStreamName, limit: 10_000 }),
      (events) => events.map((e) => e.message)
    ))

/**
 * Runs the producers and the app's logs against `CloudWatchLogsApi` (already provided, instrumented),
 * reads everything back and judges. `faultsInjected` reads the emulator's own counters at the end.
 */
const runAgainst = (
  options: Options,
  stats: Pure.CallStats,
  target: string,
  faultsInjected: Effect.Effect<Readonly<Record<string, number>>>,
  sequenceTokens: Summary["sequenceTokens"],
  readBackAttempts: number
): Effect.Effect<Summary, never, CloudWatchLogsApi.CloudWatchLogsApi> =>
  Effect.gen(function*() {
    // a group the demo creates keeps its events for a day only (it matters against AWS)
    const destination = Destination.make(options.logGroupName, options.logStreamName, { retentionInDays: 1 })
    const appDestination = Destination.make(options.logGroupName, options.appStreamName, { retentionInDays: 1 })
    const sent = sentCounts(options)
    const total = sent.reduce((a, b) => a + b, 0)
    const handed = yield* Ref.make(0)
    const logged = yield* Ref.make(0)
    const startedAt = yield* Clock.currentTimeMillis
    // synthetic, strictly increasing timestamps per producer, all in the recent past
    const firstTimestamp = startedAt - Math.max(...sent, 0) - 1000
    const appLog = (message: string, annotations: Readonly<Record<string, unknown>>) =>
      Effect.zipRight(Ref.update(logged, (n) => n + 1), Effect.annotateLogs(Effect.logInfo(message), annotations))

    const producer = (p: number) =>
      Effect.gen(function*() {
        yield* appLog("producer started", { producer: p, events: sent[p] })
        const result = yield* Effect.either(
          Shipping.ship(
            destination,
            producerStream(p, sent[p] ?? 0, firstTimestamp, options.messageBytes, handed)
          )
        )
        if (result._tag === "Right") {
          yield* appLog("producer finished", {
            producer: p,
            accepted: result.right.accepted,
            retries: result.right.retries
          })
          return { producer: p, report: result.right, failure: Option.none<string>() }
        }
        yield* Effect.annotateLogs(
          Effect.zipRight(Ref.update(logged, (n) => n + 1), Effect.logError("producer failed")),
          { producer: p, error: result.left.message }
        )
        return { producer: p, report: result.left.report, failure: Option.some(result.left.message) }
      })

    const progress = yield* Effect.fork(progressFiber(options, stats, handed, total, startedAt))
    const results = yield* Effect.scoped(
      Effect.gen(function*() {
        yield* appLog("demo started", { producers: options.producers, events: total, target })
        const results = yield* Effect.all(sent.map((_, p) => producer(p)), { concurrency: "unbounded" })
        yield* appLog("demo shipped", { producers: options.producers, events: total })
        return results
      }).pipe(
        Effect.provide(Shipping.appLogger(appDestination)),
        Effect.provide(Shipping.pipeline(options.pipeline)),
        // the app's logs go to CloudWatch only: the terminal shows the progress and the summary
        Effect.provide(Layer.mergeAll(Logger.remove(Logger.defaultLogger), Logger.remove(Logger.prettyLoggerDefault)))
      )
    )
    const finishedAt = yield* Clock.currentTimeMillis
    yield* Fiber.interrupt(progress)

    const report = results.reduce((r, x) => addReport(r, x.report), ShipReport.empty)
    const failures = results.flatMap((x) =>
      Option.match(x.failure, { onNone: () => [], onSome: (message) => [{ producer: x.producer, message }] })
    )

    // read back; a real service may take a moment to make what it stored readable
    const readStarted = yield* Clock.currentTimeMillis
    const readBack = Effect.gen(function*() {
      const stored = yield* readAll(options.logGroupName, options.logStreamName)
      return Pure.analyze(sent, stored)
    })
    let readError: string | undefined = undefined
    const analysis = yield* readBack.pipe(
      // retry only while the stream shows fewer events than the service acknowledged (eventual reads)
      Effect.flatMap((a) =>
        a.sent - a.lost < report.accepted ? Effect.fail(new ReadBackIncomplete({ analysis: a })) : Effect.succeed(a)
      ),
      Effect.retry({
        schedule: Schedule.spaced(Duration.seconds(2)),
        times: readBackAttempts,
        while: (e) => e._tag === "ReadBackIncomplete" || RETRYABLE_READ.has(CloudWatchLogsError.classify(e))
      }),
      Effect.catchAll((e) => {
        if (e._tag === "ReadBackIncomplete") return Effect.succeed(e.analysis)
        readError = e.message
        return Effect.succeed(Pure.analyze(sent, []))
      })
    )
    const appStored = yield* readAll(options.logGroupName, options.appStreamName).pipe(
      Effect.map((messages) => Pure.countAppLines(messages)),
      Effect.orElseSucceed(() => 0)
    )
    const readBackMillis = (yield* Clock.currentTimeMillis) - readStarted
    const snap = Pure.snapshot(stats)
    const appLogs = { logged: yield* Ref.get(logged), stored: appStored }
    const { ok, verdict } = Pure.verdictOf(analysis, report, failures, appLogs)
    return {
      target,
      destination: Destination.show(destination),
      appDestination: Destination.show(appDestination),
      elapsedMillis: finishedAt - startedAt,
      readBackMillis,
      analysis,
      failures,
      report,
      appLogs,
      calls: snap.calls,
      errors: snap.errors,
      faultsInjected: yield* faultsInjected,
      sequenceTokens,
      readError,
      ok,
      verdict
    }
  })

const RETRYABLE_READ: ReadonlySet<CloudWatchLogsError.ErrorClass> = new Set(["transient", "throttled", "notFound"])

class ReadBackIncomplete extends Data.TaggedError("ReadBackIncomplete")<{ readonly analysis: Pure.Analysis }> {}

const addReport = (a: ShipReport.ShipReport, b: ShipReport.ShipReport): ShipReport.ShipReport => {
  let out = a
  for (const entry of b.perDestination.values()) out = ShipReport.add(out, entry.destination, entry)
  if (b.perDestination.size === 0) out = { ...ShipReport.addCounts(out, b), perDestination: out.perDestination }
  return out
}

/** The port, counted. */
export const instrumented = <E, R>(
  base: Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi, E, R>,
  stats: Pure.CallStats
): Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi, E, R> =>
  Layer.effect(
    CloudWatchLogsApi.CloudWatchLogsApi,
    Effect.map(CloudWatchLogsApi.CloudWatchLogsApi, (api) => Pure.instrument(api, stats))
  ).pipe(Layer.provide(base))

/** The whole demo: backend, run, read-back, summary. Fails with `DemoFailed` when anything was lost. */
export const run = (options: Options): Effect.Effect<Summary, DemoFailed | Shipping.BackendError, Scope.Scope> =>
  Effect.gen(function*() {
    const stats = Pure.makeCallStats()
    const backend = yield* Shipping.backend(options.backend, options.seed)
    const summary = yield* runAgainst(
      options,
      stats,
      backend.target,
      backend.faultsInjected,
      backend.sequenceTokens,
      backend.readBackAttempts
    ).pipe(Effect.provide(instrumented(backend.api, stats)))
    if (!summary.ok) return yield* new DemoFailed({ message: summary.verdict, summary })
    return summary
  })
