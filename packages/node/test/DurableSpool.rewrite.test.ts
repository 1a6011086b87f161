/**
 * The rewrite of a segment after a failed shipment: the events not delivered replace the segment (a
 * temporary file renamed over it), each keeping its number, so that the acknowledgements beside it name
 * the same events before and after. A crash at any step, or a temporary file that cannot be written,
 * leaves a segment and acknowledgements that agree: the next run sends again nothing they name as stored,
 * and counts what they name as maybe stored. With `fsync` the rewrite is synced before it replaces the
 * segment, and the rename after.
 *
 * The file system calls are watched through `node:fs` (`syncBuiltinESMExports`): a copy of the directory
 * is taken before each step of the rewrite (what a process killed then leaves), and syncs are recorded.
 */
import type { CloudWatchLogs, LogEvent } from "@cwlogs/core"
import { Destination } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { afterEach, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Fs from "node:fs"
import { createRequire, syncBuiltinESMExports } from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import * as DurableSpool from "../src/DurableSpool.js"
import { answeredThenLostThenGivenUp, copies, puts } from "./support/spool.js"

const NOW = 1_700_000_000_000
const orders = { logGroupName: "orders", logStreamName: "api-1" }

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-spool-rewrite-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const events = (n: number, prefix = "e"): Array<LogEvent.LogEvent> =>
  Array.from({ length: n }, (_, i) => ({ timestamp: NOW + i, message: `${prefix}-${i}` }))

const storedIn = (d: { readonly logGroupName: string; readonly logStreamName: string }) =>
  Effect.map(TestCloudWatchLogs.events(d.logGroupName, d.logStreamName), (es) => es.map((e) => e.message))

const createStream = Effect.flatMap(
  TestCloudWatchLogs.TestCloudWatchLogs,
  (t) => Effect.zipRight(t.api.createLogGroup({ logGroupName: orders.logGroupName }), t.api.createLogStream(orders))
)

// --- watching node:fs -------------------------------------------------------------------------------

/** The CommonJS `node:fs`, whose functions the ESM namespace follows after `syncBuiltinESMExports`. */
const cjsFs: Record<string, unknown> = createRequire(import.meta.url)("node:fs")
const restores: Array<() => void> = []

/** Calls `before` (and `after`, once it returned) with the arguments of each call of `node:fs`'s `name`. */
const watch = (
  name: string,
  before: (args: ReadonlyArray<unknown>) => void,
  after?: (args: ReadonlyArray<unknown>, result: unknown) => void
): void => {
  const original = cjsFs[name]
  if (typeof original !== "function") throw new Error(`node:fs has no ${name}`)
  cjsFs[name] = function(this: unknown, ...args: Array<unknown>): unknown {
    before(args)
    const result: unknown = Reflect.apply(original, this, args)
    after?.(args, result)
    return result
  }
  restores.push(() => {
    cjsFs[name] = original
  })
  syncBuiltinESMExports()
}

afterEach(() => {
  for (const restore of restores.splice(0).reverse()) restore()
  syncBuiltinESMExports()
})

const isTemporary = (path: unknown): boolean => String(path).endsWith(".seg.tmp")

/**
 * Copies of `directory` taken before each step of a rewrite (from its temporary file's creation to the
 * rename over the segment) and after its last: every state a kill during the rewrite can leave.
 */
const crashCopies = (directory: string): { readonly copies: Array<string>; readonly stop: () => void } => {
  const copies: Array<string> = []
  const fds = new Set<unknown>()
  let recording = true
  let during = false
  const copy = (): void => {
    const to = Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-spool-crash-"))
    Fs.cpSync(directory, to, { recursive: true })
    copies.push(to)
  }
  const step = (starts: boolean) => () => {
    if (!recording) return
    if (starts) during = true
    if (during) copy()
  }
  const onFd = (args: ReadonlyArray<unknown>) => {
    if (fds.has(args[0])) step(false)()
  }
  watch("openSync", (args) => {
    if (isTemporary(args[0])) step(true)()
  }, (args, fd) => {
    if (isTemporary(args[0])) fds.add(fd)
  })
  // (an earlier version wrote the temporary file with writeFile)
  watch("writeFile", (args) => {
    if (isTemporary(args[0])) step(true)()
  })
  for (const name of ["write", "writeSync", "fdatasync", "fdatasyncSync", "fsync", "fsyncSync", "closeSync"]) {
    watch(name, onFd)
  }
  for (const name of ["rmSync", "unlinkSync", "renameSync"]) {
    watch(name, () => step(false)(), (args) => {
      if (name === "renameSync" && isTemporary(args[0]) && recording) {
        copy()
        during = false
      }
    })
  }
  return {
    copies,
    stop: () => {
      recording = false
    }
  }
}

describe("DurableSpool, the rewrite after a failed shipment", () => {
  it.scoped("a kill at any step of the rewrite: the next run stores every event, sends none stored again but those it counts", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      yield* createStream
      const directory = yield* tempDir
      const crash = crashCopies(directory)
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const copy of crash.copies) Fs.rmSync(copy, { recursive: true, force: true })
        })
      )
      // 300 events put 100 at a time: the first put stored and answered (acknowledged), the second
      // stored and its answer lost (said sent), then given up at once (no retries, Schedule.stop: fatal)
      const result = yield* answeredThenLostThenGivenUp(directory, orders, events(300))
      crash.stop()
      expect(Either.isLeft(result)).toBe(true)
      expect(yield* puts).toEqual(["Answered", "LostResponse"])
      const before = yield* storedIn(orders)
      expect(before).toHaveLength(200)
      expect(crash.copies.length).toBeGreaterThan(0)

      for (const copy of crash.copies) {
        // the next run, on what a kill then left, against the service as it was (200 stored)
        const { report, stored } = yield* Effect.gen(function*() {
          yield* createStream
          const t = yield* TestCloudWatchLogs.TestCloudWatchLogs
          yield* t.api.putLogEvents({ ...orders, logEvents: before.map((message) => ({ timestamp: NOW, message })) })
          const report = yield* DurableSpool.recover({ directory: copy })
          return { report, stored: yield* storedIn(orders) }
        }).pipe(Effect.provide(TestCloudWatchLogs.layer()))
        const counted = copies(stored)
        const twice = [...counted].filter(([, n]) => n > 1).map(([m]) => m)
        expect(counted.size, copy).toBe(300)
        // stored twice: the 100 of the put whose answer was lost, and the run counts them
        expect(twice.sort(), copy).toEqual(events(200).slice(100).map((e) => e.message).sort())
        expect(report.possibleDuplicates, copy).toBe(100)
        expect(report.accepted, copy).toBe(200)
        expect(report.recovered, copy).toBe(200)
      }
      // before the temporary file, before its write, its sync, its close, the rename, and after
      expect(crash.copies.length).toBeGreaterThanOrEqual(5)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a temporary file that cannot be written (a full disk) leaves the segment and its acknowledgements: nothing stored twice", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const missing = Destination.make("missing", "s", { createGroup: false })
      const input = [
        ...events(40, "ok").map((event) => ({ destination: orders, event })),
        ...events(30, "m").map((event) => ({ destination: missing, event }))
      ]
      // the rewrite's temporary file cannot be written
      Fs.mkdirSync(Path.join(directory, "000000000001.seg.tmp"))
      const result = yield* Stream.fromIterable(input).pipe(
        Stream.run(DurableSpool.sink((r: CloudWatchLogs.Routed) => r, { directory, maxInFlight: 1 })),
        Effect.either
      )
      if (Either.isRight(result) || result.left._tag !== "SpoolError") {
        return yield* Effect.dieMessage("expected a SpoolError")
      }
      expect(result.left.message).toContain("rewriting")
      expect(yield* storedIn(orders)).toHaveLength(40)
      // room again, and the group exists now
      Fs.rmSync(Path.join(directory, "000000000001.seg.tmp"), { recursive: true })
      yield* Effect.flatMap(TestCloudWatchLogs.TestCloudWatchLogs, (t) =>
        Effect.zipRight(
          t.api.createLogGroup({ logGroupName: "missing" }),
          t.api.createLogStream({ logGroupName: "missing", logStreamName: "s" })
        ))
      const report = yield* DurableSpool.recover({ directory })
      expect(yield* storedIn(missing)).toHaveLength(30)
      expect(yield* storedIn(orders)).toHaveLength(40)
      expect(report.accepted).toBe(30)
      expect(report.possibleDuplicates).toBe(0)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  for (const fsync of [true, false]) {
    it.scoped(`fsync: ${fsync}: the rewrite is ${fsync ? "synced before it replaces the segment, and the rename after" : "not synced"}`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const directory = yield* tempDir
        const log: Array<string> = []
        const paths = new Map<unknown, string>()
        watch("openSync", () => {}, (args, fd) => paths.set(fd, Path.basename(String(args[0]))))
        for (const name of ["fsync", "fdatasync", "fsyncSync", "fdatasyncSync"]) {
          watch(name, (args) => log.push(`sync ${paths.get(args[0]) ?? "?"}`))
        }
        watch("renameSync", (args) => log.push(`rename ${Path.basename(String(args[0]))}`))
        const missing = Destination.make("missing", "s", { createGroup: false })
        const input = [
          ...events(40, "ok").map((event) => ({ destination: orders, event })),
          ...events(30, "m").map((event) => ({ destination: missing, event }))
        ]
        const result = yield* Stream.fromIterable(input).pipe(
          Stream.run(DurableSpool.sink((r: CloudWatchLogs.Routed) => r, { directory, maxInFlight: 1, fsync })),
          Effect.either
        )
        expect(Either.isLeft(result)).toBe(true)
        const synced = log.indexOf("sync 000000000001.seg.tmp")
        if (fsync) {
          expect(synced).toBeGreaterThanOrEqual(0)
          const rename = log.indexOf("rename 000000000001.seg.tmp")
          expect(rename).toBeGreaterThan(synced)
          expect(log.indexOf(`sync ${Path.basename(directory)}`, rename)).toBeGreaterThan(rename)
        } else {
          expect(synced).toBe(-1)
          expect(log.filter((l) => l === `sync ${Path.basename(directory)}`)).toEqual([])
        }
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
  }
})
