import { CloudWatchLogs, CloudWatchLogsApi, Destination, LogEvent, Metrics, ShipReport } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Mailbox from "effect/Mailbox"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
// The engine itself, for the one case the public API cannot stage: an offer holding a released lane.
import * as Shipper from "../../../core/src/internal/shipper.js"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"
import * as UploaderHelpers from "./UploaderHelpers.js"

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const G = "tenants"
const a = Destination.make(G, "a")
const b = Destination.make(G, "b")
const c = Destination.make(G, "c")

/** Destinations with a lane now, all sinks and loggers of the process (compare before and after). */
const held = Effect.map(Metric.value(Metrics.destinationsHeld), (state) => state.value)

const settle = Effect.gen(function*() {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
})

const stored = (d: Destination.Destination) =>
  Effect.map(TestCloudWatchLogs.events(d.logGroupName, d.logStreamName), (events) => events.map((e) => e.message))

const routed = (destination: Destination.Destination, message: string): CloudWatchLogs.Routed => ({
  destination,
  event: LogEvent.make(NOW, message)
})

/** A routed sink fed by hand: offer to the mailbox, end it to end the stream. */
const routedSink = (options: CloudWatchLogs.SinkOptions) =>
  Effect.gen(function*() {
    const input = yield* Mailbox.make<CloudWatchLogs.Routed>()
    const fiber = yield* Mailbox.toStream(input).pipe(
      Stream.run(CloudWatchLogs.sink((r: CloudWatchLogs.Routed) => r, options)),
      Effect.fork
    )
    return { input, fiber }
  })

