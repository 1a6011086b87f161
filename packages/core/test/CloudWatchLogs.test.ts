import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import * as FiberRefs from "effect/FiberRefs"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as List from "effect/List"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Batcher from "../src/Batcher.js"
import * as BatchValidator from "../src/BatchValidator.js"
import * as CloudWatchLogs from "../src/CloudWatchLogs.js"
import * as CloudWatchLogsApi from "../src/CloudWatchLogsApi.js"
import * as CloudWatchLogsError from "../src/CloudWatchLogsError.js"
import * as Destination from "../src/Destination.js"
import { render } from "../src/internal/logger.js"
import * as Buffer from "../src/internal/mailbox.js"
import * as Limits from "../src/Limits.js"
import * as LogEvent from "../src/LogEvent.js"
import * as Metrics from "../src/Metrics.js"
import * as ShipReport from "../src/ShipReport.js"
import * as Uploader from "../src/Uploader.js"
import { throwingValidator } from "./support/throwingValidator.js"

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const dest = Destination.make("g", "s")

/** An API that must not be called: the engine uses the Uploader found in context. */
const unused = () => Effect.dieMessage("the API must not be called when an Uploader is provided")
const noApi = Layer.succeed(CloudWatchLogsApi.CloudWatchLogsApi, {
  putLogEvents: unused,
  createLogGroup: unused,
  createLogStream: unused,
  deleteLogGroup: unused,
  deleteLogStream: unused,
  describeLogGroups: unused,
  describeLogStreams: unused,
  putRetentionPolicy: unused,
  deleteRetentionPolicy: unused,
  getLogEvents: unused,
  filterLogEvents: unused
})

/** An uploader that rejects as too old every event whose message starts with "old", and records batches. */
const fakeUploader = (batches: Array<ReadonlyArray<LogEvent.LogEvent>>, failAfter = Infinity) =>
  Layer.succeed(Uploader.Uploader, {
    upload: (destination, batch) =>
      Effect.suspend(() => {
        if (batches.length >= failAfter) {
          return Effect.fail(
            new Uploader.UploadError({
              destination,
              events: batch,
              cause: new CloudWatchLogsError.UnrecognizedClientException({ message: "bad key" }),
              reason: "Fatal",
              message: "bad key"
            })
          )
        }
        batches.push(batch)
        const rejected = batch.flatMap((e, index) =>
          e.message.startsWith("old") ? [{ index, reason: "TooOld" as const }] : []
        )
        return Effect.succeed({
          accepted: batch.length - rejected.length,
          rejected,
          retries: 1,
          possibleDuplicates: 0,
          bytes: batch.reduce((n, e) => n + LogEvent.size(e), 0)
        })
      })
  })

