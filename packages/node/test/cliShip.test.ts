import { CloudWatchLogsApi, CloudWatchLogsError, ShipReport } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as DurableSpool from "../src/DurableSpool.js"
import { renderSummary, ship, type ShipOptions } from "../src/internal/cli/ship.js"
import { tempFile } from "./support/files.js"

const options = (source: string, summaries: Array<string>, extra: Partial<ShipOptions> = {}): ShipOptions => ({
  logGroupName: "g",
  logStreamName: "api-1",
  create: false,
  timestampPrefix: false,
  follow: false,
  source,
  endpoint: "http://test",
  stop: Effect.never,
  stopped: Effect.succeed(false),
  summary: (text) => Effect.sync(() => summaries.push(text)),
  ...extra
})

const withDestination = (...streams: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
    yield* api.createLogGroup({ logGroupName: "g" })
    yield* Effect.forEach(streams, (logStreamName) => api.createLogStream({ logGroupName: "g", logStreamName }))
  })

const Model = Layer.merge(TestCloudWatchLogs.layer(), NodeContext.layer)

/** The model, except that every PutLogEvents is refused with AccessDenied (a fatal error). */
const Denied = Layer.effect(
  CloudWatchLogsApi.CloudWatchLogsApi,
  Effect.map(TestCloudWatchLogs.TestCloudWatchLogs, (model) => ({
    ...model.api,
    putLogEvents: () =>
      Effect.fail(new CloudWatchLogsError.AccessDeniedException({ message: "not allowed to put", httpStatus: 400 }))
  }))
).pipe(Layer.provideMerge(TestCloudWatchLogs.layer()), Layer.merge(NodeContext.layer))

