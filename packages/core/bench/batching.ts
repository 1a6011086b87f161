/**
 * CPU cost per event of validation + batching, against the least work any shipper must do (measure each
 * message's UTF-8 size and append the event to an array), in the same run, as a ratio.
 *
 * Run: npx tsx packages/core/bench/batching.ts [events]
 */
import * as Batcher from "../src/Batcher.js"
import * as BatchValidator from "../src/BatchValidator.js"
import { utf8Length } from "../src/internal/utf8.js"
import * as Limits from "../src/Limits.js"
import type { LogEvent } from "../src/LogEvent.js"

const N = Number(process.argv[2] ?? 1_000_000)
const ROUNDS = Number(process.env.ROUNDS ?? 9)
const NOW = 1_800_000_000_000

const workloads: ReadonlyArray<{ readonly name: string; readonly make: (i: number) => LogEvent }> = [
  {
    name: "json ~160 B, in order",
    make: (i) => ({
      timestamp: NOW - N + i,
      message: `{"level":"info","msg":"request served","path":"/api/orders/${i}","status":200,"ms":${
        i % 997
      },"requestId":"${(i * 2654435761).toString(16)}"}`
    })
  },
  {
    name: "short 20 B, in order",
    make: (i) => ({ timestamp: NOW - N + i, message: `event number ${i}` })
  },
  {
    name: "multi-byte ~120 B, shuffled ±5 s",
    make: (i) => ({
      timestamp: NOW - N + i + ((i * 7919) % 10_000) - 5_000,
      message: `utilisateur « ${i} » a payé 12,50 € — ✓ reçu 😀 (${i % 13})`.repeat(2)
    })
  },
  {
    // Sparse: each batch's events scattered over an hour (old logs merged from several files, say), too
    // far apart for the counting sort.
    name: "multi-byte ~120 B, shuffled over 1 h",
    make: (i) => ({
      timestamp: NOW - 7_200_000 + ((i * 2654435761) % 3_600_000),
      message: `utilisateur « ${i} » a payé 12,50 € — ✓ reçu 😀 (${i % 13})`.repeat(2)
    })
  }
]

// The least work: size each message, append the event to an array. Two variants: one array for the whole
// run, and arrays of 10,000 (no growth of a huge array, closer to what batching allocates). The ratio is
// taken against the faster of the two.
const baselineOne = (events: ReadonlyArray<LogEvent>): number => {
  const out: Array<LogEvent> = []
  let bytes = 0
  for (let i = 0; i < events.length; i++) {
    const e = events[i]
    bytes += utf8Length(e.message)
    out.push(e)
  }
  return bytes + out.length
}

const baselineChunked = (events: ReadonlyArray<LogEvent>): number => {
  let out: Array<LogEvent> = []
  let bytes = 0
  let chunks = 0
  for (let i = 0; i < events.length; i++) {
    const e = events[i]
    bytes += utf8Length(e.message)
    out.push(e)
    if (out.length === 10_000) {
      out = []
      chunks++
    }
  }
  return bytes + chunks + out.length
}

const batcher = Batcher.unsafeMake(Limits.current)
const rules = BatchValidator.rules(Limits.current)

// What the engine's lane does per input (internal/shipper.ts `ingest`): the allocation-free fast path of
// the validator into a reused record, the column accumulator; the full outcome only for the others.
const scratch = BatchValidator.makeScratch()
const pipeline = (events: ReadonlyArray<LogEvent>): number => {
  const acc = batcher.eventAccumulator<{ readonly part: number }>()
  let batches = 0
  let rejected = 0
  for (let i = 0; i < events.length; i++) {
    const input = events[i]
    if (BatchValidator.checkValid(input, NOW, rules, scratch)) {
      batches += acc.add(scratch.event, scratch.bytes).length
      continue
    }
    const o = BatchValidator.check(input, NOW, rules)
    if (o._tag === "Valid" || o._tag === "Truncated") {
      batches += acc.add(o.event, o.bytes).length
    } else if (o._tag === "Split") {
      for (let p = 0; p < o.parts.length; p++) batches += acc.add(o.parts[p], o.bytes[p], { part: p }).length
    } else {
      rejected++
    }
  }
  batches += acc.flush().length
  return batches + rejected
}

const time = (f: () => number): number => {
  const start = process.hrtime.bigint()
  const sink = f()
  const ns = Number(process.hrtime.bigint() - start)
  if (sink < 0) console.log(sink)
  return ns
}

// The best of the rounds: on a shared machine, the other rounds measure the neighbours' load.
const best = (xs: Array<number>): number => Math.min(...xs)

const TARGET = 2
const rows: Array<Record<string, string | number>> = []
const verdicts: Array<string> = []
for (const w of workloads) {
  const events = Array.from({ length: N }, (_, i) => w.make(i))
  // Warm up every path.
  time(() => baselineOne(events))
  time(() => baselineChunked(events))
  time(() => pipeline(events))
  const b1: Array<number> = []
  const b2: Array<number> = []
  const p: Array<number> = []
  for (let r = 0; r < ROUNDS; r++) {
    b1.push(time(() => baselineOne(events)))
    b2.push(time(() => baselineChunked(events)))
    p.push(time(() => pipeline(events)))
  }
  const b1n = best(b1) / N
  const b2n = best(b2) / N
  const pn = best(p) / N
  const ratio = pn / Math.min(b1n, b2n)
  const ok = ratio <= TARGET
  rows.push({
    workload: w.name,
    "baseline: one array (ns/event)": Number(b1n.toFixed(1)),
    "baseline: arrays of 10k (ns/event)": Number(b2n.toFixed(1)),
    "validate+batch (ns/event)": Number(pn.toFixed(1)),
    "ratio (vs faster baseline)": Number(ratio.toFixed(2)),
    [`<= ${TARGET}x`]: ok ? "yes" : "NO"
  })
  verdicts.push(`${ok ? "ok  " : "FAIL"} ${w.name}: ${ratio.toFixed(2)}x (target <= ${TARGET}x)`)
}
console.log(`node ${process.version}, ${N} events per workload, best of ${ROUNDS} interleaved rounds`)
console.table(rows)
for (const v of verdicts) console.log(v)
