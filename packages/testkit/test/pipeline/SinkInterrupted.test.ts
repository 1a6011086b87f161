/**
 * A sink whose stream is interrupted while it offers a chunk: what its buffer had not taken, and for a
 * routed sink the inputs of the chunk's later destinations (not yet offered) and those waiting for a
 * destination's place (`maxDestinations`), are counted as not delivered, in the drain's warning, with the
 * rest stored. The service takes 1 s per put.
 */
import { CloudWatchLogs, Destination, LogEvent } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"
import { interruptSink } from "./support.js"

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const A = Destination.make("g", "a")
const B = Destination.make("g", "b")
const stored = (s: string) => Effect.map(TestCloudWatchLogs.events("g", s), (es) => es.length)

/** Events named "a…" go to A, the others to B; `routed: false` ships them all to A through a sink of one. */
const interruptAndCount = (
  options: CloudWatchLogs.SinkOptions,
  input: ReadonlyArray<LogEvent.LogEvent>,
  chunk: number,
  routed = true
) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(NOW)
    const warnings: Array<string> = []
    const capture = Logger.make(({ message }) => {
      warnings.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
    })
    let handed = 0
    const fiber = yield* Stream.fromIterable(input).pipe(
      Stream.rechunk(chunk),
      Stream.mapChunks((c) => {
        handed += c.length
        return c
      }),
      Stream.run(
        routed
          ? CloudWatchLogs.sink((e: LogEvent.LogEvent) => (e.message.startsWith("a") ? A : B), options)
          : CloudWatchLogs.sink(A, options)
      ),
      Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
      Effect.fork
    )
    const notDelivered = yield* interruptSink(fiber, warnings)
    const storedCount = (yield* stored("a")) + (yield* stored("b"))
    return { handed, storedCount, notDelivered, warnings }
  })

describe("a sink interrupted while it offers: every input handed over is stored or counted, none twice", () => {
  it.effect("one destination: what the buffer had not taken while the offer waited for room", () =>
    Effect.gen(function*() {
      const input = Array.from({ length: 2_000 }, (_, i) => LogEvent.make(NOW + i, `a${i}`))
      const r = yield* interruptAndCount({ bufferCapacity: 100, maxBatchEvents: 50, maxInFlight: 1 }, input, 150, false)
      // the sink held a put, the buffer was full, an offer waited for room
      expect(r.handed).toBeGreaterThan(100)
      expect(r.notDelivered).toBeGreaterThan(0)
      expect(r.storedCount + r.notDelivered).toBe(r.handed)
      const messages = yield* TestCloudWatchLogs.events("g", "a")
      expect(new Set(messages.map((e) => e.message)).size).toBe(messages.length)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ faults: { latencyMillis: 1000 } }))))

  it.effect("what the other destinations of the chunk had not been offered is counted too", () =>
    Effect.gen(function*() {
      // each chunk: 75 events for a, then 75 for b; a's buffer fills and its offer waits
      const input = Array.from({ length: 2_000 }, (_, i) => LogEvent.make(NOW + i, `${i % 150 < 75 ? "a" : "b"}${i}`))
      const r = yield* interruptAndCount({ bufferCapacity: 100, maxBatchEvents: 50, maxInFlight: 1 }, input, 150)
      expect(r.storedCount + r.notDelivered).toBe(r.handed)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ faults: { latencyMillis: 1000 } }))))

  it.effect("what waited for a destination's place (maxDestinations) is counted", () =>
    Effect.gen(function*() {
      // a's lane holds the only place (its buffer full, a put in flight); b waits for the place
      // a's 90 events fit in its buffer (the offer returns); b's 10 wait for a's place while a's put is in flight
      const input = Array.from({ length: 100 }, (_, i) => LogEvent.make(NOW + i, `${i < 90 ? "a" : "b"}${i}`))
      const r = yield* interruptAndCount(
        { bufferCapacity: 100, maxBatchEvents: 50, maxInFlight: 1, maxDestinations: 1 },
        input,
        100
      )
      expect(r.storedCount + r.notDelivered).toBe(r.handed)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ faults: { latencyMillis: 1000 } }))))
})
