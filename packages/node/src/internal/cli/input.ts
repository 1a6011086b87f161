/**
 * The CLI's input: lines of a file, a followed file (`tail -f`) or stdin, and the optional leading
 * timestamp of a line.
 *
 * @internal
 */
import type { LogEvent } from "@cwlogs/core"
import * as NodeStream from "@effect/platform-node/NodeStream"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as NodeFs from "node:fs"

/**
 * The input could not be read.
 *
 * @internal
 */
export class InputError extends Data.TaggedError("InputError")<{ readonly source: string; readonly message: string }> {}

// ---------------------------------------------------------------------------------------------------------------
// leading timestamps (pure)
// ---------------------------------------------------------------------------------------------------------------

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)?(?=\s|$)/
const EPOCH_MS = /^(\d{13})(?=\s|$)/

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate()

const offsetMinutes = (zone: string | undefined): number | undefined => {
  if (zone === undefined || zone === "Z" || zone === "z") return 0
  const sign = zone.startsWith("-") ? -1 : 1
  const digits = zone.slice(1).replace(":", "")
  const hours = Number(digits.slice(0, 2))
  const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0
  if (hours > 23 || minutes > 59) return undefined
  return sign * (hours * 60 + minutes)
}

/**
 * Reads a leading timestamp: ISO-8601 (`2024-05-01T12:00:00.123Z`, a space for the `T`, an offset or
 * none for UTC) or epoch milliseconds (13 digits), followed by white space or the end of the line.
 * Returns the timestamp and the rest of the line after the white space, or `undefined` when the line
 * does not start with a valid timestamp.
 *
 * @internal
 */
export const parseTimestampPrefix = (
  line: string
): { readonly timestamp: number; readonly message: string } | undefined => {
  const epoch = EPOCH_MS.exec(line)
  if (epoch !== null) {
    return { timestamp: Number(epoch[1]), message: line.slice(epoch[0].length).replace(/^\s+/, "") }
  }
  const iso = ISO.exec(line)
  if (iso === null) return undefined
  const [year, month, day, hour, minute] = [iso[1], iso[2], iso[3], iso[4], iso[5]].map(Number)
  const second = iso[6] !== undefined ? Number(iso[6]) : 0
  const millis = iso[7] !== undefined ? Math.floor(Number(`0.${iso[7]}`) * 1000) : 0
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined
  if (hour > 23 || minute > 59 || second > 60) return undefined
  const offset = offsetMinutes(iso[8])
  if (offset === undefined) return undefined
  const timestamp = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), millis) - offset * 60_000
  return { timestamp, message: line.slice(iso[0].length).replace(/^\s+/, "") }
}

/**
 * A line as an event: its timestamp is `now`, or with `timestampPrefix` the line's leading timestamp
 * (stripped from the message) when it has one.
 *
 * @internal
 */
export const toEvent = (line: string, now: number, timestampPrefix: boolean): LogEvent.LogEvent => {
  if (timestampPrefix) {
    const parsed = parseTimestampPrefix(line)
    if (parsed !== undefined) return { timestamp: parsed.timestamp, message: parsed.message }
  }
  return { timestamp: now, message: line }
}

// ---------------------------------------------------------------------------------------------------------------
// reading
// ---------------------------------------------------------------------------------------------------------------

const describeReadError = (error: unknown): string => {
  const text = error instanceof Error ? error.message : String(error)
  if (/ENOENT|NotFound/i.test(text)) return "no such file"
  if (/EACCES|PermissionDenied/i.test(text)) return "permission denied"
  if (/EISDIR/i.test(text)) return "is a directory"
  return text
}

const platformError = (source: string) => (error: unknown) =>
  new InputError({ source, message: describeReadError(error) })

const CHUNK = 64 * 1024

/** After a stop, how far a FILE is read on to the end of the line being read; a longer one is cut off. */
export const READ_ON_BYTES = 1024 * 1024

const NEWLINE = 0x0a