describe("CloudWatchLogs.sink: destinations that go idle", () => {
  it.effect("a routed sink releases an idle destination, makes it again when events come, and reports both", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const base = yield* held
      const { fiber, input } = yield* routedSink({ lingerMillis: 100, destinationIdleMillis: 5_000 })
      yield* input.offerAll([routed(a, "a1"), routed(b, "b1"), routed(c, "c1")])
      yield* settle
      expect(yield* held).toBe(base + 3)
      yield* TestClock.adjust(100)
      yield* settle
      expect(yield* stored(a)).toEqual(["a1"])
      // Idle since the upload at 100 ms: kept until 5,100 ms, released then.
      yield* TestClock.adjust(4_900)
      yield* settle
      expect(yield* held).toBe(base + 3)
      yield* TestClock.adjust(200)
      yield* settle
      expect(yield* held).toBe(base)
      // `a` comes back: a new lane, delivered as before.
      yield* input.offer(routed(a, "a2"))
      yield* settle
      expect(yield* held).toBe(base + 1)
      yield* TestClock.adjust(100)
      yield* settle
      // Released again: its second account joins the first.
      yield* TestClock.adjust(5_100)
      yield* settle
      expect(yield* held).toBe(base)
      yield* input.offer(routed(a, "a3"))
      yield* settle
      yield* TestClock.adjust(100)
      yield* settle
      yield* input.end
      const report = yield* Fiber.join(fiber)
      expect(yield* stored(a)).toEqual(["a1", "a2", "a3"])
      expect(report.accepted).toBe(5)
      expect(report.batches).toBe(5)
      expect(report.perDestination.size).toBe(3)
      expect(report.perDestination.get(Destination.key(a))?.accepted).toBe(3)
      expect(report.perDestination.get(Destination.key(a))?.batches).toBe(3)
      expect(report.perDestination.get(Destination.key(b))?.accepted).toBe(1)
      expect(yield* held).toBe(base)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("a destination with events coming, or an upload still in flight, is not released", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const base = yield* held
      const { fiber, input } = yield* routedSink({ lingerMillis: 100, destinationIdleMillis: 1_000 })
      // An event every 500 ms for 10 s: never idle for 1 s.
      for (let i = 0; i < 20; i++) {
        yield* input.offer(routed(a, `a${i}`))
        yield* settle
        yield* TestClock.adjust(500)
        yield* settle
        expect(yield* held).toBe(base + 1)
      }
      // The service now takes 5 s to answer: the lane waits for its upload, idle or not.
      const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
      yield* api.createLogStream({ logGroupName: G, logStreamName: b.logStreamName })
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 5_000 })
      yield* input.offer(routed(b, "slow"))
      yield* settle
      yield* TestClock.adjust(100) // linger: the upload starts
      yield* settle
      yield* TestClock.adjust(3_000)
      yield* settle
      expect(yield* held).toBe(base + 1) // `a` released (idle 1 s), `b` uploading
      yield* TestClock.adjust(2_000) // answered at 5,100 ms
      yield* settle
      expect(yield* stored(b)).toEqual(["slow"])
      expect(yield* held).toBe(base + 1)
      yield* TestClock.adjust(1_000)
      yield* settle
      expect(yield* held).toBe(base)
      yield* TestCloudWatchLogs.setFaults({})
      yield* input.end
      const report = yield* Fiber.join(fiber)
      expect(report.accepted).toBe(21)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("kept: with destinationIdleMillis Infinity, in a sink to one destination, and in the logger", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const base = yield* held
      const kept = yield* routedSink({ lingerMillis: 100, destinationIdleMillis: Infinity })
      yield* kept.input.offerAll([routed(a, "a1"), routed(b, "b1")])
      const one = yield* Mailbox.make<LogEvent.LogEvent>()
      const single = yield* Mailbox.toStream(one).pipe(
        Stream.run(CloudWatchLogs.sink(c, { lingerMillis: 100 })),
        Effect.fork
      )
      yield* one.offer(LogEvent.make(NOW, "c1"))
      yield* settle
      expect(yield* held).toBe(base + 3)
      yield* TestClock.adjust(10 * 60_000)
      yield* settle
      expect(yield* held).toBe(base + 3)
      yield* kept.input.end
      yield* one.end
      expect((yield* Fiber.join(kept.fiber)).accepted).toBe(2)
      expect((yield* Fiber.join(single)).accepted).toBe(1)
      expect(yield* held).toBe(base)

      // The logger offers synchronously to the lane it holds: never released.
      yield* Effect.scoped(Effect.gen(function*() {
        const { handle, logger } = yield* CloudWatchLogs.makeLogger({ ...a, lingerMillis: 100 })
        const log = (message: string) =>
          Effect.log(message).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
        yield* log("first")
        yield* TestClock.adjust(10 * 60_000)
        yield* settle
        expect(yield* held).toBe(base + 1)
        yield* log("second")
        const report = yield* handle.flush
        expect(report.accepted).toBe(2)
      }))
      expect(yield* held).toBe(base)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("an offer that still holds a released lane goes to the destination's new lane", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const base = yield* held
      const report = yield* Effect.scoped(Effect.gen(function*() {
        const shipper = yield* Shipper.make({
          capacity: 10,
          overflow: "suspend",
          lingerMillis: 100,
          maxInFlight: 1,
          drainTimeoutMillis: 1_000,
          stopOnFatal: true,
          retireIdleMillis: 1_000
        })
        const lane = yield* shipper.lane(a)
        yield* shipper.offerAll(lane, [LogEvent.make(NOW, "before")])
        yield* settle
        yield* TestClock.adjust(100)
        yield* settle
        yield* TestClock.adjust(1_000)
        yield* settle
        expect(yield* held).toBe(base) // released
        yield* shipper.offerAll(lane, [LogEvent.make(NOW, "after")]) // through the old lane
        yield* settle
        expect(yield* held).toBe(base + 1)
        yield* TestClock.adjust(100)
        yield* settle
        return yield* shipper.finish
      }))
      expect(yield* stored(a)).toEqual(["before", "after"])
      expect(report.accepted).toBe(2)
      expect(report.rejected.Failed).toBe(0)
      expect(report.perDestination.get(Destination.key(a))?.accepted).toBe(2)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})

describe("Uploader.release: forgets a destination only when no upload to it is in progress", () => {
  it.effect("released during an upload: the enforced stream's order lock and tokens hold", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* UploaderHelpers.setup({
        model: { sequenceTokens: "enforced", faults: { latencyMillis: 1_000 } }
      })
      const d = UploaderHelpers.dest()
      const release = uploader.release
      if (release === undefined) throw new Error("the default uploader has release")
      // Learn the stream: enforced, with its token.
      yield* UploaderHelpers.settle(uploader.upload(d, UploaderHelpers.batch("first", 2)))
      const slow = yield* Effect.fork(uploader.upload(d, UploaderHelpers.batch("second", 2, NOW + 10)))
      yield* settle
      yield* release(d) // an upload is in progress: nothing is forgotten
      const next = yield* Effect.fork(uploader.upload(d, UploaderHelpers.batch("third", 2, NOW + 20)))
      yield* settle
      yield* TestClock.adjust(5_000)
      yield* Fiber.join(slow)
      const third = yield* Fiber.join(next)
      // The second is the probe that learns the stream enforces tokens (one token error). The third
      // waited for it (the order lock held) and went under the token it returned: no token error.
      expect(third.accepted).toBe(2)
      const puts = (yield* model.calls).filter((c) => c.operation === "PutLogEvents").map((c) => c.outcome)
      expect(puts).toEqual(["Answered", "InvalidSequenceTokenException", "Answered", "Answered"])
      expect((yield* model.events(UploaderHelpers.G, UploaderHelpers.S)).map((e) => e.message)).toEqual([
        "first-0",
        "first-1",
        "second-0",
        "second-1",
        "third-0",
        "third-1"
      ])
    }))

  it.effect("released when idle: the next upload starts afresh and still delivers", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* UploaderHelpers.setup({ model: { sequenceTokens: "ignored" } })
      const d = UploaderHelpers.dest()
      yield* UploaderHelpers.settle(uploader.upload(d, UploaderHelpers.batch("before", 1)))
      yield* uploader.release?.(d) ?? Effect.void
      const result = yield* UploaderHelpers.settle(uploader.upload(d, UploaderHelpers.batch("after", 1)))
      expect(result.accepted).toBe(1)
      expect((yield* model.events(UploaderHelpers.G, UploaderHelpers.S)).map((e) => e.message)).toEqual([
        "before-0",
        "after-0"
      ])
    }))
})

