import {
  CloudWatchLogsApi,
  CloudWatchLogsError,
  Limits,
  RetryPolicy,
  SequenceTokenStore,
  Uploader,
  UploadRateLimiter
} from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"
import { batch, dest, G, NOW, S, settle, setup } from "./UploaderHelpers.js"

/**
 * Several PROCESSES writing one stream of a legacy service (tokens enforced): each writer has its own
 * uploader, token store and rate limiter (processes share nothing), and they race for every token.
 */

const WRITERS = 8
const BATCHES = 12
const PER_BATCH = 4

const destination = { logGroupName: G, logStreamName: S }

/** One writer: an uploader of its own over the shared model's API. */
const writer = (
  api: CloudWatchLogsApi.CloudWatchLogsApiShape,
  policy: RetryPolicy.RetryPolicyShape = RetryPolicy.defaults,
  perStreamPutsPerSecond: number | null = Limits.legacy.perStreamPutsPerSecond ?? null
) =>
  Effect.gen(function*() {
    const store = yield* SequenceTokenStore.makeMemory
    const limiter = yield* UploadRateLimiter.make({
      quotas: Limits.legacy.quotas,
      perStreamPutsPerSecond
    })
    return yield* Uploader.make({ tokens: "auto" }).pipe(
      Effect.provide(
        Layer.mergeAll(
          Layer.succeed(CloudWatchLogsApi.CloudWatchLogsApi, api),
          Layer.succeed(SequenceTokenStore.SequenceTokenStore, store),
          Layer.succeed(UploadRateLimiter.UploadRateLimiter, limiter),
          Layer.succeed(RetryPolicy.RetryPolicy, policy)
        )
      )
    )
  })

const eventsOf = (w: number, b: number) =>
  Array.from({ length: PER_BATCH }, (_, i) => ({
    timestamp: NOW + (b * PER_BATCH + i) * 10 + w,
    message: `w${w}-b${b}-e${i}`
  }))

const sharedModel = (seed: number, faults: TestCloudWatchLogs.FaultOptions) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(NOW)
    const model = yield* TestCloudWatchLogs.make({
      sequenceTokens: "enforced",
      limits: Limits.legacy,
      throttling: true,
      seed,
      faults
    })
    yield* Effect.orDie(model.api.createLogGroup({ logGroupName: G }))
    yield* Effect.orDie(model.api.createLogStream({ logGroupName: G, logStreamName: S }))
    return model
  })

