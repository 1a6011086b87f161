/**
 * `onStored` names every input the sink was given once, except those it fails to deliver: also when the
 * sink's stream is interrupted (the inputs the sink's own checks refuse are refused for good, and named,
 * as mid-stream) and at the drain's deadline (what is still held then is not delivered, refused or not:
 * counted `Failed`, handed back, not named). The service takes 1 s per put.
 */
import { CloudWatchLogs, Destination, LogEvent } from "@cwlogs/core"
import type { LogEvent as LogEventType } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"
import { interruptSink } from "./support.js"

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const A = Destination.make("g", "a")

/** 2,000 inputs, every 10th empty (refused by the sink's checks, never sent). */
const input = Array.from({ length: 2_000 }, (_, i) => LogEvent.make(NOW + i, i % 10 === 9 ? "" : `a${i}`))

/**
 * Interrupts a sink while it offers (its buffer full, a put in flight), and returns what it was handed,
 * what `onStored` named (and how often), and how many events the drain's warning says were not delivered.
 */
const interruptAndName = (options: CloudWatchLogs.SinkOptions) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(NOW)
    const warnings: Array<string> = []
    const capture = Logger.make(({ message }) => {
      warnings.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
    })
    const named = new Map<LogEventType.LogEvent, number>()
    const refused: Array<string> = []
    let handed = 0
    const fiber = yield* Stream.fromIterable(input).pipe(
      Stream.rechunk(150),
      Stream.mapChunks((c) => {
        handed += c.length
        return c
      }),
      Stream.run(CloudWatchLogs.sink(A, {
        bufferCapacity: 100,
        maxBatchEvents: 50,
        maxInFlight: 1,
        ...options,
        onStored: (batch) =>
          Effect.sync(() => {
            for (const e of batch.events) named.set(e, (named.get(e) ?? 0) + 1)
            for (const r of batch.rejected) refused.push(r.reason)
          })
      })),
      Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
      Effect.fork
    )
    const notDelivered = yield* interruptSink(fiber, warnings)
    const emptyHanded = input.slice(0, handed).filter((e) => e.message === "").length
    const emptyNamed = [...named.keys()].filter((e) => e.message === "").length
    return { handed, named, refused, notDelivered, emptyHanded, emptyNamed }
  })

describe("CloudWatchLogs.sink onStored when the sink is cut off", () => {
  it.effect("stream interrupted while an offer waits for room: the empty inputs it had not buffered are named, refused", () =>
    Effect.gen(function*() {
      const r = yield* interruptAndName({})
      // the offer waited for room: some inputs were handed over but never buffered
      expect(r.handed).toBeGreaterThan(100 + 50)
      expect(r.notDelivered).toBeGreaterThan(0)
      // each named once; named or not delivered, every input handed over
      expect([...r.named.values()].every((n) => n === 1)).toBe(true)
      expect(r.named.size + r.notDelivered).toBe(r.handed)
      // every empty one handed over is refused for good, and named so, cut off or not
      expect(r.emptyNamed).toBe(r.emptyHanded)
      expect(r.refused.filter((reason) => reason === "Empty").length).toBe(r.emptyHanded)
      expect(r.refused.every((reason) => reason === "Empty")).toBe(true)
      expect((yield* TestCloudWatchLogs.events("g", "a")).length).toBe(r.named.size - r.emptyNamed)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ faults: { latencyMillis: 1000 } }))))

  it.effect("the drain's deadline: what it still holds is not delivered, the empty inputs too (not named, counted)", () =>
    Effect.gen(function*() {
      // the drain gives up after 500 ms, in the middle of a put: the buffer is still full
      const r = yield* interruptAndName({ drainTimeoutMillis: 500 })
      expect(r.notDelivered).toBeGreaterThan(0)
      expect([...r.named.values()].every((n) => n === 1)).toBe(true)
      expect(r.named.size + r.notDelivered).toBe(r.handed)
      // some empty inputs were in the buffer at the deadline: handed back, not named
      expect(r.emptyNamed).toBeLessThan(r.emptyHanded)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ faults: { latencyMillis: 1000 } }))))
})
