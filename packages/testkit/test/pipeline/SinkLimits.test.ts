/**
 * The batch rules through the whole sink (validator, batcher, uploader) against the in-memory service, at
 * each limit and one step past it: the batch the service receives is legal, and nothing is lost.
 */
import { CloudWatchLogs, Destination, LogEvent, ShipReport } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"

const G = "orders"
const S = "api-1"
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const DAY = 24 * 60 * 60 * 1000
const dest = Destination.make(G, S)

/** The sizes (events) of the PutLogEvents calls the service answered, in order. */
const putSizes = Effect.map(
  TestCloudWatchLogs.calls,
  (calls) => calls.filter((c) => c.operation === "PutLogEvents" && c.outcome === "Answered").map((c) => c.eventCount)
)

const ship = (events: ReadonlyArray<LogEvent.LogEvent>, destination = dest) =>
  Stream.fromIterable(events).pipe(Stream.run(CloudWatchLogs.sink(destination, { maxInFlight: 1 })))

describe("CloudWatchLogs.sink at the batch limits", () => {
  it.effect("1,048,576 bytes (26 per event) go in one put; one byte more makes two, nothing lost", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      // 4 × (262,118 + 26) = 1,048,576
      const exact = Array.from({ length: 4 }, (_, i) => LogEvent.make(NOW + i, String(i).repeat(262_118)))
      const report = yield* ship(exact)
      expect(report.accepted).toBe(4)
      expect(report.batches).toBe(1)
      expect(report.bytes).toBe(1_048_576)
      expect(yield* putSizes).toEqual([4])
      expect((yield* TestCloudWatchLogs.streamStats(G, S)).bytes).toBe(1_048_576)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("1,048,577 bytes: cut before the event that does not fit, every event stored", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const over = [
        ...Array.from({ length: 3 }, (_, i) => LogEvent.make(NOW + i, String(i).repeat(262_118))),
        LogEvent.make(NOW + 3, "3".repeat(262_119))
      ]
      const report = yield* ship(over)
      expect(report.accepted).toBe(4)
      expect(report.batches).toBe(2)
      expect(report.bytes).toBe(1_048_577)
      expect(yield* putSizes).toEqual([3, 1])
      const stored = yield* TestCloudWatchLogs.events(G, S)
      expect(stored.map((e) => e.message.length)).toEqual([262_118, 262_118, 262_118, 262_119])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("multi-byte text is sized in UTF-8 bytes: 2 × (524,262 + 26) in one put, 2 bytes more in two", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const half = "é".repeat(524_262 / 2)
      const exact = yield* ship([LogEvent.make(NOW, half), LogEvent.make(NOW, half)])
      expect(exact.batches).toBe(1)
      const over = yield* ship([LogEvent.make(NOW, half), LogEvent.make(NOW, half + "é")])
      expect(over.accepted).toBe(2)
      expect(over.batches).toBe(2)
      expect(yield* putSizes).toEqual([2, 1, 1])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("events exactly 24 hours apart go in one put; 24 hours + 1 ms apart in two, nothing lost", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      // given in reverse: the sink sorts them
      const exact = yield* ship([LogEvent.make(NOW, "last"), LogEvent.make(NOW - DAY, "first")])
      expect(exact.accepted).toBe(2)
      expect(exact.batches).toBe(1)
      const over = yield* ship([LogEvent.make(NOW, "last2"), LogEvent.make(NOW - DAY - 1, "first2")])
      expect(over.accepted).toBe(2)
      expect(over.batches).toBe(2)
      expect(ShipReport.rejectedTotal(over)).toBe(0)
      expect(yield* putSizes).toEqual([2, 1, 1])
      expect((yield* TestCloudWatchLogs.events(G, S)).map((e) => e.message)).toEqual([
        "first2",
        "first",
        "last",
        "last2"
      ])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("a group and a stream named with 1 character each are created and written", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const report = yield* ship([LogEvent.make(NOW, "x")], Destination.make("g", "s"))
      expect(report.accepted).toBe(1)
      expect((yield* TestCloudWatchLogs.events("g", "s")).map((e) => e.message)).toEqual(["x"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})
