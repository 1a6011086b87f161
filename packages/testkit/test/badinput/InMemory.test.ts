/**
 * Bad input against the in-memory service: invalid names, bad timestamps, non-string messages from
 * untyped callers, lone surrogates, empty and huge events, a destination that may not be created. Each
 * ends in a typed error or a rejection with a reason in the ShipReport, and the good events around the bad
 * one are stored.
 */
import { BatchValidator, CloudWatchLogs, Destination, Limits, LogEvent, ShipReport } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const G = "orders"
const S = "api-1"
const dest = Destination.make(G, S)

const stored = (group = G, stream = S) =>
  Effect.map(TestCloudWatchLogs.events(group, stream), (events) => events.map((e) => e.message))

const ship = (events: ReadonlyArray<LogEvent.LogEvent>, destination: Destination.Destination = dest) =>
  Stream.fromIterable(events).pipe(Stream.run(CloudWatchLogs.sink(destination)), Effect.either)

/** Events as an untyped caller hands them over: parsed from JSON, with no type to check them against. */
const untyped = (json: string): ReadonlyArray<LogEvent.LogEvent> => JSON.parse(json)

describe("bad input (in memory)", () => {
  describe("names", () => {
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      ["an empty group name", "", S],
      ["a group name with a space", "bad group", S],
      ["a group name of 513 characters", "g".repeat(513), S],
      ["a stream name with a colon", G, "bad:stream"],
      ["a stream name with a star", G, "bad*stream"],
      ["an empty stream name", G, ""],
      ["a stream name of 513 characters", G, "s".repeat(513)]
    ]
    for (const [what, group, stream] of cases) {
      it.effect(`${what} fails with a typed error that names the rule, and keeps its events`, () =>
        Effect.gen(function*() {
          yield* TestClock.setTime(NOW)
          const result = yield* ship(
            [LogEvent.make(NOW, "a"), LogEvent.make(NOW, "b")],
            Destination.make(group, stream)
          )
          expect(Either.isLeft(result)).toBe(true)
          if (Either.isRight(result)) return
          const error = result.left
          expect(error._tag).toBe("ShipError")
          expect(error.message).toMatch(/log ?group ?name|log ?stream ?name/i)
          expect(error.undelivered.flatMap((u) => u.events.map((e) => e.message))).toEqual(["a", "b"])
        }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
    }

    it.effect("names at the limit (512 characters, every allowed character) are accepted", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const group = "a._-/#Z9".repeat(64)
        const stream = "stream ünïcode/#.-_ 😀".padEnd(512, "x")
        expect(group.length).toBe(512)
        expect(stream.length).toBe(512)
        const result = yield* ship([LogEvent.make(NOW, "ok")], Destination.make(group, stream))
        expect(Either.isRight(result)).toBe(true)
        expect(yield* stored(group, stream)).toEqual(["ok"])
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

    it.effect("a bad destination next to a good one: the good one's events are all stored", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const good = Destination.make(G, "good")
        const bad = Destination.make(G, "bad:stream")
        const events = Array.from({ length: 20 }, (_, i) => LogEvent.make(NOW + i, `e${i}`))
        const result = yield* Stream.fromIterable(events).pipe(
          Stream.run(
            CloudWatchLogs.sink((e: LogEvent.LogEvent) => (Number(e.message.slice(1)) % 5 === 0 ? bad : good))
          ),
          Effect.either
        )
        expect(Either.isLeft(result)).toBe(true)
        expect(yield* stored(G, "good")).toEqual(events.filter((_, i) => i % 5 !== 0).map((e) => e.message))
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
  })

  describe("timestamps", () => {
    it.effect("NaN, ±Infinity, negative and fractional timestamps are rejected as InvalidTimestamp", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const events = [
          LogEvent.make(NOW, "good-0"),
          LogEvent.make(Number.NaN, "nan"),
          LogEvent.make(NOW + 1, "good-1"),
          LogEvent.make(Number.POSITIVE_INFINITY, "inf"),
          LogEvent.make(Number.NEGATIVE_INFINITY, "-inf"),
          LogEvent.make(-1, "negative"),
          LogEvent.make(NOW + 0.5, "fraction"),
          LogEvent.make(NOW + 2, "good-2")
        ]
        const result = yield* ship(events)
        expect(Either.isRight(result)).toBe(true)
        if (Either.isLeft(result)) return
        expect(result.right.accepted).toBe(3)
        expect(result.right.rejected.InvalidTimestamp).toBe(5)
        expect(ShipReport.total(result.right)).toBe(events.length)
        expect(yield* stored()).toEqual(["good-0", "good-1", "good-2"])
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

    it.effect("0 is a valid timestamp (the epoch), rejected only as too old", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const result = yield* ship([LogEvent.make(0, "epoch"), LogEvent.make(NOW, "now")])
        expect(Either.isRight(result)).toBe(true)
        if (Either.isLeft(result)) return
        expect(result.right.rejected.InvalidTimestamp).toBe(0)
        expect(result.right.rejected.TooOld).toBe(1)
        expect(yield* stored()).toEqual(["now"])
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
  })

  describe("messages from untyped callers", () => {
    it.effect("non-string messages and non-events are rejected as InvalidMessage; strings around them stored", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const t = NOW
        const events = untyped(
          `[{"timestamp":${t},"message":"good-0"},{"timestamp":${t},"message":42},{"timestamp":${t},"message":null},` +
            `{"timestamp":${t}},{"timestamp":${t},"message":{"nested":true}},{"timestamp":${t},"message":["a"]},` +
            `{"timestamp":${t},"message":true},"just a string",null,7,{"timestamp":${t},"message":"good-1"}]`
        )
        const result = yield* ship(events)
        expect(Either.isRight(result)).toBe(true)
        if (Either.isLeft(result)) return
        expect(result.right.accepted).toBe(2)
        expect(result.right.rejected.InvalidMessage).toBe(9)
        expect(yield* stored()).toEqual(["good-0", "good-1"])
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

    it("the validator takes unknown inputs and says why each is refused", () => {
      const rules = BatchValidator.rules(Limits.current)
      const inputs: ReadonlyArray<unknown> = [
        undefined,
        null,
        "text",
        Symbol("s"),
        10n,
        () => "f",
        { timestamp: NOW, message: Symbol("m") },
        { timestamp: "2026-01-15", message: "m" },
        { timestamp: NOW, message: 1n },
        { timestamp: NOW, message: "" },
        { timestamp: NOW, message: "fine" }
      ]
      const reasons = inputs.map((input) => {
        const outcome = BatchValidator.check(input, NOW, rules)
        return outcome._tag === "Rejected" ? outcome.reason : outcome._tag
      })
      expect(reasons).toEqual([
        "InvalidMessage",
        "InvalidMessage",
        "InvalidMessage",
        "InvalidMessage",
        "InvalidMessage",
        "InvalidMessage",
        "InvalidMessage",
        "InvalidTimestamp",
        "InvalidMessage",
        "Empty",
        "Valid"
      ])
    })
  })

  describe("lone surrogates", () => {
    it.effect("a message with lone surrogates is stored (as U+FFFD), sized as 3 bytes each, with its neighbours", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const lone = "high \uD800 low \uDC00 end"
        const result = yield* ship([
          LogEvent.make(NOW, "before"),
          LogEvent.make(NOW, lone),
          LogEvent.make(NOW, "after")
        ])
        expect(Either.isRight(result)).toBe(true)
        if (Either.isLeft(result)) return
        expect(result.right.accepted).toBe(3)
        const messages = yield* stored()
        expect(messages[0]).toBe("before")
        expect(messages[2]).toBe("after")
        expect([lone, lone.replace(/[\uD800-\uDFFF]/g, "\uFFFD")]).toContain(messages[1])
        expect(LogEvent.utf8Bytes("\uD800")).toBe(3)
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

    it.effect("splitting an oversize message full of surrogate pairs never cuts a pair", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const max = Limits.maxMessageBytes(Limits.current)
        const big = "😀".repeat(Math.ceil(max / 4) + 10)
        const result = yield* ship([LogEvent.make(NOW, big), LogEvent.make(NOW, "after")])
        expect(Either.isRight(result)).toBe(true)
        const messages = yield* stored()
        expect(messages.at(-1)).toBe("after")
        for (const m of messages) {
          expect(m).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/)
        }
        expect(messages.slice(0, -1).join("")).toContain("😀😀")
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
  })

  describe("sizes", () => {
    it.effect("an empty message is rejected as Empty; its neighbours are stored", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const result = yield* ship([LogEvent.make(NOW, "a"), LogEvent.make(NOW, ""), LogEvent.make(NOW, "b")])
        expect(Either.isRight(result)).toBe(true)
        if (Either.isLeft(result)) return
        expect(result.right.rejected.Empty).toBe(1)
        expect(result.right.accepted).toBe(2)
        expect(yield* stored()).toEqual(["a", "b"])
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

    it.effect("a message of exactly the largest size is stored whole; one byte more is split, nothing lost", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const max = Limits.maxMessageBytes(Limits.current)
        const atLimit = "x".repeat(max)
        const overLimit = "y".repeat(max + 1)
        const result = yield* ship([
          LogEvent.make(NOW, atLimit),
          LogEvent.make(NOW, overLimit),
          LogEvent.make(NOW, "z")
        ])
        expect(Either.isRight(result)).toBe(true)
        if (Either.isLeft(result)) return
        expect(result.right.accepted).toBe(3)
        expect(result.right.split).toBe(1)
        const messages = yield* stored()
        expect(messages[0]).toBe(atLimit)
        expect(messages.at(-1)).toBe("z")
        expect(messages.slice(1, -1).join("").replace(/[^y]/g, "").length).toBe(max + 1)
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

    it.effect("with the drop policy a huge event is rejected as Oversize, and the next one stored", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const huge = "h".repeat(5 * 1024 * 1024)
        const result = yield* Stream.fromIterable([LogEvent.make(NOW, huge), LogEvent.make(NOW, "next")]).pipe(
          Stream.run(CloudWatchLogs.sink(dest, { oversize: "drop" })),
          Effect.either
        )
        expect(Either.isRight(result)).toBe(true)
        if (Either.isLeft(result)) return
        expect(result.right.rejected.Oversize).toBe(1)
        expect(yield* stored()).toEqual(["next"])
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
  })

  describe("destinations", () => {
    it.effect("createGroup: false on a missing group fails with DestinationMissing and returns the events", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const missing = Destination.make("missing-group", S, { createGroup: false })
        const result = yield* ship([LogEvent.make(NOW, "a"), LogEvent.make(NOW, "b")], missing)
        expect(Either.isLeft(result)).toBe(true)
        if (Either.isRight(result)) return
        expect(result.left.cause.reason).toBe("DestinationMissing")
        expect(result.left.message).toMatch(/log group/i)
        expect(result.left.undelivered.flatMap((u) => u.events.map((e) => e.message))).toEqual(["a", "b"])
        expect(yield* TestCloudWatchLogs.callCount("CreateLogGroup")).toBe(0)
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
  })
})

describe("bad input to the shipping logger", () => {
  it.effect("any value logged (circular, bigint, symbol, function, undefined, lone surrogate, huge) is shipped", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const circular: { self?: unknown; name: string } = { name: "loop" }
      circular.self = circular
      const values: ReadonlyArray<unknown> = [
        "first line",
        circular,
        10n,
        Symbol("sym"),
        () => "a function",
        undefined,
        null,
        "lone \uD800 surrogate",
        "h".repeat(Limits.maxMessageBytes(Limits.current) + 100),
        "last line"
      ]
      const report = yield* Effect.gen(function*() {
        for (const value of values) yield* Effect.logInfo(value)
        return yield* CloudWatchLogs.flush
      }).pipe(
        Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: S, replace: true })),
        Effect.scoped
      )
      expect(report.accepted).toBe(values.length)
      expect(ShipReport.rejectedTotal(report)).toBe(0)
      expect(report.dropped).toBe(0)
      const messages = yield* stored()
      expect(messages[0]).toContain("first line")
      expect(messages.at(-1)).toContain("last line")
      expect(messages.join("\n")).toContain("loop")
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})
