import {
  CloudWatchLogs,
  Destination,
  Limits,
  LogEvent,
  Metrics,
  RetryPolicy,
  ShipReport,
  Uploader,
  UploadRateLimiter
} from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Metric from "effect/Metric"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"
import { onClock, settle, shortRetention } from "./support.js"

const G = "orders"
const S = "api-1"
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const HOUR = 60 * 60 * 1000
const DAY = 24 * HOUR
const dest = Destination.make(G, S)

const messages = (stored: ReadonlyArray<{ readonly message: string }>) => stored.map((e) => e.message)
const stored = (group = G, stream = S) => Effect.map(TestCloudWatchLogs.events(group, stream), messages)
/** PutLogEvents calls answered (the first put to a new stream fails with ResourceNotFound first). */
const puts = Effect.map(
  TestCloudWatchLogs.calls,
  (calls) => calls.filter((c) => c.operation === "PutLogEvents" && c.outcome === "Answered").length
)

/** Runs a stream into a sink, advancing the TestClock 100 ms at a time (retries and rate limits wait on it). */
const runOnClock = <A, E, R, B, E2, R2>(
  stream: Stream.Stream<A, E, R>,
  sink: Sink.Sink<B, A, unknown, E2, R2>
) => onClock(Stream.run(stream, sink))

const events = (n: number, from = NOW, prefix = "e") =>
  Array.from({ length: n }, (_, i) => LogEvent.make(from + i, `${prefix}${i}`))

