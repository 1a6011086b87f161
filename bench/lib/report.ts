/**
 * The rows of a run, the table printed from them and the check of the issue's targets.
 *
 * @since 0.1.0
 */
import { isMemoryWorkload } from "./job.js"
import type { Contender, Workload } from "./spec.js"

/**
 * One contender on one workload: the JSON row, and a line of the table.
 *
 * @since 0.1.0
 * @category models
 */
export interface Row {
  readonly workload: Workload
  readonly contender: Contender
  /** Events the workload hands over. */
  readonly events: number
  /** Events the contender was actually given before it finished or failed. */
  readonly sent: number
  /** Events the emulator holds afterwards (undefined when it could not be read back). */
  readonly stored?: number | undefined
  /** events − stored. */
  readonly lost?: number | undefined
  readonly duplicated?: number | undefined
  readonly elapsedSeconds: number
  readonly eventsPerSecond: number
  readonly mibPerSecond: number
  readonly cpuSeconds: number
  readonly peakRssBytes: number
  readonly nanosPerCall?: number
  readonly p50Ms?: number
  readonly p99Ms?: number
  readonly reportedFailed?: number
  readonly ratioToLimit?: number
  readonly status: string
  readonly note?: string
  readonly backend: string
}

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || !Number.isFinite(n)
    ? "-"
    : n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })

const limitOf = (rows: ReadonlyArray<Row>, workload: Workload, contender: Contender): number | undefined => {
  const row = rows.find((r) => r.workload === workload && r.contender === contender && r.status === "ok")
  return row?.eventsPerSecond
}

/**
 * Add the ratio to the raw-SDK limit at equal concurrency (cwlogs: the concurrency it uses; the peers,
 * which send one request at a time per stream, except LogTape: concurrency 1).
 *
 * @since 0.1.0
 * @category report
 */
export const withRatios = (rows: ReadonlyArray<Row>): Array<Row> =>
  rows.map((row) => {
    if (row.workload !== "throughput" && row.workload !== "streams") return row
    const atConcurrency = row.contender.startsWith("cwlogs") || row.contender === "raw-sdk-native"
    const limit = limitOf(rows, row.workload, atConcurrency ? "raw-sdk-cN" : "raw-sdk-c1")
    return limit === undefined || !Number.isFinite(row.eventsPerSecond)
      ? row
      : { ...row, ratioToLimit: row.eventsPerSecond / limit }
  })

const COLUMNS = [
  ["workload", 13],
  ["contender", 22],
  ["events/s", 10],
  ["MiB/s", 6],
  ["CPU s", 6],
  ["RSS MiB", 7],
  ["ns/call", 8],
  ["p50 ms", 7],
  ["p99 ms", 7],
  ["lost", 8],
  ["x limit", 7],
  ["status", 0]
] as const

/**
 * Print the table (one line per row) to stdout.
 *
 * @since 0.1.0
 * @category report
 */
export const printTable = (rows: ReadonlyArray<Row>, cwlogsConcurrency: number): void => {
  const cells = (values: ReadonlyArray<string>) =>
    values.map((v, i) => {
      const width = COLUMNS[i][1]
      return i <= 1 || i === values.length - 1 ? v.padEnd(width) : v.padStart(width)
    }).join("  ").trimEnd()
  const lines = [cells(COLUMNS.map(([name]) => name))]
  for (const row of withRatios(rows)) {
    lines.push(cells([
      row.workload,
      row.contender,
      fmt(row.eventsPerSecond),
      fmt(row.mibPerSecond, 2),
      fmt(row.cpuSeconds, 2),
      fmt(row.peakRssBytes / 1_048_576),
      fmt(row.nanosPerCall),
      fmt(row.p50Ms),
      fmt(row.p99Ms),
      row.lost === undefined ? (row.contender === "effect-default-logger" ? "-" : "?") : fmt(row.lost),
      row.ratioToLimit === undefined ? "" : `${fmt(row.ratioToLimit, 2)}x`,
      row.note === undefined ? row.status : `${row.status} (${row.note})`
    ]))
  }
  process.stdout.write(`${lines.join("\n")}\n`)
  process.stdout.write(
    `raw-sdk-c1 / raw-sdk-cN: the AWS SDK sending pre-built full batches, 1 and ${cwlogsConcurrency} requests in flight;\n` +
      "raw-sdk-native: the same loop on a client tuned as cwlogs' (PutLogEvents bodies by JSON.stringify, no logger middleware).\n" +
      "x limit: events/s over raw-sdk-cN for cwlogs and raw-sdk-native, over raw-sdk-c1 for the peers. lost: events not stored.\n"
  )
}

