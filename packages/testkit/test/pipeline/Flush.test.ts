import { CloudWatchLogs, CloudWatchLogsApi } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"

const G = "lambda"
const S = "fn"
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)

const settle = Effect.gen(function*() {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
})

const model = (options?: TestCloudWatchLogs.Options) =>
  Effect.map(TestCloudWatchLogs.make(options), (m) => ({
    m,
    api: Layer.succeed(CloudWatchLogsApi.CloudWatchLogsApi, m.api)
  }))

const messages = (m: TestCloudWatchLogs.TestCloudWatchLogsShape) =>
  Effect.map(m.events(G, S), (events) => events.map((e) => JSON.parse(e.message).message))

/** A logger to G/S in a scope of its own (closed by the test), and a way to log through it. */
const loggerInScope = (
  api: Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi>,
  options: Partial<CloudWatchLogs.LoggerOptions>
) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const made = yield* CloudWatchLogs.makeLogger({ ...options, logGroupName: G, logStreamName: S }).pipe(
      Effect.provide(api),
      Scope.extend(scope)
    )
    const log = (message: string) =>
      Effect.log(message).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, made.logger)))
    return { log, made, scope }
  })

describe("CloudWatchLogs.flush", () => {
  it.effect("delivers what is buffered now, without waiting for the linger time", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* model()
      yield* Effect.gen(function*() {
        yield* Effect.log("a")
        yield* Effect.log("b")
        const report = yield* CloudWatchLogs.flush
        expect(report.accepted).toBe(2)
        expect(yield* messages(m)).toEqual(["a", "b"])
        yield* Effect.log("c")
        const again = yield* CloudWatchLogs.flush
        expect(again.accepted).toBe(3)
        expect(yield* messages(m)).toEqual(["a", "b", "c"])
      }).pipe(
        Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: S, lingerMillis: 60_000 })),
        Effect.provide(api)
      )
    }))

  it.effect("returns at once when nothing is buffered", () =>
    Effect.gen(function*() {
      const { api, m } = yield* model()
      const report = yield* CloudWatchLogs.flush.pipe(
        Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: S })),
        Effect.provide(api)
      )
      expect(report.accepted).toBe(0)
      expect(yield* m.callCount("PutLogEvents")).toBe(0)
    }))

  it.effect("waits until the upload in flight is answered", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* model({ faults: { latencyMillis: 2_000 } })
      yield* Effect.gen(function*() {
        yield* Effect.log("slow")
        const flushing = yield* Effect.fork(CloudWatchLogs.flush)
        yield* settle
        yield* TestClock.adjust(1_000)
        yield* settle
        expect(flushing.unsafePoll()).toBeNull()
        // The first put meets a missing group and stream (each call 2 s), then goes again.
        for (let i = 0; i < 10 && flushing.unsafePoll() === null; i++) {
          yield* TestClock.adjust(1_000)
          yield* settle
        }
        const report = yield* Fiber.join(flushing)
        expect(report.accepted).toBe(1)
        expect(yield* messages(m)).toEqual(["slow"])
      }).pipe(
        Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: S, lingerMillis: 60_000 })),
        Effect.provide(api)
      )
    }))

  it.effect("flushes from several fibers at once, and keeps working after", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* model()
      yield* Effect.gen(function*() {
        yield* Effect.forEach(["a", "b", "c"], (s) => Effect.log(s), { discard: true })
        const reports = yield* Effect.all([CloudWatchLogs.flush, CloudWatchLogs.flush, CloudWatchLogs.flush], {
          concurrency: "unbounded"
        })
        for (const r of reports) expect(r.accepted).toBe(3)
        yield* Effect.log("d")
        yield* settle
        yield* TestClock.adjust(1_000)
        yield* settle
        expect(yield* messages(m)).toEqual(["a", "b", "c", "d"])
      }).pipe(
        Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: S, lingerMillis: 1_000 })),
        Effect.provide(api)
      )
    }))

  it.effect("closing the scope delivers what is buffered (drain), within the deadline", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* model()
      const scope = yield* Scope.make()
      const runtime = yield* Layer.toRuntime(
        CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: S, lingerMillis: 60_000 }).pipe(Layer.provide(api))
      ).pipe(Scope.extend(scope))
      yield* Effect.forEach(["x", "y"], (s) => Effect.log(s), { discard: true }).pipe(Effect.provide(runtime))
      yield* settle
      expect(yield* messages(m)).toEqual([])
      yield* Scope.close(scope, Exit.void)
      expect(yield* messages(m)).toEqual(["x", "y"])
    }))

  describe("the drain's deadline accounts for every input exactly once", () => {
    /**
     * A logger on a service that takes 60 s to answer, a flush waiting on the first upload, then more
     * lines, then the scope closes with a 5 s deadline: the drain interrupts the lane while lines were
     * taken from the buffer but not yet validated (the lane's take runs on while the flush waits).
     */
    const scenario = (later: number) =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const { api, m } = yield* model({ faults: { latencyMillis: 60_000 } })
        const { log, made, scope } = yield* loggerInScope(api, { maxInFlight: 1, drainTimeoutMillis: 5_000 })
        yield* log("first")
        yield* settle
        const flushing = yield* Effect.fork(made.handle.flush)
        yield* settle
        for (let i = 0; i < later; i++) yield* log(`later ${i}`)
        yield* settle
        // a second flush while the first waits
        const flushingToo = yield* Effect.fork(made.handle.flush)
        yield* settle
        const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
        yield* settle
        yield* TestClock.adjust(5_000)
        yield* settle
        yield* closing.await
        const report = yield* made.handle.report
        // both flushes have answered, with the report as the drain left it
        const flushed = [yield* flushing.poll, yield* flushingToo.poll].map((exit) =>
          Option.isSome(exit) && Exit.isSuccess(exit.value) ? exit.value.value : undefined
        )
        yield* Fiber.interrupt(flushing)
        yield* Fiber.interrupt(flushingToo)
        return { report, flushed, stored: (yield* m.events(G, S)).length }
      })

    it.effect("lines taken from the buffer but not validated when the deadline passes are counted Failed", () =>
      Effect.gen(function*() {
        const { flushed, report, stored } = yield* scenario(2)
        expect(stored).toBe(0)
        expect(report.accepted).toBe(0)
        expect(report.rejected.Failed).toBe(3)
        expect(report.dropped).toBe(0)
        // the put of "first" was sent and not answered: it may have been stored
        expect(report.possibleDuplicates).toBe(1)
        expect(flushed).toEqual([report, report])
      }))

    it.effect("a put whose answer was lost and the put in flight at the deadline count as possibly stored", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const { api, m } = yield* model({ faults: { latencyMillis: 1_000 } })
        yield* m.api.createLogGroup({ logGroupName: G })
        yield* m.api.createLogStream({ logGroupName: G, logStreamName: S })
        // the first put's answer is lost; the retry is still in flight at the deadline
        yield* m.failNext(1, "lostResponse")
        const { log, made, scope } = yield* loggerInScope(api, { lingerMillis: 0, drainTimeoutMillis: 500 })
        yield* log("only")
        for (let i = 0; i < 40 && (yield* m.callCount("PutLogEvents")) < 2; i++) {
          yield* settle
          yield* TestClock.adjust(100)
        }
        expect(yield* m.callCount("PutLogEvents")).toBe(2)
        const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
        yield* settle
        yield* TestClock.adjust(500)
        yield* settle
        yield* closing.await
        const report = yield* made.handle.report
        // the model stores a put before its latency: both puts stored the line, neither answer came back
        expect(yield* messages(m)).toEqual(["only", "only"])
        expect(report.accepted).toBe(0)
        expect(report.rejected.Failed).toBe(1)
        // handed back as not delivered, and counted as possibly stored by both puts
        expect(report.possibleDuplicates).toBe(2)
        // the retry is counted, though the upload never ended
        expect(report.retries).toBe(1)
      }))

    it.effect("whatever the number of lines in the way, each one is counted once", () =>
      Effect.gen(function*() {
        for (const later of [0, 1, 5, 50]) {
          const { report } = yield* scenario(later)
          const counted = report.accepted + Object.values(report.rejected).reduce((a, b) => a + b, 0)
          expect(counted + report.dropped).toBe(1 + later)
        }
      }))
  })
})
