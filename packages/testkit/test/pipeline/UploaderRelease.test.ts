/**
 * An uploader shared by sinks (`makeUploader`, `Uploader.layer`, the spool's) keeps a destination's state
 * only while a sink uses it, and what it learnt of the service's token generation outlives the releases.
 */
import {
  CloudWatchLogs,
  CloudWatchLogsApi,
  Destination,
  LogEvent,
  Metrics,
  RetryPolicy,
  SequenceTokenStore,
  Uploader,
  UploadRateLimiter
} from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Mailbox from "effect/Mailbox"
import * as Metric from "effect/Metric"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
// The engine's uploader itself: its `destinationsKept` tells what it holds (the public shape does not).
import * as InternalUploader from "../../../core/src/internal/uploader.js"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const G = "tenants"

const settle = Effect.gen(function*() {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
})

/** Destinations with a lane now, all sinks and loggers of the process (compare before and after). */
const held = Effect.map(Metric.value(Metrics.destinationsHeld), (state) => state.value)

/** One uploader over the service in context, shared by the sinks it is provided to. */
const sharedUploader = Effect.gen(function*() {
  const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
  const store = yield* SequenceTokenStore.makeMemory
  return yield* InternalUploader.make().pipe(
    Effect.provideService(CloudWatchLogsApi.CloudWatchLogsApi, api),
    Effect.provideService(SequenceTokenStore.SequenceTokenStore, store),
    Effect.provideService(UploadRateLimiter.UploadRateLimiter, UploadRateLimiter.unlimited),
    Effect.provideService(RetryPolicy.RetryPolicy, RetryPolicy.defaults)
  )
})

const routed = (destination: Destination.Destination, message: string): CloudWatchLogs.Routed => ({
  destination,
  event: LogEvent.make(NOW, message)
})

/** A routed sink through `uploader`, fed by hand: offer to the mailbox, end it to end the stream. */
const routedSink = (uploader: Uploader.UploaderShape, options: CloudWatchLogs.SinkOptions) =>
  Effect.gen(function*() {
    const input = yield* Mailbox.make<CloudWatchLogs.Routed>()
    const fiber = yield* Mailbox.toStream(input).pipe(
      Stream.run(CloudWatchLogs.sink((r: CloudWatchLogs.Routed) => r, options)),
      Effect.provideService(Uploader.Uploader, uploader),
      Effect.fork
    )
    return { input, fiber }
  })

const puts = Effect.map(
  TestCloudWatchLogs.calls,
  (calls) => calls.filter((c) => c.operation === "PutLogEvents")
)

const tokenErrors = Effect.map(puts, (p) => p.filter((c) => c.outcome === "InvalidSequenceTokenException").length)

const generations = ["enforced", "ignored"] as const

describe("a shared uploader forgets the destinations no sink uses any more", () => {
  for (const sequenceTokens of generations) {
    it.effect(`5 routed sinks of 20 destinations each, one after the other (tokens ${sequenceTokens})`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const uploader = yield* sharedUploader
        let afterFirst = 0
        for (let s = 0; s < 5; s++) {
          const streams = Array.from({ length: 20 }, (_, i) => Destination.make(G, `sink-${s}-${i}`))
          const { fiber, input } = yield* routedSink(uploader, { lingerMillis: 100 })
          // two batches per destination: the second is the probe when the service is not known yet
          yield* input.offerAll(streams.map((d) => routed(d, `${d.logStreamName}-a`)))
          yield* settle
          yield* TestClock.adjust(100)
          yield* settle
          yield* input.offerAll(streams.map((d) => routed(d, `${d.logStreamName}-b`)))
          yield* input.end
          const report = yield* Fiber.join(fiber)
          expect(report.accepted).toBe(40)
          expect(uploader.destinationsKept()).toBe(0)
          if (s === 0) afterFirst = yield* tokenErrors
        }
        // the service's generation was learnt by the first sink's probes, for every destination after
        if (sequenceTokens === "enforced") expect(afterFirst).toBeGreaterThan(0)
        else expect(afterFirst).toBe(0)
        expect(yield* tokenErrors).toBe(afterFirst)
      }).pipe(Effect.provide(TestCloudWatchLogs.layer({ sequenceTokens }))))
  }

  it.effect("a sink to one destination forgets it at its end; another sink on it goes on without a token error", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const uploader = yield* sharedUploader
      const d = Destination.make(G, "shared")
      const first = yield* routedSink(uploader, { lingerMillis: 100 })
      const second = yield* routedSink(uploader, { lingerMillis: 100 })
      for (let i = 0; i < 3; i++) {
        yield* first.input.offer(routed(d, `first-${i}`))
        yield* second.input.offer(routed(d, `second-${i}`))
        yield* settle
        yield* TestClock.adjust(100)
        yield* settle
      }
      yield* first.input.end
      expect((yield* Fiber.join(first.fiber)).accepted).toBe(3)
      // the first sink's release made the uploader forget `d`; the second writes on, with the store's token
      for (let i = 3; i < 6; i++) {
        yield* second.input.offer(routed(d, `second-${i}`))
        yield* settle
        yield* TestClock.adjust(100)
        yield* settle
      }
      yield* second.input.end
      expect((yield* Fiber.join(second.fiber)).accepted).toBe(6)
      expect(uploader.destinationsKept()).toBe(0)
      expect(yield* tokenErrors).toBe(1) // the probe, once
      expect((yield* TestCloudWatchLogs.events(G, "shared")).length).toBe(9)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ sequenceTokens: "enforced" }))))
})