const ok = (row: Row | undefined): row is Row => row !== undefined && row.status === "ok"

/**
 * The issue's targets, met or missed, one line each.
 *
 * @since 0.1.0
 * @category report
 */
export const targets = (rows: ReadonlyArray<Row>, lingerMillis: number): Array<string> => {
  const all = withRatios(rows)
  const find = (w: Workload, c: Contender) => all.find((r) => r.workload === w && r.contender === c)
  const peers: ReadonlyArray<Contender> = ["winston-cloudwatch", "pino-cloudwatch", "logtape-cloudwatch"]
  const out: Array<string> = ["targets:"]
  const mark = (met: boolean | undefined) => (met === undefined ? "n/a " : met ? "MET " : "MISS")
  const sink1 = find("throughput", "cwlogs-sink")
  const ratio = sink1?.ratioToLimit
  out.push(
    `  ${
      mark(ratio === undefined || !ok(sink1) ? undefined : ratio >= 0.9)
    } W1 cwlogs-sink >= 0.9x raw SDK at equal concurrency: ${fmt(ratio, 2)}x`
  )
  const ahead = (w: Workload, better: (a: Row, b: Row) => boolean, what: string) => {
    const mine = find(w, "cwlogs-sink")
    if (!ok(mine)) return out.push(`  n/a  W${workloadNumber(w)} cwlogs-sink ahead of every peer on ${what}`)
    const ran = peers.map((p) => find(w, p)).filter((p): p is Row => p !== undefined)
    if (ran.length === 0) return out.push(`  n/a  W${workloadNumber(w)} cwlogs-sink ahead of every peer on ${what}`)
    const behind = ran.filter((p) => ok(p) && !better(mine, p))
    out.push(
      `  ${mark(behind.length === 0)} W${workloadNumber(w)} cwlogs-sink ahead of every peer on ${what}${
        behind.length === 0 ? "" : `: behind ${behind.map((b) => b.contender).join(", ")}`
      }`
    )
  }
  ahead("throughput", (a, b) => a.eventsPerSecond > b.eventsPerSecond, "events/s")
  ahead("memory", (a, b) => a.peakRssBytes < b.peakRssBytes, "peak RSS")
  ahead("memory-in-effect-app", (a, b) => a.peakRssBytes < b.peakRssBytes, "peak RSS inside an Effect application")
  ahead("streams", (a, b) => a.eventsPerSecond > b.eventsPerSecond, "events/s")
  for (const c of ["cwlogs-sink", "cwlogs-logger"] as const) {
    const row = find("latency", c)
    const p99 = row?.p99Ms
    out.push(
      `  ${
        mark(p99 === undefined || !ok(row) ? undefined : p99 <= lingerMillis + 50)
      } W4 ${c} p99 <= linger ${lingerMillis} + 50 ms: ${fmt(p99)} ms`
    )
  }
  const capped = find("memory-capped", "cwlogs-sink")
  out.push(
    `  ${mark(capped === undefined ? undefined : ok(capped))} W3 bounded memory: cwlogs-sink ships ${
      fmt(capped?.events)
    } events through a slow service in a capped heap: ${capped?.status ?? "not run"}`
  )
  return out
}

const workloadNumber = (w: Workload): number =>
  w === "throughput" ? 1 : w === "overhead" ? 2 : isMemoryWorkload(w) ? 3 : w === "latency" ? 4 : 5
