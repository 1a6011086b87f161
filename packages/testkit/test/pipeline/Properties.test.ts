import {
  BatchValidator,
  CloudWatchLogs,
  Destination,
  Limits,
  LogEvent,
  RetryPolicy,
  ShipReport,
  UploadRateLimiter
} from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import * as fc from "fast-check"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"
import { onClock } from "./support.js"

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const HOUR = 60 * 60 * 1000
const DAY = 24 * HOUR
const dest = Destination.make("props", "s")

/** Small limits, so that random events cross every one of them often; and today's AWS limits. */
const small: Limits.LimitsShape = {
  ...Limits.current,
  maxEventBytes: 26 + 64,
  maxBatchBytes: 600,
  maxBatchEvents: 7
}

const message = (maxBytes: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: "grapheme", minLength: 0, maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 40 }) },
    {
      weight: 2,
      arbitrary: fc.string({ unit: fc.constantFrom("a", "é", "€", "😀", "\ud800", "\udfff"), maxLength: 80 })
    },
    // Around the largest message: at the limit, one byte past, several times past.
    {
      weight: 2,
      arbitrary: fc.tuple(
        fc.integer({ min: -2, max: 2 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom("x", "é", "😀")
      )
        .map(([delta, times, unit]) => {
          const bytes = LogEvent.utf8Bytes(unit)
          return unit.repeat(Math.max(1, Math.floor((maxBytes * times + delta) / bytes)))
        })
    }
  )

const event = (maxBytes: number) =>
  fc.record({
    timestamp: fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: NOW - 13 * DAY, max: NOW + HOUR }) },
      { weight: 1, arbitrary: fc.integer({ min: NOW - 16 * DAY, max: NOW + 3 * HOUR }) },
      { weight: 1, arbitrary: fc.constantFrom(NOW - 14 * DAY, NOW - 14 * DAY - 1, NOW + 2 * HOUR, NOW + 2 * HOUR + 1) }
    ),
    message: message(maxBytes)
  })

/** Ships `inputs` through the sink into a fresh model; returns the report and what the model stored. */
const ship = (inputs: ReadonlyArray<LogEvent.LogEvent>, limits: Limits.LimitsShape) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(NOW)
    const m = yield* TestCloudWatchLogs.TestCloudWatchLogs
    const report = yield* Stream.fromIterable(inputs).pipe(
      Stream.rechunk(5),
      Stream.run(CloudWatchLogs.sink(dest, { maxInFlight: 1 }))
    )
    const stored = yield* m.events(dest.logGroupName, dest.logStreamName)
    const calls = yield* m.calls
    return { report, stored, calls }
  }).pipe(
    Effect.provide(
      Layer.mergeAll(TestCloudWatchLogs.layer({ limits }), Limits.layer(limits), UploadRateLimiter.layerUnlimited)
    ),
    Effect.provide(TestContext.TestContext)
  )

const property = (limits: Limits.LimitsShape, maxEvents: number) =>
  fc.asyncProperty(fc.array(event(Limits.maxMessageBytes(limits)), { maxLength: maxEvents }), async (inputs) => {
    const { calls, report, stored } = await Effect.runPromise(ship(inputs, limits))
    // Every batch was accepted by the model: no rule broken, no call failed but for the missing stream.
    for (const c of calls) {
      if (c.operation === "PutLogEvents") expect(["Answered", "ResourceNotFoundException"]).toContain(c.outcome)
    }
    // Every input accounted for exactly once, by the reason the validator gives it.
    expect(ShipReport.total(report)).toBe(inputs.length)
    const rules = BatchValidator.rules(limits)
    const expectedRejected: Record<string, number> = {}
    const expectedByTimestamp = new Map<number, string>()
    let valid = 0
    let parts = 0
    for (const input of inputs) {
      const o = BatchValidator.check(input, NOW, rules)
      if (o._tag === "Rejected") {
        expectedRejected[o.reason] = (expectedRejected[o.reason] ?? 0) + 1
        continue
      }
      valid++
      parts += o._tag === "Split" ? o.parts.length : 1
      expectedByTimestamp.set(input.timestamp, (expectedByTimestamp.get(input.timestamp) ?? "") + input.message)
    }
    expect(report.accepted).toBe(valid)
    for (const reason of ShipReport.REASONS) expect(report.rejected[reason]).toBe(expectedRejected[reason] ?? 0)
    // What the model holds: each valid event, in parts that reassemble to it, in order.
    expect(stored.length).toBe(parts)
    const storedByTimestamp = new Map<number, string>()
    for (const e of stored) {
      expect(LogEvent.utf8Bytes(e.message)).toBeLessThanOrEqual(Limits.maxMessageBytes(limits))
      storedByTimestamp.set(e.timestamp, (storedByTimestamp.get(e.timestamp) ?? "") + e.message)
    }
    expect(storedByTimestamp.size).toBe(expectedByTimestamp.size)
    for (const [ts, text] of expectedByTimestamp) expect(storedByTimestamp.get(ts) === text).toBe(true)
  })

