/**
 * Memory stays bounded however slow the service: 1,000,000 events through `CloudWatchLogs.sink` into the
 * in-memory model answering every call after `latencyMillis` (live clock, messages discarded), while
 * the producer could go much faster. Prints RSS and heap as it goes, and the peaks.
 *
 * Run: npx tsx packages/core/bench/slow-service.ts [events=1000000] [latencyMillis=200]
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestCloudWatchLogs from "../../testkit/src/TestCloudWatchLogs.js"
import * as CloudWatchLogs from "../src/CloudWatchLogs.js"
import * as Destination from "../src/Destination.js"

const N = Number(process.argv[2] ?? 1_000_000)
const LATENCY = Number(process.argv[3] ?? 200)
const dest = Destination.make("bench", "slow-service")
const MB = 1024 * 1024

const program = Effect.gen(function*() {
  const model = yield* TestCloudWatchLogs.TestCloudWatchLogs
  let produced = 0
  const start = Date.now()
  const fiber = yield* Stream.range(1, N).pipe(
    Stream.map((i) => {
      produced = i
      return {
        timestamp: Date.now(),
        message: `{"level":"info","msg":"order accepted","orderId":${i},"customer":"c-${i % 9973}","amount":${
          (i % 10_000) / 100
        }}`
      }
    }),
    Stream.run(CloudWatchLogs.sink(dest)),
    Effect.fork
  )
  let peakRss = 0
  let peakHeap = 0
  const rows: Array<Record<string, number>> = []
  const sample = Effect.gen(function*() {
    const stats = yield* model.streamStats(dest.logGroupName, dest.logStreamName)
    const mem = process.memoryUsage()
    peakRss = Math.max(peakRss, mem.rss)
    peakHeap = Math.max(peakHeap, mem.heapUsed)
    const row = {
      "t (s)": Math.round((Date.now() - start) / 100) / 10,
      produced,
      stored: stats.events,
      "in the pipeline": produced - stats.events,
      "rss (MB)": Math.round(mem.rss / MB),
      "heap (MB)": Math.round(mem.heapUsed / MB)
    }
    rows.push(row)
    console.log(Object.entries(row).map(([k, v]) => `${k}=${v}`).join("  "))
  })
  while (fiber.unsafePoll() === null) {
    yield* sample
    yield* Effect.sleep(1000)
  }
  const report = yield* Fiber.join(fiber)
  yield* sample
  const seconds = (Date.now() - start) / 1000
  console.log(
    `\n${N} events, service latency ${LATENCY} ms: ${report.accepted} accepted in ${report.batches} batches, ` +
      `${seconds.toFixed(1)} s (${Math.round(N / seconds)} events/s)`
  )
  const steady = rows.slice(Math.min(2, rows.length - 1))
  console.log(
    `peak RSS ${Math.round(peakRss / MB)} MB, peak heap ${Math.round(peakHeap / MB)} MB; ` +
      `heap after warm-up min ${Math.min(...steady.map((r) => r["heap (MB)"]))} / max ${
        Math.max(...steady.map((r) => r["heap (MB)"]))
      } MB; most events in the pipeline at once: ${Math.max(...rows.map((r) => r["in the pipeline"]))}`
  )
  const bound = CloudWatchLogs.DEFAULT_BUFFER_CAPACITY + (1 + CloudWatchLogs.DEFAULT_MAX_IN_FLIGHT) * 10_000
  console.log(
    `bound by configuration: buffer ${CloudWatchLogs.DEFAULT_BUFFER_CAPACITY} + one batch being filled + ` +
      `${CloudWatchLogs.DEFAULT_MAX_IN_FLIGHT} batches in flight (10,000 each) = ${bound} events, plus one stream chunk`
  )
}).pipe(
  Effect.provide(TestCloudWatchLogs.layer({ discard: true, faults: { latencyMillis: LATENCY } }))
)

Effect.runPromise(program).catch((e) => {
  console.error(e)
  process.exit(1)
})
