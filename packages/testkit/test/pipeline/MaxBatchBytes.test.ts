/**
 * A lowered `maxBatchBytes` bounds every put, large events included: an event that does not fit alone in
 * such a batch (its UTF-8 bytes + 26) is handled by the `oversize` policy, as one over the service's
 * event limit is, through the sink and the logger alike. And a `maxBatchBytes` too small for any event
 * is refused at once.
 */
import { CloudWatchLogs, CloudWatchLogsApi, Destination, LogEvent, ShipReport } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { isWellFormed } from "../../../core/test/support/utf16.js"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"

const G = "orders"
const S = "api-1"
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const dest = Destination.make(G, S)
const MAX = 10_000

/** A model, and its API recording the size of every PutLogEvents sent, as the service counts it. */
const recorded = Effect.gen(function*() {
  const m = yield* TestCloudWatchLogs.make()
  const putBytes: Array<number> = []
  const api = Layer.succeed(CloudWatchLogsApi.CloudWatchLogsApi, {
    ...m.api,
    putLogEvents: (request) => {
      putBytes.push(request.logEvents.reduce((n, e) => n + LogEvent.utf8Bytes(e.message) + 26, 0))
      return m.api.putLogEvents(request)
    }
  })
  return { m, api, putBytes }
})

const ship = (
  api: Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi>,
  events: ReadonlyArray<LogEvent.LogEvent>,
  options: CloudWatchLogs.SinkOptions = {}
) =>
  Stream.fromIterable(events).pipe(
    Stream.run(CloudWatchLogs.sink(dest, { maxInFlight: 1, lingerMillis: 0, maxBatchBytes: MAX, ...options })),
    Effect.provide(api)
  )

