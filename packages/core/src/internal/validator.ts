/**
 * The pure per-event rules applied before an event is batched: timestamp, message type, empty,
 * too old / expired / too new, and oversize (split, truncate or drop, UTF-8 safe).
 *
 * @internal
 */
import type { LogEvent } from "../LogEvent.js"
import type { RejectionReason } from "../ShipReport.js"
import { utf8Length, utf8PrefixLength } from "./utf8.js"

/** @internal */
export type OversizePolicy = "split" | "truncate" | "drop"

/** @internal */
export interface Rules {
  /** Largest message in UTF-8 bytes: what fits in one event, and alone in one batch. */
  readonly maxMessageBytes: number
  readonly maxEventAgeMillis: number
  readonly maxEventFutureMillis: number
  readonly oversize: OversizePolicy
  /** Retention of the destination's group, in days, when known. */
  readonly retentionInDays?: number | undefined
}

/** @internal */
export type Outcome =
  | { readonly _tag: "Valid"; readonly event: LogEvent; readonly bytes: number }
  | {
    readonly _tag: "Split"
    readonly parts: ReadonlyArray<LogEvent>
    readonly bytes: ReadonlyArray<number>
    readonly originalBytes: number
  }
  | { readonly _tag: "Truncated"; readonly event: LogEvent; readonly bytes: number; readonly removedBytes: number }
  | { readonly _tag: "Rejected"; readonly reason: RejectionReason }

const DAY = 24 * 60 * 60 * 1000

/** The longest UTF-8 encoding of one character (a code point outside the BMP, a surrogate pair in JS). */
const MAX_CHARACTER_BYTES = 4

/**
 * The smallest `maxBatchBytes` that holds an event of any one character: the bytes the service counts
 * per event, and 4. Below it a 4-byte character fits in no event (oversize whatever the policy), and at
 * the overhead or less no event fits at all.
 * @internal
 */
export const minBatchBytes = (perEventOverheadBytes: number): number => perEventOverheadBytes + MAX_CHARACTER_BYTES

/**
 * What is wrong with a `maxBatchBytes` option, if anything: less than `minBatchBytes` (zero, negative
 * and `NaN` included). `undefined` (the service's) and values above the service's (lowered to it) are
 * fine.
 * @internal
 */
export const invalidMaxBatchBytes = (
  maxBatchBytes: number | undefined,
  perEventOverheadBytes: number
): string | undefined => {
  const min = minBatchBytes(perEventOverheadBytes)
  return maxBatchBytes === undefined || maxBatchBytes >= min
    ? undefined
    : `maxBatchBytes must be at least ${min} (the ${perEventOverheadBytes} bytes the service counts per event, ` +
      `and ${MAX_CHARACTER_BYTES} for one character), got ${maxBatchBytes}`
}

const REJECTED: { readonly [R in RejectionReason]: Outcome } = {
  Empty: { _tag: "Rejected", reason: "Empty" },
  Oversize: { _tag: "Rejected", reason: "Oversize" },
  TooOld: { _tag: "Rejected", reason: "TooOld" },
  Expired: { _tag: "Rejected", reason: "Expired" },
  TooNew: { _tag: "Rejected", reason: "TooNew" },
  InvalidTimestamp: { _tag: "Rejected", reason: "InvalidTimestamp" },
  InvalidMessage: { _tag: "Rejected", reason: "InvalidMessage" },
  Failed: { _tag: "Rejected", reason: "Failed" }
}

/**
 * The rejection outcome for a reason (shared, allocation-free).
 * @internal
 */
export const rejected = (reason: RejectionReason): Outcome => REJECTED[reason]

/**
 * Cuts a message into parts of at most `maxBytes` UTF-8 bytes, never inside a surrogate pair. The
 * parts concatenate to the message. Returns `undefined` when a single character does not fit.
 * @internal
 */
export const splitMessage = (
  message: string,
  maxBytes: number
): { readonly parts: Array<string>; readonly bytes: Array<number> } | undefined => {
  const parts: Array<string> = []
  const bytes: Array<number> = []
  let rest = message
  while (rest.length > 0) {
    const n = utf8PrefixLength(rest, maxBytes)
    if (n === 0) return undefined
    const part = n === rest.length ? rest : rest.slice(0, n)
    parts.push(part)
    bytes.push(utf8Length(part))
    rest = n === rest.length ? "" : rest.slice(n)
  }
  return { parts, bytes }
}

/**
 * The marker appended to a truncated message.
 * @internal
 */
export const truncationMarker = (removedBytes: number): string => `…[truncated ${removedBytes} bytes]`

/**
 * Shortens a message to at most `maxBytes` UTF-8 bytes, marker included, never inside a surrogate
 * pair. Returns `undefined` when even the marker does not fit.
 * @internal
 */
export const truncateMessage = (
  message: string,
  totalBytes: number,
  maxBytes: number
): { readonly message: string; readonly bytes: number; readonly removedBytes: number } | undefined => {
  // The marker's length depends on the number of removed bytes, which depends on the marker's length:
  // iterate to the fixed point (at most a few rounds, as the digit count settles at once).
  let removed = totalBytes - maxBytes
  for (let round = 0; round < 8; round++) {
    const marker = truncationMarker(removed)
    const markerBytes = utf8Length(marker)
    if (markerBytes > maxBytes) return undefined
    const keep = utf8PrefixLength(message, maxBytes - markerBytes)
    const kept = message.slice(0, keep)
    const keptBytes = utf8Length(kept)
    const actual = totalBytes - keptBytes
    if (actual === removed) {
      return { message: kept + marker, bytes: keptBytes + markerBytes, removedBytes: removed }
    }
    removed = actual
  }
  return undefined
}

