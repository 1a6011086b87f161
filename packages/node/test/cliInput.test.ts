import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import {
  followBytes,
  lines,
  MAX_LINE_UNITS,
  parseTimestampPrefix,
  READ_ON_BYTES,
  toEvent
} from "../src/internal/cli/input.js"
import { tempFile } from "./support/files.js"

const neverStop = { follow: false, stop: Effect.never, stopped: Effect.succeed(false) }

const OLD_LINES = "2024-05-01 12:00:00 old line one\n2024-05-01 12:00:01 old line two\n"

/**
 * `followBytes` on a file holding `initial`, polling every 20 ms, through the file system as it is but
 * for one thing: once armed (`arm`, which waits until it has happened), the next read of more than the
 * start's 64 bytes (a read after the start's check) has the file rewritten with `rewrite` (truncated and
 * written again past the old size) just `before` or just `after` it. `end` waits for the rewrite to be
 * read, then stops the reading.
 */
const followRacing = (initial: string, rewrite: string, when: "before" | "after") =>
  Effect.gen(function*() {
    const file = yield* tempFile(initial)
    let armed = false
    const rewriteNow = (size: FileSystem.SizeInput) =>
      Effect.sync(() => {
        if (!armed || Number(size) <= 64) return
        armed = false
        Fs.writeFileSync(file, rewrite)
      })
    const fs = yield* FileSystem.FileSystem
    const racing: FileSystem.FileSystem = {
      ...fs,
      open: (path, options) =>
        Effect.map(fs.open(path, options), (opened) => {
          const original = opened.readAlloc.bind(opened)
          const readAlloc: typeof opened.readAlloc = (size) =>
            when === "before"
              ? Effect.zipRight(rewriteNow(size), original(size))
              : Effect.tap(original(size), () => rewriteNow(size))
          // the same file (its position is its own), its reads armed
          return Object.defineProperty(opened, "readAlloc", { value: readAlloc })
        })
    }
    const chunks: Array<string> = []
    const stop = yield* Deferred.make<void>()
    const fiber = yield* followBytes(file, Deferred.isDone(stop), "20 millis").pipe(
      Stream.decodeText(),
      Stream.runForEach((text) => Effect.sync(() => chunks.push(text))),
      Effect.provideService(FileSystem.FileSystem, racing),
      Effect.fork
    )
    const text = () => chunks.join("")
    const until = (done: (t: string) => boolean) =>
      Effect.sync(text).pipe(
        Effect.repeat({ until: done, schedule: Schedule.spaced("20 millis") }),
        Effect.timeout("5 seconds"),
        Effect.ignore
      )
    const arm = Effect.zipRight(
      Effect.sync(() => {
        armed = true
      }),
      until(() => !armed)
    )
    const end = Effect.gen(function*() {
      yield* until((t) => t.endsWith(rewrite.slice(-5)))
      yield* Effect.sleep("100 millis")
      yield* Deferred.succeed(stop, undefined)
      yield* Fiber.join(fiber)
    })
    return { file, text, until, arm, end }
  })

/** `followBytes` on a file, polling every 20 ms: the text read so far, a wait for it, and the end. */
const following = (file: string) =>
  Effect.gen(function*() {
    const stop = yield* Deferred.make<void>()
    const chunks: Array<string> = []
    const fiber = yield* followBytes(file, Deferred.isDone(stop), "20 millis").pipe(
      Stream.decodeText(),
      Stream.runForEach((text) => Effect.sync(() => chunks.push(text))),
      Effect.fork
    )
    const text = () => chunks.join("")
    const until = (done: (t: string) => boolean) =>
      Effect.sync(text).pipe(
        Effect.repeat({ until: done, schedule: Schedule.spaced("20 millis") }),
        Effect.timeout("10 seconds")
      )
    const end = Effect.zipRight(Deferred.succeed(stop, undefined), Fiber.join(fiber))
    return { text, until, end }
  })

