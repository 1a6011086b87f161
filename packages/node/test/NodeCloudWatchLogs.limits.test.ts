/**
 * Every rule of the service at its limit and one step past it, through the whole pipeline over the wire:
 * `CloudWatchLogs.sink` → the AWS SDK adapter → HTTP → the emulator's wire layer and model. At the limit
 * the event is stored as given; one step past, it is cut into another batch, split, or refused with a
 * typed reason or error, and nothing is lost.
 *
 * The emulator and the sink both run under the TestClock (the emulator serves on the runtime it was
 * started from), so "exactly 14 days old" is exact on both sides. Nothing waits on the clock here: the
 * stream ends, and the sink sends what it holds at once.
 */
import { CloudWatchLogs, Destination, Limits, LogEvent, ShipReport, UploadRateLimiter } from "@cwlogs/core"
import { Emulator } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as NodeCloudWatchLogs from "../src/NodeCloudWatchLogs.js"

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const HOUR = 3_600_000
const DAY = 24 * HOUR
const G = "orders"
const S = "api-1"
const dest = Destination.make(G, S)

/** An emulator started at NOW with these limits, and a run of the sink against it over HTTP. */
const setup = (limits: Limits.LimitsShape = Limits.current) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(NOW)
    const emulator = yield* Emulator.make({ limits })
    const services = Layer.mergeAll(
      NodeCloudWatchLogs.layer({
        endpoint: emulator.url,
        region: "us-east-1",
        credentials: { accessKeyId: "AKIDLIMITS", secretAccessKey: Redacted.make("secret") }
      }),
      Limits.layer(limits),
      UploadRateLimiter.layerUnlimited
    )
    const ship = (
      events: ReadonlyArray<LogEvent.LogEvent>,
      destination: Destination.Destination = dest,
      options: CloudWatchLogs.SinkOptions = {}
    ) =>
      Stream.fromIterable(events).pipe(
        Stream.run(CloudWatchLogs.sink(destination, { maxInFlight: 1, ...options })),
        Effect.either,
        Effect.provide(services)
      )
    const stored = (group = G, stream = S) =>
      Effect.map(emulator.model.events(group, stream), (events) => events.map((e) => e.message))
    /** The sizes of the PutLogEvents calls the model answered, in order. */
    const putSizes = Effect.map(
      emulator.model.calls,
      (calls) =>
        calls.filter((c) => c.operation === "PutLogEvents" && c.outcome === "Answered").map((c) => c.eventCount)
    )
    return { ship, stored, putSizes }
  })

const reportOf = <E>(result: Either.Either<ShipReport.ShipReport, E>): ShipReport.ShipReport => {
  if (Either.isLeft(result)) throw new Error(`expected a report, got ${String(result.left)}`)
  return result.right
}

