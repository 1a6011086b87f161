import { CloudWatchLogs, Destination, LogEvent, ShipReport } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"

const G = "orders"
const S = "api-1"
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const HOUR = 60 * 60 * 1000
const DAY = 24 * HOUR
const dest = Destination.make(G, S)

const messages = (stored: ReadonlyArray<{ readonly message: string }>) => stored.map((e) => e.message)

describe("CloudWatchLogs.sink", () => {
  it.effect("ships a stream and reports every event accepted", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const events = Array.from({ length: 25 }, (_, i) => LogEvent.make(NOW + i, `e${i}`))
      const fiber = yield* Stream.fromIterable(events).pipe(
        Stream.run(CloudWatchLogs.sink(dest)),
        Effect.fork
      )
      const report = yield* Fiber.join(fiber)
      expect(report.accepted).toBe(25)
      expect(ShipReport.rejectedTotal(report)).toBe(0)
      expect(report.batches).toBe(1)
      expect(report.perDestination.get(Destination.key(dest))?.accepted).toBe(25)
      expect(messages(yield* TestCloudWatchLogs.events(G, S))).toEqual(events.map((e) => e.message))
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("reports each rejection reason, checked before upload", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const inputs: ReadonlyArray<LogEvent.LogEvent> = [
        LogEvent.make(NOW, "ok"),
        LogEvent.make(NOW, ""),
        LogEvent.make(NOW - 14 * DAY - 1, "too old"),
        LogEvent.make(NOW + 2 * HOUR + 1, "too new"),
        LogEvent.make(1.5, "bad time"),
        { timestamp: NOW, message: JSON.parse("42") },
        LogEvent.make(NOW - 14 * DAY, "oldest ok"),
        LogEvent.make(NOW + 2 * HOUR, "newest ok")
      ]
      const report = yield* Stream.fromIterable(inputs).pipe(Stream.run(CloudWatchLogs.sink(dest)))
      expect(report.accepted).toBe(3)
      expect(report.rejected).toMatchObject({
        Empty: 1,
        TooOld: 1,
        TooNew: 1,
        InvalidTimestamp: 1,
        InvalidMessage: 1,
        Oversize: 0,
        Failed: 0
      })
      expect(ShipReport.total(report)).toBe(inputs.length)
      expect(messages(yield* TestCloudWatchLogs.events(G, S))).toEqual(["oldest ok", "ok", "newest ok"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})
