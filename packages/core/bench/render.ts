/**
 * The logger's renderer on a large value: `Effect.log` of an array of plain rows (over 256 objects, so
 * the careful path, not `JSON.stringify` alone). Prints ns per row, best of the rounds, for the renderer
 * as it was (kept below: every object looked up in an array of all those seen, quadratic), the renderer
 * now (the path of ancestors only, linear) and `JSON.stringify` of the rows alone; then ns per line of
 * a small line that takes the careful path (no slower than before).
 *
 * Measured on the 2-core development machine, three runs (ns per row, best of 7; 2 at 60k and 100k for
 * the old one): 1,000 rows old 690–1,300 / new 580–1,100 / JSON.stringify 200–370; 10,000 rows
 * 1,800–4,400 / 520–940 / 220–340; 60,000 rows 8,300–12,500 / 610–1,130 / 220–390; 100,000 rows
 * 13,900–31,000 / 630–1,180 / 230–370, that is 1.4–3.1 s a line before and 63–118 ms now. The small
 * line: 4.7–5.5 µs, old and new alike.
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
import { documentOf, isPlainData, render } from "../src/internal/logger.js"

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

/** The renderer as it was: the same document, then the old careful path. */
const oldRender = (options: Logger.Logger.Options<unknown>): string => {
  const doc = documentOf(options)
  return isPlainData(doc) ? JSON.stringify(doc) : oldStringifyCareful(doc)
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
  render(warm)
  JSON.stringify(warm.message)
}

const table: Array<Record<string, string>> = []
for (const n of SIZES) {
  const message = options([rows(n)]) // Effect.log(rows): the message is the array of arguments
  if (render(message) !== oldRender(message)) throw new Error("old and new lines differ")
  // the old renderer is quadratic: fewer rounds at the largest size
  const old = best(n, n > 10_000 ? Math.min(ROUNDS, 2) : ROUNDS, () => oldRender(message))
  const now = best(n, ROUNDS, () => render(message))
  const plain = best(n, ROUNDS, () => JSON.stringify(message.message))
  table.push({
    rows: n.toLocaleString("en"),
    "old ns/row": old.toFixed(0),
    "new ns/row": now.toFixed(0),
    "JSON.stringify ns/row": plain.toFixed(0),
    "old total ms": ((old * n) / 1e6).toFixed(1),
    "new total ms": ((now * n) / 1e6).toFixed(1)
  })
}
console.table(table)

// A small line that takes the careful path (a class instance), per line: the cost of the set beside
// the stack, where the old list of objects seen was short.
class Order {
  constructor(readonly id: number, readonly at: Date) {}
}
const small = options(["order placed", new Order(42, new Date(0)), { user: { id: 7, roles: ["a", "b"] } }])
if (render(small) !== oldRender(small)) throw new Error("old and new small lines differ")
const LINES = 200_000
const perLine = (f: () => string) =>
  best(LINES, ROUNDS, () => {
    let last = ""
    for (let i = 0; i < LINES; i++) last = f()
    return last
  })
console.table([{
  "small careful line": "ns/line",
  old: perLine(() => oldRender(small)).toFixed(0),
  new: perLine(() => render(small)).toFixed(0)
}])