describe("batcher + validator + sink against the model (properties)", () => {
  it("small limits: every batch is accepted, every event accounted for once, splits reassemble", async () => {
    await fc.assert(property(small, 60), { numRuns: 150 })
  })

  it("today's AWS limits, with events around 1 MB", async () => {
    await fc.assert(property(Limits.current, 6), { numRuns: 12 })
  })

  it("legacy limits, with events around 256 KB", async () => {
    await fc.assert(property(Limits.legacy, 8), { numRuns: 12 })
  })
})

/**
 * Under faults (5xx, throttling, connection resets, answers lost after the batch was stored), with puts
 * in parallel and inputs that cross every rule (split, truncated by none, refused by the sink or by the
 * service): every input is accounted for once, whether the sink ends or fails, and `onStored` names each
 * input the sink is done with exactly once, as the object given, with the reason the report counts it
 * under, and never one it failed to deliver.
 */
const outcomes = { ended: 0, failed: 0, split: 0, refused: 0 }
const underFaults = fc.asyncProperty(
  fc.array(event(Limits.maxMessageBytes(small)), { minLength: 1, maxLength: 120 }),
  fc.record({
    unavailable: fc.constantFrom(0, 0.1, 0.3),
    throttle: fc.constantFrom(0, 0.1),
    reset: fc.constantFrom(0, 0.1),
    lostResponse: fc.constantFrom(0, 0.1, 0.3)
  }),
  // few retries make some runs fail, with batches stored before and after the failing one
  fc.constantFrom(0, 2, 8),
  fc.integer({ min: 1, max: 1_000 }),
  async (inputs, faults, retries, seed) => {
    const named = new Map<LogEvent.LogEvent, Array<string>>()
    const result = await Effect.runPromise(
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        return yield* onClock(Effect.either(
          Stream.fromIterable(inputs).pipe(
            Stream.rechunk(7),
            Stream.run(CloudWatchLogs.sink(dest, {
              onStored: (batch) =>
                Effect.sync(() => {
                  const reasons = new Map(batch.rejected.map((r) => [r.index, r.reason]))
                  batch.events.forEach((e, i) => named.set(e, [...(named.get(e) ?? []), reasons.get(i) ?? "stored"]))
                })
            }))
          )
        ))
      }).pipe(
        Effect.provide(Layer.mergeAll(
          TestCloudWatchLogs.layer({ faults, seed, sequenceTokens: "ignored", limits: small }),
          Limits.layer(small),
          UploadRateLimiter.layerUnlimited,
          RetryPolicy.layer({
            transient: RetryPolicy.backoff({ base: 10, cap: 100, retries }),
            throttled: RetryPolicy.backoff({ base: 10, cap: 100, retries })
          })
        )),
        Effect.provide(TestContext.TestContext)
      )
    )
    outcomes[Either.isRight(result) ? "ended" : "failed"]++
    const report = Either.isRight(result) ? result.right : result.left.report
    const undelivered = Either.isRight(result) ? [] : result.left.undelivered.flatMap((u) => u.events)
    if (report.split > 0) outcomes.split++
    if (ShipReport.rejectedTotal(report) > report.rejected.Failed) outcomes.refused++
    expect(ShipReport.total(report)).toBe(inputs.length)
    // the parts of a split event that were not delivered are handed back, not the event
    expect(undelivered.length).toBeGreaterThanOrEqual(report.rejected.Failed)
    const given = new Set(inputs)
    const byReason: Record<string, number> = {}
    for (const [event, reasons] of named) {
      expect(given.has(event)).toBe(true)
      expect(reasons.length).toBe(1)
      byReason[reasons[0]] = (byReason[reasons[0]] ?? 0) + 1
    }
    expect(byReason.stored ?? 0).toBe(report.accepted)
    for (const reason of ShipReport.REASONS) {
      if (reason !== "Failed") expect(byReason[reason] ?? 0).toBe(report.rejected[reason])
    }
    expect(named.size + report.rejected.Failed).toBe(inputs.length)
    for (const event of undelivered) expect(named.has(event)).toBe(false)
  }
)

describe("the sink under faults (properties)", () => {
  it("every input accounted for once; onStored names each input it is done with once, no undelivered one", async () => {
    await fc.assert(underFaults, { numRuns: 60 })
    // both ways of ending were taken, with events split and refused
    expect(outcomes.ended).toBeGreaterThan(0)
    expect(outcomes.failed).toBeGreaterThan(0)
    expect(outcomes.split).toBeGreaterThan(0)
    expect(outcomes.refused).toBeGreaterThan(0)
  })
})