describe("CloudWatchLogs engine, with an Uploader of our own", () => {
  it.effect("uses the Uploader in context and folds its results into the report", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const batches: Array<ReadonlyArray<LogEvent.LogEvent>> = []
      const report = yield* Stream.make(LogEvent.make(NOW, "a"), LogEvent.make(NOW, "old b"), LogEvent.make(NOW, "c"))
        .pipe(Stream.run(CloudWatchLogs.sink(dest)), Effect.provide(fakeUploader(batches)))
      expect(batches.map((b) => b.map((e) => e.message))).toEqual([["a", "old b", "c"]])
      expect(report.accepted).toBe(2)
      expect(report.rejected.TooOld).toBe(1)
      expect(report.retries).toBe(1)
      expect(report.batches).toBe(1)
      expect(report.bytes).toBe(1 + 5 + 1 + 3 * 26)
    }).pipe(Effect.provide(noApi)))

  it.effect("counts a split event once: rejected if any of its parts was", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const batches: Array<ReadonlyArray<LogEvent.LogEvent>> = []
      const limits = { ...Limits.current, maxEventBytes: 26 + 4 }
      const report = yield* Stream.make(LogEvent.make(NOW, "abcdefghij"), LogEvent.make(NOW, "oldXoldY")).pipe(
        Stream.run(CloudWatchLogs.sink(dest)),
        Effect.provide(fakeUploader(batches)),
        Effect.provide(Limits.layer(limits))
      )
      expect(batches.flat().map((e) => e.message)).toEqual(["abcd", "efgh", "ij", "oldX", "oldY"])
      expect(report.split).toBe(2)
      expect(report.accepted).toBe(1)
      expect(report.rejected.TooOld).toBe(1)
      expect(ShipReport.total(report)).toBe(2)
    }).pipe(Effect.provide(noApi)))

  it.effect("uses a Batcher and a BatchValidator found in context", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const batches: Array<ReadonlyArray<LogEvent.LogEvent>> = []
      const input = Array.from({ length: 5 }, (_, i) => LogEvent.make(NOW + i, "x".repeat(i + 1)))
      const report = yield* Stream.fromIterable(input).pipe(
        Stream.run(CloudWatchLogs.sink(dest)),
        Effect.provide(fakeUploader(batches)),
        Effect.provide(Batcher.layer({ maxBatchEvents: 2 })),
        Effect.provide(BatchValidator.layer({ oversize: "drop" })),
        Effect.provide(Limits.layer({ ...Limits.current, maxEventBytes: 26 + 3 }))
      )
      expect(batches.map((b) => b.map((e) => e.message))).toEqual([["x", "xx"], ["xxx"]])
      expect(report.accepted).toBe(3)
      expect(report.rejected.Oversize).toBe(2)
    }).pipe(Effect.provide(noApi)))

  it.effect("a fatal upload error fails the sink with the events not delivered", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const batches: Array<ReadonlyArray<LogEvent.LogEvent>> = []
      const input = Array.from({ length: 9 }, (_, i) => LogEvent.make(NOW + i, `e${i}`))
      const error = yield* Stream.fromIterable(input).pipe(
        Stream.run(CloudWatchLogs.sink(dest, { maxBatchEvents: 3, maxInFlight: 1 })),
        Effect.provide(fakeUploader(batches, 1)),
        Effect.flip
      )
      expect(error._tag).toBe("ShipError")
      expect(error.cause.cause._tag).toBe("UnrecognizedClientException")
      expect(error.report.accepted).toBe(3)
      expect(error.report.rejected.Failed).toBe(6)
      expect(error.undelivered.flatMap((u) => u.events).map((e) => e.message).sort()).toEqual(
        ["e3", "e4", "e5", "e6", "e7", "e8"]
      )
      expect(error.message).toContain("6 events not delivered")
    }).pipe(Effect.provide(noApi)))

  /** An uploader whose `n`th upload dies (a bug in it, or in an API of the application's). */
  const dyingUploader = (n: number, batches: Array<ReadonlyArray<LogEvent.LogEvent>>) =>
    Layer.succeed(Uploader.Uploader, {
      upload: (_destination, batch) =>
        Effect.suspend(() => {
          if (batches.push(batch) === n) return Effect.die(new TypeError("cannot read properties of undefined"))
          return Effect.succeed({ accepted: batch.length, rejected: [], retries: 0, possibleDuplicates: 0, bytes: 1 })
        })
    })

  it.effect("an upload that dies does not take its batch with it: the sink fails with its events undelivered", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const batches: Array<ReadonlyArray<LogEvent.LogEvent>> = []
      const input = Array.from({ length: 30 }, (_, i) => LogEvent.make(NOW + i, `e${i}`))
      const failedMetric = Metrics.forDestination(Metrics.eventsRejected, dest).pipe(Metric.tagged("reason", "Failed"))
      const before = (yield* Metric.value(failedMetric)).count
      const error = yield* Stream.fromIterable(input).pipe(
        Stream.run(CloudWatchLogs.sink(dest, { maxBatchEvents: 10, maxInFlight: 1 })),
        Effect.provide(dyingUploader(2, batches)),
        Effect.flip
      )
      // the metric agrees with the report (the uploader never saw the batch that died fail)
      expect((yield* Metric.value(failedMetric)).count - before).toBe(20)
      expect(error.cause.reason).toBe("Defect")
      if (error.cause.cause._tag !== "UploadDefect") return yield* Effect.dieMessage("expected an UploadDefect")
      expect(error.cause.cause.defect).toBeInstanceOf(TypeError)
      expect(error.message).toContain("the upload died: TypeError: cannot read properties of undefined")
      // every event accounted for: the first batch stored, the one that died and the last one not delivered
      expect(error.report.accepted).toBe(10)
      expect(error.report.rejected.Failed).toBe(20)
      expect(error.undelivered.flatMap((u) => u.events).map((e) => e.message).sort()).toEqual(
        input.slice(10).map((e) => e.message).sort()
      )
    }).pipe(Effect.provide(noApi)))

  it.effect("a lane that dies makes the sink die with its defect, instead of waiting on its full buffer forever", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const batches: Array<ReadonlyArray<LogEvent.LogEvent>> = []
      // far more than the buffer holds: the producer is waiting on the dead lane's buffer when it dies
      const input = Array.from({ length: 50_000 }, (_, i) => LogEvent.make(NOW, `m${i}`))
      const exit = yield* Stream.fromIterable(input).pipe(
        Stream.run(CloudWatchLogs.sink(dest, { bufferCapacity: 100 })),
        Effect.provide(fakeUploader(batches)),
        Effect.provide(throwingValidator((message) => message === "m5")),
        Effect.exit
      )
      if (exit._tag !== "Failure") return yield* Effect.dieMessage("expected the sink to die")
      const defect = Cause.dieOption(exit.cause)
      expect(defect._tag === "Some" && defect.value instanceof RangeError && defect.value.message).toBe("validator bug")
      expect(batches.flat().length).toBeLessThan(input.length)
    }).pipe(Effect.provide(noApi)))

  it.effect("the logger's flush does not wait on a lane that died", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const batches: Array<ReadonlyArray<LogEvent.LogEvent>> = []
      const report = yield* Effect.gen(function*() {
        for (let i = 0; i < 10; i++) yield* Effect.log(`line ${i}`)
        return yield* CloudWatchLogs.flush
      }).pipe(
        Effect.provide(
          CloudWatchLogs.layerLogger({ ...dest, replace: true }).pipe(
            Layer.provide(fakeUploader(batches)),
            Layer.provide(throwingValidator(() => true))
          )
        )
      )
      expect(batches).toEqual([])
      expect(report.accepted).toBe(0)
    }).pipe(Effect.provide(noApi)))

  it.effect("the logger goes on after an upload died, and counts its lines as failed", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const batches: Array<ReadonlyArray<LogEvent.LogEvent>> = []
      const logged = Effect.gen(function*() {
        for (let i = 0; i < 30; i++) yield* Effect.log(`line ${i}`)
        return yield* CloudWatchLogs.flush
      })
      const report = yield* logged.pipe(
        Effect.provide(
          CloudWatchLogs.layerLogger({ ...dest, maxBatchEvents: 10, maxInFlight: 1 }).pipe(
            Layer.provide(dyingUploader(2, batches))
          )
        )
      )
      expect(batches.length).toBe(3)
      expect(report.accepted).toBe(20)
      expect(report.rejected.Failed).toBe(10)
    }).pipe(Effect.provide(noApi)))
})

