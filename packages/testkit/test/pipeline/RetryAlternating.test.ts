/**
 * Failures that alternate between classes (server faults, throttling, token errors) must not retry an
 * upload for ever: the transient, throttling and not-found budgets hold for the whole upload, and start
 * again only after a token error (an answer of a healthy service). See `RetryPolicy.ts`.
 */
import { CloudWatchLogs, Destination, LogEvent, RetryPolicy } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"
import { batch, dest, G, NOW, S, setup } from "./UploaderHelpers.js"

/** Failures scripted far beyond any budget: "for ever", as far as one upload can tell. */
const FOREVER = 500

/**
 * Runs `effect` while the TestClock moves on `step` ms at a time, for at most `limitMillis`: none when it
 * had not ended by then (the old code retried on for ever).
 */
const within = <A, E, R>(effect: Effect.Effect<A, E, R>, limitMillis: number, step = 100) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let t = 0; t <= limitMillis; t += step) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) return Option.some(yield* Fiber.join(fiber))
      yield* TestClock.adjust(step)
    }
    yield* Fiber.interrupt(fiber)
    return Option.none()
  })

describe("retries of failures that alternate between classes are bounded", () => {
  it.effect("a sink facing 5xx, throttled, 5xx, ... fails with RetriesExhausted, its events undelivered, within the documented bound", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const api = yield* TestCloudWatchLogs.TestCloudWatchLogs
      yield* Effect.orDie(api.api.createLogGroup({ logGroupName: G }))
      yield* Effect.orDie(api.api.createLogStream({ logGroupName: G, logStreamName: S }))
      for (let i = 0; i < FOREVER; i++) {
        yield* TestCloudWatchLogs.failNext(1, "unavailable")
        yield* TestCloudWatchLogs.failNext(1, "throttle")
      }
      const events = [LogEvent.make(NOW, "a"), LogEvent.make(NOW + 1, "b"), LogEvent.make(NOW + 2, "c")]
      const start = yield* Clock.currentTimeMillis
      // the default policy: 8 transient and 10 throttled retries, their delays at most ~27 s and ~182 s
      const ended = yield* within(
        Effect.either(Stream.fromIterable(events).pipe(Stream.run(CloudWatchLogs.sink(Destination.make(G, S))))),
        15 * 60_000,
        1_000
      )
      expect(Option.isSome(ended)).toBe(true)
      if (Option.isNone(ended) || Either.isRight(ended.value)) return yield* Effect.dieMessage("expected a ShipError")
      const error = ended.value.left
      expect(error.cause.reason).toBe("RetriesExhausted")
      expect(error.undelivered.flatMap((u) => u.events)).toEqual(events)
      expect(error.report.rejected.Failed).toBe(3)
      expect(error.report.accepted).toBe(0)
      // one put and at most 8 + 10 retries, within the delays' sum (and the rate limiter's slowing down)
      expect(yield* api.callCount("PutLogEvents")).toBeLessThanOrEqual(1 + 8 + 10)
      expect((yield* Clock.currentTimeMillis) - start).toBeLessThanOrEqual(5 * 60_000)
      expect(yield* TestCloudWatchLogs.events(G, S)).toEqual([])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("Schedule.recurs(3) for transient and throttled: 3 + 3 retries, then RetriesExhausted", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        policy: RetryPolicy.make({ transient: Schedule.recurs(3), throttled: Schedule.recurs(3) })
      })
      for (let i = 0; i < FOREVER; i++) {
        yield* model.failNext(1, "unavailable")
        yield* model.failNext(1, "throttle")
      }
      const ended = yield* within(Effect.either(uploader.upload(dest(), batch("a", 2))), 60_000)
      if (Option.isNone(ended)) return yield* Effect.dieMessage("the upload never ended")
      const result = ended.value
      expect(Either.isLeft(result) && result.left.reason).toBe("RetriesExhausted")
      expect(Either.isLeft(result) && result.left.retries).toBe(6)
      expect(Either.isLeft(result) && result.left.events).toEqual(batch("a", 2))
      // 5xx, throttled, 5xx, throttled, 5xx, throttled, 5xx: the fourth 5xx is one too many
      expect(yield* model.callCount("PutLogEvents")).toBe(7)
    }))

  it.effect("a token error between server faults starts their budget again (a healthy service answered)", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" },
        policy: RetryPolicy.make({ transient: Schedule.recurs(2) })
      })
      yield* uploader.upload(dest(), batch("a", 1))
      // 2 server faults (the budget), a lost race, 2 server faults again: stored
      yield* model.failNext(2, "unavailable")
      yield* model.failNext(1, "competingWriter")
      yield* model.failNext(2, "unavailable")
      const ended = yield* within(uploader.upload(dest(), batch("b", 1, NOW + 1)), 60_000)
      expect(Option.map(ended, (r) => r.accepted)).toEqual(Option.some(1))
      expect(Option.map(ended, (r) => r.retries)).toEqual(Option.some(5))
    }))

  it.effect("5xx and lost token races alternating for ever end too: resends at once after a wait are bounded", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" },
        policy: RetryPolicy.make({ token: RetryPolicy.contention({ budget: "20 seconds" }) })
      })
      yield* uploader.upload(dest(), batch("a", 1))
      // each server fault waits, so each token error after it is a resend at once (no step of the schedule)
      for (let i = 0; i < FOREVER; i++) {
        yield* model.failNext(1, "unavailable")
        yield* model.failNext(1, "competingWriter")
      }
      const ended = yield* within(Effect.either(uploader.upload(dest(), batch("b", 1, NOW + 1))), 10 * 60_000)
      if (Option.isNone(ended)) return yield* Effect.dieMessage("the upload never ended")
      expect(Either.isLeft(ended.value) && ended.value.left.reason).toBe("RetriesExhausted")
      expect(yield* model.callCount("PutLogEvents")).toBeLessThan(2 * FOREVER)
    }))
})