describe("the pipeline over the wire at every limit", () => {
  it.scoped("10,000 events go in one put; the 10,001st in the next, nothing lost", () =>
    Effect.gen(function*() {
      const { putSizes, ship, stored } = yield* setup()
      const events = Array.from({ length: 10_001 }, (_, i) => LogEvent.make(NOW, `e${i}`))
      expect(reportOf(yield* ship(events.slice(0, 10_000))).batches).toBe(1)
      const report = reportOf(yield* ship(events))
      expect(report.accepted).toBe(10_001)
      expect(report.batches).toBe(2)
      expect(yield* putSizes).toEqual([10_000, 10_000, 1])
      expect((yield* stored()).length).toBe(20_001)
    }))

  it.scoped("1,048,576 bytes (26 per event) go in one put; one byte more in two, nothing lost", () =>
    Effect.gen(function*() {
      const { putSizes, ship, stored } = yield* setup()
      const exact = Array.from({ length: 4 }, (_, i) => LogEvent.make(NOW, String(i).repeat(262_118)))
      expect(reportOf(yield* ship(exact)).bytes).toBe(1_048_576)
      const over = [...exact.slice(0, 3), LogEvent.make(NOW, "3".repeat(262_119))]
      const report = reportOf(yield* ship(over))
      expect(report.accepted).toBe(4)
      expect(report.bytes).toBe(1_048_577)
      expect(yield* putSizes).toEqual([4, 3, 1])
      expect((yield* stored()).map((m) => m.length)).toEqual([
        ...Array.from({ length: 7 }, () => 262_118),
        262_119
      ])
    }))

  it.scoped("events 24 hours apart go in one put; 24 hours + 1 ms apart in two, nothing lost", () =>
    Effect.gen(function*() {
      const { putSizes, ship, stored } = yield* setup()
      const exact = reportOf(yield* ship([LogEvent.make(NOW, "b"), LogEvent.make(NOW - DAY, "a")]))
      expect(exact.batches).toBe(1)
      const over = reportOf(yield* ship([LogEvent.make(NOW, "d"), LogEvent.make(NOW - DAY - 1, "c")]))
      expect(over.accepted).toBe(2)
      expect(over.batches).toBe(2)
      expect(yield* putSizes).toEqual([2, 1, 1])
      expect(yield* stored()).toEqual(["c", "a", "b", "d"])
    }))

  it.scoped("14 days old and 2 hours ahead are stored; 1 ms past either is rejected by reason", () =>
    Effect.gen(function*() {
      const { ship, stored } = yield* setup()
      const report = reportOf(
        yield* ship([
          LogEvent.make(NOW - 14 * DAY - 1, "too old"),
          LogEvent.make(NOW - 14 * DAY, "oldest"),
          LogEvent.make(NOW + 2 * HOUR, "newest"),
          LogEvent.make(NOW + 2 * HOUR + 1, "too new")
        ])
      )
      expect(report.accepted).toBe(2)
      expect(report.rejected.TooOld).toBe(1)
      expect(report.rejected.TooNew).toBe(1)
      expect(ShipReport.total(report)).toBe(4)
      // 14 days + 2 hours apart: two puts, each within 24 hours
      expect(yield* stored()).toEqual(["oldest", "newest"])
    }))

  it.scoped("an empty message is rejected as Empty; one character is stored", () =>
    Effect.gen(function*() {
      const { ship, stored } = yield* setup()
      const report = reportOf(yield* ship([LogEvent.make(NOW, ""), LogEvent.make(NOW, "x")]))
      expect(report.rejected.Empty).toBe(1)
      expect(report.accepted).toBe(1)
      expect(yield* stored()).toEqual(["x"])
    }))

  describe.each([
    ["current", Limits.current],
    ["legacy", Limits.legacy]
  ])("the largest event with %s limits", (_name, limits) => {
    const max = Limits.maxMessageBytes(limits)

    it.scoped(`${max} bytes are stored whole; one byte more is split in two and stored`, () =>
      Effect.gen(function*() {
        const { ship, stored } = yield* setup(limits)
        const atLimit = "x".repeat(max)
        const over = "y".repeat(max + 1)
        const report = reportOf(yield* ship([LogEvent.make(NOW, atLimit), LogEvent.make(NOW, over)]))
        expect(report.accepted).toBe(2)
        expect(report.split).toBe(1)
        const messages = yield* stored()
        expect(messages.map((m) => m.length)).toEqual([max, max, 1])
        expect(messages[0] === atLimit && messages[1] + messages[2] === over).toBe(true)
      }))

    it.scoped("one byte more with the drop policy is rejected as Oversize", () =>
      Effect.gen(function*() {
        const { ship, stored } = yield* setup(limits)
        const report = reportOf(
          yield* ship([LogEvent.make(NOW, "y".repeat(max + 1)), LogEvent.make(NOW, "next")], dest, {
            oversize: "drop"
          })
        )
        expect(report.rejected.Oversize).toBe(1)
        expect(yield* stored()).toEqual(["next"])
      }))
  })

  it.scoped("names of 1 and of 512 characters are written; 0 and 513 fail typed, with their events", () =>
    Effect.gen(function*() {
      const { ship, stored } = yield* setup()
      const group = "a._-/#Z9".repeat(64)
      const stream = "stream ünïcode/#.-_ 😀".padEnd(512, "x")
      for (const [g, s] of [["g", "s"], [group, stream]]) {
        expect(reportOf(yield* ship([LogEvent.make(NOW, "ok")], Destination.make(g, s))).accepted).toBe(1)
        expect(yield* stored(g, s)).toEqual(["ok"])
      }
      for (const [g, s] of [["", S], [G, ""], [group + "a", S], [G, stream + "x"]]) {
        const result = yield* ship([LogEvent.make(NOW, "a"), LogEvent.make(NOW, "b")], Destination.make(g, s))
        if (Either.isRight(result)) throw new Error(`expected a ShipError for ${g.length}/${s.length} characters`)
        expect(result.left.message).toMatch(/log ?group ?name|log ?stream ?name/i)
        expect(result.left.undelivered.flatMap((u) => u.events.map((e) => e.message))).toEqual(["a", "b"])
      }
    }))
})
