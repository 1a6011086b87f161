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
 * 3. Destinations that come and go (a stream per job): waves of new streams, each used once; a routed
 *    sink releasing idle destinations (`destinationIdleMillis: 1000`) beside one keeping them all.
 *
 * 4. A fan-out faster than the service (a stream per request, say): N new streams at once into a service
 *    answering in 20 ms; the destinations held at once with the default cap and with a cap of 100.
 *
 * Run: npx tsx packages/core/bench/destinations.ts [waiters=250,1000,4000] [destinations=1000,4000,16000]
 *   [churn=10000,40000] [fan-out=2000]
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import * as TestCloudWatchLogs from "../../testkit/src/TestCloudWatchLogs.js"
import * as CloudWatchLogs from "../src/CloudWatchLogs.js"
import * as Destination from "../src/Destination.js"
import { Permits } from "../src/internal/permits.js"
import * as Limits from "../src/Limits.js"
import * as Metrics from "../src/Metrics.js"

const list = (arg: string | undefined, fallback: ReadonlyArray<number>) =>
  arg === undefined ? fallback : arg.split(",").map(Number)
const WAITERS = list(process.argv[2], [250, 1_000, 4_000])
const DESTINATIONS = list(process.argv[3], [1_000, 4_000, 16_000])
const CHURN = list(process.argv[4], [10_000, 40_000])
const FAN_OUT = list(process.argv[5], [2_000])
const MB = 1024 * 1024
const PERMITS = 4

/** The live heap (after a full collection) as the last wave of a churn run is handed over. */
let liveHeapMB = 0
/** The most destinations held at once in a fan-out run (`Metrics.destinationsHeld`). */
let mostHeld = 0

/** Runs `effect` in this process: its seconds, the process's peak RSS, and `liveHeapMB`. */
const measure = async <E>(effect: Effect.Effect<void, E>) => {
  const start = performance.now()
  await Effect.runPromise(effect)
  const seconds = (performance.now() - start) / 1000
  return { seconds, peakRssMB: (process.resourceUsage().maxRSS * 1024) / MB, liveHeapMB, mostHeld }
}

interface Row {
  readonly seconds: number
  readonly peakRssMB: number
  readonly liveHeapMB: number
  readonly mostHeld: number
}