describe("CloudWatchLogs.sink with maxBatchBytes: 10,000", () => {
  it.effect("a message of exactly 10,000 − 26 bytes goes whole, in a put of exactly 10,000 bytes", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m, putBytes } = yield* recorded
      const report = yield* ship(api, [LogEvent.make(NOW, "a".repeat(MAX - 26))])
      expect(report.accepted).toBe(1)
      expect(report.split).toBe(0)
      expect(report.bytes).toBe(MAX)
      expect(putBytes.every((n) => n === MAX)).toBe(true)
      expect((yield* m.events(G, S)).map((e) => e.message.length)).toEqual([MAX - 26])
    }))

  it.effect("one byte more is split into parts that fit, counted split once, and no put is over 10,000 bytes", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m, putBytes } = yield* recorded
      const message = "b".repeat(MAX - 25)
      const report = yield* ship(api, [LogEvent.make(NOW, message)])
      expect(report.accepted).toBe(1)
      expect(report.split).toBe(1)
      expect(ShipReport.rejectedTotal(report)).toBe(0)
      expect(Math.max(...putBytes)).toBeLessThanOrEqual(MAX)
      const stored = yield* m.events(G, S)
      expect(stored.map((e) => LogEvent.utf8Bytes(e.message))).toEqual([MAX - 26, 1])
      expect(stored.map((e) => e.message).join("")).toBe(message)
    }))

  it.effect("one byte more is truncated (within the limit) or dropped as Oversize, per the policy", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const truncating = yield* recorded
      const truncated = yield* ship(truncating.api, [LogEvent.make(NOW, "c".repeat(MAX - 25))], {
        oversize: "truncate"
      })
      expect(truncated.accepted).toBe(1)
      expect(truncated.truncated).toBe(1)
      expect(Math.max(...truncating.putBytes)).toBeLessThanOrEqual(MAX)
      const [kept] = yield* truncating.m.events(G, S)
      expect(LogEvent.utf8Bytes(kept.message)).toBeLessThanOrEqual(MAX - 26)
      expect(kept.message).toMatch(/^c+…\[truncated \d+ bytes\]$/)

      const dropping = yield* recorded
      const dropped = yield* ship(dropping.api, [
        LogEvent.make(NOW, "d".repeat(MAX - 25)),
        LogEvent.make(NOW, "kept")
      ], { oversize: "drop" })
      expect(dropped.accepted).toBe(1)
      expect(dropped.rejected.Oversize).toBe(1)
      expect(Math.max(...dropping.putBytes)).toBeLessThanOrEqual(MAX)
      expect((yield* dropping.m.events(G, S)).map((e) => e.message)).toEqual(["kept"])
    }))

  it.effect("multi-byte text is cut between characters, never inside one, and reassembles", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m, putBytes } = yield* recorded
      // 1 + 4k: the limit (9,974) falls inside an emoji; "é" is 2 bytes, "€" 3
      const messages = ["a" + "😀".repeat(7_000), "é".repeat(12_000), "€".repeat(9_000), "x😀".repeat(3_000)]
      const report = yield* ship(api, messages.map((message, i) => LogEvent.make(NOW + i, message)))
      expect(report.accepted).toBe(messages.length)
      expect(report.split).toBe(messages.length)
      expect(Math.max(...putBytes)).toBeLessThanOrEqual(MAX)
      const stored = yield* m.events(G, S)
      for (const e of stored) {
        expect(isWellFormed(e.message)).toBe(true)
        expect(LogEvent.utf8Bytes(e.message)).toBeLessThanOrEqual(MAX - 26)
      }
      for (const [i, message] of messages.entries()) {
        expect(stored.filter((e) => e.timestamp === NOW + i).map((e) => e.message).join("")).toBe(message)
      }
    }))

  it.effect("a maxBatchBytes too small for one event of one character (below 30) is refused at once", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* recorded
      for (const maxBatchBytes of [29, 26, 1, 0, -1, Number.NaN]) {
        const exit = yield* Effect.exit(ship(api, [LogEvent.make(NOW, "a")], { maxBatchBytes }))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain("cwlogs: maxBatchBytes must be at least 30")
      }
      expect(yield* m.callCount("PutLogEvents")).toBe(0)
      // 30: every character fits (a 4-byte one alone), so every event goes, a character at a time at worst
      const report = yield* ship(api, [LogEvent.make(NOW, "😀"), LogEvent.make(NOW, "ab😀")], { maxBatchBytes: 30 })
      expect(report.accepted).toBe(2)
      expect((yield* m.events(G, S)).map((e) => e.message)).toEqual(["😀", "ab", "😀"])
    }))
})