describe("metricLabels: metrics tagged by log group only", () => {
  it.effect("a routed sink with metricLabels \"group\" counts all its streams under the group", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const group = "metric-labels-group"
      const x = Destination.make(group, "x")
      const y = Destination.make(group, "y")
      const count = (m: Metric.Metric.Counter<number>) => Effect.map(Metric.value(m), (s) => s.count)
      const byGroup = Metrics.forDestination(Metrics.eventsAccepted, x, "group")
      const byStream = Metrics.forDestination(Metrics.eventsAccepted, x)
      const rejectedByGroup = Metrics.forDestination(Metrics.eventsRejected, y, "group").pipe(
        Metric.tagged("reason", "Empty")
      )
      const before = [yield* count(byGroup), yield* count(byStream), yield* count(rejectedByGroup)]
      const { fiber, input } = yield* routedSink({ lingerMillis: 100, metricLabels: "group" })
      yield* input.offerAll([routed(x, "x1"), routed(y, "y1"), routed(y, "y2"), routed(y, "")])
      yield* settle
      yield* TestClock.adjust(100)
      yield* settle
      yield* input.end
      const report = yield* Fiber.join(fiber)
      expect(report.accepted).toBe(3)
      expect(yield* count(byGroup)).toBe(before[0] + 3) // the uploader's metric, both streams
      expect(yield* count(byStream)).toBe(before[1]) // no per-stream key was fed
      expect(yield* count(rejectedByGroup)).toBe(before[2] + 1) // the engine's own metric
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})

describe("maxDestinations: back-pressure on the number of destinations", () => {
  it.effect("a fan-out to 50 new streams through a slow service never holds more than the cap, and loses nothing", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const base = yield* held
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 1_000 })
      const { fiber, input } = yield* routedSink({ lingerMillis: 100, maxDestinations: 5 })
      const streams = Array.from({ length: 50 }, (_, i) => Destination.make("fan-out", `job-${i}`))
      yield* input.offerAll(streams.map((d) => routed(d, d.logStreamName)))
      yield* input.end
      let most = 0
      for (let step = 0; step < 2_000 && fiber.unsafePoll() === null; step++) {
        yield* settle
        most = Math.max(most, (yield* held) - base)
        yield* TestClock.adjust(100)
      }
      const report = yield* Fiber.join(fiber)
      expect(most).toBe(5)
      expect(report.accepted).toBe(50)
      expect(report.rejected.Failed).toBe(0)
      expect(report.perDestination.size).toBe(50)
      for (const d of [streams[0], streams[49]]) expect(yield* stored(d)).toEqual([d.logStreamName])
      expect(yield* held).toBe(base)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("at the cap, lanes with nothing to do give their place at once, not after destinationIdleMillis", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const base = yield* held
      const { fiber, input } = yield* routedSink({ lingerMillis: 100, maxDestinations: 2 })
      yield* input.offerAll([routed(a, "a1"), routed(b, "b1")])
      yield* settle
      yield* TestClock.adjust(100)
      yield* settle
      expect(yield* stored(b)).toEqual(["b1"])
      expect(yield* held).toBe(base + 2) // idle, kept (60 s by default)
      yield* input.offer(routed(c, "c1")) // a third: one of the idle two makes way
      yield* settle
      expect(yield* held).toBe(base + 1)
      yield* TestClock.adjust(100)
      yield* settle
      expect(yield* stored(c)).toEqual(["c1"])
      yield* input.offer(routed(a, "a2")) // back to a (released): the cap holds
      yield* settle
      yield* TestClock.adjust(100)
      yield* settle
      expect(yield* held).toBe(base + 2)
      yield* input.end
      const report = yield* Fiber.join(fiber)
      expect(report.accepted).toBe(4)
      expect(report.perDestination.get(Destination.key(a))?.accepted).toBe(2)
      expect(yield* stored(a)).toEqual(["a1", "a2"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("at the cap, a lane lingering over a batch sends it at once for a destination waiting: no linger waited out", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { fiber, input } = yield* routedSink({ lingerMillis: 1_000, maxDestinations: 1 })
      // a and b in turn, one event at a time (each taken by the sink before the next is offered): each
      // waits for the other's place
      let elapsed = 0
      const step = Effect.gen(function*() {
        yield* settle
        yield* TestClock.adjust(10)
        elapsed += 10
      })
      for (let i = 0; i < 10; i++) {
        yield* input.offer(routed(i % 2 === 0 ? a : b, `m${i}`))
        while (Option.getOrElse(yield* input.size, () => 0) > 0 && elapsed < 20_000) yield* step
      }
      yield* input.end
      while (fiber.unsafePoll() === null && elapsed < 20_000) yield* step
      const report = yield* Fiber.join(fiber)
      expect(report.accepted).toBe(10)
      // before: each of the 9 hand-overs waited out the linger (9 s)
      expect(elapsed).toBeLessThan(1_000)
      expect(yield* stored(a)).toEqual(["m0", "m2", "m4", "m6", "m8"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  for (const idle of [Infinity, 0]) {
    it.effect(`at the cap with destinationIdleMillis ${idle} (never idle): a lane left with nothing to do gives its place`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const base = yield* held
        const { fiber, input } = yield* routedSink({
          lingerMillis: 100,
          maxDestinations: 1,
          destinationIdleMillis: idle
        })
        yield* input.offer(routed(a, "a1"))
        yield* settle
        yield* TestClock.adjust(100)
        yield* settle
        // a's last input is refused at once (no upload to end with), and b waits for a's place
        yield* input.offerAll([routed(a, ""), routed(b, "b1")])
        yield* input.end
        for (let step = 0; step < 50 && fiber.unsafePoll() === null; step++) {
          yield* settle
          yield* TestClock.adjust(100)
        }
        expect(fiber.unsafePoll()).not.toBeNull()
        const report = yield* Fiber.join(fiber)
        expect(report.accepted).toBe(2)
        expect(report.rejected.Empty).toBe(1)
        expect(yield* stored(b)).toEqual(["b1"])
        expect(yield* held).toBe(base)
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
  }

  for (const idle of [Infinity, 60_000]) {
    it.effect(`at the cap with destinationIdleMillis ${idle}: a lane whose split event failed gives its place, and the sink fails at once`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const base = yield* held
        const missing = Destination.make("missing", "s", { createGroup: false })
        // 200 characters with maxBatchBytes 100: 3 parts, a batch each; the first fails (the group is
        // missing) and the other two are failed unsent, on the upload's fiber, while b waits for the place
        const input = [routed(missing, "m".repeat(200)), routed(b, "b1")]
        const fiber = yield* Stream.fromIterable(input).pipe(
          Stream.run(CloudWatchLogs.sink((r: CloudWatchLogs.Routed) => r, {
            maxDestinations: 1,
            destinationIdleMillis: idle,
            maxBatchBytes: 100,
            lingerMillis: 0
          })),
          Effect.either,
          Effect.fork
        )
        // one second of the TestClock, far less than destinationIdleMillis
        for (let step = 0; step < 10 && fiber.unsafePoll() === null; step++) {
          yield* settle
          yield* TestClock.adjust(100)
        }
        expect(fiber.unsafePoll()).not.toBeNull()
        const result = yield* Fiber.join(fiber)
        if (Either.isRight(result)) throw new Error("expected a ShipError")
        const error = result.left
        expect(error.cause.reason).toBe("DestinationMissing")
        expect(error.report.rejected.Failed).toBe(2)
        expect(ShipReport.total(error.report)).toBe(2)
        expect(error.undelivered.flatMap((u) => u.events).map((e) => e.message).join("")).toBe("m".repeat(200) + "b1")
        expect(yield* TestCloudWatchLogs.callCount("PutLogEvents")).toBe(1)
        expect(yield* held).toBe(base)
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
  }
})

/**
 * The idle time counts from the end of the lane's last upload (or its last input taken), and a lane whose
 * upload runs sets no timer meanwhile.
 */
describe("a routed sink's idle time counts from the end of the destination's last upload", () => {
  it.effect("an upload slower than destinationIdleMillis: the lane is kept for destinationIdleMillis after it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const base = yield* held
      const d = Destination.make(G, "slow")
      const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
      yield* api.createLogGroup({ logGroupName: G })
      yield* api.createLogStream({ logGroupName: G, logStreamName: "slow" })
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 3_500 })
      const { fiber, input } = yield* routedSink({ lingerMillis: 100, destinationIdleMillis: 1_000 })
      yield* input.offer(routed(d, "slow"))
      yield* settle
      yield* TestClock.adjust(100) // linger: the upload starts, answered at 3,600 ms
      yield* settle
      yield* TestClock.adjust(400)
      yield* settle
      // Checked once the sink has ended (a failed check now would leave its upload waiting on the clock).
      // The upload runs: nothing wakes the lane before it answers (no polling every destinationIdleMillis).
      const wakeUps = Chunk.toReadonlyArray(yield* TestClock.sleeps()).map((at) => Number(at) - NOW).filter((at) =>
        at < 3_600
      )
      yield* TestClock.adjust(3_100) // answered at 3,600 ms
      yield* settle
      const afterUpload = yield* held
      yield* TestClock.adjust(900) // 4,500 ms: idle for 900 ms only
      yield* settle
      const idle900 = yield* held
      yield* TestClock.adjust(100) // 4,600 ms: idle for 1 s
      yield* settle
      const idle1000 = yield* held
      yield* TestCloudWatchLogs.setFaults({})
      yield* input.end
      expect((yield* Fiber.join(fiber)).accepted).toBe(1)
      expect([afterUpload, idle900, idle1000]).toEqual([base + 1, base + 1, base])
      expect(wakeUps).toEqual([])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})
