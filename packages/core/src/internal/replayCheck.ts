/**
 * The pure rule that settles "was my lost put stored?" on a stream that enforces sequence tokens, from
 * the events GetLogEvents returns for the batch's time range.
 *
 * The events of one PutLogEvents call share one `ingestionTime`, so the events read are grouped by it. The
 * batch is stored when one group holds, in stream order, every event of the batch that the service could
 * have stored (same timestamp, same message, as many times as in the batch). A group may hold more:
 * ingestion times have millisecond resolution, so two puts in the same millisecond (another writer's and
 * ours, or two of ours) share one group.
 *
 * What the service may have refused: a put is all or nothing except for events too old, expired (older
 * than the group's retention) or too new, which are cut off the front (too old, expired) or the back (too
 * new) of the batch as measured by the service's clock when it took the put. The caller says how many
 * leading and trailing events are close enough to those limits that the service may have refused them;
 * the group must then hold the batch minus at most that many leading and trailing events (the largest
 * such slice wins). Events far from the limits must all be there.
 *
 * False match: another writer would have to put the same events (same timestamps and messages), after
 * our lost put was sent, into the same stream. A copy of the batch stored earlier (the same events
 * uploaded twice on purpose) is told apart by its ingestion time, which predates the lost put.
 *
 * @internal
 */
import type { OutputLogEvent } from "../CloudWatchLogsApi.js"
import type { LimitsShape } from "../Limits.js"
import type { LogEvent } from "../LogEvent.js"

/**
 * What the lost put was, for the match.
 *
 * @internal
 */
export interface Expectation {
  /** The batch of the lost put (sorted by timestamp, as it was sent). */
  readonly batch: ReadonlyArray<LogEvent>
  /** No put of ours can have been ingested before this time (the service's clock). */
  readonly notBefore: number
  /** Leading events the service may have refused as too old or expired. */
  readonly mayRejectLeading: number
  /** Trailing events the service may have refused as too new. */
  readonly mayRejectTrailing: number
}

/**
 * The answer: `Stored` says which slice `[start, end)` of the batch the service stored (the events before
 * `start` were refused as too old or expired, those from `end` on as too new), under which ingestion time,
 * and how many copies of the batch were found in all (more than one when several attempts stored it).
 *
 * @internal
 */
export type Verdict =
  | {
    readonly _tag: "Stored"
    readonly start: number
    readonly end: number
    readonly ingestionTime: number
    readonly copies: number
  }
  | { readonly _tag: "NotStored" }

const NOT_STORED: Verdict = { _tag: "NotStored" }

/**
 * Events grouped by ingestion time, each group in stream order; groups in order of first appearance.
 *
 * @internal
 */
export const byIngestionTime = (
  events: ReadonlyArray<OutputLogEvent>
): ReadonlyArray<{ readonly ingestionTime: number; readonly events: ReadonlyArray<OutputLogEvent> }> => {
  const groups = new Map<number, Array<OutputLogEvent>>()
  for (const event of events) {
    const group = groups.get(event.ingestionTime)
    if (group === undefined) groups.set(event.ingestionTime, [event])
    else group.push(event)
  }
  return Array.from(groups, ([ingestionTime, events]) => ({ ingestionTime, events }))
}

/** Whether `group` holds `batch[start, end)` as a subsequence (in order, with repeats). */
const holds = (
  group: ReadonlyArray<OutputLogEvent>,
  batch: ReadonlyArray<LogEvent>,
  start: number,
  end: number
): boolean => {
  let i = start
  for (let j = 0; j < group.length && i < end; j++) {
    const stored = group[j]
    const event = batch[i]
    if (stored.timestamp === event.timestamp && stored.message === event.message) i++
  }
  return i === end
}

const keyOf = (event: { readonly timestamp: number; readonly message: string }): string =>
  `${event.timestamp}\u0000${event.message}`

/** How many whole copies of `batch[start, end)` a group holds (it holds at least one). */
const multiplicity = (
  group: ReadonlyArray<OutputLogEvent>,
  batch: ReadonlyArray<LogEvent>,
  start: number,
  end: number
): number => {
  const wanted = new Map<string, number>()
  for (let i = start; i < end; i++) wanted.set(keyOf(batch[i]), (wanted.get(keyOf(batch[i])) ?? 0) + 1)
  const found = new Map<string, number>()
  for (const event of group) {
    const k = keyOf(event)
    if (wanted.has(k)) found.set(k, (found.get(k) ?? 0) + 1)
  }
  let copies = Number.POSITIVE_INFINITY
  for (const [k, n] of wanted) copies = Math.min(copies, Math.floor((found.get(k) ?? 0) / n))
  return Math.max(1, copies)
}

