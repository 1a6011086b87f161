import type { LogEvent as LogEventType } from "@cwlogs/core"
import { CloudWatchLogs, Destination, Limits, LogEvent, RetryPolicy } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"
import { onClock, settle, shortRetention } from "./support.js"

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const DAY = 24 * 60 * 60 * 1000
const G = "orders"

/** Messages over 64 bytes are split (or truncated, or dropped): parts of one event span batches. */
const small: Limits.LimitsShape = { ...Limits.current, maxEventBytes: 26 + 64 }
const smallService = Layer.merge(TestCloudWatchLogs.layer({ limits: small }), Limits.layer(small))

describe("CloudWatchLogs.sink onStored", () => {
  it.effect("tells every stored event once, as the object given, by destination, before the sink ends", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const input = Array.from({ length: 25_000 }, (_, i) => LogEvent.make(NOW + i, `e${i}`))
      const streamOf = (e: LogEventType.LogEvent) => `s${Number(e.message.slice(1)) % 3}`
      const seen = new Map<LogEventType.LogEvent, number>()
      let calls = 0
      const report = yield* onClock(
        Stream.fromIterable(input).pipe(Stream.run(CloudWatchLogs.sink(
          (e: LogEventType.LogEvent) => Destination.make(G, streamOf(e)),
          {
            maxBatchEvents: 1_000,
            onStored: (batch) =>
              // asynchronous on purpose: the sink must wait for it before it ends
              Effect.zipRight(
                Effect.sleep(50),
                Effect.sync(() => {
                  calls++
                  expect(batch.rejected).toEqual([])
                  for (const e of batch.events) {
                    expect(streamOf(e)).toBe(batch.destination.logStreamName)
                    seen.set(e, (seen.get(e) ?? 0) + 1)
                  }
                })
              )
          }
        )))
      )
      expect(report.accepted).toBe(25_000)
      expect(calls).toBe(report.batches)
      expect(calls).toBeGreaterThanOrEqual(27)
      expect(seen.size).toBe(25_000)
      expect(input.every((e) => seen.get(e) === 1)).toBe(true)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("says which events of a batch the service refused", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const short = yield* shortRetention
      const inputs = [
        // one batch (within 24 hours of each other), the first past the group's retention
        LogEvent.make(NOW - DAY - 1_000, "expired"),
        LogEvent.make(NOW - DAY + 10_000, "kept")
      ]
      const batches: Array<CloudWatchLogs.StoredBatch> = []
      const report = yield* onClock(
        Stream.fromIterable(inputs).pipe(Stream.run(CloudWatchLogs.sink(short, {
          onStored: (batch) => Effect.sync(() => batches.push(batch))
        })))
      )
      expect(report.accepted).toBe(1)
      expect(batches.length).toBe(1)
      expect(batches[0].events).toEqual(inputs)
      expect(batches[0].events[0]).toBe(inputs[0])
      expect(batches[0].rejected).toEqual([{ index: 0, reason: "Expired" }])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("is not called for a batch that failed: its events are in the ShipError", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      yield* TestCloudWatchLogs.setFaults({ unavailable: 1 })
      let calls = 0
      const error = yield* Effect.flip(onClock(
        Stream.fromIterable([LogEvent.make(NOW, "a"), LogEvent.make(NOW, "b")]).pipe(
          Stream.run(CloudWatchLogs.sink(Destination.make(G, "down"), {
            onStored: () => Effect.sync(() => calls++)
          }))
        )
      ))
      expect(calls).toBe(0)
      expect(error.undelivered[0].events.map((e) => e.message)).toEqual(["a", "b"])
    }).pipe(
      Effect.provide(TestCloudWatchLogs.layer()),
      Effect.provide(RetryPolicy.layer({ transient: RetryPolicy.backoff({ base: 0, cap: 0, retries: 1 }) }))
    ))

  const logged: Array<string> = []
  const failing: ReadonlyArray<readonly [string, () => Effect.Effect<void>]> = [
    ["dies", () => Effect.dieMessage("the acknowledgement store is down")],
    ["throws", () => {
      throw new Error("the acknowledgement store is down")
    }]
  ]
  for (const [how, onStored] of failing) {
    it.effect(`a callback that ${how} is logged with its error; the events are stored and reported all the same`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        logged.length = 0
        // 30 stored in 3 puts, and an empty one refused at once (named from the destination's own fiber)
        const inputs = [...Array.from({ length: 30 }, (_, i) => LogEvent.make(NOW, `x${i}`)), LogEvent.make(NOW, "")]
        const report = yield* onClock(
          Stream.fromIterable(inputs).pipe(
            Stream.run(CloudWatchLogs.sink(Destination.make(G, `x-${how}`), { maxBatchEvents: 10, onStored }))
          )
        )
        expect(report.accepted).toBe(30)
        expect(report.rejected.Empty).toBe(1)
        expect((yield* TestCloudWatchLogs.events(G, `x-${how}`)).length).toBe(30)
        const warned = logged.filter((line) => line.includes("onStored callback failed"))
        expect(warned.length).toBe(4)
        for (const line of warned) expect(line).toContain("the acknowledgement store is down")
      }).pipe(
        Effect.provide(TestCloudWatchLogs.layer()),
        Effect.provide(Logger.replace(
          Logger.defaultLogger,
          Logger.make(({ cause, message }) => logged.push(`${String(message)} ${String(cause)}`))
        ))
      ))
  }

  it.effect("names a split event once, as the object given, with the put that stored its last part", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const before = LogEvent.make(NOW, "before")
      const long = LogEvent.make(NOW, "x".repeat(200)) // 64 + 64 + 64 + 8 bytes: batches of 2 hold 2 parts
      const after = LogEvent.make(NOW, "after")
      const calls: Array<ReadonlyArray<LogEventType.LogEvent>> = []
      const report = yield* onClock(
        Stream.make(before, long, after).pipe(Stream.run(CloudWatchLogs.sink(Destination.make(G, "split"), {
          maxBatchEvents: 2,
          onStored: (batch) => Effect.sync(() => calls.push(batch.events))
        })))
      )
      expect(report.split).toBe(1)
      expect(report.accepted).toBe(3)
      expect((yield* TestCloudWatchLogs.events(G, "split")).length).toBe(6)
      // [before, part 1], [part 2, part 3], [part 4, after]: the event goes with its last part
      expect(calls).toEqual([[before], [], [long, after]].filter((c) => c.length > 0))
      expect(calls[1][0]).toBe(long)
    }).pipe(Effect.provide(smallService)))

  it.effect("names a truncated event as the object given, not the copy that was stored", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const long = LogEvent.make(NOW, "y".repeat(100))
      const named: Array<LogEventType.LogEvent> = []
      const report = yield* onClock(
        Stream.make(long).pipe(Stream.run(CloudWatchLogs.sink(Destination.make(G, "truncated"), {
          oversize: "truncate",
          onStored: (batch) => Effect.sync(() => named.push(...batch.events))
        })))
      )
      expect(report.truncated).toBe(1)
      const stored = yield* TestCloudWatchLogs.events(G, "truncated")
      expect(stored[0].message).toContain("[truncated")
      expect(named.length).toBe(1)
      expect(named[0]).toBe(long)
    }).pipe(Effect.provide(smallService)))

  it.effect("names at once, with their reasons, the inputs it refuses itself and never sends", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const inputs = [
        LogEvent.make(NOW, ""),
        LogEvent.make(NOW - 14 * DAY - 1, "too old"),
        LogEvent.make(NOW + 2 * 60 * 60 * 1000 + 1, "too new"),
        LogEvent.make(NOW, "z".repeat(65)),
        LogEvent.make(NOW + 0.5, "not an integer")
      ]
      const batches: Array<CloudWatchLogs.StoredBatch> = []
      const report = yield* onClock(
        Stream.fromIterable(inputs).pipe(Stream.run(CloudWatchLogs.sink(Destination.make(G, "refused"), {
          oversize: "drop",
          onStored: (batch) => Effect.sync(() => batches.push(batch))
        })))
      )
      expect(report.accepted).toBe(0)
      const named = batches.flatMap((b) => b.events)
      expect(named.length).toBe(5)
      inputs.forEach((e, i) => expect(named[i]).toBe(e))
      expect(batches.flatMap((b) => b.rejected.map((r) => r.reason))).toEqual([
        "Empty",
        "TooOld",
        "TooNew",
        "Oversize",
        "InvalidTimestamp"
      ])
      expect((yield* TestCloudWatchLogs.calls).filter((c) => c.operation === "PutLogEvents")).toEqual([])
    }).pipe(Effect.provide(smallService)))

  it.effect("a split event whose first part failed is not named, and the rest of it is not sent", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      yield* TestCloudWatchLogs.failNext(1, "unavailable", "PutLogEvents")
      const long = LogEvent.make(NOW, "x".repeat(200))
      const named: Array<LogEventType.LogEvent> = []
      const error = yield* Effect.flip(onClock(
        Stream.make(long).pipe(Stream.run(CloudWatchLogs.sink(Destination.make(G, "failed"), {
          maxBatchEvents: 2,
          onStored: (batch) => Effect.sync(() => named.push(...batch.events))
        })))
      ))
      expect(named).toEqual([])
      expect(error.report.rejected.Failed).toBe(1)
      // all four parts handed back, none stored
      expect(error.undelivered.flatMap((u) => u.events).map((e) => e.message).join("")).toBe(long.message)
      expect(yield* TestCloudWatchLogs.events(G, "failed")).toEqual([])
    }).pipe(
      Effect.provide(smallService),
      Effect.provide(RetryPolicy.layer({ transient: RetryPolicy.backoff({ base: 0, cap: 0, retries: 0 }) }))
    ))
})

