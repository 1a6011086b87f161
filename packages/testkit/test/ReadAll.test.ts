import { CloudWatchLogsApi } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../src/TestCloudWatchLogs.js"

describe("CloudWatchLogsApi.readAll", () => {
  it.effect("follows the forward tokens to the end of the stream, and stops at maxPages", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const model = yield* TestCloudWatchLogs.make()
      yield* model.api.createLogGroup({ logGroupName: "g" })
      yield* model.api.createLogStream({ logGroupName: "g", logStreamName: "s" })
      const now = 1_700_000_000_000
      yield* model.api.putLogEvents({
        logGroupName: "g",
        logStreamName: "s",
        logEvents: [1, 2, 3, 4, 5].map((i) => ({ timestamp: now - 10 + i, message: `m${i}` }))
      })
      const all = yield* CloudWatchLogsApi.readAll(model.api, { logGroupName: "g", logStreamName: "s", limit: 2 })
      expect(all.map((e) => e.message)).toEqual(["m1", "m2", "m3", "m4", "m5"])
      const two = yield* CloudWatchLogsApi.readAll(model.api, { logGroupName: "g", logStreamName: "s", limit: 2 }, {
        maxPages: 2
      })
      expect(two.map((e) => e.message)).toEqual(["m1", "m2", "m3", "m4"])
      const empty = yield* CloudWatchLogsApi.readAll(model.api, {
        logGroupName: "g",
        logStreamName: "s",
        startTime: now
      })
      expect(empty).toEqual([])
    }))
})
