/**
 * The durable spool's files, as pure rules: segment names, and the text of a segment.
 *
 * A segment is newline-delimited JSON, readable with `cat` and `jq`. A line is either a destination,
 * `{"g":"group","s":"stream"}` (with `createGroup`, `createStream`, `retentionInDays` when they were
 * given), that applies to the events after it, or an event, `[timestamp,
 * "message"]`. A line is written whole with its `\n`; what follows the last `\n` of a file was not
 * written whole (the process died in the middle of the write) and was therefore never acknowledged:
 * it is ignored. A complete line that does not read as either form is counted as unreadable.
 *
 * @internal
 */
import type { Destination, LogEvent, ShipReport } from "@cwlogs/core"
import { Destination as Destinations } from "@cwlogs/core"

/** An event and where it goes. @internal */
export interface Entry {
  readonly destination: Destination.Destination
  readonly event: LogEvent.LogEvent
}

const SEGMENT = /^(\d{12})\.ndjson$/

/** The file name of segment `seq`: names sort as their numbers do. @internal */
export const segmentName = (seq: number): string => `${String(seq).padStart(12, "0")}.ndjson`

/** The number of a segment's file name, or `undefined` for any other file. @internal */
export const segmentSeq = (name: string): number | undefined => {
  const match = SEGMENT.exec(name)
  return match === null ? undefined : Number(match[1])
}

/** Where a segment is rewritten before it replaces the segment (by a rename). @internal */
export const temporaryOf = (path: string): string => `${path}.tmp`

/** Whether a file name is a rewrite the process did not finish. @internal */
export const isTemporary = (name: string): boolean => name.endsWith(".ndjson.tmp")

/** The segments among a directory's file names, oldest first. @internal */
export const segments = (
  names: ReadonlyArray<string>
): ReadonlyArray<{ readonly name: string; readonly seq: number }> =>
  names.flatMap((name) => {
    const seq = segmentSeq(name)
    return seq === undefined ? [] : [{ name, seq }]
  }).sort((a, b) => a.seq - b.seq)

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === "object" && u !== null

/** An input to write: where it goes, and the event as the caller gave it (checked when written). @internal */
export interface Input {
  readonly destination: Destination.Destination
  readonly event: unknown
}

/** What an encoder remembers between writes to one segment: the destination of its last event. @internal */
export interface Encoder {
  last: string | undefined
}

/** A fresh encoder, for a new segment. @internal */
export const encoder = (): Encoder => ({ last: undefined })

/**
 * The lines of `inputs`, continuing the segment `encoder` writes. An input JSON cannot carry as it is
 * (not an object, a timestamp that is not a finite number, a message that is not a string) is not
 * written: the service refuses it whenever it is sent, so it is handed to `rejected` with the reason the
 * validator gives it, in the validator's order, instead of being written changed (`NaN` as `null`).
 * @internal
 */
export const encode = (
  encoder: Encoder,
  inputs: Iterable<Input>,
  rejected: (destination: Destination.Destination, reason: ShipReport.RejectionReason) => void
): string => {
  let text = ""
  for (const { destination, event } of inputs) {
    if (!isRecord(event)) {
      rejected(destination, "InvalidMessage")
      continue
    }
    const { message, timestamp } = event
    if (typeof timestamp !== "number" || !Number.isFinite(timestamp)) {
      rejected(destination, "InvalidTimestamp")
      continue
    }
    if (typeof message !== "string") {
      rejected(destination, "InvalidMessage")
      continue
    }
    const key = Destinations.key(destination)
    if (key !== encoder.last) {
      text += destinationLine(destination) + "\n"
      encoder.last = key
    }
    text += "[" + JSON.stringify(timestamp) + "," + JSON.stringify(message) + "]\n"
  }
  return text
}

/** A destination as a line: its names, and what the library may do to make it exist when it was said. */
const destinationLine = (d: Destination.Destination): string =>
  JSON.stringify({
    g: d.logGroupName,
    s: d.logStreamName,
    ...(d.createGroup === undefined ? {} : { createGroup: d.createGroup }),
    ...(d.createStream === undefined ? {} : { createStream: d.createStream }),
    ...(d.retentionInDays === undefined ? {} : { retentionInDays: d.retentionInDays })
  })

const destinationOf = (value: Readonly<Record<string, unknown>>): Destination.Destination | undefined => {
  const { createGroup, createStream, g, retentionInDays, s } = value
  if (typeof g !== "string" || typeof s !== "string") return undefined
  return {
    logGroupName: g,
    logStreamName: s,
    ...(typeof createGroup === "boolean" ? { createGroup } : {}),
    ...(typeof createStream === "boolean" ? { createStream } : {}),
    ...(typeof retentionInDays === "number" ? { retentionInDays } : {})
  }
}

/** What a segment holds. @internal */
export interface Decoded {
  readonly entries: ReadonlyArray<Entry>
  /** Complete lines that are neither a destination nor an event (or an event before any destination). */
  readonly unreadable: number
  /** Bytes after the last `\n`: a write the process did not finish. */
  readonly tornBytes: number
}

/** Reads a segment's text. @internal */
export const decode = (text: string): Decoded => {
  const entries: Array<Entry> = []
  let unreadable = 0
  let destination: Destination.Destination | undefined
  const end = text.lastIndexOf("\n") + 1
  let start = 0
  while (start < end) {
    const newline = text.indexOf("\n", start)
    const line = text.slice(start, newline)
    start = newline + 1
    if (line === "") continue
    const value = parse(line)
    if (Array.isArray(value)) {
      const items: ReadonlyArray<unknown> = value
      const timestamp = items[0]
      const message = items[1]
      if (
        items.length === 2 && destination !== undefined && typeof timestamp === "number" && typeof message === "string"
      ) {
        entries.push({ destination, event: { timestamp, message } })
      } else unreadable++
    } else {
      const read = isRecord(value) ? destinationOf(value) : undefined
      if (read === undefined) unreadable++
      else destination = read
    }
  }
  return { entries, unreadable, tornBytes: Buffer.byteLength(text.slice(end)) }
}

const parse = (line: string): unknown => {
  try {
    return JSON.parse(line)
  } catch {
    return undefined
  }
}