describe("cwlogs ship (in process)", () => {
  it.scopedLive("ships every non-empty line and answers the outcome", () =>
    Effect.gen(function*() {
      yield* withDestination("api-1")
      const summaries: Array<string> = []
      const file = yield* tempFile("a\n\nb\nc")
      const outcome = yield* ship(options(file, summaries))
      expect([outcome.read, outcome.skipped, outcome.report.accepted]).toEqual([4, 1, 3])
      expect((yield* TestCloudWatchLogs.events("g", "api-1")).map((e) => e.message)).toEqual(["a", "b", "c"])
      expect(summaries).toHaveLength(1)
    }).pipe(Effect.provide(Model)))

  it.scopedLive("a stream whose name is only a prefix of another's is missing (DescribeLogStreams matches prefixes)", () =>
    Effect.gen(function*() {
      yield* withDestination("api-10", "api-11")
      const file = yield* tempFile("a\n")
      const error = yield* Effect.flip(ship(options(file, [])))
      expect(error.message).toBe("log stream api-1 does not exist in g (pass --create)")
      expect(error.exitCode).toBe(1)
      const created = yield* ship(options(file, [], { create: true }))
      expect(created.report.accepted).toBe(1)
    }).pipe(Effect.provide(Model)))

  it.scopedLive("a fatal error stops delivery: the summary says so, the failure counts what was not delivered", () =>
    Effect.gen(function*() {
      yield* withDestination("api-1")
      const summaries: Array<string> = []
      const file = yield* tempFile("x\ny\n")
      const error = yield* Effect.flip(ship(options(file, summaries)))
      expect(error.exitCode).toBe(1)
      expect(error.message).toBe("delivery stopped: access denied: not allowed to put (2 events not delivered)")
      expect(summaries[0]).toContain("stopped   access denied")
    }).pipe(Effect.provide(Denied)))

  it.scopedLive("lines refused by the service make the exit status 1 and are counted by reason", () =>
    Effect.gen(function*() {
      yield* withDestination("api-1")
      const summaries: Array<string> = []
      const now = Date.now()
      const file = yield* tempFile(`${now - 20 * 86_400_000} too old\n${now} fine\n`)
      const error = yield* Effect.flip(ship(options(file, summaries, { timestampPrefix: true })))
      expect(error.message).toBe("1 line(s) not accepted")
      expect(summaries[0]).toContain("TooOld 1")
      expect((yield* TestCloudWatchLogs.events("g", "api-1")).map((e) => e.message)).toEqual(["fine"])
    }).pipe(Effect.provide(Model)))

  it.scopedLive("bad names are refused before any request, with exit status 2", () =>
    Effect.gen(function*() {
      const file = yield* tempFile("x\n")
      const group = yield* Effect.flip(ship(options(file, [], { logGroupName: "x".repeat(513) })))
      expect(group.exitCode).toBe(2)
      expect(group.message).toMatch(/^invalid --group: /)
      const stream = yield* Effect.flip(ship(options(file, [], { logStreamName: "a*b" })))
      expect(stream.exitCode).toBe(2)
      expect(yield* TestCloudWatchLogs.callCount("DescribeLogStreams")).toBe(0)
    }).pipe(Effect.provide(Model)))

  it.scopedLive("--spool: lines go through the spool, and a run ships first what an earlier one left", () =>
    Effect.gen(function*() {
      yield* withDestination("api-1", "other")
      const file = yield* tempFile("a\nb\n")
      const spool = Path.join(Path.dirname(file), "spool")
      // an earlier run that was killed after its write: its segment is still in the directory
      yield* Effect.scoped(Effect.gen(function*() {
        const earlier = yield* DurableSpool.make({ directory: spool, segmentMillis: 60_000 })
        yield* earlier.write([{
          destination: { logGroupName: "g", logStreamName: "other" },
          event: { timestamp: Date.now(), message: "left" }
        }])
        Fs.cpSync(spool, `${spool}.crashed`, { recursive: true })
      }))
      Fs.rmSync(spool, { recursive: true })
      Fs.renameSync(`${spool}.crashed`, spool)
      yield* TestCloudWatchLogs.reset
      yield* withDestination("api-1", "other")
      const summaries: Array<string> = []
      const outcome = yield* ship(options(file, summaries, { spool }))
      expect(outcome.report.accepted).toBe(3)
      expect(outcome.recovered).toBe(1)
      expect((yield* TestCloudWatchLogs.events("g", "api-1")).map((e) => e.message)).toEqual(["a", "b"])
      expect((yield* TestCloudWatchLogs.events("g", "other")).map((e) => e.message)).toEqual(["left"])
      expect(summaries[0]).toContain("recovered 1 event an earlier run left in the spool")
      expect(Fs.readdirSync(spool)).toEqual([])
    }).pipe(Effect.provide(Model)))

  it.scopedLive("--spool on a directory another process holds: exit status 2, nothing read", () =>
    Effect.gen(function*() {
      yield* withDestination("api-1")
      const file = yield* tempFile("a\n")
      const spool = Path.join(Path.dirname(file), "spool")
      yield* DurableSpool.make({ directory: spool })
      const error = yield* Effect.flip(ship(options(file, [], { spool })))
      expect(error.exitCode).toBe(2)
      expect(error.message).toContain("is in use by process")
      expect(yield* TestCloudWatchLogs.events("g", "api-1")).toEqual([])
    }).pipe(Effect.provide(Model)))
})

/** Waits until the service has had `n` PutLogEvents calls (polling, real time). */
const called = (n: number) =>
  TestCloudWatchLogs.callCount("PutLogEvents").pipe(
    Effect.repeat({ until: (count) => count >= n, schedule: Schedule.spaced("20 millis") }),
    Effect.timeout("20 seconds")
  )

/**
 * Ships `text` from a file with a drain deadline of 100 ms, and stops it once the service has had its
 * first put; the run's failure (a `CliError`) and its summaries.
 */
const stoppedAfterFirstPut = (text: string, extra: Partial<ShipOptions> = {}) =>
  Effect.gen(function*() {
    const summaries: Array<string> = []
    const stop = yield* Deferred.make<void>()
    const file = yield* tempFile(text)
    const fiber = yield* Effect.fork(ship(options(file, summaries, {
      ...extra,
      drainTimeoutMillis: 100,
      stop: Deferred.await(stop),
      stopped: Deferred.isDone(stop)
    })))
    yield* called(1)
    yield* Deferred.succeed(stop, undefined)
    const error = yield* Effect.flip(Fiber.join(fiber))
    return { error, summaries, file }
  })