/** How many bytes of a followed file's start are kept to tell it was rewritten. */
const HEAD_BYTES = 64

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * The bytes of a file, then of whatever is appended to it, until `stop` completes; then the rest of the
 * file as it is then (its size at the stop), on to the end of the line being written there (within
 * `READ_ON_BYTES`), not what a busy writer adds after. A file truncated in place is read again from its start: found shorter than what was
 * read, or, while waiting for more, with a start that is no longer the one read (truncated and written
 * again past the old size between two polls, as by logrotate's `copytruncate` and a busy writer).
 *
 * @internal
 */
export const followBytes = (
  path: string,
  stop: Effect.Effect<boolean>,
  pollEvery: Duration.DurationInput = Duration.millis(200)
): Stream.Stream<Uint8Array, InputError, FileSystem.FileSystem> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const file = yield* Effect.mapError(fs.open(path, { flag: "r" }), platformError(path))
    const failed = (e: unknown) => Option.some(platformError(path)(e))
    let position = 0
    /** The first bytes read from the start of the file (up to HEAD_BYTES, however short the reads were). */
    let head: Uint8Array | undefined
    /** The file's size when the stop was first seen: read to there, then to the end of its line. */
    let endAtStop: number | undefined
    /** Read past `endAtStop` looking for the end of the line; the last byte read was a newline. */
    let readOn = 0
    let atLineStart = true
    /** The last read found the end of the file: what comes next may be a rewrite. */
    let waiting = false
    const fromStart = Effect.gen(function*() {
      yield* file.seek(0, "start")
      position = 0
      head = undefined
      waiting = false
      atLineStart = true
    })
    /** Whether the file holds `expected` at `at` now; the next read is then at `resumeAt`. */
    const holdsAt = (at: number, expected: Uint8Array, resumeAt: number) =>
      Effect.gen(function*() {
        yield* file.seek(at, "start")
        const now = yield* Effect.mapError(file.readAlloc(expected.length), failed)
        yield* file.seek(resumeAt, "start")
        return Option.isSome(now) && sameBytes(now.value, expected)
      })
    /**
     * Whether the start of the file is still the one read (checked while waiting for more); the next read
     * is then at `resumeAt`.
     */
    const sameStart = (resumeAt: number) => head === undefined ? Effect.succeed(true) : holdsAt(0, head, resumeAt)
    /**
     * Whether `read`, read at `at`, is what the file holds there now: the read was of the file as it is
     * now (rewritten before it), not of the one before (rewritten after it). The next read is at the end.
     */
    const readFromNow = (at: number, read: Uint8Array) => holdsAt(at, read, at + read.length)
    const pull: Effect.Effect<Uint8Array, Option.Option<InputError>> = Effect.gen(function*() {
      while (true) {
        // Look at `stop` before reading: when it had completed, this read sees everything appended
        // before it, so ending at this read's end of file loses nothing.
        const stopped = yield* stop
        if (stopped && endAtStop === undefined) endAtStop = Number((yield* Effect.mapError(file.stat, failed)).size)
        const afterWait = waiting
        if (afterWait && !(yield* sameStart(position))) {
          yield* fromStart
          continue
        }
        // past the size at the stop: on to the end of the line being written there, and no further
        if (endAtStop !== undefined && position >= endAtStop && (atLineStart || readOn > READ_ON_BYTES)) {
          return yield* Effect.fail(Option.none())
        }
        const bytes = yield* Effect.mapError(file.readAlloc(CHUNK), failed)
        if (Option.isSome(bytes) && bytes.value.length > 0) {
          // The file rewritten between the check above and this read: these bytes are the middle of the
          // new one (a line cut in two, the lines before it read twice). Checked again now, they are
          // dropped and the new file read from its start. Rewritten after this read, they are the old
          // file's last bytes: kept, and the start checked again before the next read.
          const rewritten = afterWait && !(yield* sameStart(position + bytes.value.length))
          if (rewritten && (yield* readFromNow(position, bytes.value))) {
            yield* fromStart
            continue
          }
          let read = bytes.value
          if (endAtStop !== undefined && position + read.length > endAtStop) {
            const within = Math.max(0, endAtStop - position)
            const end = read.indexOf(NEWLINE, within)
            if (end !== -1) {
              read = read.subarray(0, end + 1)
              yield* file.seek(position + read.length, "start")
            } else {
              readOn += read.length - within
            }
          }
          if (position < HEAD_BYTES) {
            const more = read.subarray(0, HEAD_BYTES - position)
            head = head === undefined ? more.slice() : Buffer.concat([head, more])
          }
          position += read.length
          atLineStart = read[read.length - 1] === NEWLINE
          waiting = rewritten
          return read
        }
        if (stopped) return yield* Effect.fail(Option.none())
        const info = yield* Effect.mapError(file.stat, failed)
        if (Number(info.size) < position) {
          yield* fromStart
          continue
        }
        waiting = true
        yield* Effect.sleep(pollEvery)
      }
    })
    return Stream.repeatEffectOption(pull)
  }))

