/**
 * The pure parts of the demo: the events the producers send, the read-back analysis that proves nothing
 * was lost or duplicated, the call counters wrapped around the port, and the text of the display.
 *
 * @internal
 */
import type { CloudWatchLogsApi, CloudWatchLogsError } from "@cwlogs/core"
import { ShipReport } from "@cwlogs/core"
import * as Effect from "effect/Effect"

// ---------------------------------------------------------------------------------------------------
// events
// ---------------------------------------------------------------------------------------------------

const ACTIONS = ["order placed", "payment captured", "item shipped", "cart updated", "user signed in"] as const

/**
 * The message of event `seq` of producer `producer`: a JSON log line of about `targetBytes` bytes that
 * names its producer and sequence number, so the read-back can account for every event.
 */
export const eventMessage = (producer: number, seq: number, targetBytes: number): string => {
  const head = `{"producer":${producer},"seq":${seq},"level":"INFO","msg":"${ACTIONS[seq % ACTIONS.length]}"`
  const room = targetBytes - head.length - 10
  return room > 0 ? `${head},"pad":"${"x".repeat(room)}"}` : `${head}}`
}

const EVENT_PATTERN = /^\{"producer":(\d+),"seq":(\d+),/

/** The producer and sequence number of a demo event, or `undefined` for any other message. */
export const parseEventMessage = (message: string): { readonly producer: number; readonly seq: number } | undefined => {
  const match = EVENT_PATTERN.exec(message)
  if (match === null) return undefined
  return { producer: Number(match[1]), seq: Number(match[2]) }
}

// ---------------------------------------------------------------------------------------------------
// read-back analysis
// ---------------------------------------------------------------------------------------------------

/** What the read-back found for one producer. */
export interface ProducerTally {
  readonly producer: number
  readonly sent: number
  readonly stored: number
  readonly lost: number
  readonly duplicates: number
  readonly orderViolations: number
}

/** What the read-back found in the shared stream. */
export interface Analysis {
  readonly perProducer: ReadonlyArray<ProducerTally>
  readonly sent: number
  /** Demo events found (duplicates included). */
  readonly stored: number
  readonly lost: number
  readonly duplicates: number
  /** Events of a producer found after an event of the same producer with a higher sequence number. */
  readonly orderViolations: number
  /** Events of other writers (the competing writer of the emulator, anyone else). */
  readonly foreign: number
  /** Demo-shaped events whose producer or sequence number was never sent. */
  readonly unexpected: number
}

/**
 * Accounts for every event: `sent[p]` events were handed to the library by producer `p` (sequence
 * numbers `0 .. sent[p] - 1`), `stored` are the messages read back from the stream in stream order.
 */
export const analyze = (sent: ReadonlyArray<number>, stored: Iterable<string>): Analysis => {
  const seen = sent.map((n) => new Uint16Array(n))
  const last = sent.map(() => -1)
  const orderViolations = sent.map(() => 0)
  let foreign = 0
  let unexpected = 0
  for (const message of stored) {
    const parsed = parseEventMessage(message)
    if (parsed === undefined) {
      foreign++
      continue
    }
    const counts = seen[parsed.producer]
    if (counts === undefined || parsed.seq >= counts.length) {
      unexpected++
      continue
    }
    counts[parsed.seq] = Math.min(counts[parsed.seq] + 1, 65535)
    if (parsed.seq < last[parsed.producer]) orderViolations[parsed.producer]++
    else last[parsed.producer] = parsed.seq
  }
  const perProducer = sent.map((n, producer): ProducerTally => {
    let stored = 0
    let lost = 0
    let duplicates = 0
    for (const count of seen[producer]) {
      stored += count
      if (count === 0) lost++
      else duplicates += count - 1
    }
    return { producer, sent: n, stored, lost, duplicates, orderViolations: orderViolations[producer] }
  })
  const sum = (f: (t: ProducerTally) => number) => perProducer.reduce((n, t) => n + f(t), 0)
  return {
    perProducer,
    sent: sum((t) => t.sent),
    stored: sum((t) => t.stored),
    lost: sum((t) => t.lost),
    duplicates: sum((t) => t.duplicates),
    orderViolations: sum((t) => t.orderViolations),
    foreign,
    unexpected
  }
}

// ---------------------------------------------------------------------------------------------------
// call counters around the port
// ---------------------------------------------------------------------------------------------------

/** Calls seen by the client, per operation, and their failures per error name. */
export interface CallStats {
  readonly calls: Map<string, number>
  readonly errors: Map<string, number>
  /** Events of successful PutLogEvents calls (and DataAlreadyAccepted replays), per stream. */
  readonly eventsPut: Map<string, number>
}

/** Fresh counters. */
export const makeCallStats = (): CallStats => ({ calls: new Map(), errors: new Map(), eventsPut: new Map() })

const bump = (map: Map<string, number>, key: string, n = 1): void => {
  map.set(key, (map.get(key) ?? 0) + n)
}

/** A copy of the counters, frozen for a report. */
export const snapshot = (stats: CallStats): {
  readonly calls: Readonly<Record<string, number>>
  readonly errors: Readonly<Record<string, number>>
} => ({ calls: Object.fromEntries(stats.calls), errors: Object.fromEntries(stats.errors) })

/** The count of an operation or error name (0 when never seen). */
export const countOf = (map: ReadonlyMap<string, number>, key: string): number => map.get(key) ?? 0

/**
 * Wraps the port so that every call and every error is counted, as the client saw them. Works the same
 * against the embedded emulator and against AWS.
 */
export const instrument = (
  api: CloudWatchLogsApi.CloudWatchLogsApiShape,
  stats: CallStats
): CloudWatchLogsApi.CloudWatchLogsApiShape => {
  const counted = <A, E extends CloudWatchLogsError.CloudWatchLogsError, R>(
    operation: string,
    effect: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      bump(stats.calls, operation)
      return Effect.tapError(effect, (error) => Effect.sync(() => bump(stats.errors, error._tag)))
    })
  return {
    putLogEvents: (request) => {
      const stream = request.logStreamName
      const events = request.logEvents.length
      return counted("PutLogEvents", api.putLogEvents(request)).pipe(
        Effect.tap((response) =>
          Effect.sync(() => bump(stats.eventsPut, stream, events - rejectedCount(response, events)))
        ),
        Effect.tapError((error) =>
          error._tag === "DataAlreadyAcceptedException"
            ? Effect.sync(() => bump(stats.eventsPut, stream, events))
            : Effect.void
        )
      )
    },
    createLogGroup: (request) => counted("CreateLogGroup", api.createLogGroup(request)),
    createLogStream: (request) => counted("CreateLogStream", api.createLogStream(request)),
    deleteLogGroup: (request) => counted("DeleteLogGroup", api.deleteLogGroup(request)),
    deleteLogStream: (request) => counted("DeleteLogStream", api.deleteLogStream(request)),
    describeLogGroups: (request) => counted("DescribeLogGroups", api.describeLogGroups(request)),
    describeLogStreams: (request) => counted("DescribeLogStreams", api.describeLogStreams(request)),
    putRetentionPolicy: (request) => counted("PutRetentionPolicy", api.putRetentionPolicy(request)),
    deleteRetentionPolicy: (request) => counted("DeleteRetentionPolicy", api.deleteRetentionPolicy(request)),
    getLogEvents: (request) => counted("GetLogEvents", api.getLogEvents(request)),
    filterLogEvents: (request) => counted("FilterLogEvents", api.filterLogEvents(request))
  }
}