describe("Uploader: token contention between processes on one enforced stream", () => {
  it.effect(
    "8 writers, legacy per-stream rate, faults: every event exactly once, in order, no UploadError",
    () =>
      Effect.gen(function*() {
        for (const seed of [1]) {
          const model = yield* sharedModel(seed, {
            unavailable: 0.05,
            throttle: 0.03,
            lostResponse: 0.02,
            reset: 0.02,
            competingWriter: 0.03,
            latencyMillis: 20,
            latencyJitterMillis: 30
          })
          const uploaders = yield* Effect.forEach(Array.from({ length: WRITERS }), () => writer(model.api))
          const totals = { accepted: 0, possibleDuplicates: 0, retries: 0, failures: 0 }
          const start = yield* Clock.currentTimeMillis
          yield* settle(
            Effect.forEach(uploaders, (uploader, w) =>
              Effect.forEach(
                Array.from({ length: BATCHES }, (_, b) => b),
                (b) =>
                  Effect.either(uploader.upload(destination, eventsOf(w, b))).pipe(
                    Effect.map((r) => {
                      if (Either.isLeft(r)) {
                        totals.failures++
                      } else {
                        totals.accepted += r.right.accepted
                        totals.possibleDuplicates += r.right.possibleDuplicates
                        totals.retries += r.right.retries
                      }
                    })
                  ),
                { discard: true }
              ), { concurrency: "unbounded", discard: true }),
            20
          )
          const elapsed = (yield* Clock.currentTimeMillis) - start
          if (process.env["CWLOGS_STATS"] !== undefined) console.log("contention", seed, elapsed, totals)
          expect(totals.failures).toBe(0)
          expect(totals.accepted).toBe(WRITERS * BATCHES * PER_BATCH)
          const stored = (yield* model.events(G, S)).map((e) => e.message).filter((m) => m.startsWith("w"))
          // exactly once: the read-back settles every lost answer on an enforced stream
          expect(stored.length).toBe(WRITERS * BATCHES * PER_BATCH)
          expect(totals.possibleDuplicates).toBe(0)
          for (let w = 0; w < WRITERS; w++) {
            const mine = stored.filter((m) => m.startsWith(`w${w}-`))
            const want = Array.from({ length: BATCHES }, (_, b) => eventsOf(w, b).map((e) => e.message)).flat()
            expect(mine).toEqual(want) // in order per producer
          }
          // the writers really raced: token errors happened
          const calls = yield* model.calls
          const tokenErrors = calls.filter((c) =>
            c.operation === "PutLogEvents" && c.outcome === "InvalidSequenceTokenException"
          ).length
          expect(tokenErrors).toBeGreaterThan(WRITERS)
          // 96 batches at 5 puts/s per stream take at least ~20 s; contention must not make it minutes
          expect(elapsed).toBeLessThan(3 * 60_000)
        }
      }).pipe(Effect.withRandom(Random.make(7))), // the jitter, reproducible
    120_000
  )

  it.effect("a stream whose token errors never stop: RetriesExhausted once the time budget is spent, with the events", () =>
    Effect.gen(function*() {
      // another writer wins every round, for ever
      const model = yield* sharedModel(1, { competingWriter: 1 })
      const uploader = yield* writer(model.api)
      const events = eventsOf(0, 0)
      const start = yield* Clock.currentTimeMillis
      const result = yield* settle(Effect.either(uploader.upload(destination, events)), 250)
      const elapsed = (yield* Clock.currentTimeMillis) - start
      expect(Either.isLeft(result) && result.left.reason).toBe("RetriesExhausted")
      expect(Either.isLeft(result) && result.left.cause._tag).toBe("InvalidSequenceTokenException")
      expect(Either.isLeft(result) && result.left.events).toEqual(events)
      // the default budget: 3 minutes from the first token error, plus at most one capped delay (2 s)
      expect(elapsed).toBeGreaterThanOrEqual(3 * 60_000)
      expect(elapsed).toBeLessThanOrEqual(3 * 60_000 + 2_000 + 250) // + one step of the TestClock
      // many attempts, not a handful: the budget is time, not a count
      const puts = yield* model.callCount("PutLogEvents")
      expect(puts).toBeGreaterThan(100)
      expect((yield* model.events(G, S)).filter((e) => e.message.startsWith("w")).length).toBe(0)
    }))

  it.effect("a budget set by configuration of the policy: 10 s, then RetriesExhausted", () =>
    Effect.gen(function*() {
      const model = yield* sharedModel(1, { competingWriter: 1 })
      const uploader = yield* writer(
        model.api,
        RetryPolicy.make({ token: RetryPolicy.contention({ budget: "10 seconds" }) })
      )
      const start = yield* Clock.currentTimeMillis
      const result = yield* settle(Effect.either(uploader.upload(destination, eventsOf(0, 0))), 50)
      const elapsed = (yield* Clock.currentTimeMillis) - start
      expect(Either.isLeft(result) && result.left.reason).toBe("RetriesExhausted")
      expect(elapsed).toBeGreaterThanOrEqual(10_000)
      expect(elapsed).toBeLessThanOrEqual(12_100)
    }))

  it.effect("a put after a wait that loses to a moved token is resent at once (no backoff step)", () =>
    Effect.gen(function*() {
      const model = yield* sharedModel(1, {})
      // a token schedule of one step only: a second lost round would exhaust it
      // (no per-stream rate limit here, so that "at once" is not spaced by it)
      const uploader = yield* writer(model.api, RetryPolicy.make({ token: Schedule.recurs(1) }), null)
      yield* uploader.upload(destination, eventsOf(0, 0))
      // throttled (a backoff), then the stream moves during the wait: the put after it is stale
      yield* model.failNext(1, "throttle")
      yield* model.failNext(1, "competingWriter")
      const result = yield* settle(uploader.upload(destination, eventsOf(0, 1)), 10)
      expect(result.accepted).toBe(PER_BATCH)
      expect(result.retries).toBe(2)
      const puts = (yield* model.calls).filter((c) => c.operation === "PutLogEvents").slice(-3)
      expect(puts.map((c) => c.outcome)).toEqual([
        "ThrottlingException",
        "InvalidSequenceTokenException",
        "Answered"
      ])
      expect(puts[2].time).toBe(puts[1].time) // at once
      // a fresh token that loses twice is two lost rounds: the one-step schedule is exhausted
      yield* model.failNext(2, "competingWriter")
      const lost = yield* settle(Effect.either(uploader.upload(destination, eventsOf(0, 2))), 10)
      expect(Either.isLeft(lost) && lost.left.reason).toBe("RetriesExhausted")
    }))

  it.effect("reads that keep failing after a lost answer do not make resends free: the schedule still bounds them", () =>
    Effect.gen(function*() {
      let reads = 0
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" },
        policy: RetryPolicy.make({ token: Schedule.recurs(3) }),
        wrap: (api) => ({
          ...api,
          getLogEvents: () =>
            Effect.suspend(() => {
              reads++
              return Effect.fail(new CloudWatchLogsError.AccessDeniedException({ message: "no logs:GetLogEvents" }))
            })
        })
      })
      yield* uploader.upload(dest(), batch("a", 1))
      yield* model.failNext(1, "lostResponse")
      yield* model.setFaults({ competingWriter: 1 })
      const result = yield* settle(Effect.either(uploader.upload(dest(), batch("b", 2, NOW + 5))), 100)
      expect(Either.isLeft(result) && result.left.reason).toBe("RetriesExhausted")
      expect(Either.isLeft(result) && result.left.cause._tag).toBe("InvalidSequenceTokenException")
      const puts = yield* model.callCount("PutLogEvents")
      // 1 + the lost one + 3 schedule steps + at most one free resend after the read's wait
      expect(puts).toBeLessThanOrEqual(1 + 1 + 1 + 3 + 1)
      expect(reads).toBeGreaterThan(0)
    }))

  it.effect("token retries use none of the transient budget: 8 server faults among many token losses", () =>
    Effect.gen(function*() {
      const model = yield* sharedModel(1, {})
      const uploader = yield* writer(
        model.api,
        RetryPolicy.make({ transient: RetryPolicy.backoff({ base: "100 millis", cap: "1 second", retries: 2 }) })
      )
      yield* uploader.upload(destination, eventsOf(0, 0))
      // 2 server faults (the transient limit), a lost race, 2 server faults again, ... 4 rounds
      for (let round = 0; round < 4; round++) {
        yield* model.failNext(2, "unavailable")
        yield* model.failNext(1, "competingWriter")
      }
      const result = yield* settle(uploader.upload(destination, eventsOf(0, 1)), 50)
      expect(result.accepted).toBe(PER_BATCH)
      expect(result.retries).toBe(12)
      // one step past the transient limit in a row still fails
      yield* model.failNext(3, "unavailable")
      const failed = yield* settle(Effect.either(uploader.upload(destination, eventsOf(0, 2))), 50)
      expect(Either.isLeft(failed) && failed.left.reason).toBe("RetriesExhausted")
      expect(Either.isLeft(failed) && failed.left.cause._tag).toBe("ServiceUnavailableException")
    }))
})

