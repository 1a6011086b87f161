/**
 * Review of the held destinations of a routed spool (one failing destination held on its own resume
 * schedule, the others shipped meanwhile): the cases the review found wrong, each as it failed.
 */
import { CloudWatchLogsApi, CloudWatchLogsError, Destination, RetryPolicy } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as Spool from "../src/internal/spool.js"
import { eventuallyLive } from "./support/live.js"
import { clockRunsOnFailure, passSeconds, tempDirNamed } from "./support/spool.js"

const NOW = 1_700_000_000_000
const DAY = 24 * 60 * 60 * 1000
const healthy = Destination.make("healthy", "s")
const flaky = Destination.make("flaky", "s")

const tempDir = tempDirNamed("cwlogs-spool-review13-")

const storedIn = (d: Destination.Destination) =>
  Effect.map(TestCloudWatchLogs.events(d.logGroupName, d.logStreamName), (es) => es.map((e) => e.message))

const pass = (seconds: number) => passSeconds(seconds, 20)

/** Whether the flaky destination refuses its puts (ServiceUnavailable: a failure that passes). */
let flakyDown = true

/** The in-memory service, its puts to "flaky" refused while `flakyDown`; no retries (a try is one put). */
const service = Layer.effect(
  CloudWatchLogsApi.CloudWatchLogsApi,
  Effect.map(TestCloudWatchLogs.TestCloudWatchLogs, (model) => ({
    ...model.api,
    putLogEvents: (request: CloudWatchLogsApi.PutLogEventsRequest) =>
      request.logGroupName === "flaky" && flakyDown
        ? Effect.fail(new CloudWatchLogsError.ServiceUnavailableException({ message: "down", httpStatus: 503 }))
        : model.api.putLogEvents(request)
  }))
).pipe(Layer.provideMerge(TestCloudWatchLogs.layer()), Layer.merge(RetryPolicy.layer(RetryPolicy.none)))

describe("DurableSpool, review of held destinations", () => {
  it.scoped("a held destination whose kept events are all refused when tried again (too old) is not held for ever: its new events are shipped, and a flush waits for them", () =>
    Effect.gen(function*() {
      flakyDown = true
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // the destinations exist (a first put to one that does not fails once, its stream not yet visible)
      const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
      for (const d of [flaky, healthy]) {
        yield* Effect.orDie(api.createLogGroup({ logGroupName: d.logGroupName }))
        yield* Effect.orDie(api.createLogStream({ logGroupName: d.logGroupName, logStreamName: d.logStreamName }))
      }
      const spool = yield* Spool.make({
        directory,
        fsync: false,
        segmentMillis: 1000,
        resumeSchedule: Schedule.spaced("1 second")
      })
      // an event 10 s short of too old (the service refuses events more than 14 days old)
      yield* spool.write([{ destination: flaky, event: { timestamp: NOW - 14 * DAY + 10_000, message: "old" } }])
      yield* pass(20)
      // the flaky destination is held; it comes back when its kept event is too old
      flakyDown = false
      yield* eventuallyLive(Effect.zipLeft(Effect.sync(spool.report), pass(1)), (r) => r.rejected.TooOld === 1)
      yield* pass(2)
      const now = yield* TestClock.currentTimeMillis
      // a new event to it, and one to another destination: both shipped, and a flush waits for them
      yield* spool.write([
        { destination: flaky, event: { timestamp: now, message: "new" } },
        { destination: healthy, event: { timestamp: now, message: "h" } }
      ])
      const flushed = yield* Effect.fork(spool.flush)
      yield* pass(3)
      const report = yield* Fiber.join(flushed)
      // before: the destination stayed held (no event of it ever stored again), so the flush returned at
      // once (an "outage") and the timer synced its segments instead of sealing them: "new" waited on disk
      // until the close
      expect(report.accepted).toBe(2)
      yield* pass(10)
      expect(yield* storedIn(flaky)).toEqual(["new"])
      yield* spool.finish
    }).pipe(clockRunsOnFailure, Effect.provide(service)))
})
