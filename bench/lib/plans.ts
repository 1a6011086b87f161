/**
 * The workloads of `pnpm bench`, shared by `run.ts` and `profile.ts`.
 *
 * @since 0.1.0
 */
import { Batcher, CloudWatchLogs } from "@cwlogs/core"
import type { Contender, Workload } from "./spec.js"

/**
 * Requests in flight in cwlogs' shipper (`CloudWatchLogs.DEFAULT_MAX_IN_FLIGHT`, and the uploader's
 * `maxParallelPerDestination` default), so the raw loop can be run at the same concurrency.
 *
 * @since 0.1.0
 * @category constants
 */
export const CWLOGS_CONCURRENCY: number = CloudWatchLogs.DEFAULT_MAX_IN_FLIGHT

/**
 * The linger time of cwlogs' batcher (its default), for the latency target.
 *
 * @since 0.1.0
 * @category constants
 */
export const CWLOGS_LINGER_MILLIS: number = Batcher.DEFAULT_LINGER_MILLIS

/**
 * The old-space cap (MiB) of the `memory-capped` workload.
 *
 * @since 0.1.0
 * @category constants
 */
export const HEAP_CAP_MIB = 64

/**
 * One workload: its counts (full or `--quick`), the emulator it needs, its contenders.
 *
 * @since 0.1.0
 * @category models
 */
export interface Plan {
  readonly workload: Workload
  readonly title: string
  readonly events: number
  readonly streams: number
  readonly rate: number
  readonly discard: boolean
  readonly putLatencyMillis: number
  readonly deadlineMillis: number
  readonly latencies: boolean
  /** Extra `node` flags of the child (the heap cap of `memory-capped`, the preload of `memory-in-effect-app`). */
  readonly nodeArgs?: ReadonlyArray<string>
  readonly contenders: ReadonlyArray<Contender>
}

/**
 * @since 0.1.0
 * @category constants
 */
export const PEERS: ReadonlyArray<Contender> = ["winston-cloudwatch", "pino-cloudwatch", "logtape-cloudwatch"]

/** The limit's loops: one request in flight, cwlogs' concurrency, and the same on a client tuned as cwlogs'. */
const RAW: ReadonlyArray<Contender> = ["raw-sdk-c1", "raw-sdk-cN", "raw-sdk-native"]

/** A plan with the common settings: one stream, as fast as taken, stored (read back), no added latency. */
const plan = (
  p: Pick<Plan, "workload" | "title" | "events" | "deadlineMillis" | "contenders"> & Partial<Plan>
): Plan => ({
  streams: 1,
  rate: 0,
  discard: false,
  putLatencyMillis: 0,
  latencies: false,
  ...p
})

/**
 * The five workloads of the issue, full size or scaled down for `--quick`.
 *
 * @since 0.1.0
 * @category constants
 */
export const plans = (quick: boolean): ReadonlyArray<Plan> => {
  const memory = plan({
    workload: "memory",
    title: `3. memory under a slow service: ${quick ? "20,000" : "1,000,000"} events, +200 ms per PutLogEvents`,
    events: quick ? 20_000 : 1_000_000,
    putLatencyMillis: 200,
    deadlineMillis: quick ? 25_000 : 300_000,
    contenders: ["cwlogs-sink", "cwlogs-spool", "cwlogs-logger", ...PEERS]
  })
  return [
    plan({
      workload: "throughput",
      title: `1. throughput: ${quick ? "10,000" : "200,000"} events of ~200 B into one stream`,
      events: quick ? 10_000 : 200_000,
      deadlineMillis: quick ? 25_000 : 180_000,
      contenders: [...RAW, "cwlogs-sink", "cwlogs-spool", "cwlogs-logger", ...PEERS]
    }),
    plan({
      workload: "overhead",
      title: `2. logger overhead: ${quick ? "10,000" : "100,000"} log calls on the caller`,
      events: quick ? 10_000 : 100_000,
      deadlineMillis: quick ? 20_000 : 120_000,
      contenders: ["effect-default-logger", "cwlogs-logger", "cwlogs-spool-logger", ...PEERS]
    }),
    memory,
    {
      ...memory,
      workload: "memory-capped",
      title: `3b. the same with the child's heap capped: node --max-old-space-size=${HEAP_CAP_MIB}`,
      nodeArgs: [`--max-old-space-size=${HEAP_CAP_MIB}`]
    },
    {
      ...memory,
      workload: "memory-in-effect-app",
      title: "3c. the same inside an Effect application: every child loads Effect's runtime first",
      nodeArgs: ["--import", "./bench/dist/lib/effectApp.js"],
      contenders: ["cwlogs-sink", "logtape-cloudwatch"]
    },
    plan({
      workload: "latency",
      title: `4. latency at 1,000 events/s for ${quick ? 3 : 20} s, hand-over to acknowledgement`,
      events: quick ? 3_000 : 20_000,
      rate: 1000,
      deadlineMillis: quick ? 15_000 : 60_000,
      latencies: true,
      contenders: ["cwlogs-sink", "cwlogs-spool", "cwlogs-logger", ...PEERS]
    }),
    plan({
      workload: "streams",
      title: `5. many streams: ${quick ? "10 streams x 1,000" : "100 streams x 2,000"} events`,
      events: quick ? 1_000 : 2_000,
      streams: quick ? 10 : 100,
      deadlineMillis: quick ? 25_000 : 240_000,
      contenders: [...RAW, "cwlogs-sink", "cwlogs-spool", ...PEERS]
    })
  ]
}
