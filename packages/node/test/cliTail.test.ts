import { CloudWatchLogsApi } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Tail from "../src/internal/cli/tail.js"

const put = (logGroupName: string, logStreamName: string, events: ReadonlyArray<readonly [number, string]>) =>
  Effect.flatMap(CloudWatchLogsApi.CloudWatchLogsApi, (api) =>
    api.putLogEvents({
      logGroupName,
      logStreamName,
      logEvents: events.map(([timestamp, message]) => ({ timestamp, message }))
    }))

const setup = Effect.gen(function*() {
  const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
  yield* TestClock.setTime(1_700_000_000_000)
  yield* api.createLogGroup({ logGroupName: "g" })
  yield* api.createLogStream({ logGroupName: "g", logStreamName: "a" })
  yield* api.createLogStream({ logGroupName: "g", logStreamName: "b" })
})

const T0 = 1_700_000_000_000
const collect = (options: Tail.TailOptions) =>
  Effect.map(Stream.runCollect(Tail.events(options)), (c) => Chunk.toReadonlyArray(c).map((e) => e.message))

const noStop = { follow: false, stopped: Effect.succeed(false) }

/**
 * `Tail.events` following (polling every second), its messages as they are printed; `end` stops it and
 * waits for it (a failure fails the test), `ended` the same with its exit.
 */
const following = (options: Omit<Tail.TailOptions, "follow" | "stopped" | "pollEvery">) =>
  Effect.gen(function*() {
    const stop = yield* Deferred.make<void>()
    const seen: Array<string> = []
    const fiber = yield* Tail.events({
      ...options,
      follow: true,
      stopped: Deferred.isDone(stop),
      pollEvery: "1 second"
    })
      .pipe(Stream.runForEach((e) => Effect.sync(() => seen.push(e.message))), Effect.fork)
    const ended = Effect.zipRight(
      Effect.zipRight(Deferred.succeed(stop, undefined), TestClock.adjust("1 second")),
      Fiber.await(fiber)
    )
    return { seen, ended, end: Effect.flatten(ended) }
  })