describe("the bounded buffer", () => {
  it.effect("suspends offers while full, takes all, and drains after the end", () =>
    Effect.gen(function*() {
      const b = yield* Buffer.make<number>(2, "suspend")
      expect(yield* b.offerAll([1, 2])).toEqual([])
      const third = yield* Effect.fork(b.offer(3))
      yield* Effect.yieldNow()
      expect(third.unsafePoll()).toBeNull()
      expect(yield* b.takeAll).toEqual([[1, 2], false])
      yield* Effect.yieldNow()
      yield* b.end
      expect(yield* b.takeAll).toEqual([[3], true])
      expect(yield* b.offerAll([4])).toEqual([4])
    }))

  it.effect("dropNewest refuses the new element, dropOldest evicts the oldest, and both say so", () =>
    Effect.gen(function*() {
      const newest = yield* Buffer.make<number>(2, "dropNewest")
      expect([1, 2, 3].map((n) => newest.unsafeOffer(n))).toEqual(["Offered", "Offered", "DroppedNewest"])
      expect(yield* newest.poll).toEqual([1, 2])
      const oldest = yield* Buffer.make<number>(2, "dropOldest")
      expect([1, 2, 3].map((n) => oldest.unsafeOffer(n))).toEqual(["Offered", "Offered", "DroppedOldest"])
      expect(yield* oldest.poll).toEqual([2, 3])
      yield* oldest.end
      expect(oldest.unsafeOffer(4)).toBe("Closed")
    }))
})

describe("the logger's JSON lines", () => {
  it("carry level, message, annotations, spans, fiber id, cause and timestamp", () => {
    const date = new Date(NOW)
    const line = render({
      fiberId: FiberId.make(7, NOW),
      logLevel: LogLevel.Error,
      message: ["failed", { orderId: 42 }],
      cause: Cause.fail("boom"),
      context: FiberRefs.empty(),
      spans: List.make({ label: "checkout", startTime: NOW - 25 }),
      annotations: HashMap.make(["requestId", "r-1"]),
      date
    })
    const doc: unknown = JSON.parse(line)
    expect(doc).toMatchObject({
      timestamp: date.toISOString(),
      level: "ERROR",
      message: ["failed", { orderId: 42 }],
      fiberId: "#7",
      annotations: { requestId: "r-1" },
      spans: { checkout: 25 }
    })
    expect(doc).toHaveProperty("cause", expect.stringContaining("boom"))
  })
})