/**
 * Whether the batch is among `events` (all events read for the batch's time range, in stream order).
 *
 * @internal
 */
export const match = (expectation: Expectation, events: ReadonlyArray<OutputLogEvent>): Verdict => {
  const batch = expectation.batch
  const count = batch.length
  if (count === 0) return NOT_STORED
  const leading = Math.max(0, Math.min(count, Math.floor(expectation.mayRejectLeading)))
  const trailing = Math.max(0, Math.min(count, Math.floor(expectation.mayRejectTrailing)))
  let best: { start: number; end: number; ingestionTime: number } | undefined
  let copies = 0
  for (const group of byIngestionTime(events)) {
    if (group.ingestionTime < expectation.notBefore) continue
    let found: { start: number; end: number } | undefined
    for (let start = 0; start <= leading; start++) {
      for (let end = count; end >= count - trailing && end > start; end--) {
        if (found !== undefined && end - start <= found.end - found.start) break
        if (holds(group.events, batch, start, end)) {
          found = { start, end }
          break
        }
      }
    }
    if (found === undefined) continue
    copies += multiplicity(group.events, batch, found.start, found.end)
    if (best === undefined || found.end - found.start > best.end - best.start) {
      best = { ...found, ingestionTime: group.ingestionTime }
    }
  }
  return best === undefined ? NOT_STORED : { _tag: "Stored", ...best, copies }
}

/**
 * How many leading and trailing events of a batch the service may have refused, for puts it took between
 * `from` and `to` (our clock), allowing `skewMillis` between our clock and the service's.
 *
 * @internal
 */
export const rejectable = (
  batch: ReadonlyArray<LogEvent>,
  limits: LimitsShape,
  retentionInDays: number | undefined,
  from: number,
  to: number,
  skewMillis: number
): { readonly leading: number; readonly trailing: number } => {
  const maxAge = maxAgeOf(limits, retentionInDays)
  // too old at the latest moment the service may have taken the put
  const oldBefore = to + skewMillis - maxAge
  // too new at the earliest moment
  const newAfter = from - skewMillis + limits.maxEventFutureMillis
  let leading = 0
  while (leading < batch.length && batch[leading].timestamp < oldBefore) leading++
  let trailing = 0
  while (trailing < batch.length - leading && batch[batch.length - 1 - trailing].timestamp > newAfter) trailing++
  return { leading, trailing }
}

/**
 * The slice `[start, end)` of a batch the service stored for sure, for puts it took between `from` and
 * `to` (our clock, `skewMillis` allowed): the events before `start` were too old (or expired) and those
 * from `end` on too new at every moment it may have taken the put. The events `rejectable` counts beyond
 * these may have gone either way.
 *
 * @internal
 */
export const storedForSure = (
  batch: ReadonlyArray<LogEvent>,
  limits: LimitsShape,
  retentionInDays: number | undefined,
  from: number,
  to: number,
  skewMillis: number
): { readonly start: number; readonly end: number } => {
  const oldBefore = from - skewMillis - maxAgeOf(limits, retentionInDays)
  const newAfter = to + skewMillis + limits.maxEventFutureMillis
  let start = 0
  while (start < batch.length && batch[start].timestamp < oldBefore) start++
  let end = batch.length
  while (end > start && batch[end - 1].timestamp > newAfter) end--
  return { start, end }
}

/** The age past which the service refuses an event: 14 days, or the group's retention if shorter. */
const maxAgeOf = (limits: LimitsShape, retentionInDays: number | undefined): number =>
  retentionInDays === undefined
    ? limits.maxEventAgeMillis
    : Math.min(limits.maxEventAgeMillis, retentionInDays * 24 * 60 * 60 * 1000)

/**
 * Where to read: the batch's time range, `[first timestamp, last timestamp + 1)`.
 *
 * @internal
 */
export const timeRange = (batch: ReadonlyArray<LogEvent>): { readonly startTime: number; readonly endTime: number } => {
  let startTime = Number.POSITIVE_INFINITY
  let endTime = Number.NEGATIVE_INFINITY
  for (const event of batch) {
    if (event.timestamp < startTime) startTime = event.timestamp
    if (event.timestamp + 1 > endTime) endTime = event.timestamp + 1
  }
  return { startTime, endTime }
}
