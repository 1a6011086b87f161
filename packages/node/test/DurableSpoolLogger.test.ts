/**
 * The durable logger against the in-memory CloudWatch Logs, over a real directory: a line is in the
 * spool's file when its log call returns (a copy of the directory taken right then ships it), flush ships
 * everything logged so far, a full spool drops and counts, and nothing of the library's own is logged.
 */
import { CloudWatchLogs, Metrics } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as DurableSpool from "../src/DurableSpool.js"

const NOW = 1_700_000_000_000
const where = { logGroupName: "app", logStreamName: "api-1" }

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-spool-logger-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const stored = Effect.map(
  TestCloudWatchLogs.events(where.logGroupName, where.logStreamName),
  (events) => events.map((e) => JSON.parse(e.message).message)
)

/** Runs `program` with the durable logger in place of the default one, in its own scope. */
const withLogger = <A, E, R>(
  options: Omit<DurableSpool.LoggerOptions, "logGroupName" | "logStreamName">,
  program: Effect.Effect<A, E, R>
) => Effect.provide(program, DurableSpool.layerLogger({ ...where, replace: true, ...options }))

describe("DurableSpool.layerLogger", () => {
  it.scoped("ships every log line as the shipping logger's JSON; flush ships what was logged so far", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const report = yield* withLogger(
        { directory, minimumLevel: LogLevel.Info },
        Effect.gen(function*() {
          for (let i = 0; i < 500; i++) yield* Effect.logInfo(`line ${i}`).pipe(Effect.annotateLogs("i", i))
          yield* Effect.logDebug("below the minimum level")
          return yield* CloudWatchLogs.flush
        })
      )
      expect(report).toMatchObject({ accepted: 500, dropped: 0 })
      expect(yield* stored).toEqual(Array.from({ length: 500 }, (_, i) => `line ${i}`))
      const [first] = yield* TestCloudWatchLogs.events(where.logGroupName, where.logStreamName)
      expect(JSON.parse(first!.message)).toMatchObject({ level: "INFO", message: "line 0", annotations: { i: 0 } })
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("beside an in-memory shipping logger, flush covers both, whichever provided the handle", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const audit = { logGroupName: "app", logStreamName: "audit" }
      const durable = DurableSpool.layerLogger({ ...where, directory })
      const inMemory = CloudWatchLogs.layerLogger({ ...audit, lingerMillis: 600_000 })
      for (const layer of [Layer.merge(durable, inMemory), Layer.merge(inMemory, durable)]) {
        const report = yield* Effect.zipRight(Effect.log("both"), CloudWatchLogs.flush).pipe(
          Effect.provide(layer),
          Effect.scoped
        )
        expect(report.perDestination.size).toBe(2)
      }
      expect((yield* stored).length).toBe(2)
      expect((yield* TestCloudWatchLogs.events(audit.logGroupName, audit.logStreamName)).length).toBe(2)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a line is on disk when its log call returns: a crash right then loses none", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const left = yield* tempDir
      // a ten-minute segment: nothing is sealed or shipped before the copy
      yield* withLogger(
        { directory, segmentMillis: 600_000 },
        Effect.gen(function*() {
          for (let i = 0; i < 100; i++) yield* Effect.logInfo(`before the crash ${i}`)
          Fs.cpSync(directory, left, { recursive: true })
        })
      ).pipe(Effect.provide(TestCloudWatchLogs.layer())) // the run's own drain goes to a model of its own
      const report = yield* DurableSpool.recover({ directory: left })
      expect(report).toMatchObject({ recovered: 100, accepted: 100 })
      expect(yield* stored).toEqual(Array.from({ length: 100 }, (_, i) => `before the crash ${i}`))
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a full spool drops new lines and counts them; the lines kept are all shipped", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // every put waits 10 s on the TestClock: nothing is shipped while the lines come
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 10_000 })
      const segmentBytes = 2_000
      const report = yield* withLogger(
        { directory, segmentBytes, maxSpoolBytes: 5 * segmentBytes },
        Effect.gen(function*() {
          for (let i = 0; i < 400; i++) yield* Effect.logInfo(`line ${i}`)
          const during = yield* CloudWatchLogs.report
          expect(during.dropped).toBeGreaterThan(0)
          const flushing = yield* Effect.fork(CloudWatchLogs.flush)
          while (flushing.unsafePoll() === null) {
            yield* TestClock.adjust("10 seconds")
            yield* TestServices.provideLive(Effect.sleep("5 millis"))
          }
          return yield* flushing
        })
      )
      const kept = yield* stored
      expect(kept.length + report.dropped).toBe(400)
      expect(report.accepted).toBe(kept.length)
      // what was kept is the oldest lines up to the bound (in any order: they share one timestamp, and
      // two segments are shipped at once)
      const numbers = kept.map((line: string) => Number(line.slice("line ".length))).sort((a, b) => a - b)
      expect(numbers).toEqual(Array.from({ length: kept.length }, (_, i) => i))
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("lines dropped (the spool full, or closed) are counted in Metrics.eventsDropped, tagged as metricLabels says", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // a destination of this test's own: the metrics are the process's
      const dropping = { logGroupName: "app-dropping", logStreamName: "api-1" }
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 10_000 })
      const segmentBytes = 2_000
      const scope = yield* Scope.make()
      const { handle, logger } = yield* Scope.extend(
        DurableSpool.makeLogger({
          ...dropping,
          directory,
          segmentBytes,
          maxSpoolBytes: 5 * segmentBytes,
          metricLabels: "group",
          drainTimeoutMillis: 0
        }),
        scope
      )
      const logging = Logger.replace(Logger.defaultLogger, logger)
      for (let i = 0; i < 400; i++) yield* Effect.logInfo(`line ${i}`).pipe(Effect.provide(logging))
      const full = (yield* handle.report).dropped
      expect(full).toBeGreaterThan(0)
      const metric = Metrics.forDestination(Metrics.eventsDropped, dropping, "group")
      expect((yield* Metric.value(metric)).count).toBe(full)
      // closed: a line logged now is dropped too
      yield* Scope.close(scope, Exit.void)
      yield* Effect.logInfo("after the close").pipe(Effect.provide(logging))
      expect((yield* handle.report).dropped).toBe(full + 1)
      expect((yield* Metric.value(metric)).count).toBe(full + 1)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a directory in use is a SpoolError when the layer is built", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      yield* DurableSpool.make({ directory })
      const built = yield* Effect.either(Layer.build(DurableSpool.layerLogger({ ...where, directory })))
      expect(built._tag === "Left" && built.left.reason).toBe("Locked")
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a destination the service would refuse is a defect when the layer is built, and nothing is written", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const built = yield* Effect.exit(
        Layer.build(DurableSpool.layerLogger({ logGroupName: "app logs", logStreamName: "api-1", directory }))
      )
      expect(Exit.isFailure(built) && Cause.isDie(built.cause)).toBe(true)
      expect(Exit.isFailure(built) && Cause.pretty(built.cause)).toMatch(
        /the durable logger's destination: .*logGroupName/
      )
      expect(Fs.readdirSync(directory)).toEqual([])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})