describe("cwlogs input: leading timestamps", () => {
  it("reads ISO-8601 with Z, offsets, fractions, a space for T, and no zone as UTC", () => {
    expect(parseTimestampPrefix("2024-05-01T12:00:00Z hello")).toEqual({
      timestamp: Date.UTC(2024, 4, 1, 12),
      message: "hello"
    })
    expect(parseTimestampPrefix("2024-05-01T12:00:00.123+02:00 a b")).toEqual({
      timestamp: Date.UTC(2024, 4, 1, 10, 0, 0, 123),
      message: "a b"
    })
    expect(parseTimestampPrefix("2024-05-01 12:00:00,5-0130\tx")?.timestamp).toBe(
      Date.UTC(2024, 4, 1, 13, 30, 0, 500)
    )
    expect(parseTimestampPrefix("2024-05-01T12:00 x")?.timestamp).toBe(Date.UTC(2024, 4, 1, 12))
    expect(parseTimestampPrefix("2024-05-01T12:00:00.123456789Z x")?.timestamp).toBe(
      Date.UTC(2024, 4, 1, 12, 0, 0, 123)
    )
    expect(parseTimestampPrefix("2024-05-01T12:00:00")).toEqual({ timestamp: Date.UTC(2024, 4, 1, 12), message: "" })
  })

  it("checks the calendar at its limits: Feb 29 only in leap years, month 12 not 13, 23:59 not 24:00", () => {
    expect(parseTimestampPrefix("2024-02-29T00:00:00Z x")).toBeDefined()
    expect(parseTimestampPrefix("2023-02-29T00:00:00Z x")).toBeUndefined()
    expect(parseTimestampPrefix("2024-12-31T23:59:59Z x")).toBeDefined()
    expect(parseTimestampPrefix("2024-13-01T00:00:00Z x")).toBeUndefined()
    expect(parseTimestampPrefix("2024-00-01T00:00:00Z x")).toBeUndefined()
    expect(parseTimestampPrefix("2024-04-31T00:00:00Z x")).toBeUndefined()
    expect(parseTimestampPrefix("2024-01-01T24:00:00Z x")).toBeUndefined()
    expect(parseTimestampPrefix("2024-01-01T00:60:00Z x")).toBeUndefined()
  })

  it("reads epoch milliseconds of exactly 13 digits, followed by white space or the end", () => {
    expect(parseTimestampPrefix("1714564800000 hello")).toEqual({ timestamp: 1714564800000, message: "hello" })
    expect(parseTimestampPrefix("1714564800000")).toEqual({ timestamp: 1714564800000, message: "" })
    expect(parseTimestampPrefix("171456480000 twelve digits")).toBeUndefined()
    expect(parseTimestampPrefix("17145648000000 fourteen")).toBeUndefined()
    expect(parseTimestampPrefix("1714564800000x glued")).toBeUndefined()
  })

  it("leaves lines without a timestamp alone", () => {
    for (
      const line of ["hello", "200 OK", "2024-05-01", "", " 2024-05-01T12:00:00Z indented", "2024-05-01T12:00:00Zjunk"]
    ) {
      expect(parseTimestampPrefix(line)).toBeUndefined()
    }
  })

  it("toEvent uses now unless asked to read the prefix, and keeps lines without one whole", () => {
    expect(toEvent("1714564800000 hi", 5, false)).toEqual({ timestamp: 5, message: "1714564800000 hi" })
    expect(toEvent("1714564800000 hi", 5, true)).toEqual({ timestamp: 1714564800000, message: "hi" })
    expect(toEvent("no stamp", 5, true)).toEqual({ timestamp: 5, message: "no stamp" })
  })
})

