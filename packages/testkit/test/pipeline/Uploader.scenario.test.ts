import { Limits, UploadRateLimiter } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"
import { dest, G, inFlight, NOW, S, settle, setup } from "./UploaderHelpers.js"

const PRODUCERS = 4
const BATCHES = 25
const PER_BATCH = 5

interface Totals {
  sent: number
  possibleDuplicates: number
  retries: number
}

/** PRODUCERS fibers, each putting BATCHES batches one after the other; returns what they were told. */
const produce = (
  upload: (producer: number, b: number) => Effect.Effect<{
    readonly accepted: number
    readonly possibleDuplicates: number
    readonly retries: number
  }, unknown>
) =>
  Effect.gen(function*() {
    const totals: Totals = { sent: 0, possibleDuplicates: 0, retries: 0 }
    yield* Effect.forEach(
      Array.from({ length: PRODUCERS }, (_, p) => p),
      (p) =>
        Effect.forEach(Array.from({ length: BATCHES }, (_, b) => b), (b) =>
          Effect.map(upload(p, b), (r) => {
            totals.sent += r.accepted
            totals.possibleDuplicates += r.possibleDuplicates
            totals.retries += r.retries
          }), { discard: true }),
      { concurrency: "unbounded", discard: true }
    )
    return totals
  })

const eventsOf = (p: number, b: number) =>
  Array.from({ length: PER_BATCH }, (_, i) => ({
    // every batch in time order per producer; producers interleave in time
    timestamp: NOW + (b * PER_BATCH + i) * 10 + p,
    message: `p${p}-b${b}-e${i}`
  }))

/** Per producer, the messages stored, in stream order (duplicates kept). */
const byProducer = (messages: ReadonlyArray<string>) => {
  const out = new Map<number, Array<string>>()
  for (const m of messages) {
    const match = /^p(\d+)-/.exec(m)
    if (match === null) continue
    const p = Number(match[1])
    const list = out.get(p) ?? []
    list.push(m)
    out.set(p, list)
  }
  return out
}

const expected = (p: number) => Array.from({ length: BATCHES }, (_, b) => eventsOf(p, b).map((e) => e.message)).flat()

const tokenErrorsWithoutToken = (calls: ReadonlyArray<TestCloudWatchLogs.Call>) =>
  calls.filter((c) => c.operation === "PutLogEvents" && c.outcome === "InvalidSequenceTokenException").length