describe("CloudWatchLogs.sink: the other batch options are refused out of range, not taken for the defaults", () => {
  it.effect("maxBatchEvents: a whole number of 1 or more; lingerMillis: 0 or more", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* recorded
      const refused = (options: CloudWatchLogs.SinkOptions) =>
        Effect.map(Effect.exit(ship(api, [LogEvent.make(NOW, "x")], options)), (exit) =>
          Exit.isFailure(exit) && Cause.isDie(exit.cause) ? Cause.pretty(exit.cause) : "taken")
      for (const maxBatchEvents of [0, -1, 2.5, Number.NaN]) {
        expect(yield* refused({ maxBatchEvents })).toContain("maxBatchEvents must be a whole number, 1 or more")
      }
      for (const lingerMillis of [-1, Number.NaN]) {
        expect(yield* refused({ lingerMillis })).toContain("lingerMillis must be 0 or more")
      }
      expect(yield* m.callCount("PutLogEvents")).toBe(0)
      // at the limits: a batch of one event each, and no linger
      const events = [LogEvent.make(NOW, "a"), LogEvent.make(NOW, "b"), LogEvent.make(NOW, "c")]
      const report = yield* ship(api, events, { maxBatchEvents: 1, lingerMillis: 0 })
      expect(report).toMatchObject({ accepted: 3, batches: 3 })
    }))

  it.effect("bufferCapacity, maxInFlight, maxDestinations: whole numbers of 1 or more; drainTimeoutMillis: 0 or more", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m } = yield* recorded
      const outcome = (options: CloudWatchLogs.SinkOptions, routed = false) => {
        const sink = routed
          ? CloudWatchLogs.sink((_: LogEvent.LogEvent) => dest, { ...options })
          : CloudWatchLogs.sink(dest, { maxInFlight: 1, lingerMillis: 0, ...options })
        return Stream.make(LogEvent.make(NOW, "x")).pipe(
          Stream.run(sink),
          Effect.provide(api),
          Effect.exit,
          Effect.map((exit) =>
            Exit.isFailure(exit) && Cause.isDie(exit.cause)
              ? Cause.pretty(exit.cause)
              : Exit.isSuccess(exit)
              ? "taken"
              : "failed"
          )
        )
      }
      // each of these was taken for something else: an unbounded buffer, one upload at a time, no drain
      for (const bufferCapacity of [0, -1, 2.5, Number.NaN, Infinity]) {
        expect(yield* outcome({ bufferCapacity })).toContain("bufferCapacity must be a whole number, 1 or more")
      }
      for (const maxInFlight of [0, -3, 1.5, Number.NaN]) {
        expect(yield* outcome({ maxInFlight })).toContain("maxInFlight must be a whole number, 1 or more")
      }
      for (const drainTimeoutMillis of [-1, Number.NaN]) {
        expect(yield* outcome({ drainTimeoutMillis })).toContain("drainTimeoutMillis must be 0 or more")
      }
      for (const maxDestinations of [0, -1, 0.5, Number.NaN]) {
        expect(yield* outcome({ maxDestinations }, true)).toContain("maxDestinations must be a whole number, 1 or more")
      }
      expect(yield* outcome({ destinationIdleMillis: Number.NaN }, true)).toContain(
        "destinationIdleMillis must be a number"
      )
      // a sink to one destination has no use for them, and refuses them all the same (as the spool does)
      expect(yield* outcome({ maxDestinations: 0 })).toContain("maxDestinations must be a whole number, 1 or more")
      expect(yield* outcome({ destinationIdleMillis: Number.NaN })).toContain("destinationIdleMillis must be a number")
      expect(yield* m.callCount("PutLogEvents")).toBe(0)
      // every problem is named at once
      const all = yield* outcome({ bufferCapacity: 0, maxInFlight: 0, maxBatchEvents: 0 })
      expect(all).toContain("bufferCapacity")
      expect(all).toContain("maxInFlight")
      expect(all).toContain("maxBatchEvents")
      // at the limits, and the documented unlimited values, are taken
      expect(yield* outcome({ bufferCapacity: 1, maxInFlight: 1, drainTimeoutMillis: 0 })).toBe("taken")
      expect(yield* outcome({ maxInFlight: Infinity, drainTimeoutMillis: Infinity })).toBe("taken")
      expect(yield* outcome({ maxDestinations: 1, destinationIdleMillis: 0 }, true)).toBe("taken")
      expect(yield* outcome({ maxDestinations: Infinity, destinationIdleMillis: Infinity }, true)).toBe("taken")
      expect(yield* m.events(G, S)).toHaveLength(4)
      // the same rules, as words, for code that builds on the sink
      expect(CloudWatchLogs.invalidOptions({ bufferCapacity: 10, maxInFlight: 2 })).toBeUndefined()
      expect(CloudWatchLogs.invalidOptions({ bufferCapacity: 0 })).toContain("bufferCapacity")
    }))
})

/** The test runner installs its own loggers: the CloudWatch logger alone. */
const withoutOtherLoggers = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.locally(effect, FiberRef.currentLoggers, HashSet.empty())

