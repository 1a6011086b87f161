/**
 * `pnpm bench [--quick] [--json FILE] [--only w1,w2] [--contenders a,b] [--backend cwlogs|moto]
 *   [--fresh-emulator | --shared-emulator] [--events N] [--repeat N]`
 *
 * With `--repeat N` every contender of a workload runs N times, in N interleaved rounds, and the table
 * keeps one run of each contender by the workload's main figure, and notes every run's: the best
 * (events/s; ns/call for the overhead; p99 for latency), as on a shared machine the other runs measure
 * the neighbours; for memory the median peak RSS, as its spread is the contender's own (when V8
 * happens to collect), not the neighbours', and the lowest would report the luckiest run.
 *
 * Runs every contender on every workload, each in a child process of its own, against an emulator in a
 * process of its own (fresh per contender, or per workload with --quick; a fresh stream per contender),
 * reads back what the emulator
 * stored, prints one table and writes the same rows as JSON. Every child has a deadline, the whole run
 * has one, and every process started here is killed on the way out.
 *
 * @since 0.1.0
 */
import { writeFileSync } from "node:fs"
import { cpus, loadavg } from "node:os"
import { compile } from "./lib/build.js"
import { type Emulator, startEmulator } from "./lib/emulator.js"
import { isMemoryWorkload } from "./lib/job.js"
import { CWLOGS_CONCURRENCY, CWLOGS_LINGER_MILLIS, type Plan, plans } from "./lib/plans.js"
import * as Processes from "./lib/processes.js"
import { printTable, type Row, targets, withRatios } from "./lib/report.js"
import { runOne } from "./lib/runner.js"
import type { Contender } from "./lib/spec.js"

interface Args {
  readonly quick: boolean
  readonly json: string | undefined
  readonly only: ReadonlyArray<string> | undefined
  readonly contenders: ReadonlyArray<string> | undefined
  readonly backend: "cwlogs" | "moto" | "auto"
  /** A fresh emulator per contender (default in full runs) or one per workload (default with --quick). */
  readonly fresh: boolean | undefined
  /** Rounds: every contender runs this many times, interleaved; the best run is kept. */
  readonly repeat: number
  /** Override the events per stream of every selected workload. */
  readonly events: number | undefined
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
    fresh: argv.includes("--fresh-emulator") ? true : argv.includes("--shared-emulator") ? false : undefined,
    repeat: Math.max(1, Math.trunc(Number(value("--repeat") ?? "1")) || 1),
    events: value("--events") === undefined ? undefined : Math.max(1, Math.trunc(Number(value("--events"))) || 1)
  }
}

const finite = (n: number | undefined): number | null => (n === undefined || !Number.isFinite(n) ? null : n)

const better = (a: Row, b: Row): boolean => {
  switch (a.workload) {
    case "overhead":
      return (a.nanosPerCall ?? Infinity) < (b.nanosPerCall ?? Infinity)
    case "latency":
      return (a.p99Ms ?? Infinity) < (b.p99Ms ?? Infinity)
    default:
      return a.eventsPerSecond > b.eventsPerSecond
  }
}

/** The workload's main figure of a row, as the table prints it, for the range of a repeated run. */
const mainFigure = (row: Row): string | undefined => {
  if (isMemoryWorkload(row.workload)) return `${Math.round(row.peakRssBytes / 1_048_576)}`
  switch (row.workload) {
    case "overhead":
      return row.nanosPerCall === undefined ? undefined : `${Math.round(row.nanosPerCall)}`
    case "latency":
      return row.p99Ms === undefined ? undefined : `${Math.round(row.p99Ms)}`
    default:
      return Number.isFinite(row.eventsPerSecond) ? `${Math.round(row.eventsPerSecond / 1000)}k` : undefined
  }
}

/**
 * The run that stands for a contender (the last run when none succeeded): the best successful one, or
 * for memory the median; noting how many there were and every successful run's main figure.
 */
const representative = (all: ReadonlyArray<Row>): Row => {
  const good = all.filter((r) => r.status === "ok")
  const median = all[0] !== undefined && isMemoryWorkload(all[0].workload)
  const pick = good.length === 0
    ? all[all.length - 1]
    : median
    ? [...good].sort((a, b) => a.peakRssBytes - b.peakRssBytes)[Math.floor((good.length - 1) / 2)]
    : good.reduce((a, b) => (better(b, a) ? b : a))
  if (all.length === 1) return pick
  const figures = good.map(mainFigure).filter((f) => f !== undefined)
  const tag = `${median ? "median" : "best"} of ${all.length}${
    good.length < all.length ? `, ${all.length - good.length} failed` : ""
  }${figures.length > 1 ? `: ${figures.join(" ")}` : ""}`
  return { ...pick, note: pick.note === undefined ? tag : `${pick.note}; ${tag}` }
}