/** Reads a stream Node opens (stdin, a pipe, a device): in order, no positioned reads. */
const readable = (source: string, open: () => NodeJS.ReadableStream) =>
  NodeStream.fromReadable<InputError>(open, platformError(source))

/**
 * The bytes of a FILE until a stop, then on to the end of the line being read (within `READ_ON_BYTES`,
 * else `cutOff` is called): no chunk is read after that, and no line is cut in two.
 */
const toLineEndAfterStop = <E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  stopped: Effect.Effect<boolean>,
  cutOff: () => void
): Stream.Stream<Uint8Array, E, R> =>
  Stream.suspend(() => {
    /** The bytes before the stop ended a line (or there were none). */
    let atLineStart = true
    let readOn = 0
    return bytes.pipe(
      Stream.mapEffect((chunk) =>
        Effect.map(stopped, (stop): readonly [Uint8Array, boolean] => {
          if (!stop) {
            if (chunk.length > 0) atLineStart = chunk[chunk.length - 1] === NEWLINE
            return [chunk, false]
          }
          if (atLineStart) return [chunk.subarray(0, 0), true]
          const end = chunk.indexOf(NEWLINE)
          if (end !== -1) return [chunk.subarray(0, end + 1), true]
          readOn += chunk.length
          if (readOn <= READ_ON_BYTES) return [chunk, false]
          cutOff()
          return [chunk, true]
        })
      ),
      Stream.takeUntil(([, last]) => last),
      Stream.map(([chunk]) => chunk)
    )
  })

/**
 * The longest line kept whole, in UTF-16 units (32 Mi: 32 to 96 MiB of UTF-8): a longer one (a run of
 * NULs left by `copytruncate` under a writer not in append mode) is handed on in pieces of this length,
 * each split into events as any long line, rather than built up until V8 cannot hold the string.
 */
export const MAX_LINE_UNITS = 32 * 1024 * 1024

/** A line's text without the `\r` of a `\r\n` end. */
const withoutCR = (line: string): string => line.endsWith("\r") ? line.slice(0, -1) : line

/**
 * Decodes UTF-8 (an invalid or incomplete sequence is U+FFFD, at the very end too) and splits lines. The
 * text after the last `\n` is a line when the input ended; when it was cut off (`cut`: a stop, a read
 * error) it is a part of one: not a line, it goes to `onPartialLine`.
 */