describe("CloudWatchLogs.layerLogger with maxBatchBytes: 10,000", () => {
  it.effect("a 50,000-character line goes in parts, no put over 10,000 bytes, and the parts make the line", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const { api, m, putBytes } = yield* recorded
      const line = "x".repeat(50_000)
      const report = yield* Effect.log(line).pipe(
        Effect.zipRight(CloudWatchLogs.flush),
        Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: S, maxBatchBytes: MAX })),
        Effect.provide(api),
        withoutOtherLoggers
      )
      expect(report.accepted).toBe(1)
      expect(report.split).toBe(1)
      expect(putBytes.length).toBeGreaterThan(0)
      expect(Math.max(...putBytes)).toBeLessThanOrEqual(MAX)
      const stored = yield* m.events(G, S)
      expect(stored.length).toBe(6) // 50,000 characters and the JSON around them, 9,974 at most a part
      const doc: unknown = JSON.parse(stored.map((e) => e.message).join(""))
      expect(doc).toMatchObject({ level: "INFO", message: line })
    }))

  it.effect("a maxBatchBytes below 30 is a defect at once, as an invalid destination is", () =>
    Effect.gen(function*() {
      const { api, m } = yield* recorded
      const exit = yield* Effect.exit(
        Effect.log("lost?").pipe(
          Effect.provide(CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: S, maxBatchBytes: 26 })),
          Effect.provide(api),
          withoutOtherLoggers
        )
      )
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain("cwlogs: maxBatchBytes must be at least 30")
      expect(yield* m.callCount("PutLogEvents")).toBe(0)
    }))

  it.effect("from Config: a maxBatchBytes below 30 is a ConfigError, 30 is taken", () =>
    Effect.gen(function*() {
      const { api } = yield* recorded
      const read = (bytes: string) =>
        Effect.exit(
          Effect.log("configured").pipe(
            Effect.provide(
              CloudWatchLogs.layerLoggerConfig({
                logGroupName: Config.succeed(G),
                logStreamName: Config.succeed(S),
                maxBatchBytes: Config.integer("BYTES")
              })
            ),
            Effect.provide(api),
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["BYTES", bytes]]))),
            withoutOtherLoggers
          )
        )
      const refused = yield* read("29")
      expect(Exit.isFailure(refused) && Cause.isFailType(refused.cause)).toBe(true)
      expect(Exit.isFailure(refused) && Cause.pretty(refused.cause)).toContain("maxBatchBytes must be at least 30")
      expect(Exit.isSuccess(yield* read("30"))).toBe(true)
    }))

  it.effect("from Config: a bufferCapacity of 0 or a maxInFlight of 0 is a ConfigError naming it", () =>
    Effect.gen(function*() {
      const { api, m } = yield* recorded
      const read = (capacity: string, inFlight: string) =>
        Effect.exit(
          Effect.log("configured").pipe(
            Effect.zipRight(CloudWatchLogs.flush),
            Effect.provide(
              CloudWatchLogs.layerLoggerConfig({
                logGroupName: Config.succeed(G),
                logStreamName: Config.succeed(S),
                bufferCapacity: Config.integer("CAPACITY"),
                maxInFlight: Config.integer("IN_FLIGHT")
              })
            ),
            Effect.provide(api),
            Effect.withConfigProvider(
              ConfigProvider.fromMap(new Map([["CAPACITY", capacity], ["IN_FLIGHT", inFlight]]))
            ),
            withoutOtherLoggers
          )
        )
      const refused = yield* read("0", "0")
      expect(Exit.isFailure(refused) && Cause.isFailType(refused.cause)).toBe(true)
      const message = Exit.isFailure(refused) ? Cause.pretty(refused.cause) : ""
      expect(message).toContain("bufferCapacity must be a whole number, 1 or more, got 0")
      expect(message).toContain("maxInFlight must be a whole number, 1 or more, got 0")
      const taken = yield* read("1", "1")
      expect(Exit.isSuccess(taken) && taken.value.accepted).toBe(1)
      expect(yield* m.events(G, S)).toHaveLength(1)
    }))
})
