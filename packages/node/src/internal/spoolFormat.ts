/**
 * The durable spool's files, as pure rules: segment names, and the bytes of a segment.
 *
 * A segment starts with `MAGIC` (`cwlogs-spool/1` and a newline), then holds records, each a type byte
 * and a 32-bit little-endian length:
 * - `D` (destination): the length, then that many bytes of JSON, `{"g":"group","s":"stream"}` (with
 *   `createGroup`, `createStream`, `retentionInDays` when they were given); it applies to the events
 *   after it;
 * - `E` (event): the length of the message, the timestamp as a 64-bit little-endian float, then the
 *   message's UTF-8 bytes;
 * - `N` (number): the length, 4, then the number (32-bit little-endian) of the event after it. Events are
 *   numbered in order from 0 (what acknowledgements name); a rewrite keeps each event's number, and says
 *   where it skips some (those it dropped, acknowledged). Numbers never go back. A reader that predates
 *   it finds the rest of the file unreadable (kept aside, not shipped).
 * No escaping and no parsing: a message is copied in with `encodeInto` and out with `toString`, at a
 * fraction of the cost of JSON. Records are appended whole; a record that runs past the end of the file
 * was not written whole (the process died in the middle of the write) and was therefore never
 * acknowledged: its bytes are ignored, as are zeros at the end (a machine that crashed after growing the
 * file but before writing its blocks). Anything else that does not read as a record makes the rest of
 * the file unreadable.
 *
 * Beside a segment being shipped, its acknowledgements (`*.seg.acks`): entries of 12 bytes, three 32-bit
 * little-endian words, appended as the segment is shipped: the first event of a range (by its number
 * among the segment's events), a word saying how many events follow it, and a check of both words,
 * `first ^ word ^ K`, whose constant `K` says the kind of the entry:
 * - *acknowledged* (`K` = `0x5a17c0de`, the word the count): the service answered a put of these events
 *   (stored or refused them for good). Written after each put. A run that finds them skips those events,
 *   so a crash in the middle of a shipment sends again only the batches that were in flight.
 * - *sent* (`K` = `0x3a9e5100`, the word the count in its low 24 bits and in its high 8 a number of
 *   copies, 0 to 255): that many copies of these events may be stored by puts whose answer was not seen
 *   (lost, or not yet come). Written before each put (the put about to go counted) and again when an
 *   answer changes the number; the last sent entry of an event holds, an acknowledgement overrides it,
 *   and a later run that sends the event again says its own copies added to those. A run that sends such
 *   an event again and sees it stored counts those copies as possible duplicates.
 * Files written before the sent kind existed hold acknowledgements only, and read as they always did; a
 * reader that predates it finds that sent entries do not check, and ignores them. An entry that does
 * not check (zeros, a torn tail, damage) is ignored: the worst it costs is a duplicate, or a possible
 * duplicate not counted. A file that has grown past twice what it needs (`compactAcks`: each put tried
 * again in an outage appends entries for the same events) is rewritten with the fewest entries that say
 * the same, beside it (`*.seg.acks.tmp`), then renamed over it.
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

/**
 * An event read back from a segment, with its number among the segment's events (what its
 * acknowledgement names).
 * @internal
 */
export class SpoolEvent implements LogEvent.LogEvent {
  constructor(readonly timestamp: number, readonly message: string, readonly record: number) {}
}

const SEGMENT = /^(\d{12})\.seg$/
const ACKS = /^(\d{12}\.seg)\.acks$/

/** The first bytes of every segment: the format and its version. @internal */
export const MAGIC: Uint8Array = Buffer.from("cwlogs-spool/1\n", "latin1")

const EVENT = 0x45 // "E"
const DESTINATION = 0x44 // "D"
const NUMBER = 0x4e // "N"
const EVENT_HEADER = 13
const DESTINATION_HEADER = 5
/** A number record, whole: its header (as a destination's) and the number. */
const NUMBER_BYTES = DESTINATION_HEADER + 4

/** The header's size of a record of `type` (0: not a record). */
const headerOf = (type: number): number =>
  type === EVENT ? EVENT_HEADER : type === DESTINATION || type === NUMBER ? DESTINATION_HEADER : 0

/** The file name of segment `seq`: names sort as their numbers do. @internal */
export const segmentName = (seq: number): string => `${String(seq).padStart(12, "0")}.seg`

/** The number of a segment's file name, or `undefined` for any other file. @internal */
export const segmentSeq = (name: string): number | undefined => {
  const match = SEGMENT.exec(name)
  return match === null ? undefined : Number(match[1])
}

