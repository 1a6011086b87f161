/**
 * The logger's renderer on a large value: `Effect.log` of an array of plain rows. Prints ns per row, best
 * of the rounds, for three renderers: the one before session 10 (rows over 256 objects took the careful
 * path, where every object was looked up in an array of all those seen: quadratic), the one of session 10
 * (the careful path tracks the path of ancestors only: linear), and the renderer now (`isPlainData` has
 * no cap on the objects it checks, so plain rows take `JSON.stringify`); and `JSON.stringify` of the rows
 * alone. Then ns per line of two small lines: one that takes the careful path (a class instance) and a
 * plain one (the usual log call), the session-10 renderer against now.
 *
 * Measured on the 2-core development machine, three runs (ns per row, best of 7; 2 at 60k and 100k for
 * the quadratic one): 1,000 rows quadratic 690–1,300 / linear 580–1,100 / JSON.stringify 200–370; 10,000
 * rows 1,800–4,400 / 520–940 / 220–340; 60,000 rows 8,300–12,500 / 610–1,130 / 220–390; 100,000 rows
 * 13,900–31,000 / 630–1,180 / 230–370, that is 1.4–3.1 s a line before and 63–118 ms in session 10. The
 * small careful line: 4.7–5.5 µs, both alike. Session 11 (the plain check without a cap): see
 * docs/benchmarks.md ("Rendering").
 *
 * Run: npx tsx packages/core/bench/render.ts [rounds=5] [sizes=1000,10000,100000]
 */
import * as Cause from "effect/Cause"
import * as FiberId from "effect/FiberId"
import * as FiberRefs from "effect/FiberRefs"
import * as HashMap from "effect/HashMap"
import * as Inspectable from "effect/Inspectable"
import * as List from "effect/List"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { documentOf, render, stringifyCareful } from "../src/internal/logger.js"

const ROUNDS = Number(process.argv[2] ?? 5)
const SIZES = (process.argv[3] ?? "1000,10000,100000").split(",").map(Number)

/** The careful path as it was: each object looked up in an array of every object seen (repeats dropped). */
const oldStringifyCareful = (doc: unknown): string => {
  const seen: Array<unknown> = []
  return JSON.stringify(doc, (_key, value: unknown) => {
    if (typeof value === "bigint") return value.toString()
    if (typeof value !== "object" || value === null) return value
    if (seen.includes(value)) return undefined
    seen.push(value)
    const redacted = Inspectable.redact(value)
    if (!(redacted instanceof Error) || "toJSON" in redacted) return redacted
    const cause: unknown = redacted.cause
    return {
      ...redacted,
      name: redacted.name,
      message: redacted.message,
      ...(cause !== undefined ? { cause } : {})
    }
  })
}

/** The plain-data check of session 10: at most 256 objects, each looked up in an array. */
const cappedIsPlainData = (root: unknown): boolean => {
  const seen: Array<object> = []
  const pending: Array<unknown> = [root]
  while (pending.length > 0) {
    const value = pending.pop()
    if (typeof value === "bigint") return false
    if (typeof value !== "object" || value === null) continue
    if (seen.length === 256 || seen.includes(value)) return false
    seen.push(value)
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) return false
      for (let i = 0; i < value.length; i++) pending.push(value[i])
      continue
    }
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) return false
    if (Inspectable.symbolRedactable in value || Object.hasOwn(value, "toJSON")) return false
    for (const v of Object.values(value)) pending.push(v)
  }
  return true
}

/** The renderer before session 10: the capped check, then the quadratic careful path. */
const oldRender = (options: Logger.Logger.Options<unknown>): string => {
  const doc = documentOf(options)
  return cappedIsPlainData(doc) ? JSON.stringify(doc) : oldStringifyCareful(doc)
}

/** The renderer of session 10: the capped check, then today's careful path. */
const session10Render = (options: Logger.Logger.Options<unknown>): string => {
  const doc = documentOf(options)
  return cappedIsPlainData(doc) ? JSON.stringify(doc) : stringifyCareful(doc)
}

const options = (message: unknown): Logger.Logger.Options<unknown> => ({
  fiberId: FiberId.make(1, 0),
  logLevel: LogLevel.Info,
  message,
  cause: Cause.empty,
  context: FiberRefs.empty(),
  spans: List.empty(),
  annotations: HashMap.empty(),
  date: new Date(0)
})

const rows = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: i, sku: `sku-${i}`, quantity: i % 7, price: i * 0.25, paid: i % 2 === 0 }))

/** Best time of the rounds, in ns per row. */
const best = (n: number, rounds: number, f: () => string): number => {
  let min = Number.POSITIVE_INFINITY
  for (let r = 0; r < rounds; r++) {
    const start = performance.now()
    f()
    min = Math.min(min, performance.now() - start)
  }
  return (min * 1e6) / n
}

// warm-up: every function compiled before the first size is measured
const warm = options([rows(1_000)])
for (let i = 0; i < 50; i++) {
  oldRender(warm)
  session10Render(warm)
  render(warm)
  JSON.stringify(warm.message)
}

const table: Array<Record<string, string>> = []
for (const n of SIZES) {
  const message = options([rows(n)]) // Effect.log(rows): the message is the array of arguments
  if (render(message) !== oldRender(message) || render(message) !== session10Render(message)) {
    throw new Error("the renderers' lines differ")
  }
  // the old renderer is quadratic: fewer rounds at the largest size
  const old = best(n, n > 10_000 ? Math.min(ROUNDS, 2) : ROUNDS, () => oldRender(message))
  const linear = best(n, ROUNDS, () => session10Render(message))
  const now = best(n, ROUNDS, () => render(message))
  const plain = best(n, ROUNDS, () => JSON.stringify(message.message))
  table.push({
    rows: n.toLocaleString("en"),
    "quadratic ns/row": old.toFixed(0),
    "session 10 ns/row": linear.toFixed(0),
    "now ns/row": now.toFixed(0),
    "JSON.stringify ns/row": plain.toFixed(0),
    "now total ms": ((now * n) / 1e6).toFixed(1)
  })
}
console.table(table)

// Two small lines, per line: one that takes the careful path (a class instance), and a plain one (the
// usual log call: the list of objects seen stays short, as before).
class Order {
  constructor(readonly id: number, readonly at: Date) {}
}
const small = options(["order placed", new Order(42, new Date(0)), { user: { id: 7, roles: ["a", "b"] } }])
const smallPlain = options(["order placed", { orderId: 42, user: { id: 7, roles: ["a", "b"] }, total: 12.5 }])
for (const o of [small, smallPlain]) {
  if (render(o) !== oldRender(o) || render(o) !== session10Render(o)) throw new Error("small lines differ")
}
const LINES = 200_000
const perLine = (f: () => string) =>
  best(LINES, ROUNDS, () => {
    let last = ""
    for (let i = 0; i < LINES; i++) last = f()
    return last
  })
console.table([
  {
    "small line": "careful, ns/line",
    "session 10": perLine(() => session10Render(small)).toFixed(0),
    now: perLine(() => render(small)).toFixed(0)
  },
  {
    "small line": "plain, ns/line",
    "session 10": perLine(() => session10Render(smallPlain)).toFixed(0),
    now: perLine(() => render(smallPlain)).toFixed(0)
  }
])
