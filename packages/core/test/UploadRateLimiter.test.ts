import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as V8 from "node:v8"
import * as Vm from "node:vm"
import * as Destination from "../src/Destination.js"
import * as Limits from "../src/Limits.js"
import * as UploadRateLimiter from "../src/UploadRateLimiter.js"

// A full collection on demand, to compare what the heap retains.
V8.setFlagsFromString("--expose-gc")
const gc: () => void = Vm.runInNewContext("gc")
const heapUsed = (): number => {
  gc()
  gc()
  return V8.getHeapStatistics().used_heap_size
}

const A = Destination.make("g", "a")
const B = Destination.make("g", "b")

const quotas = (putLogEvents: number): Limits.OperationQuotas => ({ ...Limits.current.quotas, putLogEvents })

/** Starts `n` requests at once through the limiter; answers the clock reading at which each one started. */
const starts = (
  limiter: UploadRateLimiter.UploadRateLimiterShape,
  n: number,
  destination: Destination.Destination = A,
  operation: UploadRateLimiter.Operation = "putLogEvents",
  advance = 10_000
) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(
      Effect.forEach(
        Array.from({ length: n }, (_, i) => i),
        () => limiter.withPermit(destination, operation)(Clock.currentTimeMillis),
        { concurrency: "unbounded" }
      )
    )
    yield* TestClock.adjust(advance)
    return yield* Fiber.join(fiber)
  })

const within = (times: ReadonlyArray<number>, from: number, to: number) =>
  times.filter((t) => t >= from && t < to).length

