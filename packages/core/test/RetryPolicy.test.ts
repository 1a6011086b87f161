import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as Errors from "../src/CloudWatchLogsError.js"
import * as RetryPolicy from "../src/RetryPolicy.js"

const error = new Errors.ServiceUnavailableException({ message: "down", httpStatus: 503 })

/**
 * The delays (ms) a schedule gives for up to `n` failures in a row; its length is the number of retries.
 * (`Schedule.run` also emits the output of the step that stops: dropped.)
 */
const delays = (schedule: RetryPolicy.RetrySchedule, n = 50, input: Errors.CloudWatchLogsError = error) =>
  Effect.map(
    Schedule.run(Schedule.delays(schedule), 0, Array.from({ length: n }, () => input)),
    (chunk) => Chunk.toReadonlyArray(chunk).slice(0, -1).map(Duration.toMillis)
  )

describe("RetryPolicy", () => {
  it.effect("token errors: one retry at once, then full jitter under a doubling cap of 2 s, for 3 minutes", () =>
    Effect.gen(function*() {
      const token = new Errors.InvalidSequenceTokenException({ message: "lost the race", expectedSequenceToken: "1" })
      // Schedule.run sleeps nothing: the budget is measured on the clock, so drive it with the TestClock
      const driver = yield* Schedule.driver(RetryPolicy.defaults.token)
      const d: Array<number> = []
      while (true) {
        const fiber = yield* Effect.fork(Effect.either(driver.next(token)))
        yield* TestClock.adjust("2 seconds")
        const next = yield* Fiber.join(fiber)
        if (next._tag === "Left") break
        const now = yield* Clock.currentTimeMillis
        d.push(now)
        expect(d.length).toBeLessThan(1000)
      }
      // the retries end once 3 minutes have passed since the first (each step here takes 2 s)
      expect(d[d.length - 1]).toBeGreaterThanOrEqual(3 * 60_000 - 2_000)
      expect(d[d.length - 1]).toBeLessThanOrEqual(3 * 60_000 + 2_000)
      expect(d.length).toBeGreaterThanOrEqual(89)
      expect(d.length).toBeLessThanOrEqual(92)
    }))

  it.effect("token errors: the delays of the contention schedule, at their limits", () =>
    Effect.gen(function*() {
      const many = 60
      const d = yield* delays(RetryPolicy.defaults.token, many)
      expect(d).toHaveLength(many - 1) // Schedule.run does not sleep: every retry is within the budget
      expect(d[0]).toBe(0) // the cheap win: at once with the adopted token
      d.slice(1).forEach((x, i) => {
        const nominal = Math.min(50 * 2 ** i, 2000)
        expect(x).toBeGreaterThanOrEqual(0)
        expect(x).toBeLessThanOrEqual(nominal)
      })
      // full jitter: not the same delay for every writer (over many draws, they spread below the cap)
      const late = d.slice(10)
      expect(new Set(late).size).toBeGreaterThan(10)
      expect(Math.min(...late)).toBeLessThan(1000)
    }))

  it.effect("contention: options at their limits (no immediate retry, exact budget)", () =>
    Effect.gen(function*() {
      const schedule = RetryPolicy.contention({ immediate: 0, base: "10 millis", cap: "40 millis", budget: "1 second" })
      const d = yield* delays(schedule, 10)
      d.forEach((x, i) => expect(x).toBeLessThanOrEqual(Math.min(10 * 2 ** i, 40)))
      // the budget, on the clock: a retry while less has elapsed, none once it has
      const driver = yield* Schedule.driver(RetryPolicy.contention({ budget: "100 millis" }))
      const err = new Errors.InvalidSequenceTokenException({ message: "x" })
      yield* driver.next(err) // at once
      yield* TestClock.adjust("99 millis")
      const within = yield* Effect.fork(Effect.either(driver.next(err)))
      yield* TestClock.adjust("2 seconds")
      expect((yield* Fiber.join(within))._tag).toBe("Right") // elapsed 99 ms: within
      const past = yield* Schedule.driver(RetryPolicy.contention({ budget: "100 millis" }))
      yield* past.next(err)
      yield* TestClock.adjust("100 millis")
      expect((yield* Effect.either(past.next(err)))._tag).toBe("Left") // elapsed 100 ms: the budget is spent
    }))

  it.effect("transient: exponential from 100 ms with jitter, capped at 10 s, 8 retries", () =>
    Effect.gen(function*() {
      const d = yield* delays(RetryPolicy.defaults.transient)
      expect(d).toHaveLength(8)
      d.forEach((x, i) => {
        const nominal = Math.min(100 * 2 ** i, 10_000)
        expect(x).toBeGreaterThanOrEqual(nominal * 0.8)
        expect(x).toBeLessThanOrEqual(nominal * 1.2)
      })
      // 12.8 s nominal, capped at 10 s, then jittered
      expect(d[7]).toBeGreaterThanOrEqual(8_000)
      expect(d[7]).toBeLessThanOrEqual(12_000)
    }))

  it.effect("throttling: a longer backoff from 500 ms, capped at 30 s, 10 retries", () =>
    Effect.gen(function*() {
      const d = yield* delays(RetryPolicy.defaults.throttled)
      expect(d).toHaveLength(10)
      expect(d[0]).toBeGreaterThanOrEqual(400)
      expect(d[0]).toBeLessThanOrEqual(600)
      expect(Math.max(...d)).toBeLessThanOrEqual(36_000)
      // retries 7 to 10 are capped at 30 s, then jittered
      for (const x of d.slice(6)) {
        expect(x).toBeGreaterThanOrEqual(24_000)
        expect(x).toBeLessThanOrEqual(36_000)
      }
    }))

  it.effect("capped delays are jittered too: writers throttled together do not retry in lock-step", () =>
    Effect.gen(function*() {
      const last: Array<number> = []
      for (let k = 0; k < 5; k++) last.push((yield* delays(RetryPolicy.defaults.throttled))[9])
      // jittered before the cap, every one was exactly 30 s
      expect(new Set(last).size).toBeGreaterThan(1)
    }))

  it.effect("not found: one resend at once after creating, then 3 with a short backoff", () =>
    Effect.gen(function*() {
      const d = yield* delays(RetryPolicy.defaults.notFound)
      expect(d).toHaveLength(4)
      expect(d[0]).toBe(0)
      expect(d[1]).toBeGreaterThanOrEqual(160)
      expect(d[1]).toBeLessThanOrEqual(240)
    }))

  it.effect("backoff without jitter: exact delays, the cap, the count at its limit", () =>
    Effect.gen(function*() {
      const schedule = RetryPolicy.backoff({ base: "100 millis", cap: "1 second", retries: 6, jitter: false })
      expect(yield* delays(schedule)).toEqual([100, 200, 400, 800, 1000, 1000])
      expect(yield* delays(RetryPolicy.backoff({ base: 10, factor: 3, cap: 1000, retries: 3, jitter: false })))
        .toEqual([10, 30, 90])
      expect(yield* delays(RetryPolicy.backoff({ base: 10, cap: 1000, retries: 0 }))).toEqual([])
    }))

  it.effect("immediateThen: n at once, then the schedule", () =>
    Effect.gen(function*() {
      const schedule = RetryPolicy.immediateThen(
        2,
        RetryPolicy.backoff({ base: 10, cap: 1000, retries: 2, jitter: false })
      )
      expect(yield* delays(schedule)).toEqual([0, 0, 10, 20])
      expect(yield* delays(RetryPolicy.immediateThen(0, Schedule.recurs(1)))).toEqual([0])
    }))

  it.effect("none retries nothing", () =>
    Effect.gen(function*() {
      for (const schedule of Object.values(RetryPolicy.none)) expect(yield* delays(schedule)).toEqual([])
    }))

  it.effect("make and layer replace some schedules and keep the defaults of the others", () =>
    Effect.gen(function*() {
      const policy = yield* RetryPolicy.RetryPolicy.pipe(
        Effect.provide(RetryPolicy.layer({ transient: Schedule.recurs(1) }))
      )
      expect(yield* delays(policy.transient)).toEqual([0])
      expect(policy.token).toBe(RetryPolicy.defaults.token)
      const defaults = yield* Layer.build(RetryPolicy.layerDefault).pipe(
        Effect.map(Context.get(RetryPolicy.RetryPolicy)),
        Effect.scoped
      )
      expect(defaults).toBe(RetryPolicy.defaults)
    }))

  it.effect("a schedule can look at the error (whileInput)", () =>
    Effect.gen(function*() {
      const onlyServerFaults: RetryPolicy.RetrySchedule = Schedule.recurs(5).pipe(
        Schedule.whileInput((e: Errors.CloudWatchLogsError) => e._tag === "ServiceUnavailableException")
      )
      expect(yield* delays(onlyServerFaults)).toHaveLength(5)
      const reset = new Errors.NetworkError({ message: "reset", reason: "reset" })
      expect(yield* delays(onlyServerFaults, 5, reset)).toEqual([])
    }))

  it.effect("layerConfig reads backoffs from configuration and keeps the defaults of what is unset", () =>
    Effect.gen(function*() {
      const policy = yield* RetryPolicy.RetryPolicy.pipe(
        Effect.provide(
          RetryPolicy.layerConfig({
            transient: {
              base: Config.duration("BASE"),
              cap: Config.duration("CAP"),
              retries: Config.integer("RETRIES"),
              jitter: Config.succeed(false)
            },
            tokenImmediateRetries: Config.integer("IMMEDIATE")
          })
        ),
        Effect.withConfigProvider(
          ConfigProvider.fromMap(
            new Map([["BASE", "10 millis"], ["CAP", "25 millis"], ["RETRIES", "3"], ["IMMEDIATE", "1"]])
          )
        )
      )
      expect(yield* delays(policy.transient)).toEqual([10, 20, 25])
      const token = yield* delays(policy.token)
      expect(token[0]).toBe(0)
      expect(token[1]).toBeLessThanOrEqual(50)
      expect(token.length).toBe(49) // bounded by time, not by a count: all 49 retries allowed
      expect(policy.throttled).toBe(RetryPolicy.defaults.throttled)
      const missing = yield* Effect.either(
        RetryPolicy.RetryPolicy.pipe(
          Effect.provide(RetryPolicy.layerConfig({ notFoundRetries: Config.integer("NOPE") })),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
        )
      )
      expect(missing._tag).toBe("Left")
    }))

  it.effect("layerConfig: a token budget in time, or a token backoff bounded by a count", () =>
    Effect.gen(function*() {
      const read = (config: Config.Config.Wrap<RetryPolicy.ConfigOptions>, map: ReadonlyArray<[string, string]>) =>
        RetryPolicy.RetryPolicy.pipe(
          Effect.provide(RetryPolicy.layerConfig(config)),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map(map)))
        )
      const budgeted = yield* read({ tokenRetryBudget: Config.duration("BUDGET") }, [["BUDGET", "1 second"]])
      const driver = yield* Schedule.driver(budgeted.token)
      const err = new Errors.InvalidSequenceTokenException({ message: "x" })
      yield* driver.next(err)
      yield* TestClock.adjust("1001 millis")
      expect((yield* Effect.either(driver.next(err)))._tag).toBe("Left")
      const counted = yield* read({
        tokenImmediateRetries: Config.integer("I"),
        token: { base: Config.duration("B"), cap: Config.duration("C"), retries: Config.integer("R") }
      }, [["I", "2"], ["B", "10 millis"], ["C", "1 second"], ["R", "3"]])
      expect(yield* delays(counted.token)).toHaveLength(5)
    }))

  it.effect("layerConfig: notFoundRetries keeps the default's shape (one at once, then backoff), only its count", () =>
    Effect.gen(function*() {
      const notFound = (n: string) =>
        Effect.flatMap(
          RetryPolicy.RetryPolicy.pipe(
            Effect.provide(RetryPolicy.layerConfig({ notFoundRetries: Config.number("N") })),
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["N", n]])))
          ),
          (policy) => delays(policy.notFound)
        )
      const defaults = yield* delays(RetryPolicy.defaults.notFound)
      expect(defaults).toHaveLength(4)
      expect(defaults[0]).toBe(0)
      const two = yield* notFound("2")
      expect(two).toHaveLength(2)
      expect(two[0]).toBe(0)
      // the second waits as the default's second does (a backoff from 200 ms, jittered), not at once
      expect(two[1]).toBeGreaterThanOrEqual(160)
      expect(two[1]).toBeLessThanOrEqual(240)
      expect(yield* notFound("0")).toEqual([])
    }))

  it.effect("layerConfig refuses counts that are not whole numbers 0 or more, and a factor under 1, by name", () =>
    Effect.gen(function*() {
      const read = (config: Config.Config.Wrap<RetryPolicy.ConfigOptions>, map: ReadonlyArray<[string, string]>) =>
        Effect.flip(
          RetryPolicy.RetryPolicy.pipe(
            Effect.provide(RetryPolicy.layerConfig(config)),
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map(map)))
          )
        )
      const backoffConfig = {
        base: Config.duration("B"),
        cap: Config.duration("C"),
        retries: Config.number("R"),
        factor: Config.number("F")
      }
      const base: ReadonlyArray<[string, string]> = [["B", "10 millis"], ["C", "1 second"], ["R", "3"], ["F", "2"]]
      const message = (e: { readonly toString: () => string }) => String(e)
      expect(message(yield* read({ tokenImmediateRetries: Config.number("I") }, [["I", "1.5"]]))).toMatch(
        /tokenImmediateRetries must be a whole number, 0 or more \(got 1\.5\)/
      )
      expect(message(yield* read({ notFoundRetries: Config.number("N") }, [["N", "-1"]]))).toMatch(
        /notFoundRetries must be a whole number, 0 or more \(got -1\)/
      )
      expect(message(yield* read({ transient: backoffConfig }, [...base, ["R", "2.5"]]))).toMatch(
        /transient\.retries must be a whole number/
      )
      expect(message(yield* read({ throttled: backoffConfig }, [...base, ["F", "0.5"]]))).toMatch(
        /throttled\.factor must be 1 or more \(got 0\.5\)/
      )
      // at the limits: 0 retries and a factor of 1 are taken
      const policy = yield* RetryPolicy.RetryPolicy.pipe(
        Effect.provide(RetryPolicy.layerConfig({ transient: backoffConfig, notFoundRetries: Config.number("N") })),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([...base, ["R", "0"], ["F", "1"], ["N", "0"]])))
      )
      expect(yield* delays(policy.transient)).toEqual([])
      expect(yield* delays(policy.notFound)).toEqual([])
    }))

  it.effect("fromConfigOptions takes counts whole, the same way for both kinds of token schedule", () =>
    Effect.gen(function*() {
      const counted = RetryPolicy.fromConfigOptions({
        tokenImmediateRetries: 1.7,
        token: { base: Duration.millis(10), cap: Duration.seconds(1), retries: 2.9 }
      })
      // 1 at once, then 2 on the backoff
      const d = yield* delays(counted.token)
      expect(d).toHaveLength(3)
      expect(d[0]).toBe(0)
      expect(d[1]).toBeGreaterThan(0)
      expect(yield* delays(RetryPolicy.fromConfigOptions({ notFoundRetries: -3 }).notFound)).toEqual([])
    }))
})
