/**
 * A routed spool (events for many destinations in the same segments) while one destination keeps failing
 * for a reason that passes (ServiceUnavailable, throttling, unreachable) and the others are healthy: the
 * failing one is held on its own backoff (`resumeSchedule`), its events kept on disk and shipped once it
 * is back; the others' events go on being shipped as they come (before, the whole spool stayed in outage
 * mode: segments were synced instead of sealed, and the healthy destinations' events waited on disk for
 * as long as the failing one failed).
 */
import { CloudWatchLogsApi, CloudWatchLogsError, Destination, RetryPolicy } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import * as Fs from "node:fs"
import * as DurableSpool from "../src/DurableSpool.js"
import * as Spool from "../src/internal/spool.js"
import { eventuallyLive } from "./support/live.js"
import { clockRunsOnFailure, passSeconds, tempDirNamed } from "./support/spool.js"

const NOW = 1_700_000_000_000
const healthy = Destination.make("healthy", "s")
const flaky = Destination.make("flaky", "s")

const tempDir = tempDirNamed("cwlogs-spool-routed-")

const storedIn = (d: Destination.Destination) =>
  Effect.map(TestCloudWatchLogs.events(d.logGroupName, d.logStreamName), (es) => es.map((e) => e.message))

const pass = (seconds: number) => passSeconds(seconds, 20)

/**
 * Whether the flaky destination fails its puts (ServiceUnavailable: a failure that passes, which the
 * retry policy gives up on after ~23 s; one that may have stored the batch, so the flaky destination's
 * events are counted as possible duplicates when delivered).
 */
let flakyDown = true
/** The puts to the flaky destination refused (the model does not see them). */
let flakyRefused = 0

/** The in-memory service, its puts to "flaky" refused while `flakyDown`. */
const service = Layer.effect(
  CloudWatchLogsApi.CloudWatchLogsApi,
  Effect.map(TestCloudWatchLogs.TestCloudWatchLogs, (model) => ({
    ...model.api,
    putLogEvents: (request: CloudWatchLogsApi.PutLogEventsRequest) =>
      request.logGroupName === "flaky" && flakyDown
        ? Effect.suspend(() => {
          flakyRefused++
          return Effect.fail(new CloudWatchLogsError.ServiceUnavailableException({ message: "down", httpStatus: 503 }))
        })
        : model.api.putLogEvents(request)
  }))
).pipe(Layer.provideMerge(TestCloudWatchLogs.layer()))

describe("DurableSpool, routed, one destination failing", () => {
  it.scoped("the healthy destination's events are shipped within seconds while the other fails for 5 minutes; the failing one keeps its backoff and loses nothing", () =>
    Effect.gen(function*() {
      flakyDown = true
      flakyRefused = 0
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const spool = yield* DurableSpool.make({ directory, fsync: false })
      const written: Array<string> = []
      let late = 0
      // an event a second to each, for 5 minutes (the default retry policy gives up on a put after ~23 s)
      for (let t = 0; t < 300; t++) {
        const now = yield* TestClock.currentTimeMillis
        yield* spool.write([
          { destination: healthy, event: { timestamp: now, message: `h-${t}` } },
          { destination: flaky, event: { timestamp: now, message: `f-${t}` } }
        ])
        written.push(`h-${t}`)
        yield* pass(1)
        // What was written 10 s ago is stored, once the flaky destination is known to fail: until its first
        // failure (~23 s in: the retry policy gives up) the shipments that try it are held up, so that the
        // healthy destination's events of later segments may wait that long, once; never 40 s.
        const stored = new Set(yield* storedIn(healthy))
        if (t >= 40 && !stored.has(`h-${t - 40}`)) late++
        if (t >= 50 && !stored.has(`h-${t - 10}`)) late++
      }
      const flakyPuts = flakyRefused
      // before: the healthy destination's events written after the first failure (~25 s in) waited
      // for the failing one, for the whole 5 minutes (late: 470 of 470)
      expect(late).toBe(0)
      // the failing destination keeps its backoff: 1 s, 2 s, 4 s, ... at most a minute apart, each try
      // the retry policy's 9 puts (not a try per segment)
      expect(flakyPuts).toBeLessThanOrEqual(12 * 9)
      flakyDown = false
      yield* eventuallyLive(
        Effect.zipLeft(storedIn(flaky), TestClock.adjust("1 second")),
        (s) => s.length === 300
      )
      const report = yield* spool.finish
      expect(yield* storedIn(healthy)).toEqual(written)
      expect(yield* storedIn(flaky)).toEqual(written.map((m) => m.replace("h-", "f-")))
      expect(report.accepted).toBe(600)
      expect(report.perDestination.get(Destination.key(healthy))?.possibleDuplicates).toBe(0)
      expect(report.rejected.Failed).toBe(0)
      expect(Fs.readdirSync(directory).filter((f) => f.includes(".seg"))).toEqual([])
    }).pipe(clockRunsOnFailure, Effect.provide(service)))

  it.scoped("a spool written to many destinations keeps no per-destination signal once their uploads are over", () =>
    Effect.gen(function*() {
      flakyDown = false
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const spool = yield* Spool.make({ directory, fsync: false })
      const destinations = Array.from({ length: 50 }, (_, i) => Destination.make("many", `s-${i}`))
      yield* spool.write(
        destinations.map((destination, i) => ({ destination, event: { timestamp: NOW, message: `m-${i}` } }))
      )
      const report = yield* spool.flush.pipe(
        Effect.fork,
        Effect.flatMap((fiber) => Effect.zipRight(pass(3), fiber.await)),
        Effect.flatten
      )
      expect(report.accepted).toBe(50)
      // before: a signal for each destination ever uploaded to, kept for the spool's life
      expect(spool.watchedDestinations()).toBe(0)
      yield* spool.finish
    }).pipe(clockRunsOnFailure, Effect.provide(service)))
})

