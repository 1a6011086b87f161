/**
 * One contender on one workload, in a process of its own, compiled (`lib/build.ts`):
 * `node --conditions=cwlogs-dist bench/dist/child.js '<job json>'`. It loads nothing of the harness
 * beyond the contender's own modules (the job is read by `lib/job.ts`, streams are made by the parent).
 * Prints one JSON line (a `Measurement`) as the last line of stdout; the CPU seconds and peak RSS are
 * this process's own (worker threads included).
 *
 * With `BENCH_CPU_PROFILE=FILE` in the environment, the measured part only (after set-up) is profiled
 * with V8's CPU profiler and written to FILE (open it in Chrome DevTools or speedscope).
 *
 * @since 0.1.0
 */
import { writeFileSync } from "node:fs"
import type { Run } from "./contenders/types.js"
import { parseJob } from "./lib/job.js"
import type { Measurement } from "./lib/spec.js"

const contenders: Record<string, () => Promise<{ run: Run }>> = {
  "raw-sdk-c1": () => import("./contenders/raw.js"),
  "raw-sdk-cN": () => import("./contenders/raw.js"),
  "raw-sdk-native": () => import("./contenders/raw.js"),
  "cwlogs-sink": () => import("./contenders/cwlogs.js"),
  "cwlogs-spool": () => import("./contenders/cwlogsSpool.js").then((m) => ({ run: m.runSpool })),
  "cwlogs-spool-logger": () => import("./contenders/cwlogsSpool.js").then((m) => ({ run: m.runSpoolLogger })),
  "cwlogs-logger": () => import("./contenders/cwlogs.js").then((m) => ({ run: m.runLogger })),
  "effect-default-logger": () => import("./contenders/cwlogs.js").then((m) => ({ run: m.runDefaultLogger })),
  "winston-cloudwatch": () => import("./contenders/winston.js"),
  "pino-cloudwatch": () => import("./contenders/pino.js"),
  "logtape-cloudwatch": () => import("./contenders/logtape.js")
}

const main = async (): Promise<void> => {
  const job = parseJob(process.argv[2] ?? "")
  const { run } = await contenders[job.contender]()
  const profileFile = process.env.BENCH_CPU_PROFILE
  // Loaded only when asked for: the child loads what its contender loads.
  const session = profileFile === undefined || profileFile === ""
    ? undefined
    : new (await import("node:inspector/promises")).Session()
  if (session !== undefined) {
    session.connect()
    await session.post("Profiler.enable")
    await session.post("Profiler.setSamplingInterval", { interval: 500 })
  }
  let cpuStart = process.cpuUsage()
  const outcome = await run(job, {
    start: () => {
      cpuStart = process.cpuUsage()
      // fire and forget: the profiler starts before the next turn of the event loop
      void session?.post("Profiler.start")
    }
  })
  const cpu = process.cpuUsage(cpuStart)
  if (session !== undefined && profileFile !== undefined) {
    const { profile } = await session.post("Profiler.stop")
    writeFileSync(profileFile, JSON.stringify(profile))
    session.disconnect()
  }
  const measurement: Measurement = {
    workload: job.workload,
    contender: job.contender,
    sent: outcome.sent,
    bytes: outcome.bytes,
    elapsedSeconds: outcome.elapsedSeconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    ...(outcome.nanosPerCall === undefined ? {} : { nanosPerCall: outcome.nanosPerCall }),
    ...(outcome.reportedFailed === undefined ? {} : { reportedFailed: outcome.reportedFailed }),
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    ...(outcome.note === undefined ? {} : { note: outcome.note })
  }
  process.stdout.write(`\n${JSON.stringify(measurement)}\n`)
  printed = true
}

let printed = false
process.on("beforeExit", () => {
  if (!printed) {
    process.stderr.write("child: the event loop drained before the contender finished (a promise never settled)\n")
    process.exit(3)
  }
})

main().then(
  () => {
    // Let the contender finish whatever it still has in flight, as a process ending normally would;
    // the parent's deadline bounds this.
    process.exitCode = 0
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    process.exit(1)
  }
)
