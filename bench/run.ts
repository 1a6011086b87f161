/**
 * `pnpm bench [--quick] [--json FILE] [--only w1,w2] [--contenders a,b] [--backend cwlogs|moto]
 *   [--fresh-emulator | --shared-emulator]`
 *
 * Runs every contender on every workload, each in a child process of its own, against an emulator in a
 * process of its own (fresh per workload, a fresh stream per contender), reads back what the emulator
 * stored, prints one table and writes the same rows as JSON. Every child has a deadline, the whole run
 * has one, and every process started here is killed on the way out.
 *
 * @since 0.1.0
 */
import { writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { makeClient, percentile, readBack, streamNames } from "./lib/aws.js"
import { type Emulator, startEmulator } from "./lib/emulator.js"
import * as Processes from "./lib/processes.js"
import { printTable, type Row, targets, withRatios } from "./lib/report.js"
import { type Contender, decodeMeasurement, type Job, type Measurement, type Workload } from "./lib/spec.js"

/**
 * Requests in flight in cwlogs' uploader for one stream when tokens are ignored (its default), so the
 * raw loop can be run at the same concurrency.
 */
export const CWLOGS_CONCURRENCY = 4

/** The linger time of cwlogs' batcher (its default), for the latency target. */
export const CWLOGS_LINGER_MILLIS = 1000

interface Plan {
  readonly workload: Workload
  readonly title: string
  readonly events: number
  readonly streams: number
  readonly rate: number
  readonly discard: boolean
  readonly putLatencyMillis: number
  readonly deadlineMillis: number
  readonly latencies: boolean
  readonly contenders: ReadonlyArray<Contender>
}

const PEERS: ReadonlyArray<Contender> = ["winston-cloudwatch", "pino-cloudwatch", "logtape-cloudwatch"]

const plans = (quick: boolean): ReadonlyArray<Plan> => [
  {
    workload: "throughput",
    title: `1. throughput: ${quick ? "20,000" : "200,000"} events of ~200 B into one stream`,
    events: quick ? 20_000 : 200_000,
    streams: 1,
    rate: 0,
    discard: false,
    putLatencyMillis: 0,
    deadlineMillis: quick ? 25_000 : 180_000,
    latencies: false,
    contenders: ["raw-sdk-c1", "raw-sdk-cN", "cwlogs-sink", "cwlogs-logger", ...PEERS]
  },
  {
    workload: "overhead",
    title: `2. logger overhead: ${quick ? "10,000" : "100,000"} log calls on the caller`,
    events: quick ? 10_000 : 100_000,
    streams: 1,
    rate: 0,
    discard: false,
    putLatencyMillis: 0,
    deadlineMillis: quick ? 20_000 : 120_000,
    latencies: false,
    contenders: ["effect-default-logger", "cwlogs-logger", ...PEERS]
  },
  {
    workload: "memory",
    title: `3. memory under a slow service: ${quick ? "20,000" : "1,000,000"} events, +200 ms per PutLogEvents`,
    events: quick ? 20_000 : 1_000_000,
    streams: 1,
    rate: 0,
    discard: false,
    putLatencyMillis: 200,
    deadlineMillis: quick ? 25_000 : 300_000,
    latencies: false,
    contenders: ["cwlogs-sink", "cwlogs-logger", ...PEERS]
  },
  {
    workload: "latency",
    title: `4. latency at 1,000 events/s for ${quick ? 3 : 20} s, hand-over to acknowledgement`,
    events: quick ? 3_000 : 20_000,
    streams: 1,
    rate: 1000,
    discard: false,
    putLatencyMillis: 0,
    deadlineMillis: quick ? 15_000 : 60_000,
    latencies: true,
    contenders: ["cwlogs-sink", "cwlogs-logger", ...PEERS]
  },
  {
    workload: "streams",
    title: `5. many streams: ${quick ? "10 streams x 1,000" : "100 streams x 2,000"} events`,
    events: quick ? 1_000 : 2_000,
    streams: quick ? 10 : 100,
    rate: 0,
    discard: false,
    putLatencyMillis: 0,
    deadlineMillis: quick ? 25_000 : 240_000,
    latencies: false,
    contenders: ["raw-sdk-c1", "raw-sdk-cN", "cwlogs-sink", ...PEERS]
  }
]

interface Args {
  readonly quick: boolean
  readonly json: string | undefined
  readonly only: ReadonlyArray<string> | undefined
  readonly contenders: ReadonlyArray<string> | undefined
  readonly backend: "cwlogs" | "moto" | "auto"
  /** A fresh emulator per contender (default in full runs) or one per workload (default with --quick). */
  readonly fresh: boolean | undefined
}

const parseArgs = (argv: ReadonlyArray<string>): Args => {
  const value = (flag: string): string | undefined => {
    const i = argv.indexOf(flag)
    return i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1)
  }
  const list = (flag: string) => value(flag)?.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
  const backend = value("--backend")
  return {
    quick: argv.includes("--quick"),
    json: value("--json"),
    only: list("--only"),
    contenders: list("--contenders"),
    backend: backend === "cwlogs" || backend === "moto" ? backend : "auto",
    fresh: argv.includes("--fresh-emulator") ? true : argv.includes("--shared-emulator") ? false : undefined
  }
}