describe("cwlogs tail", () => {
  it.effect("one stream: every event, oldest first, across pages", () =>
    Effect.gen(function*() {
      yield* setup
      const events = Array.from({ length: 25 }, (_, i) => [T0 - 1000 + i, `m${i}`] as const)
      yield* put("g", "a", events)
      const got = yield* collect({ logGroupName: "g", logStreamName: "a", pageSize: 10, ...noStop })
      expect(got).toEqual(events.map(([, m]) => m))
      const onePage = yield* collect({ logGroupName: "g", logStreamName: "a", ...noStop })
      expect(onePage).toHaveLength(25)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("a group: every stream, with a filter term, across pages", () =>
    Effect.gen(function*() {
      yield* setup
      yield* put("g", "a", [[T0 - 30, "a ERROR one"], [T0 - 20, "a fine"]])
      yield* put("g", "b", [[T0 - 25, "b ERROR two"], [T0 - 10, "b ERROR three"]])
      const all = yield* Stream.runCollect(Tail.events({ logGroupName: "g", pageSize: 1, ...noStop }))
      expect(Chunk.toReadonlyArray(all).map((e) => [e.logStreamName, e.message]).sort()).toEqual([
        ["a", "a ERROR one"],
        ["a", "a fine"],
        ["b", "b ERROR three"],
        ["b", "b ERROR two"]
      ])
      const errors = yield* collect({ logGroupName: "g", filterPattern: "ERROR", ...noStop })
      expect(errors.sort()).toEqual(["a ERROR one", "b ERROR three", "b ERROR two"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("an empty stream or group ends at once; a missing group is ResourceNotFound", () =>
    Effect.gen(function*() {
      yield* setup
      expect(yield* collect({ logGroupName: "g", logStreamName: "a", ...noStop })).toEqual([])
      expect(yield* collect({ logGroupName: "g", ...noStop })).toEqual([])
      const missing = yield* Effect.flip(collect({ logGroupName: "nope", ...noStop }))
      expect(missing._tag).toBe("ResourceNotFoundException")
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  for (const mode of ["one stream", "a group"] as const) {
    it.effect(`follow (${mode}): prints new events once each, until stopped`, () =>
      Effect.gen(function*() {
        yield* setup
        yield* put("g", "a", [[T0 - 5, "first"], [T0 - 5, "same time"]])
        const { end, seen } = yield* following({
          logGroupName: "g",
          ...(mode === "one stream" ? { logStreamName: "a" } : {})
        })
        yield* TestClock.adjust("1 second")
        expect(seen).toEqual(["first", "same time"])
        yield* put("g", "a", [[T0 - 5, "late at the same time"], [T0 + 500, "second"]])
        yield* TestClock.adjust("1 second")
        yield* TestClock.adjust("1 second")
        yield* put("g", "a", [[T0 + 900, "third"]])
        yield* TestClock.adjust("3 seconds")
        yield* end
        expect(seen).toEqual(["first", "same time", "late at the same time", "second", "third"])
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
  }

  it.effect("follow (a group): an event stored after a newer one was printed is printed, within the lookback", () =>
    Effect.gen(function*() {
      yield* setup
      yield* put("g", "a", [[T0, "first in a"]])
      const { end, seen } = yield* following({
        logGroupName: "g",
        lookbackMillis: 10_000
      })
      yield* TestClock.adjust("1 second")
      expect(seen).toEqual(["first in a"])
      // a second writer's batch, stamped before "first in a", stored after it (its linger, a retry)
      yield* put("g", "b", [[T0 - 500, "late in b"]])
      yield* put("g", "a", [[T0 + 10, "later in a"]])
      yield* TestClock.adjust("1 second")
      // before: "late in b" was never printed (each query started at the newest timestamp printed)
      expect([...seen].sort()).toEqual(["first in a", "late in b", "later in a"])
      // older than the newest printed by more than the lookback: not printed (the window's bound)
      yield* put("g", "b", [[T0 + 10 - 10_001, "too late in b"]])
      yield* put("g", "a", [[T0 + 20, "last in a"]])
      yield* TestClock.adjust("2 seconds")
      yield* end
      // each printed once, though every query reads the window again
      expect(seen).toEqual(["first in a", "late in b", "later in a", "last in a"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it("formats a line with time and stream, or the message alone", () => {
    const event = { logStreamName: "api-1", timestamp: Date.UTC(2024, 0, 2, 3, 4, 5, 6), message: "hello" }
    expect(Tail.format(event, { raw: false, showStream: true })).toBe("2024-01-02T03:04:05.006Z api-1 hello")
    expect(Tail.format(event, { raw: false, showStream: false })).toBe("2024-01-02T03:04:05.006Z hello")
    expect(Tail.format(event, { raw: true, showStream: true })).toBe("hello")
  })
})

describe("cwlogs tail: follow, what a review found", () => {
  it.effect("follow (one stream): an event stored after a newer one was printed is printed (two writers on one stream)", () =>
    Effect.gen(function*() {
      yield* setup
      yield* put("g", "a", [[T0, "first"]])
      const { end, seen } = yield* following({
        logGroupName: "g",
        logStreamName: "a"
      })
      yield* TestClock.adjust("1 second")
      expect(seen).toEqual(["first"])
      // a second `cwlogs ship` on the same stream (documented as supported): its batch, stamped 500 ms
      // before "first", is stored after it (its linger, a retry)
      yield* put("g", "a", [[T0 - 500, "late from the other writer"]])
      yield* put("g", "a", [[T0 + 10, "later"]])
      yield* TestClock.adjust("3 seconds")
      yield* end
      // before: GetLogEvents' forward token is past "first": "late from the other writer" is never printed
      expect([...seen].sort()).toEqual(["first", "late from the other writer", "later"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  for (const mode of ["one stream", "a group"] as const) {
    it.effect(`follow (${mode}): one throttled poll does not end the following`, () =>
      Effect.gen(function*() {
        yield* setup
        yield* put("g", "a", [[T0, "first"]])
        const { ended, seen } = yield* following({
          logGroupName: "g",
          ...(mode === "one stream" ? { logStreamName: "a" } : {})
        })
        yield* TestClock.adjust("1 second")
        expect(seen).toEqual(["first"])
        // FilterLogEvents' quota is a few requests a second per account: another tail, a dashboard
        // (following one stream reads FilterLogEvents too, since the fix for late events: throttle both)
        yield* TestCloudWatchLogs.failNext(1, "throttle", "GetLogEvents")
        yield* TestCloudWatchLogs.failNext(1, "throttle", "FilterLogEvents")
        yield* TestClock.adjust("1 second")
        yield* put("g", "a", [[T0 + 10, "after the throttle"]])
        yield* TestClock.adjust("10 seconds")
        // before: the first ThrottlingException ended it (the CLI: exit 3, "service unavailable")
        const exit = yield* ended
        expect(exit._tag).toBe("Success")
        expect(seen).toEqual(["first", "after the throttle"])
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
  }
})

/**
 * The model, except that the first GetLogEvents (no token) answers an empty page with a new forward
 * token, as AWS does on a stream with history (aws/aws-sdk-net#3218; the end of the stream is when the
 * same token comes back, per the API reference).
 */
const EmptyFirstPage = Layer.effect(
  CloudWatchLogsApi.CloudWatchLogsApi,
  Effect.map(TestCloudWatchLogs.TestCloudWatchLogs, (model) => ({
    ...model.api,
    getLogEvents: (request: Parameters<typeof model.api.getLogEvents>[0]) =>
      request.nextToken === undefined
        ? Effect.succeed({ events: [], nextForwardToken: "f/-1/-1", nextBackwardToken: "b/-1/-1" })
        : model.api.getLogEvents(request)
  }))
).pipe(Layer.provideMerge(TestCloudWatchLogs.layer()))

describe("cwlogs tail: follow, the look-back's cost", () => {
  it.effect("a busy group: each poll re-reads the last few seconds, the whole look-back only every DEEP_EVERY polls", () =>
    Effect.gen(function*() {
      yield* setup
      const { end, seen } = yield* following({ logGroupName: "g", pageSize: 100 })
      const perSecond = 100
      const sent: Array<string> = []
      let callsBefore = 0
      for (let second = 1; second <= 90; second++) {
        if (second === 61) callsBefore = yield* TestCloudWatchLogs.callCount("FilterLogEvents")
        const now = T0 + second * 1000
        const batch = Array.from({ length: perSecond }, (_, i) => [now - 1000 + i * 10, `s${second}-${i}`] as const)
        yield* put("g", second % 2 === 0 ? "a" : "b", batch)
        sent.push(...batch.map(([, m]) => m))
        yield* TestClock.adjust("1 second")
      }
      const steady = (yield* TestCloudWatchLogs.callCount("FilterLogEvents")) - callsBefore
      yield* end
      // every event printed, once
      expect(seen).toHaveLength(sent.length)
      expect(new Set(seen).size).toBe(sent.length)
      // 30 polls of the steady state: 27 of ~5 s (6 pages of 100 events and the last, empty or not) and 3 of
      // 60 s (61 pages): 375 requests; a query of the whole look-back each poll made 1,859
      const recentPages = Tail.RECENT_LOOKBACK_MILLIS / 1000 + 2
      const deepPages = Tail.LOOKBACK_MILLIS / 1000 + 2
      expect(steady).toBeLessThanOrEqual(30 * recentPages + (30 / Tail.DEEP_EVERY) * deepPages)
      expect(steady).toBeGreaterThanOrEqual(30)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("an event stored later than the recent look-back, within the whole one, is printed at the next deep query", () =>
    Effect.gen(function*() {
      yield* setup
      yield* put("g", "a", [[T0, "first"]])
      const { end, seen } = yield* following({ logGroupName: "g" })
      yield* TestClock.adjust("1 second")
      expect(seen).toEqual(["first"])
      // 30 s older than the newest printed: past the recent look-back, within the whole one
      yield* put("g", "b", [[T0 - 30_000, "late by 30 s"]])
      yield* TestClock.adjust(`${Tail.DEEP_EVERY + 1} seconds`)
      yield* end
      expect(seen).toEqual(["first", "late by 30 s"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})

describe("cwlogs tail: pages, what a review found", () => {
  it.effect("one stream: an empty page with a new forward token is not the end", () =>
    Effect.gen(function*() {
      yield* setup
      yield* put("g", "a", [[T0 - 10, "m0"], [T0 - 5, "m1"]])
      const got = yield* collect({ logGroupName: "g", logStreamName: "a", ...noStop })
      // before: the empty page ended the tail (exit 0, nothing printed)
      expect(got).toEqual(["m0", "m1"])
    }).pipe(Effect.provide(EmptyFirstPage)))

  it.effect("one stream: MAX_EMPTY_PAGES empty pages in a row, each with a new token, are the end", () => {
    let calls = 0
    const NeverRepeats = Layer.effect(
      CloudWatchLogsApi.CloudWatchLogsApi,
      Effect.map(TestCloudWatchLogs.TestCloudWatchLogs, (model) => ({
        ...model.api,
        getLogEvents: () =>
          Effect.sync(() => {
            calls++
            return { events: [], nextForwardToken: `f/${calls}`, nextBackwardToken: "b/0" }
          })
      }))
    ).pipe(Layer.provideMerge(TestCloudWatchLogs.layer()))
    return Effect.gen(function*() {
      yield* setup
      expect(yield* collect({ logGroupName: "g", logStreamName: "a", ...noStop })).toEqual([])
      expect(calls).toBe(Tail.MAX_EMPTY_PAGES)
    }).pipe(Effect.provide(NeverRepeats))
  })
})

describe("cwlogs tail: retries", () => {
  it.effect("without follow: throttled or unavailable requests are retried READ_RETRIES times, then fail", () =>
    Effect.gen(function*() {
      yield* setup
      yield* put("g", "a", [[T0 - 10, "m0"]])
      for (const mode of ["one stream", "a group"] as const) {
        const options = { logGroupName: "g", ...(mode === "one stream" ? { logStreamName: "a" } : {}), ...noStop }
        const operation = mode === "one stream" ? "GetLogEvents" : "FilterLogEvents"
        yield* TestCloudWatchLogs.failNext(Tail.READ_RETRIES, "unavailable", operation)
        const ok = yield* Effect.fork(collect(options))
        yield* TestClock.adjust("1 minute")
        expect(yield* Fiber.join(ok)).toEqual(["m0"])
        yield* TestCloudWatchLogs.failNext(Tail.READ_RETRIES + 1, "throttle", operation)
        const failed = yield* Effect.fork(Effect.flip(collect(options)))
        yield* TestClock.adjust("1 minute")
        expect((yield* Fiber.join(failed))._tag).toBe("ThrottlingException")
      }
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("follow: throttled without end, a stop still ends it within a retry's delay", () =>
    Effect.gen(function*() {
      yield* setup
      const stop = yield* Deferred.make<void>()
      yield* TestCloudWatchLogs.failNext(1_000, "throttle", "FilterLogEvents")
      const fiber = yield* Tail.events({ logGroupName: "g", follow: true, stopped: Deferred.isDone(stop) }).pipe(
        Stream.runDrain,
        Effect.fork
      )
      yield* TestClock.adjust("2 minutes")
      expect(fiber.unsafePoll()).toBeNull()
      yield* Deferred.succeed(stop, undefined)
      yield* TestClock.adjust("6 seconds")
      const exit = fiber.unsafePoll()
      expect(exit?._tag).toBe("Success")
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})
