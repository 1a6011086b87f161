import { describe, expect, it } from "@effect/vitest"
import { Faults } from "../src/internal/faults.js"
import * as Random from "../src/internal/random.js"

describe("the seeded PRNG", () => {
  it("gives the same sequence for a seed, in [0, 1), and another for another seed", () => {
    const draw = (seed: number) => {
      const r = Random.make(seed)
      return Array.from({ length: 1000 }, () => r.next())
    }
    const a = draw(7)
    expect(draw(7)).toEqual(a)
    expect(draw(8)).not.toEqual(a)
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true)
    const mean = a.reduce((s, x) => s + x, 0) / a.length
    expect(mean).toBeGreaterThan(0.45)
    expect(mean).toBeLessThan(0.55)
  })
})

describe("fault decisions", () => {
  it("follow the probabilities (exclusive failures, independent competing writer)", () => {
    const f = new Faults({ unavailable: 0.1, throttle: 0.2, lostResponse: 0.05, reset: 0.05, competingWriter: 0.3 }, 3)
    const counts: Record<string, number> = {}
    let competing = 0
    const n = 20_000
    for (let i = 0; i < n; i++) {
      const d = f.decide("PutLogEvents")
      const k = d.failure ?? "none"
      counts[k] = (counts[k] ?? 0) + 1
      if (d.competingWriter) competing++
    }
    const near = (k: string, p: number) => expect(Math.abs((counts[k] ?? 0) / n - p)).toBeLessThan(0.015)
    near("unavailable", 0.1)
    near("throttle", 0.2)
    near("lostResponse", 0.05)
    near("reset", 0.05)
    near("none", 0.6)
    expect(Math.abs(competing / n - 0.3)).toBeLessThan(0.015)
  })

  it("apply to PutLogEvents by default, to the listed operations when given", () => {
    const f = new Faults({ unavailable: 1 }, 1)
    expect(f.decide("PutLogEvents").failure).toBe("unavailable")
    expect(f.decide("DescribeLogStreams").failure).toBeUndefined()
    f.setOptions({ unavailable: 1, operations: ["DescribeLogStreams"] })
    expect(f.decide("PutLogEvents").failure).toBeUndefined()
    expect(f.decide("DescribeLogStreams").failure).toBe("unavailable")
  })

  it("a forced fault does not shift the random sequence of later calls", () => {
    const plain = new Faults({ unavailable: 0.5 }, 11)
    const forced = new Faults({ unavailable: 0.5 }, 11)
    forced.failNext(3, "reset", "PutLogEvents")
    const a = Array.from({ length: 50 }, () => plain.decide("PutLogEvents").failure)
    const b = Array.from({ length: 50 }, () => forced.decide("PutLogEvents").failure)
    expect(b.slice(0, 3)).toEqual(["reset", "reset", "reset"])
    expect(b.slice(3)).toEqual(a.slice(3))
  })

  it("latency: base plus a uniform jitter, both ends reachable", () => {
    const f = new Faults({ latencyMillis: 10, latencyJitterMillis: 3 }, 5)
    const seen = new Set<number>()
    for (let i = 0; i < 1000; i++) seen.add(f.decide("PutLogEvents").latencyMillis)
    expect([...seen].sort()).toEqual([10, 11, 12, 13])
  })

  it("the outage refuses every operation; reset restores the seed and the initial options", () => {
    const f = new Faults({ throttle: 0.5 }, 9)
    const first = Array.from({ length: 20 }, () => f.decide("PutLogEvents").failure)
    f.setOutage(true)
    expect(f.decide("GetLogEvents").refused).toBe(true)
    f.setOptions({})
    f.reset()
    expect(f.isOutage()).toBe(false)
    expect(Array.from({ length: 20 }, () => f.decide("PutLogEvents").failure)).toEqual(first)
  })
})