const CHILD_ENTRY = "bench/child.ts"

const runOne = async (
  plan: Plan,
  contender: Contender,
  emulator: Emulator,
  runId: string,
  deadlineMillis: number
): Promise<Row> => {
  const logGroupName = "bench"
  const logStreamName = `${plan.workload}-${contender}-${runId}`
  const job: Job = {
    workload: plan.workload,
    contender,
    endpoint: emulator.endpoint,
    logGroupName,
    logStreamName,
    events: plan.events,
    streams: plan.streams,
    rate: plan.rate,
    concurrency: contender === "raw-sdk-cN" ? CWLOGS_CONCURRENCY : 1,
    deadlineMillis
  }
  const finished = await Processes.run(
    process.execPath,
    ["--import", "tsx", CHILD_ENTRY, JSON.stringify(job)],
    deadlineMillis,
    { ...process.env, NODE_NO_WARNINGS: "1" }
  )
  let measurement: Measurement | undefined
  for (const candidate of [...finished.stdoutTail].reverse()) {
    const decoded = decodeMeasurement(candidate)
    if (decoded._tag === "Right") {
      measurement = decoded.right
      break
    }
  }
  const intended = plan.events * plan.streams
  let stored: number | undefined
  let storedBytes = 0
  let latencies: Array<number> = []
  const ships = contender !== "effect-default-logger"
  if (!emulator.discard && ships) {
    const client = makeClient(emulator.endpoint)
    try {
      stored = 0
      for (const name of streamNames(logStreamName, plan.streams)) {
        const got = await readBack(client, logGroupName, name, plan.latencies)
        stored += got.count
        storedBytes += got.bytes
        latencies = latencies.concat(got.latencies)
      }
    } catch (e) {
      stored = undefined
      process.stderr.write(`read-back failed for ${logStreamName}: ${String(e)}\n`)
    } finally {
      client.destroy()
    }
  }
  latencies.sort((a, b) => a - b)
  const status = finished.timedOut
    ? `timeout after ${Math.round(deadlineMillis / 1000)} s`
    : measurement === undefined
    ? `crashed (exit ${finished.code ?? finished.signal}): ${lastLine(finished.stderrTail)}`
    : measurement.error !== undefined
    ? `error: ${measurement.error}`
    : "ok"
  const sent = measurement?.sent ?? intended
  const elapsed = measurement?.elapsedSeconds ?? Number.NaN
  const lost = stored === undefined || !ships ? undefined : Math.max(0, intended - stored)
  const bytes = storedBytes > 0 ? storedBytes : measurement?.bytes ?? 0
  return {
    workload: plan.workload,
    contender,
    events: intended,
    sent,
    stored,
    lost,
    duplicated: stored === undefined ? undefined : Math.max(0, stored - intended),
    elapsedSeconds: elapsed,
    eventsPerSecond: measurement === undefined ? Number.NaN : sent / elapsed,
    mibPerSecond: measurement === undefined ? Number.NaN : bytes / 1_048_576 / elapsed,
    cpuSeconds: measurement?.cpuSeconds ?? Number.NaN,
    peakRssBytes: measurement?.peakRssBytes ?? Number.NaN,
    ...(measurement?.nanosPerCall === undefined ? {} : { nanosPerCall: measurement.nanosPerCall }),
    ...(latencies.length === 0 ? {} : { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) }),
    ...(measurement?.reportedFailed === undefined ? {} : { reportedFailed: measurement.reportedFailed }),
    status: status === "ok" && lost !== undefined && lost > 0 ? `lost ${lost}` : status,
    ...(measurement?.note === undefined ? {} : { note: measurement.note }),
    backend: emulator.backend
  }
}

const lastLine = (text: string): string =>
  text.trim().split("\n").filter((l) => l.trim().length > 0).slice(-1)[0]?.slice(0, 160) ?? ""