const toLines = <E, R>(
  bytes: Stream.Stream<Uint8Array, E, R>,
  cut: Effect.Effect<boolean>,
  onPartialLine: (text: string) => Effect.Effect<void>
): Stream.Stream<string, E, R> =>
  Stream.suspend(() => {
    const decoder = new TextDecoder("utf-8")
    let rest = ""
    const split = (text: string, out: Array<string>): void => {
      let end = text.indexOf("\n")
      if (end === -1) {
        rest += text
        while (rest.length > MAX_LINE_UNITS) {
          out.push(rest.slice(0, MAX_LINE_UNITS))
          rest = rest.slice(MAX_LINE_UNITS)
        }
        return
      }
      out.push(withoutCR(rest + text.slice(0, end)))
      let from = end + 1
      while ((end = text.indexOf("\n", from)) !== -1) {
        out.push(withoutCR(text.slice(from, end)))
        from = end + 1
      }
      rest = text.slice(from)
    }
    /** What is left after the last `\n`, with the decoder's last bytes. */
    const last = (cutOff: boolean): Effect.Effect<Chunk.Chunk<string>> =>
      Effect.suspend(() => {
        const text = rest + decoder.decode()
        rest = ""
        if (text === "") return Effect.succeed(Chunk.empty())
        return cutOff ? Effect.as(onPartialLine(text), Chunk.empty()) : Effect.succeed(Chunk.of(withoutCR(text)))
      })
    return bytes.pipe(
      Stream.mapChunks((chunk) => {
        const out: Array<string> = []
        for (const piece of chunk) split(decoder.decode(piece, { stream: true }), out)
        return Chunk.unsafeFromArray(out)
      }),
      Stream.concat(Stream.flattenChunks(Stream.fromEffect(Effect.flatMap(cut, last)))),
      Stream.catchAll((error) => Stream.concat(Stream.execute(last(true)), Stream.fail(error)))
    )
  })

/**
 * The lines of the input (`-` for stdin), decoded as UTF-8 (`\n` or `\r\n` end a line; a last line
 * without an end counts; an invalid or incomplete sequence is U+FFFD). With `follow`, a regular file is
 * read like `tail -f` until `stop` completes (then to its end). Without it, `stop` ends the reading early,
 * never in the middle of a line: a FILE is read on to the end of the line being read (within
 * `READ_ON_BYTES`); stdin, or a FILE that is not a regular file, cannot be read on without waiting for
 * its writer, so the part of a line read when it stops is not a line. Such a part, or one a read error
 * cut off, goes to `onPartialLine`. A FILE that is not a regular file (a named pipe, `/dev/stdin`, a
 * process substitution) is read as a stream to its end, `follow` or not: it cannot be read by position.
 *
 * @internal
 */
export const lines = (
  source: string,
  options: {
    readonly follow: boolean
    readonly stop: Effect.Effect<void>
    readonly stopped: Effect.Effect<boolean>
    readonly onPartialLine?: ((text: string) => Effect.Effect<void>) | undefined
  }
): Stream.Stream<string, InputError, FileSystem.FileSystem> =>
  Stream.unwrap(Effect.gen(function*() {
    const onPartialLine = options.onPartialLine ?? (() => Effect.void)
    /** A stream read to its end: its last line is whole. */
    const asStream = <E, R>(bytes: Stream.Stream<Uint8Array, E, R>) => {
      let ended = false
      return toLines(
        bytes.pipe(
          Stream.onEnd(Effect.sync(() => {
            ended = true
          })),
          // a source that is always ready (a file) never lets the interruption in: each chunk checks too
          Stream.takeUntilEffect(() => options.stopped),
          Stream.interruptWhen(options.stop)
        ),
        Effect.sync(() => !ended),
        onPartialLine
      )
    }
    if (source === "-") return asStream(readable("stdin", () => process.stdin))
    const fs = yield* FileSystem.FileSystem
    const info = yield* Effect.mapError(fs.stat(source), platformError(source))
    if (info.type !== "File") {
      return asStream(readable(source, () => NodeFs.createReadStream(source, { highWaterMark: CHUNK })))
    }
    // followed, it ends only at the end of the file: its last line, with or without an end, is one
    if (options.follow) return toLines(followBytes(source, options.stopped), Effect.succeed(false), onPartialLine)
    let cut = false
    const file = Stream.mapError(fs.stream(source, { chunkSize: CHUNK }), platformError(source))
    return toLines(
      toLineEndAfterStop(file, options.stopped, () => {
        cut = true
      }),
      Effect.sync(() => cut),
      onPartialLine
    )
  }))
