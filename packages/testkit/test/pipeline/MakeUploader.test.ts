/**
 * `CloudWatchLogs.makeUploader`: the uploader a sink would make for itself, to share between sinks.
 */
import { CloudWatchLogs, Uploader } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"

const NOW = 1_700_000_000_000
const dest = { logGroupName: "g", logStreamName: "s" }
const events = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ timestamp: NOW, message: `m${from + i}` }))

describe("CloudWatchLogs.makeUploader", () => {
  it.scoped("is the Uploader in context when there is one", () =>
    Effect.gen(function*() {
      const mine: Uploader.UploaderShape = { upload: () => Effect.dieMessage("not called") }
      const made = yield* CloudWatchLogs.makeUploader().pipe(Effect.provideService(Uploader.Uploader, mine))
      expect(made).toBe(mine)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("shared by sinks run one after the other, what it learnt of a stream outlives each sink", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const uploader = yield* CloudWatchLogs.makeUploader()
      for (let run = 0; run < 4; run++) {
        yield* Stream.fromIterable(events(10, run * 10)).pipe(
          Stream.run(CloudWatchLogs.sink(dest)),
          Effect.provideService(Uploader.Uploader, uploader)
        )
      }
      expect(yield* TestCloudWatchLogs.events("g", "s")).toHaveLength(40)
      // tokens enforced: the first put creates the stream, one probe learns the mode; no refusal after
      const refused = (yield* TestCloudWatchLogs.calls).filter((c) => c.outcome !== "Answered").map((c) => c.outcome)
      expect(refused).toEqual(["ResourceNotFoundException", "InvalidSequenceTokenException"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ sequenceTokens: "enforced" }))))
})