const main = async (): Promise<void> => {
  // The SDK warns once per process that its 2027 releases will need Node 22; not this run's business.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true"
  Processes.installExitHandlers()
  const args = parseArgs(process.argv.slice(2))
  const globalDeadline = Date.now() + (args.quick ? 115_000 : 45 * 60_000)
  // Whatever happens, the run ends: kill every child and leave shortly after the global deadline.
  const rows: Array<Row> = []
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "?",
    node: process.version,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100)
  }
  process.stdout.write(
    `bench: ${machine.cpus} x ${machine.cpuModel}, node ${machine.node}, load average ${
      machine.loadAverageAtStart.join(" ")
    }${args.quick ? ", --quick" : ""}\n\n`
  )
  const finish = (partial: boolean): void => {
    const loadAverageAtEnd = loadavg().map((l) => Math.round(l * 100) / 100)
    process.stdout.write("\n")
    printTable(rows, CWLOGS_CONCURRENCY)
    process.stdout.write("\n")
    for (const line of targets(rows, CWLOGS_LINGER_MILLIS)) process.stdout.write(`${line}\n`)
    process.stdout.write(
      `\nload average at start ${machine.loadAverageAtStart.join(" ")}, at end ${loadAverageAtEnd.join(" ")}\n`
    )
    if (partial) process.stdout.write("PARTIAL: the global deadline passed before every contender ran\n")
    if (args.json !== undefined) {
      const document = { machine: { ...machine, loadAverageAtEnd }, quick: args.quick, partial, rows: withRatios(rows) }
      writeFileSync(args.json, `${JSON.stringify(document, null, 2)}\n`)
      process.stdout.write(`wrote ${args.json}\n`)
    }
  }
  // Whatever happens, the run ends: kill every child, print what was measured, leave.
  const watchdog = setTimeout(() => {
    process.stderr.write("bench: global deadline passed, killing everything\n")
    Processes.killAll()
    finish(true)
    process.exit(2)
  }, globalDeadline - Date.now() + 10_000)
  watchdog.unref()
  const runId = Date.now().toString(36)
  const selected = plans(args.quick).filter((p) => args.only === undefined || args.only.includes(p.workload))
  const fresh = args.fresh ?? !args.quick
  for (const [index, plan] of selected.entries()) {
    process.stdout.write(`${plan.title}\n`)
    // Each workload gets a fair share of the time left, so a slow one cannot starve the others of a run.
    const budgetEnd = Date.now() + (globalDeadline - Date.now()) / (selected.length - index)
    let shared: Emulator | undefined
    let sharedFailure: string | undefined
    const emulatorFor = async (): Promise<Emulator | undefined> => {
      try {
        return await startEmulator({
          discard: plan.discard,
          putLatencyMillis: plan.putLatencyMillis,
          backend: args.backend
        })
      } catch (e) {
        sharedFailure = String(e)
        process.stderr.write(`bench: no emulator for ${plan.workload}: ${sharedFailure}\n`)
        return undefined
      }
    }
    if (!fresh) shared = await emulatorFor()
    for (const contender of plan.contenders) {
      if (args.contenders !== undefined && !args.contenders.includes(contender)) continue
      const base = {
        workload: plan.workload,
        contender,
        events: plan.events * plan.streams,
        sent: 0,
        elapsedSeconds: Number.NaN,
        eventsPerSecond: Number.NaN,
        mibPerSecond: Number.NaN,
        cpuSeconds: Number.NaN,
        peakRssBytes: Number.NaN,
        backend: "none"
      }
      if (globalDeadline - Date.now() < 5_000 || budgetEnd - Date.now() < 2_000) {
        rows.push({ ...base, status: "skipped: out of time" })
        process.stdout.write(`  ${contender.padEnd(22)}         skipped: out of time\n`)
        continue
      }
      const emulator = fresh ? await emulatorFor() : shared
      if (emulator === undefined) {
        rows.push({ ...base, status: `skipped: emulator did not start (${sharedFailure ?? "?"})` })
        continue
      }
      const began = Date.now()
      const remaining = globalDeadline - Date.now()
      const row = await runOne(plan, contender, emulator, runId, Math.min(plan.deadlineMillis, remaining))
      if (emulator.putLatencyMillis !== plan.putLatencyMillis) {
        rows.push({ ...row, note: `${row.note ?? ""}${row.note === undefined ? "" : "; "}no latency fault (moto)` })
      } else rows.push(row)
      process.stdout.write(
        `  ${contender.padEnd(22)} ${((Date.now() - began) / 1000).toFixed(1).padStart(5)} s  ${
          rows[rows.length - 1].status
        }\n`
      )
      if (fresh) await emulator.stop()
    }
    await shared?.stop()
  }
  finish(false)
  clearTimeout(watchdog)
}

main().then(
  () => {
    Processes.killAll()
    process.exit(0)
  },
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    Processes.killAll()
    process.exit(1)
  }
)