describe("UploadRateLimiter", () => {
  it.effect("per account: a burst of one second of the quota, then the quota per second", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.make({ quotas: quotas(10), perStreamPutsPerSecond: null })
      const times = yield* starts(limiter, 30)
      expect(within(times, 0, 1)).toBe(10) // the burst
      expect(Math.max(...times)).toBe(2000) // 20 more at 10/s
      // at the limit: 20 requests in (0, 2000] and not one more
      expect(within(times, 1, 2001)).toBe(20)
      expect(within(times, 1, 1000)).toBe(9)
    }))

  it.effect("per account: the quota applies across destinations", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.make({ quotas: quotas(5), perStreamPutsPerSecond: null })
      const fiber = yield* Effect.fork(
        Effect.all([starts(limiter, 5, A, "putLogEvents", 0), starts(limiter, 5, B, "putLogEvents", 0)], {
          concurrency: "unbounded"
        })
      )
      yield* TestClock.adjust(5_000)
      const [a, b] = yield* Fiber.join(fiber)
      const all = [...a, ...b]
      expect(within(all, 0, 1)).toBe(5)
      expect(Math.max(...all)).toBe(1000)
    }))

  it.effect("the other operations have their own quotas (DescribeLogStreams 25/s)", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.make({ quotas: Limits.current.quotas, perStreamPutsPerSecond: null })
      const describes = yield* starts(limiter, 50, A, "describeLogStreams")
      expect(within(describes, 0, 1)).toBe(25)
      expect(Math.max(...describes)).toBe(1000)
      // puts are not slowed by describes
      const puts = yield* starts(limiter, 100, A, "putLogEvents")
      expect(Math.max(...puts) - Math.min(...puts)).toBe(0)
    }))

  it.effect("legacy: 5 puts per second per stream, each stream on its own", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.layer().pipe(
        Layer.provide(Limits.layer(Limits.legacy)),
        Layer.build,
        Effect.map(Context.get(UploadRateLimiter.UploadRateLimiter)),
        Effect.scoped
      )
      const fiber = yield* Effect.fork(
        Effect.all([starts(limiter, 10, A, "putLogEvents", 0), starts(limiter, 3, B, "putLogEvents", 0)], {
          concurrency: "unbounded"
        })
      )
      yield* TestClock.adjust(5_000)
      const [a, b] = yield* Fiber.join(fiber)
      const base = Math.min(...a)
      expect(a.map((t) => t - base)).toEqual([0, 200, 400, 600, 800, 1000, 1200, 1400, 1600, 1800])
      // at the limit: 5 starts in any second, never 6
      for (let from = base; from < base + 2000; from += 100) expect(within(a, from, from + 1000)).toBeLessThanOrEqual(5)
      expect(b.map((t) => t - Math.min(...b))).toEqual([0, 200, 400])
      expect(yield* limiter.currentStreamRate(A)).toBe(5)
    }))

  it.effect("per-stream limit only for puts", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.make({ quotas: Limits.current.quotas, perStreamPutsPerSecond: 5 })
      const creates = yield* starts(limiter, 10, A, "createLogStream")
      expect(Math.max(...creates) - Math.min(...creates)).toBe(0)
    }))

  it.effect("throttling halves the allowed rate once per second of congestion; successes give it back", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.make({ quotas: quotas(100), perStreamPutsPerSecond: null })
      yield* limiter.throttled(A, "putLogEvents")
      expect(yield* limiter.currentRate("putLogEvents")).toBe(50)
      // a storm of throttles from requests already in flight is one congestion event
      yield* limiter.throttled(A, "putLogEvents")
      yield* limiter.throttled(B, "putLogEvents")
      expect(yield* limiter.currentRate("putLogEvents")).toBe(50)
      yield* TestClock.adjust(1000)
      yield* limiter.throttled(A, "putLogEvents")
      expect(yield* limiter.currentRate("putLogEvents")).toBe(25)
      // other operations are not affected
      expect(yield* limiter.currentRate("describeLogStreams")).toBe(25)
      for (let i = 0; i < 5; i++) yield* limiter.succeeded(A, "putLogEvents")
      expect(yield* limiter.currentRate("putLogEvents")).toBe(50)
      for (let i = 0; i < 100; i++) yield* limiter.succeeded(A, "putLogEvents")
      expect(yield* limiter.currentRate("putLogEvents")).toBe(100)
    }))

  it.effect("after throttling, requests wait at the lowered rate", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.make({ quotas: quotas(10), perStreamPutsPerSecond: null })
      yield* limiter.throttled(A, "putLogEvents")
      // what was saved up is dropped: the first request waits too
      const times = yield* starts(limiter, 5)
      expect(times).toEqual([200, 400, 600, 800, 1000])
    }))

  it.effect("the rate never goes below its floor", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.make({ quotas: quotas(5), perStreamPutsPerSecond: null })
      for (let i = 0; i < 50; i++) {
        yield* limiter.throttled(A, "putLogEvents")
        yield* TestClock.adjust(1000)
      }
      expect(yield* limiter.currentRate("putLogEvents")).toBe(0.2)
    }))

  it.effect("requests given up while they wait for a permit leave no debt: the next starts at once, at the quota", () =>
    Effect.gen(function*() {
      // CreateLogStream: 50/s, a burst of one second
      const limiter = yield* UploadRateLimiter.make({ quotas: Limits.current.quotas, perStreamPutsPerSecond: null })
      // 50 take the burst, 450 queue behind them (9 s of debt) and are given up (a drain deadline, a timeout)
      const queued = yield* Effect.fork(starts(limiter, 500, A, "createLogStream", 60_000))
      yield* TestClock.adjust(0)
      yield* Fiber.interrupt(queued)
      // a second later the bucket is full again: 50 start at once, then 50 per second, as on a fresh limiter
      yield* TestClock.adjust(1000)
      const start = yield* Clock.currentTimeMillis
      const times = (yield* starts(limiter, 100, A, "createLogStream")).map((t) => t - start)
      expect(within(times, 0, 1)).toBe(50)
      expect(Math.max(...times)).toBe(1000)
    }))

  it.effect("a put given up while it waits for the account's permit gives its stream's token back too", () =>
    Effect.gen(function*() {
      // PutLogEvents: 10/s for the account (a burst of 10), 5/s per stream (a burst of 1)
      const limiter = yield* UploadRateLimiter.make({
        quotas: { ...Limits.current.quotas, putLogEvents: 10 },
        perStreamPutsPerSecond: 5
      })
      // ten other streams spend the account's burst, at once
      for (let i = 0; i < 10; i++) {
        yield* limiter.withPermit(Destination.make("g", `b-${i}`), "putLogEvents")(Effect.void)
      }
      const a = Destination.make("g", "a")
      // stream a's put takes its stream's token at once, then waits 100 ms for the account: given up
      const given = yield* Effect.fork(limiter.withPermit(a, "putLogEvents")(Effect.void))
      yield* TestClock.adjust(0)
      expect(given.unsafePoll()).toBeNull()
      yield* Fiber.interrupt(given)
      // 100 ms later the account has a token again, and stream a never sent its put: the next starts at
      // once (before: it waited 100 ms more for the stream's token)
      yield* TestClock.adjust(100)
      const start = yield* Clock.currentTimeMillis
      const next = yield* Effect.fork(limiter.withPermit(a, "putLogEvents")(Clock.currentTimeMillis))
      yield* TestClock.adjust(1000)
      expect((yield* Fiber.join(next)) - start).toBe(0)
    }))

  it.effect("a TestClock at a fraction of a millisecond (after a jittered sleep) is a time like any", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.make({ quotas: Limits.current.quotas, perStreamPutsPerSecond: 5 })
      // before: the TestClock's currentTimeNanos threw ("cannot be converted to a BigInt"), and every
      // upload of an app's test died after its first jittered retry
      // 0.1 + 0.2 ms: 300000.00000000006 ns, no whole number
      yield* TestClock.adjust(Duration.millis(0.1))
      yield* TestClock.adjust(Duration.millis(0.2))
      const a = Destination.make("g", "a")
      expect(yield* limiter.withPermit(a, "putLogEvents")(Effect.succeed("sent"))).toBe("sent")
      yield* limiter.throttled(a, "putLogEvents")
      yield* limiter.succeeded(a, "putLogEvents")
    }))

  it.effect("legacy per-stream rate: a process writing to ever new streams keeps no bucket for each", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.make({ quotas: Limits.current.quotas, perStreamPutsPerSecond: 5 })
      const put = (i: number) =>
        limiter.withPermit(Destination.make("churn", `stream-${i}`), "putLogEvents")(Effect.void)
      for (let i = 0; i < 1_000; i++) yield* put(i)
      yield* TestClock.adjust(1_000)
      const before = heapUsed()
      // 100,000 streams that come and go, a put each, a second apart in groups (the account's quota)
      for (let i = 1_000; i < 101_000; i++) {
        yield* put(i)
        if (i % 4_000 === 0) yield* TestClock.adjust(1_000)
      }
      yield* TestClock.adjust(1_000)
      const perStream = (heapUsed() - before) / 100_000
      // before: ~150-250 bytes per stream ever written, for the life of the process (the default limiter
      // is process-wide); a bucket back to full is the same as none
      expect(perStream).toBeLessThan(20)
      // and a stream coming back still keeps to its rate
      const a = Destination.make("churn", "stream-5")
      const starts: Array<number> = []
      const fiber = yield* Effect.fork(
        Effect.forEach(
          [1, 2, 3],
          () =>
            limiter.withPermit(a, "putLogEvents")(
              Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => starts.push(t)))
            )
        )
      )
      yield* TestClock.adjust(2_000)
      yield* Fiber.join(fiber)
      expect(starts[2]! - starts[0]!).toBeGreaterThanOrEqual(400)
    }))

  it.effect("legacy per-stream rate: puts given up while they wait do not hold the stream back", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.make({ quotas: Limits.current.quotas, perStreamPutsPerSecond: 5 })
      const queued = yield* Effect.fork(starts(limiter, 50, A, "putLogEvents", 60_000))
      yield* TestClock.adjust(0)
      yield* Fiber.interrupt(queued)
      yield* TestClock.adjust(1000)
      const start = yield* Clock.currentTimeMillis
      const times = (yield* starts(limiter, 3)).map((t) => t - start)
      expect(times).toEqual([0, 200, 400])
    }))

  it.effect("a wall clock set back (NTP) does not stall requests made under the quota", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 0, 15, 12, 0, 0))
      const limiter = yield* UploadRateLimiter.make({ quotas: quotas(10), perStreamPutsPerSecond: null })
      yield* TestClock.setTime(Date.UTC(2026, 0, 15, 11, 0, 0))
      // 5 requests a second (half the quota) for a minute: none waits
      const issued: Array<readonly [number, Fiber.RuntimeFiber<number>]> = []
      for (let i = 0; i < 300; i++) {
        const before = yield* Clock.currentTimeMillis
        issued.push([before, yield* Effect.fork(limiter.withPermit(A, "putLogEvents")(Clock.currentTimeMillis))])
        yield* TestClock.adjust(200)
      }
      yield* TestClock.adjust(3_600_000)
      for (const [before, fiber] of issued) expect((yield* Fiber.join(fiber)) - before).toBe(0)
    }))

  it.effect("options: quotas and AIMD factors", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.make({
        quotas: quotas(1000),
        perStreamPutsPerSecond: null,
        decreaseFactor: 0.9,
        increaseFraction: 0.01
      })
      yield* limiter.throttled(A, "putLogEvents")
      expect(yield* limiter.currentRate("putLogEvents")).toBe(900)
      yield* limiter.succeeded(A, "putLogEvents")
      expect(yield* limiter.currentRate("putLogEvents")).toBe(910)
    }))

  it.effect("layer() takes today's quotas from Limits by default, and options override them", () =>
    Effect.gen(function*() {
      const build = (layer: Layer.Layer<UploadRateLimiter.UploadRateLimiter>) =>
        layer.pipe(Layer.build, Effect.map(Context.get(UploadRateLimiter.UploadRateLimiter)), Effect.scoped)
      const today = yield* build(UploadRateLimiter.layer())
      expect(yield* today.currentRate("putLogEvents")).toBe(5000)
      expect(yield* today.currentStreamRate(A)).toBe(Infinity)
      const custom = yield* build(UploadRateLimiter.layer({ quotas: { putLogEvents: 7 }, perStreamPutsPerSecond: 2 }))
      expect(yield* custom.currentRate("putLogEvents")).toBe(7)
      expect(yield* custom.currentRate("createLogGroup")).toBe(10)
      expect(yield* custom.currentStreamRate(A)).toBe(2)
    }))

  it.effect("layerUnlimited never waits", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.UploadRateLimiter.pipe(Effect.provide(UploadRateLimiter.layerUnlimited))
      const times = yield* starts(limiter, 1_000, A, "putLogEvents", 0)
      expect(Math.max(...times)).toBe(0)
    }))

  it.effect("layerConfig reads quotas from configuration", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.UploadRateLimiter.pipe(
        Effect.provide(
          UploadRateLimiter.layerConfig({
            quotas: { putLogEvents: Config.number("PUT_TPS") },
            perStreamPutsPerSecond: Config.number("STREAM_TPS")
          })
        ),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["PUT_TPS", "50"], ["STREAM_TPS", "5"]])))
      )
      expect(yield* limiter.currentRate("putLogEvents")).toBe(50)
      expect(yield* limiter.currentRate("describeLogStreams")).toBe(25)
      expect(yield* limiter.currentStreamRate(A)).toBe(5)
    }))

  it.effect("tuning out of range is refused: a defect from layer, a ConfigError from layerConfig", () =>
    Effect.gen(function*() {
      const invalid: ReadonlyArray<readonly [UploadRateLimiter.Options, RegExp]> = [
        [{ decreaseFactor: 2 }, /decreaseFactor must be between 0 and 1/],
        [{ decreaseFactor: 0 }, /decreaseFactor/],
        [{ increaseFraction: -0.5 }, /increaseFraction must be more than 0 and at most 1/],
        [{ minFraction: 1.5 }, /minFraction/],
        [{ burstSeconds: 0 }, /burstSeconds/],
        [{ quotas: { putLogEvents: 0 } }, /quotas.putLogEvents must be more than zero/],
        [{ perStreamPutsPerSecond: 0 }, /perStreamPutsPerSecond must be more than zero, or null for none/],
        [{ quotas: { describeLogStreams: Number.NaN } }, /quotas.describeLogStreams/]
      ]
      for (const [options, message] of invalid) {
        const exit = yield* Effect.exit(
          Effect.provide(UploadRateLimiter.UploadRateLimiter, UploadRateLimiter.layer(options))
        )
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toMatch(message)
      }
      const fromConfig = yield* Effect.flip(
        Effect.provide(
          UploadRateLimiter.UploadRateLimiter,
          UploadRateLimiter.layerConfig({ decreaseFactor: Config.number("FACTOR") })
        ).pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["FACTOR", "2"]]))))
      )
      expect(ConfigError.isConfigError(fromConfig) && String(fromConfig)).toMatch(/decreaseFactor must be/)
      // the edges are fine: none per stream, an unlimited quota, a floor of 0, a full step back up
      const limiter = yield* Effect.provide(
        UploadRateLimiter.UploadRateLimiter,
        UploadRateLimiter.layer({
          perStreamPutsPerSecond: null,
          quotas: { putLogEvents: Number.POSITIVE_INFINITY },
          minFraction: 0,
          increaseFraction: 1
        })
      )
      expect(yield* limiter.currentRate("putLogEvents")).toBe(Number.POSITIVE_INFINITY)
    }))
})