const rejectedCount = (response: CloudWatchLogsApi.PutLogEventsResponse, events: number): number => {
  const info = response.rejectedLogEventsInfo
  if (info === undefined) return 0
  const before = Math.max(info.tooOldLogEventEndIndex ?? 0, info.expiredLogEventEndIndex ?? 0)
  const after = info.tooNewLogEventStartIndex !== undefined ? events - info.tooNewLogEventStartIndex : 0
  return Math.min(events, Math.max(0, before) + Math.max(0, after))
}

/** What the demo found. */
export interface Summary {
  readonly target: string
  readonly destination: string
  readonly appDestination: string
  readonly elapsedMillis: number
  readonly readBackMillis: number
  readonly analysis: Analysis
  /** Producers whose sink failed, with the error message. */
  readonly failures: ReadonlyArray<{ readonly producer: number; readonly message: string }>
  readonly report: ShipReport.ShipReport
  readonly appLogs: { readonly logged: number; readonly stored: number }
  readonly calls: Readonly<Record<string, number>>
  readonly errors: Readonly<Record<string, number>>
  /** Faults the embedded emulator injected, by kind (empty against a real service). */
  readonly faultsInjected: Readonly<Record<string, number>>
  readonly sequenceTokens: "enforced" | "ignored" | "unknown"
  /** Set when the stream could not be read back. */
  readonly readError: string | undefined
  readonly ok: boolean
  readonly verdict: string
}