/** Runs one case in a process of its own (peak RSS is per process), and reads its JSON line. */
const child = (...args: ReadonlyArray<string>): Row => {
  const out = execFileSync(
    process.execPath,
    [...process.execArgv, "--expose-gc", fileURLToPath(import.meta.url), "--child", ...args],
    {
      encoding: "utf8",
      maxBuffer: 1 << 20
    }
  )
  const line = out.trim().split("\n").pop() ?? ""
  const row: unknown = JSON.parse(line)
  if (
    typeof row === "object" && row !== null && "seconds" in row && typeof row.seconds === "number" &&
    "peakRssMB" in row && typeof row.peakRssMB === "number" && "liveHeapMB" in row &&
    typeof row.liveHeapMB === "number" && "mostHeld" in row && typeof row.mostHeld === "number"
  ) return { seconds: row.seconds, peakRssMB: row.peakRssMB, liveHeapMB: row.liveHeapMB, mostHeld: row.mostHeld }
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

/** The in-memory service (messages discarded, `faults` applied), with the quotas raised out of the way. */
const serviceWith = (faults: TestCloudWatchLogs.FaultOptions) =>
  Layer.mergeAll(
    TestCloudWatchLogs.layer({ recordCalls: false, discard: true, faults }),
    Layer.succeed(Limits.Limits, {
      ...Limits.current,
      quotas: { ...Limits.current.quotas, createLogStream: 1_000_000, putLogEvents: 1_000_000 }
    })
  )

const service = serviceWith({})

/** `n` new streams of one group, `prefix-0` to `prefix-(n-1)`, one event each, stamped now. */
const newStreams = (n: number, group: string, prefix: string): Stream.Stream<CloudWatchLogs.Routed> =>
  Stream.suspend(() => {
    const now = Date.now()
    return Stream.range(0, n - 1).pipe(Stream.map((i) => ({
      destination: Destination.make(group, `${prefix}-${i}`),
      event: { timestamp: now, message: `{"${prefix}":${i},"msg":"hello"}` }
    })))
  })

/** Runs the routed events into a sink with `options`; every event must be accepted. */
const shipAll = (n: number, events: Stream.Stream<CloudWatchLogs.Routed>, options?: CloudWatchLogs.SinkOptions) =>
  Effect.flatMap(
    Stream.run(events, CloudWatchLogs.sink((r: CloudWatchLogs.Routed) => r, options)),
    (report) => report.accepted === n ? Effect.void : Effect.dieMessage(`accepted ${report.accepted} of ${n}`)
  )

const routed = (n: number) => shipAll(n, newStreams(n, "bench-destinations", "tenant")).pipe(Effect.provide(service))

/** A full collection (the children run with `--expose-gc`), then the heap in use, in MB. */
const liveHeap = (): number => {
  const gc: unknown = Reflect.get(globalThis, "gc")
  if (typeof gc === "function") gc()
  return process.memoryUsage().heapUsed / MB
}

/**
 * Destinations that come and go: `n` of them in waves of 500 (one event each), a wave every 250 ms, each
 * destination never seen again; idle ones released after 1 s, or kept (`Infinity`); metrics tagged by
 * stream (the default) or by group.
 */
const churn = (n: number, idleMillis: number, metricLabels: Metrics.DestinationLabels) =>
  shipAll(
    n,
    newStreams(n, "bench-churn", "job").pipe(
      Stream.grouped(500),
      Stream.schedule(Schedule.spaced("250 millis")),
      Stream.tap((wave) =>
        Effect.sync(() => {
          if (Chunk.unsafeLast(wave).destination.logStreamName === `job-${n - 1}`) liveHeapMB = liveHeap()
        })
      ),
      Stream.flattenChunks
    ),
    { lingerMillis: 100, destinationIdleMillis: idleMillis, metricLabels }
  ).pipe(Effect.provide(service))

/**
 * A fan-out faster than the service: `n` new streams handed over at once, every PutLogEvents answered in
 * 20 ms; the most destinations held at once, with the default cap or `maxDestinations`.
 */
const fanOut = (n: number, maxDestinations: number | undefined) =>
  shipAll(
    n,
    newStreams(n, "bench-fan-out", "request").pipe(
      Stream.tap(() =>
        Effect.map(Metric.value(Metrics.destinationsHeld), (held) => {
          mostHeld = Math.max(mostHeld, held.value)
        })
      )
    ),
    { metricLabels: "group", ...(maxDestinations === undefined ? {} : { maxDestinations }) }
  ).pipe(Effect.provide(serviceWith({ latencyMillis: 20 })))

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
  console.log(
    `\n3. Destinations that come and go: waves of 500 new streams every 250 ms, one event each;\n` +
      `   live heap when the last wave is handed over (after a full GC), per destination seen; peak RSS`
  )
  for (const n of CHURN) {
    const cases = [
      ["kept (destinationIdleMillis Infinity)", "churn-keep"],
      ["released after 1 s idle", "churn-release"],
      ["released, metricLabels \"group\"", "churn-release-group"]
    ] as const
    for (const [title, kind] of cases) {
      const r = child(kind, String(n))
      console.log(
        `${String(n).padStart(6)} destinations   ${title.padEnd(40)} live heap ${
          r.liveHeapMB.toFixed(0).padStart(5)
        } MB ` +
          `(${((r.liveHeapMB * 1024) / n).toFixed(1)} KB each)   peak RSS ${r.peakRssMB.toFixed(0).padStart(5)} MB   ` +
          `${r.seconds.toFixed(1)} s`
      )
    }
  }
  console.log(`\n4. A fan-out faster than the service: N new streams at once, each PutLogEvents answered in 20 ms`)
  const caps = [["maxDestinations default (10,000)", "fan-out-default"], [
    "maxDestinations 100",
    "fan-out-100"
  ]] as const
  for (const n of FAN_OUT) {
    for (const [title, kind] of caps) {
      const r = child(kind, String(n))
      console.log(
        `${String(n).padStart(6)} destinations   ${title.padEnd(34)} held at most ${
          String(r.mostHeld).padStart(5)
        }   ` +
          `peak RSS ${r.peakRssMB.toFixed(0).padStart(5)} MB   ${r.seconds.toFixed(1)} s`
      )
    }
  }
}

if (process.argv[2] === "--child") {
  const [kind = "", n = "0"] = process.argv.slice(3)
  const effect = kind === "fan-out-default"
    ? fanOut(Number(n), undefined)
    : kind === "fan-out-100"
    ? fanOut(Number(n), 100)
    : kind === "routed"
    ? routed(Number(n))
    : kind === "churn-keep"
    ? churn(Number(n), Infinity, "stream")
    : kind === "churn-release"
    ? churn(Number(n), 1_000, "stream")
    : kind === "churn-release-group"
    ? churn(Number(n), 1_000, "group")
    : slots(kind, Number(n))
  measure(effect).then((row) => console.log(JSON.stringify(row)), (e) => {
    console.error(e)
    process.exit(1)
  })
} else {
  main()
}
