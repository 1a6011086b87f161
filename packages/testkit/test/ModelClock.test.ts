import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../src/TestCloudWatchLogs.js"

describe("the model's clock", () => {
  it.effect("keeps whole milliseconds when the TestClock stands at a fraction, so read cursors stay valid", () =>
    Effect.gen(function*() {
      const model = yield* TestCloudWatchLogs.make({ sequenceTokens: "enforced" })
      yield* model.api.createLogGroup({ logGroupName: "g" })
      yield* model.api.createLogStream({ logGroupName: "g", logStreamName: "s" })
      yield* TestClock.adjust("1000.1895 millis")
      yield* model.api.putLogEvents({
        logGroupName: "g",
        logStreamName: "s",
        logEvents: [{ timestamp: 1000, message: "a" }]
      })
      const stored = yield* model.events("g", "s")
      expect(stored.map((e) => e.ingestionTime)).toEqual([1000])
      const first = yield* model.api.getLogEvents({ logGroupName: "g", logStreamName: "s", startFromHead: true })
      expect(first.events.map((e) => e.message)).toEqual(["a"])
      // following the forward token must be accepted by the service that issued it
      const next = yield* model.api.getLogEvents({
        logGroupName: "g",
        logStreamName: "s",
        startFromHead: true,
        nextToken: first.nextForwardToken
      })
      expect(next.events).toEqual([])
    }))
})