describe("cwlogs ship: the drain after a stop keeps to its deadline", () => {
  it.scopedLive("an outage: what the deadline cuts off is counted as not delivered, exit 1", () =>
    Effect.gen(function*() {
      yield* withDestination("api-1")
      yield* TestCloudWatchLogs.setFaults({ unavailable: 1 })
      // the retry policy would go on for some 20 s more: the deadline ends it
      const { error, summaries } = yield* stoppedAfterFirstPut("a\nb\nc\n")
      expect(error.exitCode).toBe(1)
      expect(error.message).toBe("the drain's deadline of 100 ms passed after the stop: 3 line(s) not delivered")
      expect(summaries[0]).toContain("accepted  0")
      expect(summaries[0]).toContain("not delivered 3 (the drain's deadline of 100 ms passed after the stop")
    }).pipe(Effect.provide(Model)))

  it.scopedLive("a service slow to answer: the put in flight is cut off at the deadline, exit 1", () =>
    Effect.gen(function*() {
      yield* withDestination("api-1")
      // the put is stored, and its answer comes ten minutes later
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 600_000 })
      const { error, summaries } = yield* stoppedAfterFirstPut("a\nb\n")
      expect(error.message).toBe("the drain's deadline of 100 ms passed after the stop: 2 line(s) not delivered")
      expect(summaries[0]).toContain("not delivered 2")
    }).pipe(Effect.provide(Model)))

  it.scopedLive("what is delivered before the deadline is reported as usual: exit 0", () =>
    Effect.gen(function*() {
      yield* withDestination("api-1")
      const summaries: Array<string> = []
      const file = yield* tempFile("a\nb\n")
      const outcome = yield* ship(options(file, summaries, {
        drainTimeoutMillis: 60_000,
        stop: Effect.void,
        stopped: Effect.succeed(true)
      }))
      expect(outcome.report.accepted).toBe(outcome.read)
      expect(outcome.cutOff).toBeUndefined()
    }).pipe(Effect.provide(Model)))

  it.scopedLive("--spool in an outage: the stop closes the spool, the rest is left in DIR and the next run ships it", () =>
    Effect.gen(function*() {
      yield* withDestination("api-1")
      yield* TestCloudWatchLogs.setFaults({ unavailable: 1 })
      const spool = Path.join(Path.dirname(yield* tempFile("")), "spool")
      // without the stop's interruption the spool waits for the service for ever (its resume schedule)
      const { error, summaries } = yield* stoppedAfterFirstPut("a\nb\nc\n", { spool })
      expect(error.exitCode).toBe(1)
      expect(error.message).toBe(
        `the drain's deadline of 100 ms passed after the stop: 3 line(s) left in ${spool} for the next run`
      )
      expect(summaries[0]).toContain(`left      3 in ${spool} for the next run`)
      expect(Fs.readdirSync(spool).some((f) => f.endsWith(".seg"))).toBe(true)
      // the service is back: the next run ships what this one left
      yield* TestCloudWatchLogs.setFaults({ unavailable: 0 })
      const next = yield* ship(options(yield* tempFile(""), [], { spool }))
      expect(next.recovered).toBe(3)
      expect((yield* TestCloudWatchLogs.events("g", "api-1")).map((e) => e.message)).toEqual(["a", "b", "c"])
    }).pipe(Effect.provide(Model)))
})