/** Lines of the CloudWatch logger (JSON objects) among a stream's messages, other writers' left out. */
export const countAppLines = (messages: ReadonlyArray<string>): number =>
  messages.reduce((n, m) => (m.startsWith("{\"") ? n + 1 : n), 0)

/**
 * Judges a run: OK only when nothing was lost, nothing unexpected appeared, no producer failed, and no
 * event was stored twice without the report saying it might be. A duplicate can happen in either token
 * generation: with tokens ignored, a batch resent after its answer was lost; with tokens enforced, the same
 * when another writer moved the token before the resend (DataAlreadyAccepted only recognises a replay of
 * the stream's last batch). The uploader counts those events as `possibleDuplicates`.
 */
export const verdictOf = (
  analysis: Analysis,
  report: ShipReport.ShipReport,
  failures: ReadonlyArray<{ readonly producer: number; readonly message: string }>,
  appLogs: { readonly logged: number; readonly stored: number } = { logged: 0, stored: 0 }
): { readonly ok: boolean; readonly verdict: string } => {
  const problems: Array<string> = []
  if (analysis.lost > 0) problems.push(`${formatCount(analysis.lost)} events lost`)
  if (appLogs.stored < appLogs.logged) {
    problems.push(`${formatCount(appLogs.logged - appLogs.stored)} app log lines lost`)
  }
  if (analysis.duplicates > report.possibleDuplicates) {
    problems.push(
      `${formatCount(analysis.duplicates)} duplicates, ${
        formatCount(report.possibleDuplicates)
      } flagged by the report as possible`
    )
  }
  if (analysis.unexpected > 0) problems.push(`${formatCount(analysis.unexpected)} unexpected events`)
  if (failures.length > 0) problems.push(`${failures.length} producer(s) failed`)
  const duplicated = analysis.duplicates === 0
    ? "0 duplicated"
    : `${formatCount(analysis.duplicates)} duplicated (each flagged by the report as a possible duplicate)`
  return problems.length === 0
    ? {
      ok: true,
      verdict: `OK: ${formatCount(analysis.sent)} events sent, ${
        formatCount(analysis.stored - analysis.duplicates)
      } stored, 0 lost, ${duplicated}`
    }
    : { ok: false, verdict: `FAILED: ${problems.join(", ")}` }
}

// ---------------------------------------------------------------------------------------------------
// display
// ---------------------------------------------------------------------------------------------------

/** `12,345`. */
export const formatCount = (n: number): string => Math.round(n).toLocaleString("en-US")

/** `1.2 s`. */
export const formatSeconds = (millis: number): string => `${(millis / 1000).toFixed(1)} s`

/** The progress line: events handed over, events stored as the client saw it, calls and errors. */
export const progressLine = (p: {
  readonly elapsedMillis: number
  readonly handed: number
  readonly total: number
  readonly stored: number
  readonly putCalls: number
  readonly errors: number
}): string => {
  const pct = p.total === 0 ? 100 : Math.floor((100 * p.stored) / p.total)
  const rate = p.elapsedMillis > 0 ? (1000 * p.stored) / p.elapsedMillis : 0
  return `[${formatSeconds(p.elapsedMillis).padStart(7)}] handed ${formatCount(p.handed)}/${
    formatCount(p.total)
  }  stored ${formatCount(p.stored)} (${pct}%)  ${formatCount(rate)} ev/s  puts ${formatCount(p.putCalls)}  errors ${
    formatCount(p.errors)
  }`
}

const table = (rows: ReadonlyArray<ReadonlyArray<string>>): Array<string> => {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join("   "))
}