describe("CloudWatchLogs.sink onStored of a destination released while its callback runs", () => {
  const A = Destination.make(G, "a")
  const B = Destination.make(G, "b")
  /** A slow acknowledgement (a commit upstream): 5 s, then the inputs are named. */
  const slowly = (named: Array<string>) => (batch: CloudWatchLogs.StoredBatch) =>
    Effect.zipRight(
      Effect.sleep(5_000),
      Effect.sync(() => {
        for (const e of batch.events) named.push(e.message)
      })
    )
  const input = [LogEvent.make(NOW, "a0"), LogEvent.make(NOW, "a1")]
  /** The stream goes on, quietly, for 2 s after its events: the lane is idle (500 ms) and released meanwhile. */
  const quietly = Stream.fromIterable(input).pipe(
    Stream.concat(Stream.fromEffect(Effect.sleep(2_000)).pipe(Stream.drain))
  )

  it.effect("released by its idle timer: the sink ends only once the callback has named every input", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const named: Array<string> = []
      const report = yield* onClock(
        quietly.pipe(Stream.run(CloudWatchLogs.sink((_: LogEventType.LogEvent) => A, {
          lingerMillis: 0,
          destinationIdleMillis: 500,
          onStored: slowly(named)
        })))
      )
      expect(report.accepted).toBe(2)
      expect((yield* TestCloudWatchLogs.events(G, "a")).length).toBe(2)
      // named when the sink ended (before: 0, and the callback was cut off when the sink's scope closed)
      expect(named).toEqual(["a0", "a1"])
      expect(yield* Clock.currentTimeMillis).toBeGreaterThanOrEqual(NOW + 5_000)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("released by its idle timer, then the stream interrupted: the drain lets the callback finish", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const named: Array<string> = []
      const fiber = yield* Stream.fromIterable(input).pipe(
        Stream.concat(Stream.never),
        Stream.run(CloudWatchLogs.sink((_: LogEventType.LogEvent) => A, {
          lingerMillis: 0,
          destinationIdleMillis: 500,
          onStored: slowly(named)
        })),
        Effect.fork
      )
      for (let i = 0; i < 10; i++) {
        yield* settle
        yield* TestClock.adjust(100)
      }
      expect((yield* TestCloudWatchLogs.events(G, "a")).length).toBe(2)
      expect(named).toEqual([])
      // the drain (10 s by default) waits for the released lane's callback too
      const interrupted = yield* Effect.fork(Fiber.interrupt(fiber))
      for (let i = 0; i < 100 && interrupted.unsafePoll() === null; i++) {
        yield* settle
        yield* TestClock.adjust(100)
      }
      yield* Fiber.join(interrupted)
      expect(named).toEqual(["a0", "a1"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("released for a destination waiting at the cap: the callback ends before the next destination's lane starts", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const named: Array<string> = []
      const report = yield* onClock(
        Stream.make(LogEvent.make(NOW, "a0"), LogEvent.make(NOW, "b0")).pipe(
          Stream.run(CloudWatchLogs.sink((e: LogEventType.LogEvent) => e.message.startsWith("a") ? A : B, {
            lingerMillis: 0,
            maxDestinations: 1,
            onStored: slowly(named)
          }))
        )
      )
      expect(report.accepted).toBe(2)
      expect(named).toEqual(["a0", "b0"])
      // one after the other: b's lane waited for a's place, which a gave up once its callback returned
      expect(yield* Clock.currentTimeMillis).toBeGreaterThanOrEqual(NOW + 10_000)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})