/** Where a segment is rewritten before it replaces the segment (by a rename). @internal */
export const temporaryOf = (path: string): string => `${path}.tmp`

/** Where the acknowledgements of the segment at `path` are kept. @internal */
export const acksOf = (path: string): string => `${path}.acks`

/** The segment file name whose acknowledgements the file `name` holds, or `undefined`. @internal */
export const acksSegment = (name: string): string | undefined => ACKS.exec(name)?.[1]

/**
 * Whether a file name is a rewrite the process did not finish: a segment's (`*.seg.tmp`) or its
 * acknowledgements' compaction (`*.seg.acks.tmp`). @internal
 */
export const isTemporary = (name: string): boolean => name.endsWith(".seg.tmp") || name.endsWith(".seg.acks.tmp")

/** The segments among a directory's file names, oldest first. @internal */
export const segments = (
  names: ReadonlyArray<string>
): ReadonlyArray<{ readonly name: string; readonly seq: number }> =>
  names.flatMap((name) => {
    const seq = segmentSeq(name)
    return seq === undefined ? [] : [{ name, seq }]
  }).sort((a, b) => a.seq - b.seq)

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === "object" && u !== null

/**
 * An input to write: where it goes, the event as the caller gave it (checked when written), and for a
 * rewrite the event's number in the segment it comes from (kept, so that its acknowledgements still name it).
 * @internal
 */
export interface Input {
  readonly destination: Destination.Destination
  readonly event: unknown
  readonly record?: number | undefined
}

/** What an encoder keeps between writes to one segment. @internal */
export interface Encoder {
  /** The destination of the last event written, as a key. */
  last: string | undefined
  /** Whether the magic was written. */
  started: boolean
  /** The number the next event written takes (for a numbered input: a rewrite's, in one `encode`). */
  next: number
  /** Where records are written, grown as needed and reused: its bytes last until the next `encode`. */
  buffer: Buffer
  /** The destinations (`Destination.key`) of the events written. */
  readonly keys: Set<string>
}

/** A fresh encoder, for a new segment. @internal */
export const encoder = (): Encoder => ({
  last: undefined,
  started: false,
  next: 0,
  buffer: Buffer.allocUnsafe(64 * 1024),
  keys: new Set()
})

const reserve = (encoder: Encoder, used: number, more: number): void => {
  if (used + more <= encoder.buffer.length) return
  const grown = Buffer.allocUnsafe(Math.max(encoder.buffer.length * 2, used + more))
  encoder.buffer.copy(grown, 0, 0, used)
  encoder.buffer = grown
}

/**
 * The records of `inputs`, continuing the segment `encoder` writes (a view of the encoder's buffer,
 * valid until its next `encode`). An input the service refuses whenever it is sent (not an object, a
 * timestamp that is not a finite number, a message that is not a string, a field that cannot be read) is
 * not written: it is handed
 * to `rejected` with the reason the validator gives it, in the validator's order. An input with a
 * `record` beyond the next number keeps it (an `N` record says it); numbers never go back.
 * @internal
 */
export const encode = (
  encoder: Encoder,
  inputs: Iterable<Input>,
  rejected: (destination: Destination.Destination, reason: ShipReport.RejectionReason) => void
): Uint8Array => {
  let used = 0
  if (!encoder.started) {
    reserve(encoder, 0, MAGIC.length)
    encoder.buffer.set(MAGIC, 0)
    used = MAGIC.length
    encoder.started = true
  }
  for (const { destination, event, record } of inputs) {
    if (!isRecord(event)) {
      rejected(destination, "InvalidMessage")
      continue
    }
    let message: unknown
    let timestamp: unknown
    try {
      ;({ message, timestamp } = event)
    } catch {
      // a field that cannot be read (a getter or a proxy that throws): refused, as the sink refuses it
      rejected(destination, "InvalidMessage")
      continue
    }
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
      const json = destinationJson(destination)
      reserve(encoder, used, DESTINATION_HEADER + json.length * 3)
      const n = encoder.buffer.write(json, used + DESTINATION_HEADER, "utf8")
      encoder.buffer[used] = DESTINATION
      encoder.buffer.writeUInt32LE(n, used + 1)
      used += DESTINATION_HEADER + n
      encoder.last = key
      encoder.keys.add(key)
    }
    if (record !== undefined && record > encoder.next) {
      reserve(encoder, used, NUMBER_BYTES)
      encoder.buffer[used] = NUMBER
      encoder.buffer.writeUInt32LE(4, used + 1)
      encoder.buffer.writeUInt32LE(record, used + DESTINATION_HEADER)
      used += NUMBER_BYTES
      encoder.next = record
    }
    encoder.next++
    // at most 3 bytes per UTF-16 unit (a lone surrogate is written as U+FFFD, as the service stores it)
    reserve(encoder, used, EVENT_HEADER + message.length * 3)
    const n = encoder.buffer.write(message, used + EVENT_HEADER, "utf8")
    encoder.buffer[used] = EVENT
    encoder.buffer.writeUInt32LE(n, used + 1)
    encoder.buffer.writeDoubleLE(timestamp, used + 5)
    used += EVENT_HEADER + n
  }
  return encoder.buffer.subarray(0, used)
}

