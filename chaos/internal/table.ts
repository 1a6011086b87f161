/**
 * The suite's results table, as plain text (and as Markdown for docs/reliability.md). Pure functions only.
 */

/** One scenario's row. */
export interface Row {
  readonly scenario: string
  readonly events: number
  readonly stored: number
  readonly lost: number
  readonly duplicated: number
  readonly orderViolations: number
  readonly retries: number
  readonly possibleDuplicates: number
  readonly seconds: number
  readonly passed: boolean
  /** Why it failed, or notes (empty when there is nothing to say). */
  readonly notes: ReadonlyArray<string>
}

const HEADERS = [
  "scenario",
  "events",
  "stored",
  "lost",
  "duplicated",
  "order viol.",
  "retries",
  "poss. dup.",
  "time",
  "result"
]

const cells = (row: Row): ReadonlyArray<string> => [
  row.scenario,
  String(row.events),
  String(row.stored),
  String(row.lost),
  String(row.duplicated),
  String(row.orderViolations),
  String(row.retries),
  String(row.possibleDuplicates),
  `${row.seconds.toFixed(1)} s`,
  row.passed ? "PASS" : "FAIL"
]

/** A fixed-width text table, then each row's notes, then `N passed, N failed`. */
export const render = (rows: ReadonlyArray<Row>): string => {
  const all = [HEADERS, ...rows.map(cells)]
  const widths = HEADERS.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)))
  const line = (r: ReadonlyArray<string>) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ")
  const out = [line(HEADERS), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map((r) => line(cells(r)))]
  for (const row of rows) {
    for (const note of row.notes) out.push(`  ${row.scenario}: ${note}`)
  }
  out.push(summary(rows))
  return out.join("\n")
}

/** A Markdown table of the same rows. */
export const markdown = (rows: ReadonlyArray<Row>): string => {
  const out = [`| ${HEADERS.join(" | ")} |`, `|${HEADERS.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`]
  for (const row of rows) out.push(`| ${cells(row).join(" | ")} |`)
  return out.join("\n")
}

/** The closing line. */
export const summary = (rows: ReadonlyArray<Row>): string => {
  const passed = rows.filter((r) => r.passed).length
  return `${passed} passed, ${rows.length - passed} failed`
}
