/**
 * A routed sink's idle destinations: the idle time counts from the end of the lane's last upload (or its
 * last input taken), and a lane whose upload runs sets no timer meanwhile.
 */
import { CloudWatchLogs, CloudWatchLogsApi, Destination, LogEvent, Metrics } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Mailbox from "effect/Mailbox"
import * as Metric from "effect/Metric"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const G = "tenants"

const settle = Effect.gen(function*() {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
})

/** Destinations with a lane now, all sinks and loggers of the process (compare before and after). */
const held = Effect.map(Metric.value(Metrics.destinationsHeld), (state) => state.value)

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