const DAY = 24 * 60 * 60 * 1000

/** While set, a put to the flaky destination of the message "x2" waits for it, then is refused. */
let gate: Deferred.Deferred<void> | undefined

const refused = Effect.fail(
  new CloudWatchLogsError.ServiceUnavailableException({ message: "down", httpStatus: 503 })
)

/**
 * The in-memory service, its puts to "flaky" refused while `flakyDown` (a put of "x2" waiting for `gate`
 * first, then refused, while it is set); no retries (a try is one put).
 */
const gatedService = Layer.effect(
  CloudWatchLogsApi.CloudWatchLogsApi,
  Effect.map(TestCloudWatchLogs.TestCloudWatchLogs, (model) => ({
    ...model.api,
    putLogEvents: (request: CloudWatchLogsApi.PutLogEventsRequest) =>
      Effect.suspend(() => {
        if (request.logGroupName !== "flaky") return model.api.putLogEvents(request)
        const held = gate
        if (held !== undefined && request.logEvents.some((e) => e.message === "x2")) {
          return Effect.zipRight(Deferred.await(held), refused)
        }
        return flakyDown ? refused : model.api.putLogEvents(request)
      })
  }))
).pipe(Layer.provideMerge(TestCloudWatchLogs.layer()), Layer.merge(RetryPolicy.layer(RetryPolicy.none)))

describe("DurableSpool, routed: a held destination's end, and its schedule", () => {
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
    }).pipe(clockRunsOnFailure, Effect.provide(gatedService)))

  it.scoped("a try of a held destination that fails after another shipment held it anew does not step its new schedule again", () =>
    Effect.gen(function*() {
      flakyDown = true
      gate = undefined
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
      yield* Effect.orDie(api.createLogGroup({ logGroupName: "flaky" }))
      yield* Effect.orDie(api.createLogStream({ logGroupName: "flaky", logStreamName: "s" }))
      let steps = 0
      const spool = yield* Spool.make({
        directory,
        fsync: false,
        segmentMillis: 1000,
        maxBatchEvents: 1,
        resumeSchedule: Schedule.spaced("10 seconds").pipe(Schedule.tapInput(() => Effect.sync(() => steps++)))
      })
      const at = (message: string) => ({ destination: flaky, event: { timestamp: NOW, message } })
      // a first put stored: the uploader learns the service takes puts to a stream in parallel
      flakyDown = false
      yield* spool.write([at("x0")])
      yield* eventuallyLive(Effect.zipLeft(storedIn(flaky), pass(1)), (s) => s.includes("x0"))
      flakyDown = true
      yield* spool.write([at("x1"), at("x2")])
      yield* eventuallyLive(Effect.zipLeft(Effect.sync(() => steps), pass(1)), (n) => n === 1)
      // back: the try stores x1 (the destination no longer held), its put of x2 waits
      flakyDown = false
      const release = yield* Deferred.make<void>()
      gate = release
      yield* eventuallyLive(Effect.zipLeft(storedIn(flaky), pass(1)), (s) => s.includes("x1"))
      // down again: a new segment's shipment fails on it, and holds it anew (its schedule's first step)
      flakyDown = true
      yield* spool.write([at("x3")])
      yield* eventuallyLive(Effect.zipLeft(Effect.sync(() => steps), pass(1)), (n) => n === 2)
      // then the try's put of x2 is refused: the try was of the hold that ended, not of this one
      yield* Deferred.succeed(release, undefined)
      gate = undefined
      // (within the 10 s of the new hold's first delay: no try of it yet)
      yield* TestServices.provideLive(Effect.sleep("200 millis"))
      // before: 3 (the new hold stepped twice for one failure, two delays waiting on its schedule at once)
      expect(steps).toBe(2)
      flakyDown = false
      yield* eventuallyLive(Effect.zipLeft(storedIn(flaky), pass(1)), (s) => s.length === 4)
      const report = yield* spool.finish
      expect((yield* storedIn(flaky)).sort()).toEqual(["x0", "x1", "x2", "x3"])
      expect(report.accepted).toBe(4)
    }).pipe(clockRunsOnFailure, Effect.provide(gatedService)))
})