const listOf = (record: Readonly<Record<string, number>>, keys?: ReadonlyArray<string>): string => {
  const entries = (keys ?? Object.keys(record).sort()).map((k) => [k, record[k] ?? 0] as const)
  const shown = entries.filter(([, n]) => n > 0 || keys !== undefined)
  return shown.length === 0 ? "none" : shown.map(([k, n]) => `${k} ${formatCount(n)}`).join(", ")
}

const OPERATIONS = ["PutLogEvents", "DescribeLogStreams", "CreateLogGroup", "CreateLogStream", "GetLogEvents"]

/** The summary, as printed at the end of the demo. Its last line starts with `RESULT: OK` or `RESULT: FAILED`. */
export const formatSummary = (s: Summary): string => {
  const a = s.analysis
  const lines: Array<string> = []
  lines.push("")
  lines.push(`Read back ${s.destination} in ${formatSeconds(s.readBackMillis)}:`)
  const rows: Array<Array<string>> = [["producer", "sent", "stored", "lost", "duplicates", "out of order"]]
  for (const t of a.perProducer) {
    rows.push([
      `p${t.producer}`,
      formatCount(t.sent),
      formatCount(t.stored),
      formatCount(t.lost),
      formatCount(t.duplicates),
      formatCount(t.orderViolations)
    ])
  }
  rows.push([
    "total",
    formatCount(a.sent),
    formatCount(a.stored),
    formatCount(a.lost),
    formatCount(a.duplicates),
    formatCount(a.orderViolations)
  ])
  lines.push(...table(rows).map((l) => `  ${l}`))
  lines.push(`  events of other writers in the stream (the competing writer): ${formatCount(a.foreign)}`)
  if (a.unexpected > 0) lines.push(`  unexpected events (never sent): ${formatCount(a.unexpected)}`)
  if (s.readError !== undefined) lines.push(`  read-back failed: ${s.readError}`)
  lines.push(
    `  order: ${
      a.orderViolations === 0 ? "every producer's events are stored in the order sent" : "some events out of order"
    }`
  )
  lines.push("")
  lines.push(
    `App logs (Effect.log through the CloudWatch logger, to ${s.appDestination}): ${
      formatCount(s.appLogs.logged)
    } logged, ${formatCount(s.appLogs.stored)} stored`
  )
  lines.push("")
  lines.push(
    `Ship report: ${formatCount(s.report.accepted)} accepted, ${
      formatCount(ShipReport.rejectedTotal(s.report))
    } rejected, ${formatCount(s.report.batches)} batches, ${formatCount(s.report.retries)} retries, ${
      formatCount(s.report.possibleDuplicates)
    } possible duplicates`
  )
  lines.push(`Service calls: ${listOf(s.calls, OPERATIONS)}`)
  lines.push(`Errors answered (each retried or adopted): ${listOf(s.errors)}`)
  const invalid = s.errors["InvalidSequenceTokenException"] ?? 0
  const already = s.errors["DataAlreadyAcceptedException"] ?? 0
  lines.push(
    `Token errors adopted: ${formatCount(invalid + already)} (InvalidSequenceToken ${formatCount(invalid)}, ` +
      `DataAlreadyAccepted ${formatCount(already)}); DescribeLogStreams calls: ${
        formatCount(s.calls["DescribeLogStreams"] ?? 0)
      }`
  )
  if (Object.keys(s.faultsInjected).length > 0) {
    lines.push(`Faults injected by the emulator: ${listOf(s.faultsInjected)}`)
  }
  for (const f of s.failures) lines.push(`Producer p${f.producer} failed: ${f.message}`)
  const rate = s.elapsedMillis > 0 ? (1000 * a.sent) / s.elapsedMillis : 0
  lines.push(
    `Shipped in ${formatSeconds(s.elapsedMillis)} (${formatCount(rate)} events/s), sequence tokens ${
      s.sequenceTokens !== "unknown"
        ? s.sequenceTokens
        : invalid + already > 0
        ? "enforced (as observed)"
        : "ignored (or never contended)"
    }`
  )
  lines.push("")
  lines.push(`RESULT: ${s.verdict}`)
  return lines.join("\n")
}
