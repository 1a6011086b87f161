/**
 * The logger's JSON lines take `JSON.stringify` when the data is plain (`isPlainData`), and a careful
 * path otherwise (`stringifyCareful`: Effect's `Inspectable.stringifyCircular`, plus `bigint`s and
 * errors, cutting only true cycles where `stringifyCircular` drops every repeat, and repeats past a budget
 * written as a marker, so a graph of shared objects takes linear time): the two must write the
 * same line whenever the fast one is taken, and the careful one must be taken for everything its replacer
 * changes. And a log call never throws, whatever it is given.
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
import { isPlainData, render, REPEAT_BUDGET, REPEATED, stringifyCareful } from "../src/internal/logger.js"

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

/** The same without maps and sets, which the careful path writes by their contents (Effect's as `{}`). */
const dataWithoutCollections = fc.anything({
  withBoxedValues: true,
  withDate: true,
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

  it("is not taken for what the replacer changes (cycles, toJSON, classes, Redactable) nor for repeats", () => {
    // a repeat is written alike by both paths; `isPlainData` cannot tell it from a cycle without a path
    const shared = { a: 1 }
    const cycle: { self?: unknown } = {}
    cycle.self = cycle
    const redactable = { [Inspectable.symbolRedactable]: () => "redacted" }
    class Items extends Array<number> {}
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
        Items.from([1])
      ]
    ) expect(isPlainData(value)).toBe(false)
    const plain = { a: [1, "b", null, { c: true }], d: Object.assign(Object.create(null), { e: 1 }), [Symbol("s")]: 1 }
    expect(isPlainData(plain)).toBe(true)
    expect(JSON.stringify(plain)).toBe(Inspectable.stringifyCircular(plain))
  })

  it("is taken for plain data of any size, and still sees a repeat or a class far into it", () => {
    // before, past 256 objects the careful path was taken whatever the data
    const rows = Array.from({ length: 5_000 }, (_, i) => ({ i, sku: `sku-${i}`, tags: [i % 3] }))
    expect(isPlainData(rows)).toBe(true)
    expect(JSON.stringify(rows)).toBe(Inspectable.stringifyCircular(rows))
    // past the few objects kept in a list, in the set: a repeat, a cycle, a class instance deep in
    expect(isPlainData([...rows, rows[4_000]])).toBe(false)
    const cyclic: Array<unknown> = [...rows]
    cyclic.push({ back: cyclic })
    expect(isPlainData(cyclic)).toBe(false)
    expect(isPlainData([...rows, { at: new Point(1) }])).toBe(false)
    // and the line is the careful path's, repeats written in full
    const repeated = [...rows.slice(0, 100), rows[60]]
    expect(JSON.parse(line(repeated)).message).toEqual(repeated)
  })

  it("keeps the careful path's lines: repeats written, cycles cut, secrets redacted", () => {
    const shared = { orderId: 42 }
    expect(JSON.parse(line(["placed", shared, shared])).message).toEqual(["placed", { orderId: 42 }, { orderId: 42 }])
    const cycle: { name: string; self?: unknown } = { name: "c" }
    cycle.self = cycle
    expect(JSON.parse(line(cycle)).message).toEqual({ name: "c" })
    expect(line({ password: Redacted.make("hunter2") })).not.toContain("hunter2")
    expect(JSON.parse(line("plain", HashMap.make(["user", { id: 1 }]))).annotations).toEqual({ user: { id: 1 } })
  })

  it("the careful path writes what stringifyCircular writes, for anything without a repeated object, map or set", () => {
    fc.assert(
      fc.property(dataWithoutCollections, (value) => {
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

  it("writes an AggregateError's errors (not enumerable) as errors, cycles cut and repeats written as elsewhere", () => {
    // before, `errors` was lost: {"name":"AggregateError","message":"2 writes failed"}
    const failed = new AggregateError(
      [new Error("disk full"), new Error("timeout", { cause: "slow" })],
      "2 writes failed"
    )
    expect(JSON.parse(line(failed)).message).toEqual({
      name: "AggregateError",
      message: "2 writes failed",
      errors: [{ name: "Error", message: "disk full" }, { name: "Error", message: "timeout", cause: "slow" }]
    })
    // nested in data, with a cause of its own
    const nested = new AggregateError([new RangeError("a")], "batch", { cause: new Error("root") })
    expect(JSON.parse(line({ attempt: 1, error: nested })).message).toEqual({
      attempt: 1,
      error: {
        name: "AggregateError",
        message: "batch",
        errors: [{ name: "RangeError", message: "a" }],
        cause: { name: "Error", message: "root" }
      }
    })
    // an aggregate among its own errors is a cycle: null in the array; an error aggregated twice is written twice
    const once = new Error("once")
    const loop = new AggregateError([once, once], "loop")
    loop.errors.push(loop)
    expect(JSON.parse(line(loop)).message).toEqual({
      name: "AggregateError",
      message: "loop",
      errors: [{ name: "Error", message: "once" }, { name: "Error", message: "once" }, null]
    })
  })

  it("writes a Map by its entries (an object when every key is a string) and a Set by its values, not as {}", () => {
    const doc = JSON.parse(line({
      byName: new Map<string, unknown>([["alice", 1], ["__proto__", { polluted: true }]]),
      byId: new Map<unknown, string>([[1, "one"], [{ id: 2 }, "two"]]),
      tags: new Set(["a", new Set([1])]),
      nested: new Map([["inner", new Map([["deep", new Set([3])]])]])
    }))
    expect(doc.message).toEqual({
      byName: JSON.parse("{\"alice\":1,\"__proto__\":{\"polluted\":true}}"),
      byId: [[1, "one"], [{ id: 2 }, "two"]],
      tags: ["a", [1]],
      nested: { inner: { deep: [3] } }
    })
    expect(Object.getPrototypeOf(doc.message.byName)).toBe(Object.prototype)
    // a map holding itself: the cycle is cut where it closes, as for any object
    const self = new Map<string, unknown>([["name", "self"]])
    self.set("again", self)
    expect(JSON.parse(line(self)).message).toEqual({ name: "self" })
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

/** A reference serializer: the value as JSON data, an object that is its own ancestor left out (`null` in an array). */
const withoutCycles = (value: unknown, ancestors: ReadonlyArray<object> = []): unknown => {
  if (typeof value !== "object" || value === null) return value
  if (ancestors.includes(value)) return undefined
  const path = [...ancestors, value]
  if (Array.isArray(value)) return value.map((v) => withoutCycles(v, path) ?? null)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    const w = withoutCycles(v, path)
    if (w !== undefined) out[k] = w
  }
  return out
}

describe("repeats and cycles: only a true cycle is cut", () => {
  it("a repeated, non-circular object is written every time it is reached, wherever it is", () => {
    const shared = { orderId: 42, items: [{ sku: "a" }] }
    const doc = JSON.parse(line({ first: shared, list: [shared, { again: shared }] }, HashMap.make(["order", shared])))
    expect(doc.message).toEqual({ first: shared, list: [shared, { again: shared }] })
    expect(doc.annotations).toEqual({ order: shared })
    // the same error twice, and a diamond (two paths to one object) under a value that takes the careful path
    const error = new Error("once")
    const leaf = { n: 1n }
    const diamond = { left: { leaf }, right: { leaf } }
    expect(JSON.parse(line([error, error])).message).toEqual([
      { name: "Error", message: "once" },
      { name: "Error", message: "once" }
    ])
    expect(JSON.parse(stringifyCareful(diamond))).toEqual({ left: { leaf: { n: "1" } }, right: { leaf: { n: "1" } } })
    // as JSON.stringify writes it (it writes repeats too; it throws only on cycles)
    const repeated = { a: shared, b: [shared, shared] }
    expect(stringifyCareful(repeated)).toBe(JSON.stringify(repeated))
  })

  it("shared objects are written in linear time: past the line's budget of repeats, a repeat is a marker", () => {
    // 23 objects, each holding the next twice (no cycle): every repeat written in full was 2^22 leaves,
    // an 84 MB line (split into 80 events of JSON fragments), ~2 s of one synchronous log call
    let shared: Record<string, unknown> = {}
    for (let i = 0; i < 22; i++) shared = { left: shared, right: shared }
    expect(isPlainData({ config: shared })).toBe(false)
    const started = Date.now()
    const written = line({ config: shared })
    expect(Date.now() - started).toBeLessThan(1000)
    expect(written.length).toBeLessThan(2 * REPEAT_BUDGET)
    expect(written).toContain(JSON.stringify(REPEATED))
    // the first path down is written in full, the last repeat a marker
    let node: unknown = JSON.parse(written).message.config
    let depth = 0
    while (node !== null && typeof node === "object" && "left" in node && "right" in node) {
      depth++
      node = node.left
    }
    expect([depth, node]).toEqual([22, {}])
    expect(JSON.parse(written).message.config.right).toBe(REPEATED)
    // 1,000 levels: still a short line
    for (let i = 0; i < 978; i++) shared = { left: shared, right: shared }
    expect(line(shared).length).toBeLessThan(4 * REPEAT_BUDGET)
    // one object with a long text, reached 2,000 times: the repeats' text is charged too (it was a 20 MB line)
    const big = { text: "x".repeat(10_000), at: new Point(1) }
    const copies: Array<unknown> = JSON.parse(line(Array.from({ length: 2_000 }, () => big))).message
    const inFull = copies.filter((c) => c !== REPEATED)
    // the first, and repeats while within the budget (the last maybe in part: its `at` a marker)
    expect(JSON.stringify(copies[0]) === JSON.stringify({ text: big.text, at: { x: 1 } })).toBe(true)
    expect(inFull.length).toBeGreaterThan(1)
    expect(inFull.length).toBeLessThanOrEqual(REPEAT_BUDGET / 10_000 + 2)
  })

  it("shared objects that write themselves through a toJSON are held to the same budget", () => {
    // each node writes itself through toJSON (as domain classes and Effect's data types do), whose new
    // object the replacer had never seen: 20 of them, each holding the next twice, wrote 2^20 leaves
    class Node {
      constructor(readonly next: unknown) {}
      toJSON() {
        return { left: this.next, right: this.next }
      }
    }
    let shared: unknown = { leaf: 1 }
    for (let i = 0; i < 20; i++) shared = new Node(shared)
    const written = line({ config: shared })
    expect(written.length).toBeLessThan(4 * REPEAT_BUDGET)
    expect(written).toContain(REPEATED)
    // a toJSON holding its object again is a cycle, cut as any
    class Self {
      toJSON() {
        return { name: "self", again: this }
      }
    }
    expect(JSON.parse(stringifyCareful({ self: new Self() }))).toEqual({ self: { name: "self" } })
  })

  it("a cycle is cut where it closes: the property left out, null in an array, the rest written", () => {
    const self: { name: string; self?: unknown } = { name: "c" }
    self.self = self
    expect(stringifyCareful(self)).toBe(`{"name":"c"}`)
    const a: { name: string; b?: unknown } = { name: "a" }
    const b = { name: "b", back: a, list: [a, 1] }
    a.b = b
    expect(JSON.parse(stringifyCareful(a))).toEqual({ name: "a", b: { name: "b", list: [null, 1] } })
    // the object closing a cycle is also written in full where it is not its own ancestor
    const node: { id: number; next?: unknown } = { id: 1 }
    node.next = node
    expect(JSON.parse(stringifyCareful({ x: node, y: node }))).toEqual({ x: { id: 1 }, y: { id: 1 } })
    // an error that is its own cause
    const loop = new Error("loop")
    loop.cause = loop
    expect(JSON.parse(line(loop)).message).toEqual({ name: "Error", message: "loop" })
  })

  it("any graph of objects is written as the reference serializer writes it (property)", () => {
    // nodes with edges to any node, itself and its ancestors included: repeats, diamonds and cycles
    const graph = fc.integer({ min: 1, max: 6 }).chain((n) =>
      fc.array(fc.array(fc.integer({ min: 0, max: n - 1 }), { maxLength: 3 }), { minLength: n, maxLength: n })
    )
    fc.assert(
      fc.property(graph, fc.boolean(), (edges, asField) => {
        const nodes = edges.map((_, id): { id: number; kids: Array<unknown>; first?: unknown } => ({ id, kids: [] }))
        edges.forEach((targets, i) => {
          for (const t of targets) nodes[i].kids.push(nodes[t])
          if (asField && targets.length > 0) nodes[i].first = nodes[targets[0]]
        })
        expect(stringifyCareful(nodes[0])).toBe(JSON.stringify(withoutCycles(nodes[0])))
      }),
      { numRuns: 1000 }
    )
  })

  it("a deep nesting is written whole (2,000 levels), as JSON.stringify writes it; deeper, a line says so", () => {
    type Nested = { depth: number; child?: Nested; big?: bigint }
    const nested = (levels: number) => {
      const root: Nested = { depth: 0 }
      let at = root
      for (let depth = 1; depth < levels; depth++) {
        const child: Nested = { depth }
        at.child = child
        at = child
      }
      return { root, bottom: at }
    }
    const { bottom, root } = nested(2_000)
    expect(stringifyCareful(root)).toBe(JSON.stringify(root))
    // through the logger (a bigint at the bottom: the careful path), the line holds every level
    bottom.big = 7n
    const written = line(root)
    expect(written).toContain(`"depth":1999,"big":"7"`)
    const doc: unknown = JSON.parse(written)
    let levels = 0
    let node: unknown = doc !== null && typeof doc === "object" && "message" in doc ? doc.message : undefined
    while (node !== null && typeof node === "object" && "depth" in node && levels <= 2_000) {
      expect(node.depth).toBe(levels)
      levels++
      node = "child" in node ? node.child : undefined
    }
    expect(levels).toBe(2_000)
    // deeper than JSON.stringify itself can go (its own stack): a line that says so, not a throw
    const tooDeep = nested(100_000).root
    expect(() => JSON.stringify(tooDeep)).toThrow(RangeError)
    expect(JSON.parse(line(tooDeep)).message).toMatch(/^\[cwlogs: this log line could not be written as JSON: /)
  })
})