/** A destination as JSON: its names, and what the library may do to make it exist when it was said. */
const destinationJson = (d: Destination.Destination): string =>
  JSON.stringify({
    g: d.logGroupName,
    s: d.logStreamName,
    ...(d.createGroup === undefined ? {} : { createGroup: d.createGroup }),
    ...(d.createStream === undefined ? {} : { createStream: d.createStream }),
    ...(d.retentionInDays === undefined ? {} : { retentionInDays: d.retentionInDays })
  })

const destinationOf = (value: unknown): Destination.Destination | undefined => {
  if (!isRecord(value)) return undefined
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

const ACK_BYTES = 12
/** The check constant of an acknowledged entry. */
const ACK_CHECK = 0x5a17c0de
/** The check constant of a sent entry. */
const SENT_CHECK = 0x3a9e5100
/** Events a sent entry names at most (its count is the word's low 24 bits): longer runs take several. */
const SENT_RANGE = 0xffffff
/** The most copies a sent entry says (the word's high 8 bits): more are said as this many. @internal */
export const MAX_COPIES = 0xff

/** Ranges of event numbers, `[first, end)`, sorted and apart. @internal */
export type Ranges = ReadonlyArray<readonly [number, number]>

/**
 * Ranges of event numbers, `[first, end)`, each with the copies of its events the service may hold
 * (more than 0): sorted and apart.
 * @internal
 */
export type SentRanges = ReadonlyArray<readonly [number, number, number]>

/** The runs of consecutive numbers among `records` (in any order, repeats allowed). */
const runsOf = (records: ReadonlyArray<number>): Array<[number, number]> => {
  // a batch's events are mostly in the order they were read: sorted only when they are not
  let ascending = true
  for (let i = 1; i < records.length && ascending; i++) ascending = records[i - 1] <= records[i]
  return rangesOf(ascending ? records : Float64Array.from(records).sort())
}

/** Entries `[first, word, first ^ word ^ check]`. */
const encodeEntries = (entries: ReadonlyArray<readonly [number, number]>, check: number): Uint8Array => {
  const out = Buffer.alloc(entries.length * ACK_BYTES)
  entries.forEach(([first, word], i) => {
    out.writeUInt32LE(first, i * ACK_BYTES)
    out.writeUInt32LE(word, i * ACK_BYTES + 4)
    out.writeUInt32LE((first ^ word ^ check) >>> 0, i * ACK_BYTES + 8)
  })
  return out
}

/**
 * The acknowledgement of events numbered `records` (in any order, repeats allowed): one entry per run of
 * consecutive numbers.
 * @internal
 */
export const encodeAcks = (records: ReadonlyArray<number>): Uint8Array =>
  encodeEntries(runsOf(records).map(([first, end]) => [first, end - first]), ACK_CHECK)

/**
 * The sent entries of events numbered `records` (in any order, repeats allowed): `copies` of each may be
 * stored by puts whose answer was not seen (0: none may be; more than `MAX_COPIES` is said as
 * `MAX_COPIES`). One entry per run of consecutive numbers (of up to 2^24 - 1 events).
 * @internal
 */
export const encodeSent = (records: ReadonlyArray<number>, copies: number): Uint8Array => {
  const high = Math.min(MAX_COPIES, Math.max(0, Math.floor(copies))) * 0x1000000
  const entries: Array<[number, number]> = []
  for (const [first, end] of runsOf(records)) {
    for (let at = first; at < end; at += SENT_RANGE) entries.push([at, high + Math.min(SENT_RANGE, end - at)])
  }
  return encodeEntries(entries, SENT_CHECK)
}

const rangesOf = (sorted: ArrayLike<number>): Array<[number, number]> => {
  const out: Array<[number, number]> = []
  for (let i = 0; i < sorted.length; i++) {
    const n = sorted[i]
    const last = out.at(-1)
    if (last !== undefined && n <= last[1]) last[1] = Math.max(last[1], n + 1)
    else out.push([n, n + 1])
  }
  return out
}

/** What an acknowledgements file says. @internal */
export interface Acks {
  /** The events acknowledged (sorted, merged). */
  readonly acked: Ranges
  /** The events sent and not acknowledged that may be stored, with how many copies of each. */
  readonly sent: SentRanges
  /** Where the next entry goes: after the last whole entry (a torn one is written over). */
  readonly end: number
}

/**
 * Reads an acknowledgements file: the events acknowledged, those sent whose copies may be stored (the
 * last sent entry of each holds; acknowledged ones are not), and where the next entry goes.
 * @internal
 */
export const readAcks = (bytes: Uint8Array): Acks => {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const end = bytes.length - (bytes.length % ACK_BYTES)
  const ranges: Array<[number, number]> = []
  let sent: Array<[number, number, number]> = []
  for (let at = 0; at < end; at += ACK_BYTES) {
    const first = view.readUInt32LE(at)
    const word = view.readUInt32LE(at + 4)
    const kind = (view.readUInt32LE(at + 8) ^ first ^ word) >>> 0
    if (kind === ACK_CHECK) {
      if (word > 0) ranges.push([first, first + word])
    } else if (kind === SENT_CHECK) {
      const count = word & SENT_RANGE
      if (count > 0) sent = paint(sent, first, first + count, word >>> 24)
    }
  }
  ranges.sort((a, b) => a[0] - b[0])
  const merged: Array<[number, number]> = []
  for (const [first, last] of ranges) {
    const prev = merged.at(-1)
    if (prev !== undefined && first <= prev[1]) prev[1] = Math.max(prev[1], last)
    else merged.push([first, last])
  }
  return { acked: merged, sent: sent.length === 0 ? sent : without(sent, merged), end }
}

/**
 * The fewest entries that say what `acks` says (read back by `readAcks`, the same `acked` and `sent`):
 * one acknowledged entry per range, one sent entry per range of copies (of up to 2^24 - 1 events). What
 * an acknowledgements file is rewritten to when it has grown past a multiple of it (every put of a
 * segment tried again and again in an outage appends sent entries for the same events).
 * @internal
 */
export const compactAcks = (acks: Pick<Acks, "acked" | "sent">): Uint8Array => {
  const sent: Array<[number, number]> = []
  for (const [first, end, copies] of acks.sent) {
    const high = Math.min(MAX_COPIES, copies) * 0x1000000
    for (let at = first; at < end; at += SENT_RANGE) sent.push([at, high + Math.min(SENT_RANGE, end - at)])
  }
  return Buffer.concat([
    encodeEntries(acks.acked.map(([first, end]) => [first, end - first]), ACK_CHECK),
    encodeEntries(sent, SENT_CHECK)
  ])
}

/** The index of the first of `ranges` (sorted, apart, `[first, end, ...]`) that ends after `at`. */
const firstEndingAfter = (ranges: ReadonlyArray<readonly [number, number, ...Array<number>]>, at: number): number => {
  let lo = 0
  let hi = ranges.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ranges[mid][1] <= at) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** `ranges` with `[first, end)` said to hold `copies` (0: taken out), whatever they said of it before. */
const paint = (
  ranges: Array<[number, number, number]>,
  first: number,
  end: number,
  copies: number
): Array<[number, number, number]> => {
  const lo = firstEndingAfter(ranges, first)
  let to = lo
  while (to < ranges.length && ranges[to][0] < end) to++
  const replacing: Array<[number, number, number]> = []
  if (lo < to && ranges[lo][0] < first) replacing.push([ranges[lo][0], first, ranges[lo][2]])
  if (copies > 0) replacing.push([first, end, copies])
  if (lo < to && ranges[to - 1][1] > end) replacing.push([end, ranges[to - 1][1], ranges[to - 1][2]])
  ranges.splice(lo, to - lo, ...replacing)
  return ranges
}

/** The parts of `sent` outside the ranges `acked` (both sorted and apart). */
const without = (sent: SentRanges, acked: Ranges): SentRanges => {
  const out: Array<[number, number, number]> = []
  let a = 0
  for (const [first, end, copies] of sent) {
    let from = first
    while (a < acked.length && acked[a][1] <= from) a++
    for (let k = a; k < acked.length && acked[k][0] < end && from < end; k++) {
      if (acked[k][0] > from) out.push([from, acked[k][0], copies])
      from = Math.max(from, acked[k][1])
    }
    if (from < end) out.push([from, end, copies])
  }
  return out
}

/** The copies of event `record` that `sent` says may be stored (0: none). @internal */
export const copiesOf = (sent: SentRanges, record: number): number => {
  const at = firstEndingAfter(sent, record)
  return at < sent.length && sent[at][0] <= record ? sent[at][2] : 0
}

/** What a reader found besides the events, once it has read the whole segment. @internal */
export interface ReadCounts {
  /** Events read (not counting those skipped). */
  events: number
  /** Events skipped: acknowledged by an earlier run. */
  skipped: number
  /** Bytes that could not be read as records (from the first bad record to the end). */
  unreadableBytes: number
  /** Bytes of a last record the process did not finish writing, or zeros after the last record. */
  tornBytes: number
}

/**
 * Reads a segment's bytes: the events, one by one as they are asked for (a segment is not turned into
 * objects all at once), and in `counts` what was found besides them.
 * @internal
 */
export const read = (
  bytes: Buffer,
  acked: Ranges = []
): { readonly entries: Iterable<Entry>; readonly counts: ReadCounts } => {
  const counts: ReadCounts = { events: 0, skipped: 0, unreadableBytes: 0, tornBytes: 0 }
  const entries = function*(): Generator<Entry> {
    const end = bytes.length
    if (end < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
      // a segment whose magic itself was cut off by a crash, or not a segment
      if (Buffer.from(MAGIC).subarray(0, end).equals(bytes)) counts.tornBytes += end
      else counts.unreadableBytes += end
      return
    }
    let at = MAGIC.length
    let destination: Destination.Destination | undefined
    let record = 0
    let range = 0
    while (at < end) {
      const type = bytes[at]
      const header = headerOf(type)
      if (header === 0 || (type === EVENT && destination === undefined)) {
        if (zerosFrom(bytes, at)) counts.tornBytes += end - at
        else counts.unreadableBytes += end - at
        return
      }
      if (at + header > end || at + header + bytes.readUInt32LE(at + 1) > end) {
        // A record that runs past the end is a write the process did not finish, unless whole records
        // follow it: then its length was damaged, and what follows is kept (unreadable), not dropped.
        if (recordsFollow(bytes, at + 1)) counts.unreadableBytes += end - at
        else counts.tornBytes += end - at
        return
      }
      const length = bytes.readUInt32LE(at + 1)
      const body = at + header
      if (type === DESTINATION) {
        const read = destinationOf(parse(bytes.toString("utf8", body, body + length)))
        if (read === undefined) {
          counts.unreadableBytes += end - at
          return
        }
        destination = read
      } else if (type === NUMBER) {
        // a rewrite's gap: the next event's number (never one gone by)
        const next = length === 4 ? bytes.readUInt32LE(body) : -1
        if (next < record) {
          counts.unreadableBytes += end - at
          return
        }
        record = next
      } else if (destination !== undefined) {
        const n = record++
        while (range < acked.length && acked[range][1] <= n) range++
        if (range < acked.length && acked[range][0] <= n) {
          counts.skipped++
        } else {
          const message = bytes.toString("utf8", body, body + length)
          counts.events++
          yield { destination, event: new SpoolEvent(bytes.readDoubleLE(at + 5), message, n) }
        }
      }
      at = body + length
    }
  }
  return { entries: { [Symbol.iterator]: entries }, counts }
}

/** What `read` finds in the whole segment (every record read, the events not kept). @internal */
export const readCounts = (bytes: Buffer, acked: Ranges = []): ReadCounts => {
  const { counts, entries } = read(bytes, acked)
  const events = entries[Symbol.iterator]()
  while (events.next().done !== true) continue
  return counts
}

/**
 * Whether, somewhere from `from` on, two or more whole records run on to the end of the segment (or to a
 * torn or zeroed tail): the sign of a damaged record in the middle rather than a torn last write.
 */
const recordsFollow = (bytes: Buffer, from: number): boolean => {
  const end = bytes.length
  for (let p = from; p < end; p++) {
    if (headerOf(bytes[p]) === 0) continue
    let at = p
    let whole = 0
    while (at < end) {
      const type = bytes[at]
      const header = headerOf(type)
      if (header === 0) {
        if (zerosFrom(bytes, at) && whole >= 2) return true
        break
      }
      if (at + header > end || at + header + bytes.readUInt32LE(at + 1) > end) {
        if (whole >= 2) return true
        break
      }
      const body = at + header
      const length = bytes.readUInt32LE(at + 1)
      if (type === DESTINATION && destinationOf(parse(bytes.toString("utf8", body, body + length))) === undefined) break
      at = body + length
      whole++
    }
    if (at === end && whole >= 2) return true
  }
  return false
}

const zerosFrom = (bytes: Buffer, from: number): boolean => {
  for (let i = from; i < bytes.length; i++) if (bytes[i] !== 0) return false
  return true
}

const parse = (json: string): unknown => {
  try {
    return JSON.parse(json)
  } catch {
    return undefined
  }
}