/** Any object reads as this: a property it lacks reads as `undefined`. */
const isRecord = (u: unknown): u is { readonly timestamp?: unknown; readonly message?: unknown } =>
  typeof u === "object" && u !== null

/**
 * Whether an input has a log event's shape (a number timestamp, a string message), valid or not: what
 * the sink can name back to its caller (`onStored`).
 * @internal
 */
export const isShaped = (input: unknown): input is LogEvent => {
  try {
    return isRecord(input) && typeof input.timestamp === "number" && typeof input.message === "string"
  } catch {
    return false // a getter (or a Proxy) that throws
  }
}

/** The input holds exactly the fields that were checked (a getter could answer differently twice). */
const isChecked = (
  input: { readonly timestamp?: unknown; readonly message?: unknown },
  timestamp: number,
  message: string
): input is LogEvent => input.timestamp === timestamp && input.message === message

/**
 * Checks one event at `now`. The input is untyped on purpose: callers outside TypeScript may hand in
 * anything, and it must come out as a typed rejection rather than a crash.
 * @internal
 */
export const check = (input: unknown, now: number, rules: Rules): Outcome =>
  checkValid(input, now, rules, scratch)
    ? { _tag: "Valid", event: scratch.event, bytes: scratch.bytes }
    : checkRest(input, now, rules)

/**
 * A record the caller owns and the fast path writes into (one per caller, reused for every event).
 * @internal
 */
export interface Scratch {
  event: LogEvent
  bytes: number
}

/** @internal */
export const makeScratch = (): Scratch => ({ event: { timestamp: 0, message: "" }, bytes: 0 })

const scratch = makeScratch()

/**
 * The common path, allocation-free and small enough to be inlined: when the input is valid and goes on
 * unchanged (not split nor truncated), writes the caller's event itself (no copy) and its UTF-8 size
 * into `into` and answers `true`. Otherwise answers `false`: `check` gives the outcome.
 * @internal
 */
export const checkValid = (input: unknown, now: number, rules: Rules, into: Scratch): boolean => {
  try {
    return checkValidFields(input, now, rules, into)
  } catch {
    // a getter (or a Proxy) that throws: `check` refuses the input
    return false
  }
}

const checkValidFields = (input: unknown, now: number, rules: Rules, into: Scratch): boolean => {
  if (!isRecord(input)) return false
  const timestamp = input.timestamp
  const message = input.message
  if (
    typeof timestamp !== "number" || typeof message !== "string" || !Number.isInteger(timestamp) || timestamp < 0 ||
    timestamp > now + rules.maxEventFutureMillis || timestamp < now - rules.maxEventAgeMillis ||
    (rules.retentionInDays !== undefined && timestamp < now - rules.retentionInDays * DAY) ||
    !isChecked(input, timestamp, message)
  ) return false
  const bytes = utf8Length(message)
  if (bytes === 0 || bytes > rules.maxMessageBytes) return false
  into.event = input
  into.bytes = bytes
  return true
}

/** Every other outcome, each rule in its order: the input was not valid as it is. */
const checkRest = (input: unknown, now: number, rules: Rules): Outcome => {
  if (!isRecord(input)) return REJECTED.InvalidMessage
  let timestamp: unknown
  let message: unknown
  try {
    timestamp = input.timestamp
    message = input.message
  } catch {
    // fields that cannot be read (a getter or a Proxy that throws) hold no message to send
    return REJECTED.InvalidMessage
  }
  if (typeof timestamp !== "number" || !Number.isInteger(timestamp) || timestamp < 0) {
    return REJECTED.InvalidTimestamp
  }
  if (typeof message !== "string") return REJECTED.InvalidMessage
  if (message.length === 0) return REJECTED.Empty
  // The service refuses events more than 2 hours ahead (`TooNew`), more than 14 days old (`TooOld`) and
  // older than the group's retention (`Expired`); an event exactly at a bound is accepted.
  if (timestamp > now + rules.maxEventFutureMillis) return REJECTED.TooNew
  if (timestamp < now - rules.maxEventAgeMillis) return REJECTED.TooOld
  if (rules.retentionInDays !== undefined && timestamp < now - rules.retentionInDays * DAY) return REJECTED.Expired
  const bytes = utf8Length(message)
  // Valid, but read through fields that answered differently the second time (getters): a copy.
  if (bytes <= rules.maxMessageBytes) return { _tag: "Valid", event: { timestamp, message }, bytes }
  const max = rules.maxMessageBytes
  switch (rules.oversize) {
    case "drop":
      return REJECTED.Oversize
    case "truncate": {
      const t = truncateMessage(message, bytes, max)
      if (t === undefined) return REJECTED.Oversize
      return {
        _tag: "Truncated",
        event: { timestamp, message: t.message },
        bytes: t.bytes,
        removedBytes: t.removedBytes
      }
    }
    case "split": {
      const s = splitMessage(message, max)
      if (s === undefined) return REJECTED.Oversize
      return {
        _tag: "Split",
        parts: s.parts.map((part) => ({ timestamp, message: part })),
        bytes: s.bytes,
        originalBytes: bytes
      }
    }
  }
}
