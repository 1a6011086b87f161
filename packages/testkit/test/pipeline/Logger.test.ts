import { CloudWatchLogs, CloudWatchLogsApi, Metrics } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"

const G = "app"
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)

/** A model outside the logger's scope, so that it can be read after the scope closed. */
const model = (options?: TestCloudWatchLogs.Options) =>
  Effect.map(TestCloudWatchLogs.make(options), (m) => ({
    m,
    api: Layer.succeed(CloudWatchLogsApi.CloudWatchLogsApi, m.api)
  }))

const docs = (m: TestCloudWatchLogs.TestCloudWatchLogsShape, stream: string) =>
  Effect.map(m.events(G, stream), (events) =>
    events.map((e) => {
      const doc: unknown = JSON.parse(e.message)
      return { timestamp: e.timestamp, doc }
    }))

/** The test runner installs its own loggers: start from Effect's default one alone. */
const withDefaultLoggerOnly = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.locally(effect, FiberRef.currentLoggers, HashSet.make(Logger.defaultLogger))

const settle = Effect.gen(function*() {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
})

describe("CloudWatchLogs.logger", () => {
  it.effect("ships every line as structured JSON, next to the default logger, drained at scope close", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* model()
      const loggers = yield* Effect.gen(function*() {
        yield* Effect.log("hello", { n: 1 }).pipe(
          Effect.annotateLogs("requestId", "r-1"),
          Effect.withLogSpan("handler")
        )
        yield* Effect.logError("boom", new Error("bad"))
        yield* Effect.logWarning("with cause").pipe(Effect.zipRight(Effect.logError(Exit.fail("oops"))))
        return yield* FiberRef.get(FiberRef.currentLoggers)
      }).pipe(
        Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: "s", lingerMillis: 60_000 })),
        Effect.provide(api),
        withDefaultLoggerOnly
      )
      expect(HashSet.has(loggers, Logger.defaultLogger)).toBe(true)
      expect(HashSet.size(loggers)).toBe(2)
      const got = yield* docs(m, "s")
      expect(got.length).toBe(4)
      expect(got[0].timestamp).toBe(NOW)
      expect(got[0].doc).toMatchObject({
        level: "INFO",
        message: ["hello", { n: 1 }],
        annotations: { requestId: "r-1" },
        spans: { handler: 0 },
        timestamp: new Date(NOW).toISOString()
      })
      expect(got[0].doc).toHaveProperty("fiberId")
      expect(got[0].doc).not.toHaveProperty("cause")
      expect(got[1].doc).toMatchObject({ level: "ERROR" })
      expect(got.map((g) => g.doc)).toContainEqual(expect.objectContaining({ level: "WARN", message: "with cause" }))
    }))

  it.effect("a log call never fails the program: a bigint, a getter that throws", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* model()
      const unreadable = {
        get total(): number {
          throw new Error("not today")
        }
      }
      yield* Effect.gen(function*() {
        yield* Effect.log({ orderId: 12345678901234567890n })
        yield* Effect.log("order", { unreadable })
        yield* Effect.log("after")
      }).pipe(
        Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: "odd", replace: true })),
        Effect.provide(api)
      )
      const got = (yield* docs(m, "odd")).map((g) => g.doc)
      expect(got).toEqual([
        expect.objectContaining({ message: { orderId: "12345678901234567890" } }),
        expect.objectContaining({ message: expect.stringContaining("could not be written as JSON: Error: not today") }),
        expect.objectContaining({ message: "after" })
      ])
    }))

  it.effect("replaces the default logger with replace: true", () =>
    Effect.gen(function*() {
      const { api } = yield* model()
      const loggers = yield* FiberRef.get(FiberRef.currentLoggers).pipe(
        Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: "s", replace: true })),
        Effect.provide(api),
        withDefaultLoggerOnly
      )
      expect(HashSet.has(loggers, Logger.defaultLogger)).toBe(false)
      expect(HashSet.size(loggers)).toBe(1)
    }))

  it.effect("replace: true also replaces the pretty logger runMain puts in the default's place, and keeps the others", () =>
    Effect.gen(function*() {
      const { api } = yield* model()
      const mine = Logger.make(() => undefined)
      // what NodeRuntime.runMain leaves: the pretty logger instead of the default; and the application's own
      const loggers = yield* FiberRef.get(FiberRef.currentLoggers).pipe(
        Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: "s", replace: true })),
        Effect.provide(api),
        (effect) => Effect.locally(effect, FiberRef.currentLoggers, HashSet.make(Logger.prettyLoggerDefault, mine))
      )
      expect(HashSet.has(loggers, Logger.prettyLoggerDefault)).toBe(false)
      expect(HashSet.has(loggers, mine)).toBe(true)
      expect(HashSet.size(loggers)).toBe(2)
      // without replace, the pretty logger stays beside it
      const added = yield* FiberRef.get(FiberRef.currentLoggers).pipe(
        Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: "s" })),
        Effect.provide(api),
        (effect) => Effect.locally(effect, FiberRef.currentLoggers, HashSet.make(Logger.prettyLoggerDefault))
      )
      expect(HashSet.has(added, Logger.prettyLoggerDefault)).toBe(true)
      expect(HashSet.size(added)).toBe(2)
    }))

  it.effect("reads its options from Config with layerLoggerConfig", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* model()
      yield* Effect.log("configured").pipe(
        Effect.provide(
          CloudWatchLogs.layerLoggerConfig({
            logGroupName: Config.string("LOG_GROUP"),
            logStreamName: Config.string("LOG_STREAM")
          })
        ),
        Effect.provide(api),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["LOG_GROUP", G], ["LOG_STREAM", "from-config"]])))
      )
      expect((yield* docs(m, "from-config")).map((d) => d.doc)).toEqual([
        expect.objectContaining({ message: "configured" })
      ])
    }))

  it.effect("a destination the service would refuse is refused at once: a ConfigError from Config, a defect else", () =>
    Effect.gen(function*() {
      const { api, m } = yield* model()
      for (const [group, stream] of [["orders api", "s"], [G, "api:1"], [G, ""], ["", "s"]] as const) {
        const fromConfig = yield* Effect.flip(
          Effect.log("lost?").pipe(
            Effect.provide(
              CloudWatchLogs.layerLoggerConfig({
                logGroupName: Config.string("LOG_GROUP"),
                logStreamName: Config.string("LOG_STREAM")
              })
            ),
            Effect.provide(api),
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["LOG_GROUP", group], ["LOG_STREAM", stream]])))
          )
        )
        expect(ConfigError.isConfigError(fromConfig)).toBe(true)
        expect(String(fromConfig)).toMatch(/the logger's destination: .* at 'log(Group|Stream)Name' failed/)
        const direct = yield* Effect.exit(
          Effect.log("lost?").pipe(
            Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: group, logStreamName: stream })),
            Effect.provide(api)
          )
        )
        expect(Exit.isFailure(direct) && Cause.isDie(direct.cause)).toBe(true)
        expect(Exit.isFailure(direct) && Cause.pretty(direct.cause)).toMatch(/cwlogs: the logger's destination: /)
      }
      expect(yield* m.callCount("PutLogEvents")).toBe(0)
    }))

  it.effect("a retention the service would refuse is refused at once too, at and just past the allowed values", () =>
    Effect.gen(function*() {
      const { api, m } = yield* model()
      const fromConfig = yield* Effect.flip(
        Effect.log("lost?").pipe(
          Effect.provide(
            CloudWatchLogs.layerLoggerConfig({
              logGroupName: Config.succeed(G),
              logStreamName: Config.succeed("retention"),
              retentionInDays: Config.integer("DAYS")
            })
          ),
          Effect.provide(api),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["DAYS", "10"]])))
        )
      )
      expect(String(fromConfig)).toMatch(/the logger's destination: .*Value '10' at 'retentionInDays' failed/)
      for (const days of [0, 2, 3654]) {
        const direct = yield* Effect.exit(
          Effect.log("lost?").pipe(
            Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: "r", retentionInDays: days })),
            Effect.provide(api)
          )
        )
        expect(Exit.isFailure(direct) && Cause.pretty(direct.cause)).toMatch(/at 'retentionInDays' failed/)
      }
      expect(yield* m.callCount("CreateLogGroup")).toBe(0)
      expect(yield* m.callCount("PutLogEvents")).toBe(0)
      // the allowed values at the ends: the group is made with them and the line stored
      for (const [days, group] of [[1, "retention-1"], [3653, "retention-3653"]] as const) {
        yield* Effect.log("kept").pipe(
          Effect.provide(
            CloudWatchLogs.layerLogger({ logGroupName: group, logStreamName: "r", retentionInDays: days })
          ),
          Effect.provide(api)
        )
        expect((yield* m.events(group, "r")).length).toBe(1)
      }
    }))

  it.effect("two shipping loggers: flush and report cover both, merged or nested, whichever provided the handle", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* model()
      // a long linger: only a flush sends them
      const to = (stream: string) =>
        CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: stream, lingerMillis: 600_000 })
      const count = (stream: string) => Effect.map(m.events(G, stream), (es) => es.length)
      const merged = yield* Effect.gen(function*() {
        yield* Effect.log("one")
        return yield* CloudWatchLogs.flush
      }).pipe(Effect.provide(Layer.merge(to("a"), to("b"))), Effect.provide(api), Effect.scoped)
      expect([yield* count("a"), yield* count("b")]).toEqual([1, 1])
      expect(merged.accepted).toBe(2)
      expect(merged.perDestination.size).toBe(2)
      // nested: the inner program has both; the service it reaches is the inner one's
      const nested = yield* Effect.gen(function*() {
        yield* Effect.log("two")
        const service = yield* CloudWatchLogs.CloudWatchLogs
        const flushed = yield* service.flush
        return { flushed, report: yield* service.report }
      }).pipe(Effect.provide(to("c")), Effect.provide(to("d")), Effect.provide(api), Effect.scoped)
      expect([yield* count("c"), yield* count("d")]).toEqual([1, 1])
      expect(nested.flushed.accepted).toBe(2)
      expect(nested.report.perDestination.size).toBe(2)
      // one logger alone still reports its own only
      const alone = yield* Effect.zipRight(Effect.log("three"), CloudWatchLogs.flush).pipe(
        Effect.provide(to("e")),
        Effect.provide(api),
        Effect.scoped
      )
      expect(alone.accepted).toBe(1)
      expect([...alone.perDestination.values()].map((c) => c.destination.logStreamName)).toEqual(["e"])
    }))

  it.effect("never ships the library's own lines (annotated cwlogs.internal), and ships every other line", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* model()
      const report = yield* Effect.gen(function*() {
        yield* Effect.log("mine")
        yield* Effect.log("internal").pipe(Effect.annotateLogs("cwlogs.internal", true))
        // an application line: before, any "aws.sdk" annotation left it out, and uncounted
        yield* Effect.log("sdk").pipe(Effect.annotateLogs("aws.sdk", "request"))
        return yield* CloudWatchLogs.flush
      }).pipe(
        Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: "s" })),
        Effect.provide(api)
      )
      expect((yield* docs(m, "s")).map((d) => d.doc)).toEqual([
        expect.objectContaining({ message: "mine" }),
        expect.objectContaining({ message: "sdk", annotations: { "aws.sdk": "request" } })
      ])
      expect(report.accepted).toBe(2)
    }))

  it.effect("honours a minimum level", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* model()
      yield* Effect.gen(function*() {
        yield* Effect.logInfo("info")
        yield* Effect.logWarning("warn")
      }).pipe(
        Effect.provide(
          CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: "s", minimumLevel: LogLevel.Warning })
        ),
        Effect.provide(api)
      )
      expect((yield* docs(m, "s")).map((d) => d.doc)).toEqual([expect.objectContaining({ message: "warn" })])
    }))

  describe.each(
    [
      ["dropNewest", [0, 1, 2, 3, 4]],
      ["dropOldest", [3, 4, 5, 6, 7]]
    ] as const
  )("overflow %s", (overflow, kept) => {
    it.effect("keeps the buffer bounded, counts the drops in the report and the metric", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const { api, m } = yield* model()
        const stream = `overflow-${overflow}`
        const dropped = Metrics.forDestination(Metrics.eventsDropped, { logGroupName: G, logStreamName: stream })
        const before = (yield* Metric.value(dropped)).count
        const report = yield* Effect.gen(function*() {
          // Eight lines in a row, with no yield between them: the shipper cannot take any before the 6th.
          yield* Effect.forEach([0, 1, 2, 3, 4, 5, 6, 7], (i) => Effect.log(`line ${i}`), { discard: true })
          return yield* CloudWatchLogs.flush
        }).pipe(
          Effect.provide(
            CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: stream, bufferCapacity: 5, overflow })
          ),
          Effect.provide(api)
        )
        expect(report.dropped).toBe(3)
        expect(report.accepted).toBe(5)
        expect((yield* Metric.value(dropped)).count - before).toBe(3)
        expect((yield* docs(m, stream)).map((d) => d.doc)).toEqual(
          kept.map((i) => expect.objectContaining({ message: `line ${i}` }))
        )
      }))
  })

  it.effect("a bufferCapacity of NaN (a setting read wrong) is refused when the logger is made, not a buffer of one", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api } = yield* model()
      const exit = yield* Effect.gen(function*() {
        yield* Effect.forEach([0, 1, 2, 3, 4, 5, 6, 7], (i) => Effect.log(`line ${i}`), { discard: true })
        return yield* CloudWatchLogs.flush
      }).pipe(
        Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: "nan", bufferCapacity: NaN })),
        Effect.provide(api),
        Effect.exit
      )
      // before, 7 of the 8 lines were dropped by a buffer of one, with nothing said at start
      expect(exit._tag === "Failure" && Cause.isDie(exit.cause) && Cause.pretty(exit.cause))
        .toContain("bufferCapacity must be a whole number, 1 or more, got NaN")
    }))

  it.effect("logging never waits, even while the service is down", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* model()
      yield* m.setOutage(true)
      const scope = yield* Scope.make()
      const made = yield* CloudWatchLogs.makeLogger({
        logGroupName: G,
        logStreamName: "down",
        bufferCapacity: 10,
        drainTimeoutMillis: 1000
      }).pipe(Effect.provide(api), Scope.extend(scope))
      // 100 lines return at once (no clock moves): 10 buffered, the rest dropped and counted.
      yield* Effect.forEach(Array.from({ length: 100 }, (_, i) => i), (i) => Effect.log(`l${i}`), { discard: true })
        .pipe(Effect.provide(Logger.replace(Logger.defaultLogger, made.logger)))
      const report = yield* made.handle.report
      expect(report.dropped).toBeGreaterThanOrEqual(90)
      // Closing drains within the deadline; what could not go is reported as Failed, not lost silently.
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* settle
      for (let i = 0; i < 30; i++) {
        yield* TestClock.adjust(100)
        yield* settle
      }
      yield* closing.await
      const after = yield* made.handle.report
      expect(after.accepted).toBe(0)
      expect(after.rejected.Failed + after.dropped).toBe(100)
    }))

  it.effect("the drain at scope close stops at its deadline and reports what was not delivered", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* model({ faults: { latencyMillis: 60_000 } })
      const scope = yield* Scope.make()
      const made = yield* CloudWatchLogs.makeLogger({
        logGroupName: G,
        logStreamName: "slow",
        drainTimeoutMillis: 5_000
      }).pipe(Effect.provide(api), Scope.extend(scope))
      yield* Effect.forEach([1, 2, 3], (i) => Effect.log(`l${i}`), { discard: true }).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, made.logger))
      )
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* settle
      yield* TestClock.adjust(4_999)
      yield* settle
      expect(closing.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      yield* settle
      yield* closing.await
      const report = yield* made.handle.report
      expect(report.accepted).toBe(0)
      expect(report.rejected.Failed).toBe(3)
      expect(yield* m.events(G, "slow")).toEqual([])
    }))
})