const main = async (): Promise<void> => {
  // The SDK warns once per process that its 2027 releases will need Node 22; not this run's business.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true"
  Processes.installExitHandlers()
  compile()
  const args = parseArgs(process.argv.slice(2))
  const globalDeadline = Date.now() + (args.quick ? 100_000 : 45 * 60_000)
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
      // One object per workload and contender; every figure present (null when not measured).
      const run = { ...machine, loadAverageAtEnd, quick: args.quick, partial }
      const objects = withRatios(rows).map((row) => ({
        workload: row.workload,
        contender: row.contender,
        eventsPerSecond: finite(row.eventsPerSecond),
        mibPerSecond: finite(row.mibPerSecond),
        cpuSeconds: finite(row.cpuSeconds),
        peakRssBytes: finite(row.peakRssBytes),
        lost: row.lost ?? null,
        status: row.status,
        events: row.events,
        sent: row.sent,
        stored: row.stored ?? null,
        duplicated: row.duplicated ?? null,
        elapsedSeconds: finite(row.elapsedSeconds),
        nanosPerCall: finite(row.nanosPerCall),
        p50Ms: finite(row.p50Ms),
        p99Ms: finite(row.p99Ms),
        ratioToLimit: finite(row.ratioToLimit),
        reportedFailed: row.reportedFailed ?? null,
        note: row.note ?? null,
        backend: row.backend,
        run
      }))
      writeFileSync(args.json, `${JSON.stringify(objects, null, 2)}\n`)
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
  const selected = plans(args.quick)
    .filter((p) => args.only === undefined || args.only.includes(p.workload))
    .map((
      p
    ) => (args.events === undefined ? p : { ...p, events: args.events, title: `${p.title} [--events ${args.events}]` }))
  const fresh = args.fresh ?? !args.quick
  for (const [index, plan] of selected.entries()) {
    process.stdout.write(`${plan.title}\n`)
    // Each workload gets its share of the time left (by runs), so a slow one cannot starve the others.
    const runsOf = (p: Plan): number =>
      p.contenders.filter((c) => args.contenders === undefined || args.contenders.includes(c)).length * args.repeat
    const runsLeft = selected.slice(index).reduce((n, p) => n + runsOf(p), 0)
    const budgetEnd = Date.now() + ((globalDeadline - Date.now()) * runsOf(plan)) / Math.max(1, runsLeft)
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
    const runs = new Map<Contender, Array<Row>>()
    const record = (row: Row): void => {
      runs.set(row.contender, [...(runs.get(row.contender) ?? []), row])
    }
    for (let round = 0; round < args.repeat; round++) {
      if (args.repeat > 1) process.stdout.write(`  round ${round + 1} of ${args.repeat}\n`)
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
          record({ ...base, status: "skipped: out of time" })
          process.stdout.write(`  ${contender.padEnd(22)}         skipped: out of time\n`)
          continue
        }
        const emulator = fresh ? await emulatorFor() : shared
        if (emulator === undefined) {
          record({ ...base, status: `skipped: emulator did not start (${sharedFailure ?? "?"})` })
          continue
        }
        const began = Date.now()
        const remaining = globalDeadline - Date.now()
        const row = await runOne(
          plan,
          contender,
          emulator,
          `${runId}-${round}`,
          Math.min(plan.deadlineMillis, remaining)
        )
        if (emulator.putLatencyMillis !== plan.putLatencyMillis) {
          record({ ...row, note: `${row.note ?? ""}${row.note === undefined ? "" : "; "}no latency fault (moto)` })
        } else record(row)
        process.stdout.write(
          `  ${contender.padEnd(22)} ${((Date.now() - began) / 1000).toFixed(1).padStart(5)} s  ${
            runs.get(contender)?.slice(-1)[0]?.status ?? ""
          }\n`
        )
        if (fresh) await emulator.stop()
      }
    }
    for (const contender of plan.contenders) {
      const all = runs.get(contender)
      if (all !== undefined) rows.push(representative(all))
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