describe("cwlogs input: reading lines", () => {
  it.scopedLive("splits on LF and CRLF (a lone CR stays in its line); keeps a last line without an end and empty lines", () =>
    Effect.gen(function*() {
      const file = yield* tempFile("a\r\nb\nc\r\n\nd\re")
      const got = yield* Stream.runCollect(lines(file, neverStop))
      expect(Chunk.toReadonlyArray(got)).toEqual(["a", "b", "c", "", "d\re"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("decodes UTF-8 split across read chunks (64 KiB) without damage", () =>
    Effect.gen(function*() {
      // put a 4-byte character across the 65,536-byte boundary
      const line = "x".repeat(65_534) + "😀" + "y"
      const file = yield* tempFile(line + "\nnext\n")
      const got = yield* Stream.runCollect(lines(file, neverStop))
      expect(Chunk.toReadonlyArray(got)).toEqual([line, "next"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("stop ends the reading of a file at the next chunk, however fast the file can be read", () =>
    Effect.gen(function*() {
      // 40,000 lines (~1.3 MB, ~20 chunks); stop completes once the first line reaches a slow consumer
      const file = yield* tempFile(Array.from({ length: 40_000 }, (_, i) => `line-${i}`).join("\n"))
      let stopped = false
      let seen = 0
      yield* lines(file, { follow: false, stop: Effect.never, stopped: Effect.sync(() => stopped) }).pipe(
        Stream.runForEach(() =>
          Effect.sync(() => {
            seen++
            stopped = true
          })
        )
      )
      // the chunk being read when it stopped is delivered whole, and nothing after it
      expect(seen).toBeGreaterThan(0)
      expect(seen).toBeLessThan(2 * 65_536 / "line-00000".length)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("an incomplete UTF-8 sequence at the very end is U+FFFD, as an invalid one mid-line is", () =>
    Effect.gen(function*() {
      const cut = yield* tempFile(new Uint8Array([0x61, 0x0a, 0x65, 0x6e, 0x64, 0xe2, 0x82]))
      expect(Chunk.toReadonlyArray(yield* Stream.runCollect(lines(cut, neverStop)))).toEqual(["a", "end\uFFFD"])
      // a last line made only of such bytes is a line too (shipped and counted), not nothing
      const only = yield* tempFile(new Uint8Array([0x61, 0x0a, 0xf0, 0x9f, 0x98]))
      expect(Chunk.toReadonlyArray(yield* Stream.runCollect(lines(only, neverStop)))).toEqual(["a", "\uFFFD"])
    }).pipe(Effect.provide(NodeContext.layer)))

  /** Reads `file`'s lines, stopped as the first line is emitted: the lines, and the part of a line cut off. */
  const stoppedAtFirstLine = (file: string) =>
    Effect.gen(function*() {
      let stopped = false
      const partial: Array<string> = []
      const seen = yield* lines(file, {
        ...neverStop,
        stopped: Effect.sync(() => stopped),
        onPartialLine: (text) => Effect.sync(() => partial.push(text))
      }).pipe(
        Stream.tap(() =>
          Effect.sync(() => {
            stopped = true
          })
        ),
        Stream.runCollect
      )
      return { seen, partial }
    })

  it.scopedLive("stop in the middle of a FILE: it reads on to the end of the line being read, no line is cut", () =>
    Effect.gen(function*() {
      // lines of 11 bytes: a 64 KiB chunk ends in the middle of one (65536 = 11 * 5957 + 9)
      const all = Array.from({ length: 40_000 }, (_, i) => `l${String(i).padStart(9, "0")}`)
      const file = yield* tempFile(all.join("\n") + "\n")
      const { seen, partial } = yield* stoppedAtFirstLine(file)
      // before: the last line was "l00000595", the first 9 bytes of "l000005957"
      expect(Chunk.toReadonlyArray(seen)).toEqual(all.slice(0, seen.length))
      expect(seen.length).toBeGreaterThan(5957)
      expect(seen.length).toBeLessThan(all.length)
      expect(partial).toEqual([])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("stop in the middle of a FILE's line longer than READ_ON_BYTES: that line is cut off, not shipped", () =>
    Effect.gen(function*() {
      const long = "x".repeat(READ_ON_BYTES + 3 * 65_536)
      const file = yield* tempFile(`a\n${long}\nb\n`)
      const { seen, partial } = yield* stoppedAtFirstLine(file)
      expect(Chunk.toReadonlyArray(seen)).toEqual(["a"])
      expect(partial).toHaveLength(1)
      expect(long.startsWith(partial[0])).toBe(true)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("stop while a stream (stdin, a pipe) is in the middle of a line: that part is not a line", () =>
    Effect.gen(function*() {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-fifo-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
      const fifo = Path.join(dir, "in")
      ChildProcess.execFileSync("mkfifo", [fifo])
      // the writer is not done: the rest of "half" may come later, or never
      const writer = Fs.createWriteStream(fifo)
      // its destruction at the end may come before its write's answer: that error is not the test's
      writer.on("error", () => {})
      writer.write("one\nhalf")
      yield* Effect.addFinalizer(() => Effect.sync(() => writer.destroy()))
      const stop = yield* Deferred.make<void>()
      const partial: Array<string> = []
      const seen = yield* lines(fifo, {
        follow: false,
        stop: Deferred.await(stop),
        stopped: Deferred.isDone(stop),
        onPartialLine: (text) => Effect.sync(() => partial.push(text))
      }).pipe(
        Stream.tap(() => Deferred.succeed(stop, undefined)),
        Stream.runCollect
      )
      // before: "half" was shipped as a line
      expect(Chunk.toReadonlyArray(seen)).toEqual(["one"])
      expect(partial).toEqual(["half"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("a named pipe is read as a stream to its end (it cannot be read by position), follow or not", () =>
    Effect.gen(function*() {
      for (const follow of [false, true]) {
        const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-fifo-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
        const fifo = Path.join(dir, "in")
        ChildProcess.execFileSync("mkfifo", [fifo])
        // the writer's open waits for the reader's
        Fs.createWriteStream(fifo).end("one\ntwo\r\nthree")
        const got = yield* Stream.runCollect(lines(fifo, { ...neverStop, follow }))
        expect(Chunk.toReadonlyArray(got)).toEqual(["one", "two", "three"])
      }
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("a missing file fails with InputError naming it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Stream.runCollect(lines("/nonexistent/cwlogs.log", neverStop)))
      expect(error).toMatchObject({ _tag: "InputError", source: "/nonexistent/cwlogs.log", message: "no such file" })
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("follow: reads what is there, then what is appended; stop ends after the rest is read", () =>
    Effect.gen(function*() {
      const file = yield* tempFile("one\n")
      const stop = yield* Deferred.make<void>()
      const seen: Array<string> = []
      const fiber = yield* lines(file, { follow: true, stop: Deferred.await(stop), stopped: Deferred.isDone(stop) })
        .pipe(
          Stream.runForEach((line) => Effect.sync(() => seen.push(line))),
          Effect.fork
        )
      const until = (n: number) =>
        Effect.sync(() => seen.length).pipe(
          Effect.repeat({ until: (k) => k >= n, schedule: Schedule.spaced("20 millis") }),
          Effect.timeout("10 seconds")
        )
      yield* until(1)
      Fs.appendFileSync(file, "two\nthr")
      yield* until(2)
      Fs.appendFileSync(file, "ee\nfour\n")
      yield* Deferred.succeed(stop, undefined)
      yield* Fiber.join(fiber)
      expect(seen).toEqual(["one", "two", "three", "four"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("follow: lines appended just before stop completes are still read (no race at end of file)", () =>
    Effect.gen(function*() {
      const file = yield* tempFile("one\n")
      let checks = 0
      // `stop` completes at its second look, and the last lines land in the file at that same moment:
      // after a read that found the end of the file, before the reader learns it must stop.
      const stopped = Effect.sync(() => {
        checks += 1
        if (checks === 2) Fs.appendFileSync(file, "late\nlast")
        return checks >= 2
      })
      const got = yield* followBytes(file, stopped, "1 millis").pipe(
        Stream.decodeText(),
        Stream.splitLines,
        Stream.runCollect
      )
      expect(Chunk.toReadonlyArray(got)).toEqual(["one", "late", "last"])
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("follow: a file truncated in place is read again from its start", () =>
    Effect.gen(function*() {
      const file = yield* tempFile("old line 1\nold line 2\n")
      const { end, text, until } = yield* following(file)
      yield* until((t) => t.includes("old line 2"))
      Fs.writeFileSync(file, "new\n")
      yield* until((t) => t.endsWith("new\n"))
      yield* end
      expect(text()).toBe("old line 1\nold line 2\nnew\n")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("follow: a file truncated and written again past its old size between two polls is read again from its start", () =>
    Effect.gen(function*() {
      const file = yield* tempFile("old1\nold2\n")
      const { end, text, until } = yield* following(file)
      yield* until((t) => t.includes("old2"))
      // one write: truncated to nothing and written longer than before, in between two polls
      Fs.writeFileSync(file, "new-line-AAAA\nnew-line-BBBB\n")
      yield* until((t) => t.endsWith("BBBB\n"))
      // and appends after it still read on
      Fs.appendFileSync(file, "after\n")
      yield* until((t) => t.endsWith("after\n"))
      yield* end
      expect(text()).toBe("old1\nold2\nnew-line-AAAA\nnew-line-BBBB\nafter\n")
    }).pipe(Effect.provide(NodeContext.layer)))
})

describe("cwlogs input: follow, what a review found", () => {
  it.scopedLive("follow: a rewrite whose first 64 bytes differ is seen, also when the first read was short", () =>
    Effect.gen(function*() {
      // the writer had written only the start of its first line when the reader opened the file
      const file = yield* tempFile("2024-05-01")
      const { end, text, until } = yield* following(file)
      yield* until((t) => t === "2024-05-01")
      Fs.appendFileSync(file, " 12:00:00 old line one\n2024-05-01 12:00:01 old line two\n")
      yield* until((t) => t.includes("old line two\n"))
      yield* Effect.sleep("100 millis") // the reader is waiting for more
      // truncated and written again past the old size (copytruncate and a busy writer): the first 64
      // bytes are not those read (they differ at byte 11), as the documentation says it checks
      const rewrite = "2024-05-01 13:30:00 new line AAAA\n".repeat(4)
      Fs.writeFileSync(file, rewrite)
      yield* until((t) => t.endsWith("AAAA\n")).pipe(Effect.ignore)
      yield* end
      // before: only the 10 bytes of the first read were compared; the rewrite was read from the old
      // position (66), a line cut in the middle and the first two lines lost
      expect(text()).toBe("2024-05-01 12:00:00 old line one\n2024-05-01 12:00:01 old line two\n" + rewrite)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("follow: a rewrite between the start's check and the read is seen (the bytes read are dropped)", () =>
    Effect.gen(function*() {
      const rewrite = "2024-05-01 13:30:00 new line AAAA\n".repeat(4)
      const { arm, end, text, until } = yield* followRacing(OLD_LINES, rewrite, "before")
      yield* until((t) => t.endsWith("old line two\n"))
      yield* Effect.sleep("100 millis") // the reader is waiting for more
      yield* arm
      yield* end
      // before: the read at the old position (66) took the rewrite's middle ("A\n" and two lines), then
      // the next check read the rewrite again from its start
      expect(text()).toBe(OLD_LINES + rewrite)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("follow: a rewrite just after the first read after a wait keeps what that read took of the old file", () =>
    Effect.gen(function*() {
      const three = "2024-05-01 12:00:02 old line three\n"
      const rewrite = "2024-05-01 13:30:00 new line AAAA\n".repeat(4)
      const { arm, end, file, text, until } = yield* followRacing(OLD_LINES, rewrite, "after")
      yield* until((t) => t.endsWith("old line two\n"))
      yield* Effect.sleep("100 millis") // the reader is waiting for more
      // a line appended to the old file, read by the next read, and then the file rewritten
      Fs.appendFileSync(file, three)
      yield* arm
      yield* end
      // before: the line read from the old file was dropped with the bytes of a read taken as the new file's
      expect(text()).toBe(OLD_LINES + three + rewrite)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("follow: after the stop the file is read to its end as it is then, not on while a busy writer keeps writing", () =>
    Effect.gen(function*() {
      const file = yield* tempFile(Array.from({ length: 10 }, (_, i) => `before ${i}`).join("\n") + "\n")
      let stopped = false
      let appended = 0
      // the stop has come; the writer is faster than the shipping: a line more for each line shipped
      const got = yield* lines(file, { follow: true, stop: Effect.never, stopped: Effect.sync(() => stopped) }).pipe(
        Stream.tap(() =>
          Effect.sync(() => {
            stopped = true
            Fs.appendFileSync(file, `after ${appended++}\n`)
          })
        ),
        Stream.take(10_000),
        Stream.runCollect,
        Effect.timeout("5 seconds"),
        Effect.exit
      )
      // before: the reading went on with what was written after the stop, for as long as the writer
      // wrote (the CLI: until the drain's deadline cut the sink off, exit 1, "not delivered N")
      expect(got._tag).toBe("Success")
      if (got._tag === "Success") expect(Chunk.toReadonlyArray(got.value).length).toBeLessThan(100)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive(
    "a line longer than a string may be (a run of NULs: copytruncate with a writer not in append mode) does not kill the reading",
    () =>
      Effect.gen(function*() {
        // a writer that does not open with O_APPEND goes on at its old offset after copytruncate: the file
        // becomes a hole of NULs as long as the old file, then the new lines. 600 MiB here, sparse.
        const file = yield* tempFile("")
        const size = 600 * 1024 * 1024
        Fs.truncateSync(file, size)
        Fs.appendFileSync(file, "\nnext line\n")
        const got = yield* lines(file, neverStop).pipe(
          Stream.runFold({ pieces: 0, units: 0, last: "" }, (seen, line) => ({
            pieces: seen.pieces + 1,
            units: seen.units + line.length,
            last: line
          })),
          Effect.exit
        )
        // before: the line is collected whole in one string, which V8 cannot hold (RangeError: Invalid
        // string length, a defect: the CLI says "unexpected failure" and reads no further)
        expect(got._tag).toBe("Success")
        if (got._tag === "Success") {
          // the NULs in pieces of MAX_LINE_UNITS, none lost, then the next line
          expect(got.value.last).toBe("next line")
          expect(got.value.pieces).toBe(Math.ceil(size / MAX_LINE_UNITS) + 1)
          expect(got.value.units).toBe(size + "next line".length)
        }
      }).pipe(Effect.provide(NodeContext.layer)),
    120_000
  )
})
