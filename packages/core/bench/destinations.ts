/**
 * Many destinations: what a lane per destination costs as their number grows.
 *
 * 1. Upload slots, side by side in one run: `waiters` fibers wait for one of 4 permits, each holding it
 *    for a few yields, through cwlogs' `Permits` (internal/permits.ts) and through Effect's `Semaphore`,
 *    which the engine used before. Seconds and peak RSS, each case in a process of its own.
 * 2. A routed sink to N new streams (one event each) on the in-memory service, live clock, account
 *    quotas raised so that CreateLogStream (50/s on AWS) does not set the time: seconds, peak RSS and
 *    heap, and per destination. Linear growth means a flat "per destination" column.
 *
 * Run: npx tsx packages/core/bench/destinations.ts [waiters=250,1000,4000] [destinations=1000,4000,16000]
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as TestCloudWatchLogs from "../../testkit/src/TestCloudWatchLogs.js"
import * as CloudWatchLogs from "../src/CloudWatchLogs.js"
import * as Destination from "../src/Destination.js"
import { Permits } from "../src/internal/permits.js"
import * as Limits from "../src/Limits.js"

const list = (arg: string | undefined, fallback: ReadonlyArray<number>) =>
  arg === undefined ? fallback : arg.split(",").map(Number)
const WAITERS = list(process.argv[2], [250, 1_000, 4_000])
const DESTINATIONS = list(process.argv[3], [1_000, 4_000, 16_000])
const MB = 1024 * 1024
const PERMITS = 4

/** Runs `effect` in this process: its seconds, and the process's peak RSS. */
const measure = async <E>(effect: Effect.Effect<void, E>) => {
  const start = performance.now()
  await Effect.runPromise(effect)
  const seconds = (performance.now() - start) / 1000
  return { seconds, peakRssMB: (process.resourceUsage().maxRSS * 1024) / MB }
}

interface Row {
  readonly seconds: number
  readonly peakRssMB: number
}

/** Runs one case in a process of its own (peak RSS is per process), and reads its JSON line. */
const child = (...args: ReadonlyArray<string>): Row => {
  const out = execFileSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), "--child", ...args],
    {
      encoding: "utf8",
      maxBuffer: 1 << 20
    }
  )
  const line = out.trim().split("\n").pop() ?? ""
  const row: unknown = JSON.parse(line)
  if (
    typeof row === "object" && row !== null && "seconds" in row && typeof row.seconds === "number" &&
    "peakRssMB" in row && typeof row.peakRssMB === "number"
  ) return { seconds: row.seconds, peakRssMB: row.peakRssMB }
  throw new Error(`unexpected output: ${line}`)
}

interface Slots {
  readonly withPermit: <A>(effect: Effect.Effect<A>) => Effect.Effect<A>
}

const contend = (slots: Slots, waiters: number) =>
  Effect.gen(function*() {
    const fibers: Array<Fiber.RuntimeFiber<void>> = []
    for (let i = 0; i < waiters; i++) {
      fibers.push(yield* Effect.fork(slots.withPermit(Effect.repeatN(Effect.yieldNow(), 3))))
    }
    yield* Fiber.joinAll(fibers)
  })

const slots = (kind: string, waiters: number): Effect.Effect<void> => {
  if (kind === "permits") return contend({ withPermit: new Permits(PERMITS).withPermit }, waiters)
  return contend({ withPermit: Effect.unsafeMakeSemaphore(PERMITS).withPermits(1) }, waiters)
}

const slotsRow = (waiters: number) => {
  const a = child("permits", String(waiters))
  const b = child("semaphore", String(waiters))
  console.log(
    `${String(waiters).padStart(6)} waiters   Permits ${a.seconds.toFixed(2)} s ${
      a.peakRssMB.toFixed(0).padStart(5)
    } MB   ` +
      `Effect Semaphore ${b.seconds.toFixed(2)} s ${b.peakRssMB.toFixed(0).padStart(5)} MB   ` +
      `Semaphore / Permits: time x${(b.seconds / a.seconds).toFixed(1)}, peak RSS x${
        (b.peakRssMB / a.peakRssMB).toFixed(1)
      }`
  )
}

const routed = (n: number) =>
  Effect.gen(function*() {
    const now = Date.now()
    const report = yield* Stream.range(0, n - 1).pipe(
      Stream.map((i) => ({
        destination: Destination.make("bench-destinations", `tenant-${i}`),
        event: { timestamp: now, message: `{"tenant":${i},"msg":"hello"}` }
      })),
      Stream.run(CloudWatchLogs.sink((r: CloudWatchLogs.Routed) => r))
    )
    if (report.accepted !== n) throw new Error(`accepted ${report.accepted} of ${n}`)
  }).pipe(
    Effect.provide(Layer.mergeAll(
      TestCloudWatchLogs.layer({ recordCalls: false }),
      Layer.succeed(Limits.Limits, {
        ...Limits.current,
        quotas: { ...Limits.current.quotas, createLogStream: 1_000_000, putLogEvents: 1_000_000 }
      })
    ))
  )

const main = () => {
  console.log(`1. Upload slots: ${PERMITS} permits, each waiter holds one for 3 yields (a process per case)`)
  for (const w of WAITERS) slotsRow(w)
  console.log(`\n2. A routed sink to N new streams, one event each (defaults: maxInFlight 4, linger 1 s)`)
  for (const n of DESTINATIONS) {
    const r = child("routed", String(n))
    console.log(
      `${String(n).padStart(6)} destinations   ${r.seconds.toFixed(1)} s   peak RSS ${r.peakRssMB.toFixed(0)} MB   ` +
        `per destination ${((r.seconds * 1e3) / n).toFixed(2)} ms`
    )
  }
}

if (process.argv[2] === "--child") {
  const [kind = "", n = "0"] = process.argv.slice(3)
  const effect = kind === "routed" ? routed(Number(n)) : slots(kind, Number(n))
  measure(effect).then((row) => console.log(JSON.stringify(row)), (e) => {
    console.error(e)
    process.exit(1)
  })
} else {
  main()
}
