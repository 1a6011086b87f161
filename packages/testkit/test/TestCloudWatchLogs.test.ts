import { CloudWatchLogsApi } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../src/TestCloudWatchLogs.js"

const G = "orders"
const S = "api-1"
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)

const setup = Effect.gen(function*() {
  yield* TestClock.setTime(NOW)
  const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
  yield* api.createLogGroup({ logGroupName: G })
  yield* api.createLogStream({ logGroupName: G, logStreamName: S })
  return api
})

describe("TestCloudWatchLogs layer", () => {
  it.effect("stores a batch and reads it back through the accessors", () =>
    Effect.gen(function*() {
      const api = yield* setup
      const res = yield* api.putLogEvents({
        logGroupName: G,
        logStreamName: S,
        logEvents: [{ timestamp: NOW - 1, message: "a" }, { timestamp: NOW, message: "b" }]
      })
      expect(res.nextSequenceToken).toMatch(/^\d{56}$/)
      const stored = yield* TestCloudWatchLogs.events(G, S)
      expect(stored).toEqual([
        { timestamp: NOW - 1, message: "a", ingestionTime: NOW },
        { timestamp: NOW, message: "b", ingestionTime: NOW }
      ])
      expect(yield* TestCloudWatchLogs.callCount("PutLogEvents")).toBe(1)
      const calls = yield* TestCloudWatchLogs.calls
      expect(calls.map((c) => c.operation)).toEqual(["CreateLogGroup", "CreateLogStream", "PutLogEvents"])
      expect(calls[2]).toMatchObject({ outcome: "Answered", eventCount: 2, logGroupName: G, logStreamName: S })
      expect(yield* TestCloudWatchLogs.streamStats(G, S)).toEqual({ events: 2, bytes: 54, messageBytes: 2, batches: 1 })
      expect(yield* TestCloudWatchLogs.token(G, S)).toBe(res.nextSequenceToken)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("latency is slept on the Clock before answering", () =>
    Effect.gen(function*() {
      const api = yield* setup
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 5_000 })
      const fiber = yield* Effect.fork(
        api.putLogEvents({ logGroupName: G, logStreamName: S, logEvents: [{ timestamp: NOW, message: "x" }] })
      )
      yield* TestClock.adjust(4_999)
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      const res = yield* Fiber.join(fiber)
      expect(res.nextSequenceToken).toBeDefined()
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})
