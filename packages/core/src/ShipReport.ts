/**
 * What happened to every event handed to the library: accepted by the service, or rejected with a
 * reason, with the retries it took, in total and per destination.
 *
 * @since 0.1.0
 */
import type { Destination } from "./Destination.js"
import * as DestinationKey from "./Destination.js"

/**
 * Why an event was not delivered.
 *
 * - `Empty`: the message has no character
 * - `Oversize`: larger than an event may be, and the oversize policy is `drop`
 * - `TooOld`: older than 14 days (checked before upload, or reported by the service)
 * - `Expired`: older than the group's retention (reported by the service)
 * - `TooNew`: more than 2 hours in the future
 * - `InvalidTimestamp`: not a finite, non-negative integer of milliseconds
 * - `InvalidMessage`: not a string
 * - `Failed`: a fatal error stopped its delivery (see the error that carries it)
 *
 * @since 0.1.0
 * @category models
 */
export type RejectionReason =
  | "Empty"
  | "Oversize"
  | "TooOld"
  | "Expired"
  | "TooNew"
  | "InvalidTimestamp"
  | "InvalidMessage"
  | "Failed"

/**
 * Every rejection reason, in a stable order.
 *
 * @since 0.1.0
 * @category constants
 */
export const REASONS: ReadonlyArray<RejectionReason> = [
  "Empty",
  "Oversize",
  "TooOld",
  "Expired",
  "TooNew",
  "InvalidTimestamp",
  "InvalidMessage",
  "Failed"
]

/**
 * Counts for one destination. Counts are of the events handed in: an event split in parts counts once,
 * as accepted when every part was stored.
 *
 * @since 0.1.0
 * @category models
 */
export interface Counts {
  /** Events stored by the service. */
  readonly accepted: number
  /** Events not stored, by reason. */
  readonly rejected: Readonly<Record<RejectionReason, number>>
  /** Events cut into several (oversize policy `split`). */
  readonly split: number
  /** Events shortened (oversize policy `truncate`); they are also counted as accepted. */
  readonly truncated: number
  /** PutLogEvents calls that stored something. */
  readonly batches: number
  /** Bytes of those batches as the service counts them. */
  readonly bytes: number
  /** Retried calls, all causes. */
  readonly retries: number
  /**
   * Copies of events that may have been stored beyond the first, an upper bound: each event sent again
   * after an answer that may have been lost (a server fault, a reset connection, a timeout: to a service
   * that ignores tokens, or when the stream could not be read back) counts once per such answer, and
   * each event counted `Failed` once per put of it whose answer may have been lost (resending it may
   * store it again). So it can exceed the events shipped (50 events, each answered 503 nine times: 450);
   * the copies really stored are never more. An event split in parts counts as one, with its parts' most
   * copies.
   */
  readonly possibleDuplicates: number
}

/**
 * The report of a shipment.
 *
 * @since 0.1.0
 * @category models
 */
export interface ShipReport extends Counts {
  readonly perDestination: ReadonlyMap<string, { readonly destination: Destination } & Counts>
}

/**
 * No event, no call.
 *
 * @since 0.1.0
 * @category constructors
 */
export const emptyCounts: Counts = {
  accepted: 0,
  rejected: {
    Empty: 0,
    Oversize: 0,
    TooOld: 0,
    Expired: 0,
    TooNew: 0,
    InvalidTimestamp: 0,
    InvalidMessage: 0,
    Failed: 0
  },
  split: 0,
  truncated: 0,
  batches: 0,
  bytes: 0,
  retries: 0,
  possibleDuplicates: 0
}

/**
 * An empty report.
 *
 * @since 0.1.0
 * @category constructors
 */
export const empty: ShipReport = { ...emptyCounts, perDestination: new Map() }

/**
 * Adds two counts.
 *
 * @since 0.1.0
 * @category combinators
 */
export const addCounts = (a: Counts, b: Counts): Counts => {
  const rejected = { ...a.rejected }
  for (const reason of REASONS) rejected[reason] = a.rejected[reason] + b.rejected[reason]
  return {
    accepted: a.accepted + b.accepted,
    rejected,
    split: a.split + b.split,
    truncated: a.truncated + b.truncated,
    batches: a.batches + b.batches,
    bytes: a.bytes + b.bytes,
    retries: a.retries + b.retries,
    possibleDuplicates: a.possibleDuplicates + b.possibleDuplicates
  }
}

/**
 * Adds counts for a destination to a report.
 *
 * @since 0.1.0
 * @category combinators
 */
export const add = (report: ShipReport, destination: Destination, counts: Counts): ShipReport => {
  const k = DestinationKey.key(destination)
  const perDestination = new Map(report.perDestination)
  const previous = perDestination.get(k)
  perDestination.set(k, { destination, ...addCounts(previous ?? emptyCounts, counts) })
  return { ...addCounts(report, counts), perDestination }
}

/**
 * Adds two reports, destination by destination (e.g. the reports of several shipments).
 *
 * @since 0.1.0
 * @category combinators
 */
export const combine = (a: ShipReport, b: ShipReport): ShipReport => {
  const perDestination = new Map(a.perDestination)
  for (const [k, counts] of b.perDestination) {
    const previous = perDestination.get(k)
    perDestination.set(k, { ...addCounts(previous ?? emptyCounts, counts), destination: counts.destination })
  }
  return { ...addCounts(a, b), perDestination }
}

/**
 * Total rejected events.
 *
 * @since 0.1.0
 * @category getters
 */
export const rejectedTotal = (counts: Counts): number => REASONS.reduce((n, r) => n + counts.rejected[r], 0)

/**
 * Events accounted for: accepted plus rejected.
 *
 * @since 0.1.0
 * @category getters
 */
export const total = (counts: Counts): number => counts.accepted + rejectedTotal(counts)