describe("Uploader: possibleDuplicates against a service that ignores tokens", () => {
  it.effect("3 lost answers, each stored: the events are counted once per stored copy, no more", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "ignored" },
        uploader: { tokens: "ignored" }
      })
      yield* model.failNext(3, "lostResponse")
      const result = yield* settle(uploader.upload(dest(), batch("a", 5)))
      expect(result.retries).toBe(3)
      const stored = (yield* model.events(G, S)).length
      expect(stored).toBe(4 * 5)
      // copies beyond the first: 3 per event; reported: exactly those (every lost answer stored one)
      expect(result.possibleDuplicates).toBe(stored - 5)
    }))

  it.effect("retries that cannot have stored the batch add nothing (throttling)", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "ignored" },
        uploader: { tokens: "ignored" }
      })
      yield* model.failNext(1, "lostResponse")
      yield* model.failNext(3, "throttle")
      const result = yield* settle(uploader.upload(dest(), batch("a", 5)))
      expect(result.retries).toBe(4)
      expect((yield* model.events(G, S)).length).toBe(2 * 5)
      // one lost answer: the batch once, not once per retry of the upload
      expect(result.possibleDuplicates).toBe(5)
    }))

  it.effect("a reset before the service stored anything (a copy the client cannot rule out) is counted", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "ignored" },
        uploader: { tokens: "ignored" }
      })
      yield* model.failNext(2, "reset")
      const result = yield* settle(uploader.upload(dest(), batch("a", 3)))
      expect((yield* model.events(G, S)).length).toBe(3)
      // reported, never hidden: the promise is copies <= reported
      expect(result.possibleDuplicates).toBe(6)
    }))
})
