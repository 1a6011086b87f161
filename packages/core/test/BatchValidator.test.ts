import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as TestClock from "effect/TestClock"
import * as fc from "fast-check"
import * as BatchValidator from "../src/BatchValidator.js"
import { flattenMessages } from "../src/internal/utf8.js"
import * as Limits from "../src/Limits.js"
import * as LogEvent from "../src/LogEvent.js"
import { isWellFormed } from "./support/utf16.js"

const HOUR = 60 * 60 * 1000
const DAY = 24 * HOUR
const NOW = 1_800_000_000_000

const rules = BatchValidator.rules(Limits.current)
const check = (input: unknown, r: BatchValidator.Rules = rules) => BatchValidator.check(input, NOW, r)
const reason = (input: unknown, r: BatchValidator.Rules = rules) => {
  const o = check(input, r)
  return o._tag === "Rejected" ? o.reason : o._tag
}

describe("BatchValidator", () => {
  it("accepts a plain event as is, with its UTF-8 size", () => {
    const o = check(LogEvent.make(NOW, "héllo"))
    expect(o).toEqual({ _tag: "Valid", event: { timestamp: NOW, message: "héllo" }, bytes: 6 })
  })

  it("rejects timestamps that are not finite non-negative integers", () => {
    for (const timestamp of [NaN, Infinity, -Infinity, -1, 1.5, "1800000000000", undefined, null]) {
      expect(reason({ timestamp, message: "m" })).toBe("InvalidTimestamp")
    }
    expect(reason({ message: "m" })).toBe("InvalidTimestamp")
  })

  it("rejects messages that are not strings, and inputs that are not objects", () => {
    for (const message of [42, null, undefined, { text: "m" }, ["m"]]) {
      expect(reason({ timestamp: NOW, message })).toBe("InvalidMessage")
    }
    for (const input of [null, undefined, "m", 42]) expect(reason(input)).toBe("InvalidMessage")
  })

  it("rejects an empty message, accepts one character", () => {
    expect(reason(LogEvent.make(NOW, ""))).toBe("Empty")
    expect(reason(LogEvent.make(NOW, " "))).toBe("Valid")
  })

  it("accepts an event exactly 14 days old, rejects it 1 ms older as TooOld", () => {
    expect(reason(LogEvent.make(NOW - 14 * DAY, "m"))).toBe("Valid")
    expect(reason(LogEvent.make(NOW - 14 * DAY - 1, "m"))).toBe("TooOld")
  })

  it("accepts an event exactly 2 hours ahead, rejects it 1 ms later as TooNew", () => {
    expect(reason(LogEvent.make(NOW + 2 * HOUR, "m"))).toBe("Valid")
    expect(reason(LogEvent.make(NOW + 2 * HOUR + 1, "m"))).toBe("TooNew")
  })

  it("rejects events older than a known retention as Expired, and TooOld past 14 days", () => {
    const r = BatchValidator.rules(Limits.current, { retentionInDays: 1 })
    expect(reason(LogEvent.make(NOW - DAY, "m"), r)).toBe("Valid")
    expect(reason(LogEvent.make(NOW - DAY - 1, "m"), r)).toBe("Expired")
    expect(reason(LogEvent.make(NOW - 14 * DAY - 1, "m"), r)).toBe("TooOld")
    const long = BatchValidator.rules(Limits.current, { retentionInDays: 30 })
    expect(reason(LogEvent.make(NOW - 14 * DAY, "m"), long)).toBe("Valid")
  })

  describe.each([
    ["current", Limits.current, 1_048_550],
    ["legacy", Limits.legacy, 262_118]
  ])("oversize with %s limits", (_name, limits, max) => {
    it(`keeps a message of exactly ${max} bytes whole`, () => {
      expect(Limits.maxMessageBytes(limits)).toBe(max)
      for (const oversize of ["split", "truncate", "drop"] as const) {
        const o = check(LogEvent.make(NOW, "a".repeat(max)), BatchValidator.rules(limits, { oversize }))
        expect(o._tag).toBe("Valid")
      }
    })

    it("splits a message one byte over into two parts that reassemble (default)", () => {
      const message = "a".repeat(max + 1)
      const o = check(LogEvent.make(NOW, message), BatchValidator.rules(limits))
      if (o._tag !== "Split") throw new Error(`expected Split, got ${o._tag}`)
      expect(o.parts.map((p) => p.message.length)).toEqual([max, 1])
      expect(o.bytes).toEqual([max, 1])
      expect(o.parts.every((p) => p.timestamp === NOW)).toBe(true)
      expect(o.parts.map((p) => p.message).join("")).toBe(message)
    })

    it("truncates a message one byte over, with a marker, within the limit", () => {
      const message = "a".repeat(max + 1)
      const o = check(LogEvent.make(NOW, message), BatchValidator.rules(limits, { oversize: "truncate" }))
      if (o._tag !== "Truncated") throw new Error(`expected Truncated, got ${o._tag}`)
      expect(o.bytes).toBe(LogEvent.utf8Bytes(o.event.message))
      expect(o.bytes).toBeLessThanOrEqual(max)
      const marker = BatchValidator.truncationMarker(o.removedBytes)
      expect(o.event.message.endsWith(marker)).toBe(true)
      const kept = o.event.message.slice(0, o.event.message.length - marker.length)
      expect(message.startsWith(kept)).toBe(true)
      expect(o.removedBytes).toBe(max + 1 - kept.length)
    })

    it("drops a message one byte over as Oversize", () => {
      const message = "a".repeat(max + 1)
      expect(reason(LogEvent.make(NOW, message), BatchValidator.rules(limits, { oversize: "drop" }))).toBe("Oversize")
    })
  })

  describe("a lowered maxBatchBytes (10,000): what fits alone in such a batch, 9,974 bytes", () => {
    const lowered = (oversize?: BatchValidator.OversizePolicy) =>
      BatchValidator.rules(Limits.current, { maxBatchBytes: 10_000, oversize })

    it("is the largest message: maxBatchBytes less the Limits' bytes per event, never above the service's", () => {
      expect(lowered().maxMessageBytes).toBe(9_974)
      // the overhead is the Limits' own, not a constant
      const heavier = { ...Limits.current, perEventOverheadBytes: 30 }
      expect(BatchValidator.rules(heavier, { maxBatchBytes: 10_000 }).maxMessageBytes).toBe(9_970)
      // not lowered, or lowered above the service's: the service's event limit
      expect(BatchValidator.rules(Limits.current, {}).maxMessageBytes).toBe(1_048_550)
      expect(BatchValidator.rules(Limits.current, { maxBatchBytes: 5_000_000 }).maxMessageBytes).toBe(1_048_550)
      expect(BatchValidator.rules(Limits.legacy, { maxBatchBytes: 500_000 }).maxMessageBytes).toBe(262_118)
      expect(BatchValidator.rules(Limits.legacy, { maxBatchBytes: 200_000 }).maxMessageBytes).toBe(199_974)
    })

    it("keeps a message of exactly 9,974 bytes whole, whatever the policy", () => {
      for (const oversize of ["split", "truncate", "drop"] as const) {
        expect(check(LogEvent.make(NOW, "a".repeat(9_974)), lowered(oversize))._tag).toBe("Valid")
      }
    })

    it("splits, truncates or drops a message one byte over, as at the service's limit", () => {
      const message = "a".repeat(9_975)
      const split = check(LogEvent.make(NOW, message), lowered())
      if (split._tag !== "Split") throw new Error(`expected Split, got ${split._tag}`)
      expect(split.bytes).toEqual([9_974, 1])
      expect(split.parts.map((p) => p.message).join("")).toBe(message)
      const truncated = check(LogEvent.make(NOW, message), lowered("truncate"))
      if (truncated._tag !== "Truncated") throw new Error(`expected Truncated, got ${truncated._tag}`)
      expect(truncated.bytes).toBeLessThanOrEqual(9_974)
      expect(truncated.event.message.endsWith(BatchValidator.truncationMarker(truncated.removedBytes))).toBe(true)
      expect(reason(LogEvent.make(NOW, message), lowered("drop"))).toBe("Oversize")
    })

    it("never cuts a multi-byte character: the limit (1 + 4k + 1) falls inside an emoji", () => {
      const message = "a" + "😀".repeat(2_494)
      const split = check(LogEvent.make(NOW, message), lowered())
      if (split._tag !== "Split") throw new Error(`expected Split, got ${split._tag}`)
      expect(split.bytes).toEqual([9_973, 4])
      expect(split.parts.every((p) => isWellFormed(p.message))).toBe(true)
      expect(split.parts.map((p) => p.message).join("")).toBe(message)
      const truncated = check(LogEvent.make(NOW, message), lowered("truncate"))
      if (truncated._tag !== "Truncated") throw new Error(`expected Truncated, got ${truncated._tag}`)
      expect(isWellFormed(truncated.event.message)).toBe(true)
      expect(truncated.bytes).toBeLessThanOrEqual(9_974)
    })

    it("at the smallest allowed (30), one character of 4 bytes fits and longer text is split by character", () => {
      const r = BatchValidator.rules(Limits.current, { maxBatchBytes: 30 })
      expect(r.maxMessageBytes).toBe(4)
      expect(reason(LogEvent.make(NOW, "😀"), r)).toBe("Valid")
      const split = check(LogEvent.make(NOW, "a😀é"), r)
      if (split._tag !== "Split") throw new Error(`expected Split, got ${split._tag}`)
      expect(split.parts.map((p) => p.message)).toEqual(["a", "😀", "é"])
    })

    it.effect("make refuses a maxBatchBytes below 30 (room for 26 bytes and one character) as a defect", () =>
      Effect.gen(function*() {
        for (const maxBatchBytes of [29, 26, 1, 0, -1, Number.NaN]) {
          const exit = yield* Effect.exit(BatchValidator.make({ maxBatchBytes }))
          expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
          expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain(
            `cwlogs: BatchValidator: maxBatchBytes must be at least 30`
          )
        }
        for (const maxBatchBytes of [30, 10_000, 5_000_000, Number.POSITIVE_INFINITY, undefined]) {
          const v = yield* BatchValidator.make({ maxBatchBytes })
          expect(v.rules.maxMessageBytes).toBe(maxBatchBytes === 30 ? 4 : maxBatchBytes === 10_000 ? 9_974 : 1_048_550)
        }
      }))
  })

  it("never splits inside a surrogate pair or a multi-byte character", () => {
    const max = Limits.maxMessageBytes(Limits.current)
    // One ASCII byte then 4-byte emoji: the limit (1,048,550 = 1 + 4k + 1) falls inside an emoji.
    const message = "a" + "😀".repeat(262_140)
    const o = check(LogEvent.make(NOW, message))
    if (o._tag !== "Split") throw new Error(`expected Split, got ${o._tag}`)
    for (const [i, p] of o.parts.entries()) {
      expect(isWellFormed(p.message)).toBe(true)
      expect(o.bytes[i]).toBe(Buffer.byteLength(p.message, "utf8"))
      expect(o.bytes[i]).toBeLessThanOrEqual(max)
    }
    expect(o.bytes[0]).toBe(max - 1)
    expect(o.parts.map((p) => p.message).join("")).toBe(message)
  })

  it("truncates multi-byte text without cutting a character", () => {
    const small = BatchValidator.rules({ ...Limits.current, maxEventBytes: 26 + 40 }, { oversize: "truncate" })
    const o = check(LogEvent.make(NOW, "€".repeat(30)), small)
    if (o._tag !== "Truncated") throw new Error(`expected Truncated, got ${o._tag}`)
    expect(isWellFormed(o.event.message)).toBe(true)
    expect(Buffer.byteLength(o.event.message, "utf8")).toBe(o.bytes)
    expect(o.bytes).toBeLessThanOrEqual(40)
    expect(o.event.message).toMatch(/^€+…\[truncated \d+ bytes\]$/)
    const kept = o.event.message.indexOf("…")
    expect(o.removedBytes).toBe(90 - kept * 3)
  })

  it("drops as Oversize what cannot be truncated or split at all", () => {
    const tiny = { ...Limits.current, maxEventBytes: 26 + 3 }
    expect(reason(LogEvent.make(NOW, "😀😀"), BatchValidator.rules(tiny))).toBe("Oversize")
    expect(reason(LogEvent.make(NOW, "abcdef"), BatchValidator.rules(tiny, { oversize: "truncate" }))).toBe("Oversize")
  })

  it("splits and truncates any text within the limit, and splits reassemble (property)", () => {
    const text = fc.oneof(
      fc.string({ unit: "binary", minLength: 1, maxLength: 200 }),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 200 }),
      fc.string({ unit: fc.constantFrom("a", "é", "€", "😀", "\ud800", "\udc00"), minLength: 1, maxLength: 200 })
    )
    fc.assert(
      fc.property(text, fc.integer({ min: 4, max: 120 }), (message, maxMessage) => {
        const limits = { ...Limits.current, maxEventBytes: 26 + maxMessage }
        const total = LogEvent.utf8Bytes(message)
        const split = check(LogEvent.make(NOW, message), BatchValidator.rules(limits))
        if (total <= maxMessage) {
          expect(split._tag).toBe("Valid")
          return
        }
        if (split._tag !== "Split") throw new Error(`expected Split, got ${split._tag}`)
        expect(split.parts.map((p) => p.message).join("")).toBe(message)
        expect(split.bytes.reduce((a, b) => a + b, 0)).toBe(total)
        for (const [i, p] of split.parts.entries()) {
          expect(p.message.length).toBeGreaterThan(0)
          expect(LogEvent.utf8Bytes(p.message)).toBe(split.bytes[i])
          expect(split.bytes[i]).toBeLessThanOrEqual(maxMessage)
          if (isWellFormed(message)) expect(isWellFormed(p.message)).toBe(true)
        }
        const truncated = check(LogEvent.make(NOW, message), BatchValidator.rules(limits, { oversize: "truncate" }))
        if (truncated._tag === "Truncated") {
          expect(LogEvent.utf8Bytes(truncated.event.message)).toBe(truncated.bytes)
          expect(truncated.bytes).toBeLessThanOrEqual(maxMessage)
        } else {
          // Only when the marker itself does not fit.
          expect(truncated).toEqual({ _tag: "Rejected", reason: "Oversize" })
          expect(LogEvent.utf8Bytes(BatchValidator.truncationMarker(total))).toBeGreaterThan(maxMessage - 4)
        }
      }),
      { numRuns: 500 }
    )
  })

  it.effect("validates a list at the Clock's time, accounting for every input exactly once", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const v = yield* BatchValidator.make({ oversize: "split" }).pipe(
        Effect.provide(Limits.layer({ ...Limits.current, maxEventBytes: 26 + 4 }))
      )
      const inputs: ReadonlyArray<unknown> = [
        LogEvent.make(NOW, "ok"),
        LogEvent.make(NOW, ""),
        LogEvent.make(NOW - 15 * DAY, "old"),
        LogEvent.make(NOW, "abcdefghij"),
        { timestamp: NOW, message: 1 },
        LogEvent.make(NOW + 3 * HOUR, "new")
      ]
      const result = yield* v.validate(inputs)
      expect(result.rejected.map((r) => [r.index, r.reason])).toEqual([
        [1, "Empty"],
        [2, "TooOld"],
        [4, "InvalidMessage"],
        [5, "TooNew"]
      ])
      expect(result.valid.map((p) => [p.index, p.part, p.parts, p.event.message])).toEqual([
        [0, 0, 1, "ok"],
        [3, 0, 3, "abcd"],
        [3, 1, 3, "efgh"],
        [3, 2, 3, "ij"]
      ])
      expect(result.split).toBe(1)
      const indexes = new Set([...result.rejected.map((r) => r.index), ...result.valid.map((p) => p.index)])
      expect(indexes.size).toBe(inputs.length)
    }))

  describe("checkValid (the allocation-free common path)", () => {
    const scratch = BatchValidator.makeScratch()
    const fast = (input: unknown, r: BatchValidator.Rules = rules) => BatchValidator.checkValid(input, NOW, r, scratch)

    it("passes the caller's event itself on, not a copy, with its UTF-8 size", () => {
      const event = LogEvent.make(NOW, "héllo")
      expect(fast(event)).toBe(true)
      expect(scratch.event).toBe(event)
      expect(scratch.bytes).toBe(6)
      const o = check(event)
      expect(o._tag === "Valid" && o.event).toBe(event)
    })

    it("answers false at every rule one step past its limit, and true at the limit", () => {
      const max = Limits.maxMessageBytes(Limits.current)
      const retention = BatchValidator.rules(Limits.current, { retentionInDays: 1 })
      const cases: ReadonlyArray<readonly [unknown, boolean, BatchValidator.Rules?]> = [
        [LogEvent.make(NOW, "x".repeat(max)), true],
        [LogEvent.make(NOW, "x".repeat(max + 1)), false],
        [LogEvent.make(NOW - 14 * DAY, "m"), true],
        [LogEvent.make(NOW - 14 * DAY - 1, "m"), false],
        [LogEvent.make(NOW + 2 * HOUR, "m"), true],
        [LogEvent.make(NOW + 2 * HOUR + 1, "m"), false],
        [LogEvent.make(NOW - DAY, "m"), true, retention],
        [LogEvent.make(NOW - DAY - 1, "m"), false, retention],
        [LogEvent.make(NOW, ""), false],
        [LogEvent.make(NOW, " "), true],
        [{ timestamp: NOW + 0.5, message: "m" }, false],
        [{ timestamp: -1, message: "m" }, false],
        [{ timestamp: NOW, message: 1 }, false],
        [null, false],
        ["m", false]
      ]
      for (const [input, expected, r] of cases) {
        expect(fast(input, r)).toBe(expected)
        // it agrees with `check`: true exactly when the outcome is Valid with the same event
        const o = check(input, r)
        expect(o._tag === "Valid" && o.event === input).toBe(expected)
      }
    })

    it("a getter answering differently the second time gets a copy of what was checked, not the object", () => {
      let reads = 0
      const input = {
        timestamp: NOW,
        get message() {
          reads++
          return `read ${reads}`
        }
      }
      expect(fast(input)).toBe(false)
      const o = check(input)
      expect(o._tag).toBe("Valid")
      expect(o._tag === "Valid" && o.event !== input && typeof o.event.message === "string").toBe(true)
    })

    it("fields that cannot be read (a getter or a Proxy that throws) are refused as InvalidMessage, not thrown", () => {
      const boom = () => {
        throw new Error("unreadable")
      }
      const inputs: ReadonlyArray<unknown> = [
        {
          timestamp: NOW,
          get message() {
            return boom()
          }
        },
        {
          get timestamp() {
            return boom()
          },
          message: "m"
        },
        new Proxy({ timestamp: NOW, message: "m" }, { get: boom }),
        new Proxy({ timestamp: NOW, message: "m" }, { has: boom, get: boom })
      ]
      for (const input of inputs) {
        expect(fast(input)).toBe(false)
        expect(check(input)).toEqual({ _tag: "Rejected", reason: "InvalidMessage" })
        // the messages around it are read all the same (and its own, when that one can be)
        expect(flattenMessages([LogEvent.make(NOW, "a"), input, LogEvent.make(NOW, "b")])).toBeGreaterThanOrEqual(2)
      }
    })

    it("agrees with check on any input (property)", () => {
      const input = fc.oneof(
        fc.record({
          timestamp: fc.oneof(fc.integer({ min: NOW - 15 * DAY, max: NOW + 3 * HOUR }), fc.double()),
          message: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(""), fc.integer())
        }),
        fc.anything()
      )
      fc.assert(
        fc.property(input, (i) => {
          const o = check(i)
          expect(fast(i)).toBe(o._tag === "Valid" && o.event === i)
          if (o._tag === "Valid" && o.event === i) expect(scratch.bytes).toBe(o.bytes)
        }),
        { numRuns: 500 }
      )
    })
  })
})
