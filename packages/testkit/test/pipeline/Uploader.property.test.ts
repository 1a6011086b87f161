import { RetryPolicy } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as fc from "effect/FastCheck"
import { dest, G, inFlight, NOW, S, settle, setup } from "./UploaderHelpers.js"

/**
 * Budgets large enough that the faults below never exhaust them: every upload must end delivered. No
 * jitter: the TestClock stays on whole milliseconds, and so do the timestamps of the model's competing
 * writer (the model cannot page past a fractional timestamp; real timestamps are whole).
 */
const patient = RetryPolicy.make({
  transient: RetryPolicy.backoff({ base: "50 millis", cap: "1 second", retries: 60, jitter: false }),
  throttled: RetryPolicy.backoff({ base: "100 millis", cap: "2 seconds", retries: 60, jitter: false }),
  token: RetryPolicy.immediateThen(
    3,
    RetryPolicy.backoff({ base: "10 millis", cap: "200 millis", retries: 60, jitter: false })
  )
})

const probability = fc.double({ min: 0, max: 0.2, noNaN: true })

describe("Uploader: properties over seeds and fault mixes", () => {
  it.effect.prop(
    "every event stored, in order per producer; a copy only where reported; one put at a time when enforced",
    {
      seed: fc.integer({ min: 1, max: 1_000_000 }),
      enforced: fc.boolean(),
      mode: fc.constantFrom("auto" as const, "forced" as const),
      producers: fc.integer({ min: 1, max: 4 }),
      batches: fc.integer({ min: 1, max: 6 }),
      unavailable: probability,
      throttle: probability,
      lostResponse: probability,
      reset: fc.double({ min: 0, max: 0.1, noNaN: true }),
      competingWriter: probability
    },
    (p) =>
      Effect.gen(function*() {
        const flight = inFlight()
        const tokens = p.enforced ? "enforced" as const : "ignored" as const
        const { model, uploader } = yield* setup({
          model: {
            sequenceTokens: tokens,
            seed: p.seed,
            faults: {
              unavailable: p.unavailable,
              throttle: p.throttle,
              lostResponse: p.lostResponse,
              reset: p.reset,
              competingWriter: p.enforced ? p.competingWriter : 0,
              latencyMillis: 10
            }
          },
          uploader: { tokens: p.mode === "auto" ? "auto" : tokens },
          policy: patient,
          wrap: flight.wrap
        })
        let sent = 0
        let possibleDuplicates = 0
        const messages = (producer: number, b: number) =>
          Array.from({ length: 3 }, (_, i) => ({
            timestamp: NOW + (b * 3 + i) * 10 + producer,
            message: `p${producer}-b${b}-e${i}`
          }))
        yield* settle(
          Effect.forEach(
            Array.from({ length: p.producers }, (_, i) => i),
            (producer) =>
              Effect.forEach(
                Array.from({ length: p.batches }, (_, b) => b),
                (b) =>
                  Effect.map(uploader.upload(dest(), messages(producer, b)), (r) => {
                    sent += r.accepted
                    possibleDuplicates += r.possibleDuplicates
                  }),
                { discard: true }
              ),
            { concurrency: "unbounded", discard: true }
          ),
          50
        )
        const stored = (yield* model.events(G, S)).map((e) => e.message).filter((m) => m.startsWith("p"))
        expect(sent).toBe(p.producers * p.batches * 3)
        for (let producer = 0; producer < p.producers; producer++) {
          const firsts = [...new Set(stored.filter((m) => m.startsWith(`p${producer}-`)))]
          const expected = Array.from({ length: p.batches }, (_, b) => messages(producer, b).map((e) => e.message))
            .flat()
          // ordered per producer when enforced; in any order (by timestamp) when puts may overlap
          expect(p.enforced ? firsts : [...firsts].sort()).toEqual(p.enforced ? expected : [...expected].sort())
        }
        expect(stored.length - sent).toBeLessThanOrEqual(possibleDuplicates)
        // tokens enforced and known from the start: no copy at all, and none reported
        if (p.enforced && p.mode === "forced") {
          expect(stored.length).toBe(sent)
          expect(possibleDuplicates).toBe(0)
        }
        expect(yield* model.callCount("DescribeLogStreams")).toBe(0)
        if (p.enforced) expect(flight.max()).toBe(1)
        else {
          const calls = yield* model.calls
          expect(calls.filter((c) => c.outcome === "InvalidSequenceTokenException")).toHaveLength(0)
        }
      }),
    { fastCheck: { numRuns: 40 } }
  )
})
