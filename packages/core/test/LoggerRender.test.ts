/**
 * The logger's JSON lines take `JSON.stringify` when the data is plain (`isPlainData`), and a careful
 * path otherwise (`stringifyCareful`: Effect's `Inspectable.stringifyCircular`, plus `bigint`s): the two
 * must write the same line whenever the fast one is taken, and the careful one must be taken for
 * everything its replacer changes. And a log call never throws, whatever it is given.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as FiberId from "effect/FiberId"
import * as FiberRefs from "effect/FiberRefs"
import * as HashMap from "effect/HashMap"
import * as Inspectable from "effect/Inspectable"
import * as List from "effect/List"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as fc from "fast-check"
import { isPlainData, render, stringifyCareful } from "../src/internal/logger.js"

const NOW = 1_700_000_000_000

const line = (message: unknown, annotations: HashMap.HashMap<string, unknown> = HashMap.empty()) =>
  render({
    fiberId: FiberId.make(7, NOW),
    logLevel: LogLevel.Info,
    message,
    cause: Cause.empty,
    context: FiberRefs.empty(),
    spans: List.empty(),
    annotations,
    date: new Date(NOW)
  })

/** JSON-like data, with the oddities `fc.anything` knows (dates, maps, boxed values, null prototypes...). */
const data = fc.anything({
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withBigInt: false
})

class Point {
  constructor(readonly x: number) {}
}

describe("the logger's fast path", () => {
  it("writes what stringifyCircular writes, whenever it is taken", () => {
    let taken = 0
    fc.assert(
      fc.property(data, (value) => {
        if (!isPlainData(value)) return
        taken++
        expect(JSON.stringify(value)).toBe(Inspectable.stringifyCircular(value))
      }),
      { numRuns: 2000 }
    )
    expect(taken).toBeGreaterThan(200)
  })

  it("is not taken for what the replacer changes: repeats, cycles, toJSON, classes, Redactable", () => {
    const shared = { a: 1 }
    const cycle: { self?: unknown } = {}
    cycle.self = cycle
    const redactable = { [Inspectable.symbolRedactable]: () => "redacted" }
    class Items extends Array<number> {}
    const huge = Array.from({ length: 300 }, (_, i) => ({ i }))
    for (
      const value of [
        [shared, shared],
        { x: shared, y: { z: shared } },
        cycle,
        { at: new Date(NOW) },
        { toJSON: () => "custom" },
        new Point(1),
        { secret: Redacted.make("hunter2") },
        Option.some(1),
        redactable,
        Items.from([1]),
        huge
      ]
    ) expect(isPlainData(value)).toBe(false)
    const plain = { a: [1, "b", null, { c: true }], d: Object.assign(Object.create(null), { e: 1 }), [Symbol("s")]: 1 }
    expect(isPlainData(plain)).toBe(true)
    expect(JSON.stringify(plain)).toBe(Inspectable.stringifyCircular(plain))
  })

  it("keeps the careful path's lines: repeats dropped, cycles cut, secrets redacted", () => {
    const shared = { orderId: 42 }
    expect(JSON.parse(line(["placed", shared, shared])).message).toEqual(["placed", { orderId: 42 }, null])
    const cycle: { name: string; self?: unknown } = { name: "c" }
    cycle.self = cycle
    expect(JSON.parse(line(cycle)).message).toEqual({ name: "c" })
    expect(line({ password: Redacted.make("hunter2") })).not.toContain("hunter2")
    expect(JSON.parse(line("plain", HashMap.make(["user", { id: 1 }]))).annotations).toEqual({ user: { id: 1 } })
  })

  it("the careful path writes what stringifyCircular writes, for anything it can write", () => {
    fc.assert(
      fc.property(data, (value) => {
        expect(stringifyCareful(value)).toBe(Inspectable.stringifyCircular(value))
      }),
      { numRuns: 1000 }
    )
  })
})

describe("a log line is written whatever the log call is given", () => {
  it("never throws, and always writes one JSON document (bigints included)", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withSet: true, withDate: true }), (value) => {
        expect(() => JSON.parse(line(value, HashMap.make(["value", value])))).not.toThrow()
      }),
      { numRuns: 1000 }
    )
  })

  it("writes a bigint as its digits, where JSON.stringify throws", () => {
    expect(() => JSON.stringify({ n: 10n })).toThrow()
    const doc = JSON.parse(line({ n: 10n, list: [1n, 2] }, HashMap.make(["big", 12345678901234567890n])))
    expect(doc.message).toEqual({ n: "10", list: ["1", 2] })
    expect(doc.annotations).toEqual({ big: "12345678901234567890" })
    expect(isPlainData({ n: 10n })).toBe(false)
  })

  it("writes an Error as its name, message, own fields and cause, wherever it is (JSON.stringify writes {})", () => {
    expect(JSON.stringify(new Error("x"))).toBe("{}")
    const declined = Object.assign(new Error("card declined", { cause: new TypeError("bad cvc") }), { code: "E42" })
    const doc = JSON.parse(line(["payment failed", declined], HashMap.make(["error", new RangeError("too big")])))
    expect(doc.message).toEqual([
      "payment failed",
      { code: "E42", name: "Error", message: "card declined", cause: { name: "TypeError", message: "bad cvc" } }
    ])
    expect(doc.annotations).toEqual({ error: { name: "RangeError", message: "too big" } })
    // alone, and nested in data
    expect(JSON.parse(line(new Error("alone"))).message).toEqual({ name: "Error", message: "alone" })
    expect(JSON.parse(line({ attempt: 2, error: new Error("nested") })).message).toEqual({
      attempt: 2,
      error: { name: "Error", message: "nested" }
    })
    // an error with a toJSON of its own writes that
    const own = Object.assign(new Error("own"), { toJSON: () => "custom" })
    expect(JSON.parse(line(own)).message).toBe("custom")
  })

  it("a value that cannot be read (a getter that throws) gives a line that says so, at the call's level and time", () => {
    const order = {
      get total(): number {
        throw new Error("not today")
      }
    }
    const doc = JSON.parse(line({ order }))
    expect(doc).toEqual({
      timestamp: new Date(NOW).toISOString(),
      level: "INFO",
      message: "[cwlogs: this log line could not be written as JSON: Error: not today]"
    })
  })
})