describe("cwlogs ship --spool: a stop while the spool is full", () => {
  it.scopedLive("a write waiting for room gets until the deadline; then the run ends, counting what it leaves", () =>
    Effect.gen(function*() {
      yield* withDestination("api-1")
      yield* TestCloudWatchLogs.setFaults({ unavailable: 1 })
      const spool = Path.join(Path.dirname(yield* tempFile("")), "spool")
      // 20,000 lines, read in chunks of 64 KiB: each write fills a segment of 1 KiB, and the spool holds
      // 4 of them (2 being shipped, 1 queued, 1 waiting for room), so the fourth write waits
      const text = Array.from({ length: 20_000 }, (_, i) => `line ${String(i).padStart(5, "0")} of the outage`)
        .join("\n") + "\n"
      const summaries: Array<string> = []
      const stop = yield* Deferred.make<void>()
      const run = yield* Effect.fork(ship(options(yield* tempFile(text), summaries, {
        spool,
        spoolSizes: { segmentBytes: 1024, maxSpoolBytes: 4 * 1024 },
        drainTimeoutMillis: 100,
        stop: Deferred.await(stop),
        stopped: Deferred.isDone(stop)
      })))
      // full: a segment sealed (written to its size) and none after it, as the service is down
      const full = () => {
        if (!Fs.existsSync(spool)) return false
        const segments = Fs.readdirSync(spool).filter((name) => name.endsWith(".seg")).sort()
        const last = segments.at(-1)
        return segments.length >= 2 && last !== undefined && Fs.statSync(Path.join(spool, last)).size >= 1024
      }
      yield* Effect.sync(full).pipe(
        Effect.repeat({ until: (isFull) => isFull, schedule: Schedule.spaced("20 millis") }),
        Effect.timeout("20 seconds")
      )
      yield* Deferred.succeed(stop, undefined)
      // before: the write waiting for room never ended (the service is down), nor did the run
      const error = yield* Effect.flip(Fiber.join(run)).pipe(
        Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => "the run did not end" })
      )
      expect(error.exitCode).toBe(1)
      const [, left, notWritten = "0"] =
        /: (\d+) line\(s\) left in .* for the next run(?:, (\d+) not written to it \(it was full\))?$/
          .exec(error.message) ?? []
      expect(Number(left)).toBeGreaterThan(0)
      const read = Number(/: (\d+) lines read/.exec(summaries[0] ?? "")?.[1])
      expect(read).toBeLessThan(20_000)
      expect(Number(left) + Number(notWritten)).toBe(read)
      expect(summaries[0]).toContain(`left      ${left} in ${spool} for the next run`)
      // the service is back: the next run ships exactly what this one left, each line once
      yield* TestCloudWatchLogs.setFaults({ unavailable: 0 })
      const next = yield* ship(options(yield* tempFile(""), [], { spool }))
      expect(next.recovered).toBe(Number(left))
      const stored = (yield* TestCloudWatchLogs.events("g", "api-1")).map((e) => e.message)
      expect(stored).toHaveLength(Number(left))
      expect(new Set(stored).size).toBe(stored.length)
    }).pipe(Effect.provide(Model)))
})

describe("cwlogs ship summary", () => {
  it("lists accepted, rejected by reason, retries and batches; extras only when non-zero", () => {
    const report = {
      ...ShipReport.empty,
      accepted: 7,
      rejected: { ...ShipReport.empty.rejected, TooOld: 2, Oversize: 1 },
      retries: 3,
      batches: 2,
      bytes: 400
    }
    const text = renderSummary("g:s", { read: 11, skipped: 1, report }, 1234)
    expect(text.split("\n")).toEqual([
      "cwlogs ship → g:s: 11 lines read in 1.2 s",
      "  accepted  7",
      "  rejected  3 (Oversize 1, TooOld 2)",
      "  retries   3",
      "  batches   2 (400 bytes)",
      "  skipped   1 empty line"
    ])
    expect(renderSummary("g:s", { read: 1, skipped: 0, report: ShipReport.empty }, 0)).not.toContain("skipped")
    // a line the stop cut in two is said, not shipped
    expect(renderSummary("g:s", { read: 1, skipped: 0, report: ShipReport.empty, partialLine: 54 }, 0)).toContain(
      "not read  the line being read when it stopped (54 bytes of it, not shipped)"
    )
  })
})