describe("a destination released when idle comes back at no cost", () => {
  it.effect("sinks of one put each, one after the other: the second's put is the probe, the later ones send no token", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const uploader = yield* sharedUploader
      const d = Destination.make(G, "one-put")
      for (let run = 0; run < 4; run++) {
        const { fiber, input } = yield* routedSink(uploader, { lingerMillis: 100 })
        yield* input.offer(routed(d, `run-${run}`))
        yield* input.end
        expect((yield* Fiber.join(fiber)).accepted).toBe(1)
        expect(uploader.destinationsKept()).toBe(0)
      }
      // the first put makes the stream and carries none; the token the store kept tells the next sink's
      // put that the stream was written: it is the probe, and learns that tokens are ignored
      const sent = (yield* puts).filter((c) => c.outcome === "Answered").map((c) => c.sequenceToken)
      expect(sent).toEqual([undefined, undefined, undefined, undefined])
      expect(yield* tokenErrors).toBe(0)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ sequenceTokens: "ignored" }))))

  for (const sequenceTokens of generations) {
    it.effect(`4 bursts, each released when idle: one probe in all (tokens ${sequenceTokens})`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const base = yield* held
        const uploader = yield* sharedUploader
        const d = Destination.make(G, "bursty")
        const { fiber, input } = yield* routedSink(uploader, { lingerMillis: 100, destinationIdleMillis: 1_000 })
        for (let burst = 0; burst < 4; burst++) {
          for (let i = 0; i < 3; i++) {
            yield* input.offer(routed(d, `burst-${burst}-${i}`))
            yield* settle
            yield* TestClock.adjust(100)
            yield* settle
          }
          yield* TestClock.adjust(2_000)
          yield* settle
          expect(yield* held).toBe(base) // released
          expect(uploader.destinationsKept()).toBe(0)
        }
        yield* input.end
        expect((yield* Fiber.join(fiber)).accepted).toBe(12)
        expect((yield* TestCloudWatchLogs.events(G, "bursty")).length).toBe(12)
        const sent = yield* puts
        // the stream was made by the first put; the rest were answered, or refused for their token
        expect(sent[0].outcome).toBe("ResourceNotFoundException")
        expect(sent.slice(1).filter((c) => c.outcome !== "Answered" && c.outcome !== "InvalidSequenceTokenException"))
          .toEqual([])
        if (sequenceTokens === "enforced") {
          // the probe of the first burst only: each comeback sends the store's token, which is right
          expect(yield* tokenErrors).toBe(1)
        } else {
          // past the first burst's probe, no put carries a token
          const afterProbe = sent.slice(3)
          expect(afterProbe.length).toBe(10)
          expect(afterProbe.filter((c) => c.sequenceToken !== undefined)).toEqual([])
        }
      }).pipe(Effect.provide(TestCloudWatchLogs.layer({ sequenceTokens }))))
  }
})

describe("Uploader.release during uploads", () => {
  const upload = (uploader: Uploader.UploaderShape, d: Destination.Destination, message: string) =>
    Effect.fork(uploader.upload(d, [LogEvent.make(NOW, message)]))

  it.effect("takes effect when the last upload ends; an upload begun after it keeps the state for its user", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
      yield* api.createLogGroup({ logGroupName: G })
      yield* api.createLogStream({ logGroupName: G, logStreamName: "s" })
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 1_000 })
      const uploader = yield* sharedUploader
      const release = uploader.release
      if (release === undefined) throw new Error("the engine's uploader has release")
      const d = Destination.make(G, "s")
      // released while its upload runs (a lane cut off at the drain's deadline): forgotten at its end
      const cut = yield* upload(uploader, d, "cut")
      yield* settle
      yield* release(d)
      const keptDuring = uploader.destinationsKept()
      yield* TestClock.adjust(1_000)
      yield* Fiber.join(cut)
      const keptAfter = uploader.destinationsKept()
      // released while an upload runs, then another user uploads: kept for that user
      const first = yield* upload(uploader, d, "first")
      yield* settle
      yield* release(d)
      const other = yield* upload(uploader, d, "other")
      yield* settle
      yield* TestClock.adjust(5_000)
      yield* Fiber.join(first)
      yield* Fiber.join(other)
      const keptForOther = uploader.destinationsKept()
      yield* release(d)
      expect([keptDuring, keptAfter, keptForOther, uploader.destinationsKept()]).toEqual([1, 0, 1, 0])
      expect((yield* TestCloudWatchLogs.events(G, "s")).map((e) => e.message)).toEqual(["cut", "first", "other"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ sequenceTokens: "enforced" }))))
})