describe("CloudWatchLogs.sink", () => {
  it.effect("ships a stream and reports every event accepted", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const input = events(25)
      const report = yield* Stream.fromIterable(input).pipe(Stream.run(CloudWatchLogs.sink(dest)))
      expect(report.accepted).toBe(25)
      expect(ShipReport.rejectedTotal(report)).toBe(0)
      expect(report.batches).toBe(1)
      expect(report.bytes).toBe(input.reduce((n, e) => n + LogEvent.size(e), 0))
      expect(report.perDestination.get(Destination.key(dest))?.accepted).toBe(25)
      expect(yield* stored()).toEqual(input.map((e) => e.message))
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("ends with an empty report for an empty stream, without any call", () =>
    Effect.gen(function*() {
      const report = yield* Stream.empty.pipe(Stream.run(CloudWatchLogs.sink(dest)))
      expect(ShipReport.total(report)).toBe(0)
      expect(yield* TestCloudWatchLogs.calls).toEqual([])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("cuts batches of at most maxBatchEvents and accounts for all", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const report = yield* Stream.fromIterable(events(10_001)).pipe(Stream.run(CloudWatchLogs.sink(dest)))
      expect(report.accepted).toBe(10_001)
      expect(report.batches).toBe(2)
      const calls = yield* TestCloudWatchLogs.calls
      expect(
        calls.filter((c) => c.operation === "PutLogEvents" && c.outcome === "Answered").map((c) => c.eventCount).sort()
      ).toEqual([1, 10_000])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("a batch that is not full waits lingerMillis from its first event, not more", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const fiber = yield* Stream.fromIterable(events(3)).pipe(
        Stream.concat(Stream.never),
        Stream.run(CloudWatchLogs.sink(dest, { lingerMillis: 1000 })),
        Effect.fork
      )
      yield* settle
      yield* TestClock.adjust(999)
      yield* settle
      expect(yield* puts).toBe(0)
      yield* TestClock.adjust(1)
      yield* settle
      expect(yield* puts).toBe(1)
      expect(yield* stored()).toEqual(["e0", "e1", "e2"])
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("the linger of a later batch starts at its own first event", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const input = Stream.concat(
        Stream.make(LogEvent.make(NOW, "a")),
        Stream.fromEffect(Effect.as(Effect.sleep(1500), LogEvent.make(NOW, "b")))
      ).pipe(Stream.concat(Stream.never))
      const fiber = yield* input.pipe(Stream.run(CloudWatchLogs.sink(dest, { lingerMillis: 1000 })), Effect.fork)
      yield* settle
      yield* TestClock.adjust(1000)
      yield* settle
      expect(yield* stored()).toEqual(["a"])
      yield* TestClock.adjust(500) // "b" arrives at 1500
      yield* settle
      yield* TestClock.adjust(999)
      yield* settle
      expect(yield* puts).toBe(1)
      yield* TestClock.adjust(1)
      yield* settle
      expect(yield* stored()).toEqual(["a", "b"])
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("reports each rejection reason checked before upload, and nothing is counted as sent", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const inputs: ReadonlyArray<LogEvent.LogEvent> = [
        LogEvent.make(NOW, "ok"),
        LogEvent.make(NOW, ""),
        LogEvent.make(NOW - 14 * DAY - 1, "too old"),
        LogEvent.make(NOW + 2 * HOUR + 1, "too new"),
        LogEvent.make(1.5, "bad time"),
        { timestamp: NOW, message: JSON.parse("42") },
        // fields that cannot be read: refused, not a crash of the sink
        new Proxy(LogEvent.make(NOW, "unreadable"), {
          get: () => {
            throw new Error("unreadable")
          }
        }),
        LogEvent.make(NOW - 14 * DAY, "oldest ok"),
        LogEvent.make(NOW + 2 * HOUR, "newest ok")
      ]
      const metricsDest = Destination.make(G, "metrics")
      const emptyBefore = (yield* Metric.value(
        Metrics.forDestination(Metrics.eventsRejected, metricsDest).pipe(Metric.tagged("reason", "Empty"))
      )).count
      const report = yield* Stream.fromIterable(inputs).pipe(Stream.run(CloudWatchLogs.sink(metricsDest)))
      expect(report.accepted).toBe(3)
      expect(report.rejected).toEqual({
        Empty: 1,
        Oversize: 0,
        TooOld: 1,
        Expired: 0,
        TooNew: 1,
        InvalidTimestamp: 1,
        InvalidMessage: 2,
        Failed: 0
      })
      expect(ShipReport.total(report)).toBe(inputs.length)
      expect(yield* stored(G, "metrics")).toEqual(["oldest ok", "ok", "newest ok"])
      const empty = Metrics.forDestination(Metrics.eventsRejected, metricsDest).pipe(Metric.tagged("reason", "Empty"))
      expect((yield* Metric.value(empty)).count - emptyBefore).toBe(1)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("events that age past 14 days while lingering, or are older than the retention, are not stored", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const short = yield* shortRetention
      const inputs = [
        // Valid when validated; 14 days + 1 s old when the batch goes, a second later.
        { destination: dest, event: LogEvent.make(NOW - 14 * DAY + 500, "ages") },
        { destination: dest, event: LogEvent.make(NOW, "fresh") },
        { destination: short, event: LogEvent.make(NOW - 2 * DAY, "expired") },
        { destination: short, event: LogEvent.make(NOW, "kept") }
      ]
      const fiber = yield* Stream.fromIterable(inputs).pipe(
        Stream.concat(Stream.never),
        Stream.run(CloudWatchLogs.sink((r: (typeof inputs)[number]) => r, { lingerMillis: 1000 })),
        Effect.fork
      )
      yield* settle
      yield* TestClock.adjust(1000)
      yield* settle
      yield* Fiber.interrupt(fiber)
      expect(yield* stored()).toEqual(["fresh"])
      expect(yield* stored("short", "s")).toEqual(["kept"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("service-side rejections end up in the report by reason", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const short = yield* shortRetention
      const inputs = [
        LogEvent.make(NOW - 2 * DAY, "expired"),
        LogEvent.make(NOW - 14 * DAY + 10, "ages"),
        LogEvent.make(NOW, "kept")
      ]
      // A stream that takes 20 ms per element: "ages" is 14 days + 30 ms old when the batch goes.
      const report = yield* Stream.fromIterable(inputs).pipe(
        Stream.tap(() => Effect.sleep(20)),
        Stream.run(CloudWatchLogs.sink(short)),
        Effect.fork,
        Effect.tap(() => TestClock.adjust(100)),
        Effect.flatMap(Fiber.join)
      )
      expect(report.accepted).toBe(1)
      expect(report.rejected.Expired + report.rejected.TooOld).toBe(2)
      expect(report.rejected.Expired).toBeGreaterThanOrEqual(1)
      expect(ShipReport.total(report)).toBe(3)
      expect(yield* stored("short", "s")).toEqual(["kept"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("a put that stored nothing (every event expired) counts no batch and no bytes", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const short = yield* shortRetention
      const report = yield* Stream.fromIterable([LogEvent.make(NOW - 2 * DAY, "a"), LogEvent.make(NOW - 2 * DAY, "b")])
        .pipe(Stream.run(CloudWatchLogs.sink(short)))
      expect(report.rejected.Expired).toBe(2)
      expect(report.batches).toBe(0)
      expect(report.bytes).toBe(0)
      expect(yield* puts).toBeGreaterThanOrEqual(1)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  describe.each([
    ["current", Limits.current],
    ["legacy", Limits.legacy]
  ])("oversize events with %s limits", (_name, limits) => {
    const max = Limits.maxMessageBytes(limits)
    const layer = TestCloudWatchLogs.layer({ limits }).pipe(Layer.provideMerge(Limits.layer(limits)))

    it.effect("split (default): the parts are stored in order and reassemble; counted once", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const big = "😀".repeat(Math.floor(max / 4)) + "tail-é"
        const report = yield* runOnClock(
          Stream.make(LogEvent.make(NOW, "before"), LogEvent.make(NOW, big), LogEvent.make(NOW, "after")),
          CloudWatchLogs.sink(dest)
        )
        expect(report.accepted).toBe(3)
        expect(report.split).toBe(1)
        const got = yield* stored()
        expect(got.length).toBe(4)
        expect(got[0]).toBe("before")
        expect(got[1] + got[2] === big).toBe(true) // (no diff of megabyte strings on failure)
        expect(got[3]).toBe("after")
        for (const m of got) expect(LogEvent.utf8Bytes(m)).toBeLessThanOrEqual(max)
      }).pipe(Effect.provide(layer)))

    it.effect("exactly at the limit: stored whole", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const report = yield* runOnClock(
          Stream.make(LogEvent.make(NOW, "x".repeat(max))),
          CloudWatchLogs.sink(dest, { oversize: "drop" })
        )
        expect(report.accepted).toBe(1)
        expect((yield* stored())[0].length).toBe(max)
      }).pipe(Effect.provide(layer)))

    it.effect("truncate: one byte over is stored shortened with its marker", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const report = yield* runOnClock(
          Stream.make(LogEvent.make(NOW, "x".repeat(max + 1))),
          CloudWatchLogs.sink(dest, { oversize: "truncate" })
        )
        expect(report.accepted).toBe(1)
        expect(report.truncated).toBe(1)
        const [m] = yield* stored()
        expect(LogEvent.utf8Bytes(m)).toBeLessThanOrEqual(max)
        expect(m).toMatch(/…\[truncated \d+ bytes\]$/)
      }).pipe(Effect.provide(layer)))

    it.effect("drop: one byte over is rejected as Oversize, the rest goes", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const report = yield* runOnClock(
          Stream.make(LogEvent.make(NOW, "x".repeat(max + 1)), LogEvent.make(NOW, "small")),
          CloudWatchLogs.sink(dest, { oversize: "drop" })
        )
        expect(report.accepted).toBe(1)
        expect(report.rejected.Oversize).toBe(1)
        expect(yield* stored()).toEqual(["small"])
      }).pipe(Effect.provide(layer)))
  })

  it.effect("a fatal error fails the sink with every undelivered event, and stops calling", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const missing = Destination.make("missing", "s", { createGroup: false })
      const input = events(35)
      const result = yield* Stream.fromIterable(input).pipe(
        Stream.run(CloudWatchLogs.sink(missing, { maxBatchEvents: 10, maxInFlight: 1 })),
        Effect.either
      )
      if (Either.isRight(result)) throw new Error("expected a ShipError")
      const error = result.left
      expect(error._tag).toBe("ShipError")
      expect(error.cause.reason).toBe("DestinationMissing")
      expect(error.undelivered.length).toBe(1)
      expect(error.undelivered[0].destination).toEqual(missing)
      expect([...error.undelivered[0].events].sort((a, b) => a.timestamp - b.timestamp)).toEqual(input)
      expect(error.report.rejected.Failed).toBe(35)
      expect(ShipReport.total(error.report)).toBe(35)
      expect(yield* TestCloudWatchLogs.callCount("PutLogEvents")).toBe(1)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("redelivers: what the sink fails to deliver is not counted Failed in the metrics nor warned of; the error is the same", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      yield* TestCloudWatchLogs.setFaults({ unavailable: 1 })
      const failedOf = (stream: string) =>
        Effect.map(
          Metric.value(
            Metrics.forDestination(Metrics.eventsRejected, Destination.make(G, stream)).pipe(
              Metric.tagged("reason", "Failed")
            )
          ),
          (state) => state.count
        )
      const warnings: Array<string> = []
      const recording = Logger.make(({ logLevel, message }) => {
        if (logLevel._tag === "Warning") warnings.push(String(Array.isArray(message) ? message[0] : message))
      })
      const run = (stream: string, redelivers: boolean) =>
        Effect.flip(runOnClock(
          Stream.fromIterable(events(5)),
          CloudWatchLogs.sink(Destination.make(G, stream), { redelivers })
        )).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, recording)))
      const counted = yield* run("counted", false)
      expect(yield* failedOf("counted")).toBe(5)
      expect(warnings.filter((w) => w.includes("5 events to orders:counted not delivered"))).toHaveLength(1)
      const kept = yield* run("kept", true)
      expect(yield* failedOf("kept")).toBe(0)
      expect(warnings.filter((w) => w.includes("orders:kept"))).toEqual([])
      // the same error and report either way: the caller still learns what to ship again
      expect(kept.cause.reason).toBe("RetriesExhausted")
      expect(kept.report.rejected.Failed).toBe(counted.report.rejected.Failed)
      expect(kept.undelivered[0].events).toEqual(counted.undelivered[0].events)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("retries exhausted is fatal too, and the events are not counted as sent", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      yield* TestCloudWatchLogs.setFaults({ unavailable: 1 })
      const result = yield* Effect.flip(runOnClock(Stream.fromIterable(events(5)), CloudWatchLogs.sink(dest)))
      expect(result.cause.reason).toBe("RetriesExhausted")
      expect(result.report.accepted).toBe(0)
      expect(result.report.rejected.Failed).toBe(5)
      expect(result.undelivered[0].events.length).toBe(5)
      // the retries of a batch that failed in the end are counted too: 3 calls, 2 of them retries
      expect(yield* TestCloudWatchLogs.callCount("PutLogEvents")).toBe(3)
      expect(result.cause.retries).toBe(2)
      expect(result.report.retries).toBe(2)
    }).pipe(
      Effect.provide(TestCloudWatchLogs.layer()),
      Effect.provide(RetryPolicy.layer({ transient: RetryPolicy.backoff({ base: 0, cap: 0, retries: 2 }) }))
    ))

  it.effect("Failed events that lost answers may have stored already are counted as possible duplicates", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      // the stream there, then every answer lost: each attempt stores the batch, and the sink gives up on it
      yield* Effect.flatMap(TestCloudWatchLogs.TestCloudWatchLogs, (t) =>
        Effect.zipRight(
          t.api.createLogGroup({ logGroupName: G }),
          t.api.createLogStream({ logGroupName: G, logStreamName: S })
        ))
      yield* TestCloudWatchLogs.setFaults({ lostResponse: 1 })
      const result = yield* Effect.flip(runOnClock(Stream.fromIterable(events(5)), CloudWatchLogs.sink(dest)))
      expect(result.report.rejected.Failed).toBe(5)
      const copies = (yield* stored(G, S)).length
      expect(copies).toBe(5 * 3)
      // resending the 5 handed back would make every stored copy a duplicate
      expect(result.report.possibleDuplicates).toBeGreaterThanOrEqual(copies)
    }).pipe(
      Effect.provide(TestCloudWatchLogs.layer()),
      Effect.provide(RetryPolicy.layer({ transient: RetryPolicy.backoff({ base: 0, cap: 0, retries: 2 }) }))
    ))

  it.scoped("possibleDuplicates counts an input once, not once per part: a split event whose every part may be stored twice counts 1", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const real = yield* CloudWatchLogs.makeUploader()
      // as after one lost answer per put to a service that ignores tokens: every event stored may be stored twice
      const twice: Uploader.UploaderShape = {
        upload: (destination, batch, options) =>
          Effect.map(real.upload(destination, batch, options), (r) => ({ ...r, possibleDuplicates: r.accepted }))
      }
      // 190 characters with maxBatchBytes 100: 3 parts (74, 74, 42), a put each; the event after it shares the last
      const report = yield* runOnClock(
        Stream.make(LogEvent.make(NOW, "x".repeat(190)), LogEvent.make(NOW, "after")),
        CloudWatchLogs.sink(dest, { maxBatchBytes: 100, lingerMillis: 0 })
      ).pipe(Effect.provideService(Uploader.Uploader, twice))
      expect(report.accepted).toBe(2)
      expect(report.split).toBe(1)
      expect(report.batches).toBe(3)
      expect(report.possibleDuplicates).toBe(2)
      expect(report.perDestination.get(Destination.key(dest))?.possibleDuplicates).toBe(2)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("a split event counts the most copies any of its parts may have, as an event not split would", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      // the parts go in order: the first one is re-sent after 3 lost answers, the others go at once
      yield* TestCloudWatchLogs.failNext(3, "lostResponse")
      const report = yield* runOnClock(
        Stream.make(LogEvent.make(NOW, "x".repeat(200))),
        CloudWatchLogs.sink(dest, { maxBatchBytes: 100, lingerMillis: 0 })
      )
      const copies = (yield* stored()).filter((m) => m === "x".repeat(74)).length
      expect(report.accepted).toBe(1)
      expect(report.split).toBe(1)
      expect(report.possibleDuplicates).toBe(3)
      expect(copies).toBeLessThanOrEqual(1 + report.possibleDuplicates)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ sequenceTokens: "ignored" }))))

  it.effect("routes events to several destinations, with counts per destination", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const input = events(30)
      const route = (e: LogEvent.LogEvent) => Destination.make(G, `s${Number(e.message.slice(1)) % 3}`)
      const report = yield* Stream.fromIterable(input).pipe(Stream.run(CloudWatchLogs.sink(route)))
      expect(report.accepted).toBe(30)
      expect(report.perDestination.size).toBe(3)
      for (let s = 0; s < 3; s++) {
        const d = Destination.make(G, `s${s}`)
        expect(report.perDestination.get(Destination.key(d))?.accepted).toBe(10)
        expect(yield* stored(G, `s${s}`)).toEqual(input.filter((_, i) => i % 3 === s).map((e) => e.message))
      }
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("routes any value through a function answering { destination, event }", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const orders = [{ id: 1, region: "eu" }, { id: 2, region: "us" }, { id: 3, region: "eu" }]
      const report = yield* Stream.fromIterable(orders).pipe(
        Stream.run(CloudWatchLogs.sink((o: (typeof orders)[number]) => ({
          destination: Destination.make("orders", o.region),
          event: LogEvent.make(NOW, JSON.stringify(o))
        })))
      )
      expect(report.accepted).toBe(3)
      expect(yield* stored("orders", "eu")).toEqual([JSON.stringify(orders[0]), JSON.stringify(orders[2])])
      expect(yield* stored("orders", "us")).toEqual([JSON.stringify(orders[1])])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("one routed sink to 1,000 new streams: every event stored, upload slots served in the order lanes asked", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const n = 1_000
      const inputs = Array.from({ length: n }, (_, i) => ({
        destination: Destination.make("tenants", `t-${i}`),
        event: LogEvent.make(NOW, `hello ${i}`)
      }))
      // 1,000 lanes wait for one upload slot; each stream is created first (CreateLogStream: 50/s).
      const report = yield* runOnClock(
        Stream.fromIterable(inputs),
        CloudWatchLogs.sink((r: (typeof inputs)[number]) => r, { maxInFlight: 1, lingerMillis: 100 })
      )
      expect(report.accepted).toBe(n)
      expect(report.perDestination.size).toBe(n)
      expect(yield* stored("tenants", "t-999")).toEqual(["hello 999"])
      // Lanes ask in the order they were made; the slots are handed over in that order, none overtaken.
      const order = (yield* TestCloudWatchLogs.calls)
        .filter((c) => c.operation === "PutLogEvents" && c.outcome === "Answered")
        .map((c) => c.logStreamName)
      expect(order).toEqual(inputs.map((r) => r.destination.logStreamName))
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("back-pressure: a fast producer is suspended by a slow service; the buffer stays bounded", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const total = 2_000
      const capacity = 100
      const batch = 50
      let produced = 0
      const fiber = yield* Stream.fromIterable(events(total)).pipe(
        Stream.rechunk(10),
        Stream.tap(() =>
          Effect.sync(() => {
            produced++
          })
        ),
        Stream.run(CloudWatchLogs.sink(dest, { bufferCapacity: capacity, maxBatchEvents: batch, maxInFlight: 1 })),
        Effect.fork
      )
      // Each put takes 1 s: at most one batch in flight, one being filled, the buffer, one chunk.
      const bound = capacity + 2 * batch + 10
      let maxGap = 0
      let sawSuspended = false
      for (let step = 0; step < 100 && fiber.unsafePoll() === null; step++) {
        yield* settle
        const storedCount = (yield* TestCloudWatchLogs.streamStats(G, S)).events
        maxGap = Math.max(maxGap, produced - storedCount)
        if (produced < total) sawSuspended = true
        expect(produced - storedCount).toBeLessThanOrEqual(bound)
        yield* TestClock.adjust(1000)
      }
      const report = yield* Fiber.join(fiber)
      expect(sawSuspended).toBe(true)
      expect(maxGap).toBeGreaterThan(capacity)
      expect(report.accepted).toBe(total)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ faults: { latencyMillis: 1000 } }))))

  it.effect("interrupting the stream drains what is buffered at scope close", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const fiber = yield* Stream.fromIterable(events(7)).pipe(
        Stream.concat(Stream.never),
        Stream.run(CloudWatchLogs.sink(dest, { lingerMillis: 60_000 })),
        Effect.fork
      )
      yield* settle
      expect(yield* puts).toBe(0)
      yield* Fiber.interrupt(fiber)
      expect(yield* stored()).toEqual(events(7).map((e) => e.message))
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  describe("one per-account quota per process", () => {
    const QUOTA = 2
    const quotaLimits: Limits.LimitsShape = {
      ...Limits.current,
      quotas: { ...Limits.current.quotas, putLogEvents: QUOTA }
    }
    /**
     * Two sinks at once, 20 single-event batches each, to two streams; answers whether the PutLogEvents
     * calls stayed within the account's token bucket (QUOTA per second, a burst of QUOTA): by time t, at
     * most QUOTA + QUOTA * (t - start) / 1000 calls. `own`: each sink brings a limiter of its own.
     */
    const twoSinks = (own: boolean) =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const ship = (stream: string) => {
          const run = Stream.fromIterable(events(20)).pipe(
            Stream.run(CloudWatchLogs.sink(Destination.make(G, stream), { maxBatchEvents: 1 }))
          )
          return own ? Effect.provide(run, UploadRateLimiter.layer()) : run
        }
        const fiber = yield* Effect.fork(Effect.all([ship("a"), ship("b")], { concurrency: 2 }))
        for (let i = 0; i < 10_000 && fiber.unsafePoll() === null; i++) {
          yield* settle
          yield* TestClock.adjust(100)
        }
        const [a, b] = yield* Fiber.join(fiber)
        expect(a.accepted + b.accepted).toBe(40)
        const times = (yield* TestCloudWatchLogs.calls)
          .filter((c) => c.operation === "PutLogEvents")
          .map((c) => c.time)
          .sort((x, y) => x - y)
        expect(times.length).toBeGreaterThanOrEqual(40)
        return times.every((t, k) => k + 1 <= QUOTA + (QUOTA * (t - NOW)) / 1000)
      }).pipe(Effect.provide(Limits.layer(quotaLimits)), Effect.provide(TestCloudWatchLogs.layer()))

    it.effect("two sinks with no limiter in context share the default one: together within the quota", () =>
      Effect.gen(function*() {
        expect(yield* twoSinks(false)).toBe(true)
      }))

    it.effect("(the check is not blind) two sinks with a limiter each exceed it together", () =>
      Effect.gen(function*() {
        expect(yield* twoSinks(true)).toBe(false)
      }))
  })
})
