/**
 * What the uploader's probe (a put without a token to a stream it wrote) proves, and a shared uploader's
 * releases of a destination while another user's uploads to it run.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { batch, dest, G, inFlight, NOW, S, settle, setup } from "./UploaderHelpers.js"

describe("Uploader: what the probe proves", () => {
  it.effect("a probe that meets a deleted stream and makes it again proves nothing (no parallel puts to an enforcing stream)", () =>
    Effect.gen(function*() {
      const counter = inFlight()
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced", faults: { latencyMillis: 50 } },
        wrap: counter.wrap
      })
      yield* settle(uploader.upload(dest(), batch("a", 2)))
      // the stream deleted: the next put (the probe, without a token) finds it missing, and makes it again
      yield* Effect.orDie(model.api.deleteLogStream({ logGroupName: G, logStreamName: S }))
      const second = yield* settle(uploader.upload(dest(), batch("b", 2, NOW + 10)))
      expect(second.accepted).toBe(2)
      // the probe's put, without a token, to the new (empty) stream was accepted: no sign tokens are ignored
      const more = yield* settle(Effect.all(
        Array.from({ length: 4 }, (_, i) => uploader.upload(dest(), batch(`c${i}`, 2, NOW + 20 + 10 * i))),
        { concurrency: "unbounded" }
      ))
      expect(more.every((r) => r.accepted === 2)).toBe(true)
      // before: taken as ignored, the four went in parallel without a token to a stream that enforces them
      expect(counter.max()).toBe(1)
      expect((yield* model.events(G, S)).map((e) => e.message)).toEqual([
        "b-0",
        "b-1",
        "c0-0",
        "c0-1",
        "c1-0",
        "c1-1",
        "c2-0",
        "c2-1",
        "c3-0",
        "c3-1"
      ])
    }))
})

describe("Uploader: releases under another user's uploads", () => {
  it.effect("releases while another user's uploads run and wait: one put at a time, in order, one token error (the probe)", () =>
    Effect.gen(function*() {
      const counter = inFlight()
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced", faults: { latencyMillis: 50 } },
        wrap: counter.wrap
      })
      const release = uploader.release
      if (release === undefined) return expect.fail("the uploader releases")
      yield* settle(uploader.upload(dest(), batch("a", 1)))
      // three uploads at once (one running, two waiting for the order lock), released between each start
      const fibers = []
      for (let i = 0; i < 3; i++) {
        fibers.push(yield* Effect.fork(uploader.upload(dest(), batch(`b${i}`, 1, NOW + 10 + i))))
        yield* Effect.yieldNow()
        yield* release(dest())
      }
      yield* settle(Effect.all(fibers.map((f) => f.await)))
      yield* settle(uploader.upload(dest(), batch("c", 1, NOW + 20)))
      yield* release(dest())
      expect(counter.max()).toBe(1)
      expect((yield* model.events(G, S)).map((e) => e.message)).toEqual(["a-0", "b0-0", "b1-0", "b2-0", "c-0"])
      const outcomes = (yield* model.calls).filter((c) => c.operation === "PutLogEvents").map((c) => c.outcome)
      expect(outcomes.filter((o) => o === "InvalidSequenceTokenException")).toHaveLength(1)
    }))
})
