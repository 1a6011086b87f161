import { CloudWatchLogs, CloudWatchLogsApi } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
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
})