describe("Uploader: several producers on one stream", () => {
  it.effect(
    "enforced tokens, a competing writer and faults: every event stored once, in order per producer, no DescribeLogStreams",
    () =>
      Effect.gen(function*() {
        const flight = inFlight()
        const limiter = yield* UploadRateLimiter.make({
          quotas: Limits.legacy.quotas,
          perStreamPutsPerSecond: Limits.legacy.perStreamPutsPerSecond ?? null
        })
        const { model, uploader } = yield* setup({
          model: {
            sequenceTokens: "enforced",
            seed: 7,
            faults: { unavailable: 0.05, throttle: 0.05, lostResponse: 0.05, competingWriter: 0.1, latencyMillis: 20 }
          },
          limiter,
          wrap: flight.wrap
        })
        const totals = yield* settle(produce((p, b) => uploader.upload(dest(), eventsOf(p, b))), 100)
        const calls = yield* model.calls
        const outcomes = new Map<string, number>()
        for (const c of calls) outcomes.set(c.outcome, (outcomes.get(c.outcome) ?? 0) + 1)
        // the faults did happen
        expect(outcomes.get("LostResponse") ?? 0).toBeGreaterThan(0)
        expect(outcomes.get("ThrottlingException") ?? 0).toBeGreaterThan(0)
        expect(outcomes.get("InvalidSequenceTokenException") ?? 0).toBeGreaterThan(0)
        expect(outcomes.get("DataAlreadyAcceptedException") ?? 0).toBeGreaterThan(0)
        const stored = (yield* model.events(G, S)).map((e) => e.message)
        const mine = byProducer(stored)
        // every event at least once, and in order per producer
        for (let p = 0; p < PRODUCERS; p++) {
          const firsts = [...new Set(mine.get(p) ?? [])]
          expect(firsts).toEqual(expected(p))
        }
        const ours = stored.filter((m) => m.startsWith("p")).length
        expect(totals.sent).toBe(PRODUCERS * BATCHES * PER_BATCH)
        // exactly once: a copy would have been reported as a possible duplicate
        expect(ours - totals.sent).toBeLessThanOrEqual(totals.possibleDuplicates)
        expect(ours).toBe(PRODUCERS * BATCHES * PER_BATCH)
        // one put at a time on an enforced stream
        expect(flight.max()).toBe(1)
        // every token error carried its token: never a DescribeLogStreams
        expect(tokenErrorsWithoutToken(calls)).toBeGreaterThan(0)
        expect(yield* model.callCount("DescribeLogStreams")).toBe(0)
      })
  )

  it.effect("tokens ignored, with faults: no token error, no DescribeLogStreams, puts overlap", () =>
    Effect.gen(function*() {
      const flight = inFlight()
      const { model, uploader } = yield* setup({
        model: {
          sequenceTokens: "ignored",
          seed: 11,
          faults: { unavailable: 0.05, throttle: 0.05, lostResponse: 0.05, latencyMillis: 50 }
        },
        limiter: yield* UploadRateLimiter.make({ quotas: Limits.current.quotas, perStreamPutsPerSecond: null }),
        wrap: flight.wrap
      })
      const totals = yield* settle(produce((p, b) => uploader.upload(dest(), eventsOf(p, b))), 10)
      const calls = yield* model.calls
      expect(calls.filter((c) => c.outcome === "InvalidSequenceTokenException")).toHaveLength(0)
      expect(calls.filter((c) => c.outcome === "DataAlreadyAcceptedException")).toHaveLength(0)
      expect(yield* model.callCount("DescribeLogStreams")).toBe(0)
      expect(flight.max()).toBeGreaterThan(1)
      const stored = (yield* model.events(G, S)).map((e) => e.message)
      const mine = byProducer(stored)
      for (let p = 0; p < PRODUCERS; p++) {
        expect([...new Set(mine.get(p) ?? [])].sort()).toEqual([...expected(p)].sort())
      }
      // each lost answer stored a copy, and every copy was reported (a 5xx is counted too: it may have stored)
      const lost = calls.filter((c) => c.operation === "PutLogEvents" && c.outcome === "LostResponse").length
      expect(lost).toBeGreaterThan(0)
      expect(totals.sent).toBe(PRODUCERS * BATCHES * PER_BATCH)
      expect(stored.length).toBe(totals.sent + lost * PER_BATCH)
      expect(stored.length - totals.sent).toBeLessThanOrEqual(totals.possibleDuplicates)
    }))

  it.effect("tokens ignored, forced: batches of one destination go out in parallel up to the limit", () =>
    Effect.gen(function*() {
      const flight = inFlight()
      const { uploader } = yield* setup({
        model: { sequenceTokens: "ignored", faults: { latencyMillis: 100 } },
        uploader: { tokens: "ignored", maxParallelPerDestination: 3 },
        wrap: flight.wrap
      })
      yield* settle(
        Effect.forEach(
          Array.from({ length: 9 }, (_, b) => b),
          (b) => uploader.upload(dest(), eventsOf(0, b)),
          { concurrency: "unbounded" }
        ),
        10
      )
      expect(flight.max()).toBe(3)
    }))

  it.effect("enforced, forced: concurrent uploads go one at a time in the order they were called", () =>
    Effect.gen(function*() {
      const flight = inFlight()
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced", faults: { latencyMillis: 30 } },
        uploader: { tokens: "enforced" },
        wrap: flight.wrap
      })
      yield* settle(
        Effect.forEach(
          Array.from({ length: 10 }, (_, b) => b),
          (b) => uploader.upload(dest(), eventsOf(0, b)),
          { concurrency: "unbounded" }
        ),
        10
      )
      expect(flight.max()).toBe(1)
      expect((yield* model.events(G, S)).map((e) => e.message)).toEqual(expected(0).slice(0, 10 * PER_BATCH))
      expect((yield* model.calls).filter((c) => c.outcome !== "Answered" && c.operation === "PutLogEvents"))
        .toHaveLength(0)
    }))
})
