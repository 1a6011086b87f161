/**
 * The durable spool through an outage of the service, on the TestClock against the in-memory CloudWatch
 * Logs (`setOutage`: every call refused). The uploader's retries run out after ~23 s (the default retry
 * policy); that is a failure that passes, not a fatal one: the spool keeps taking writes and log lines,
 * and ships again on its own after a backoff (`resumeSchedule`) once the service is back, the segment
 * that failed first. A fatal error still stops it, as documented.
 */
import type { LogEvent } from "@cwlogs/core"
import {
  CloudWatchLogs,
  CloudWatchLogsApi,
  CloudWatchLogsError,
  Destination,
  Metrics,
  RetryPolicy,
  ShipReport
} from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Metric from "effect/Metric"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as DurableSpool from "../src/DurableSpool.js"
import * as format from "../src/internal/spoolFormat.js"
import { eventuallyLive } from "./support/live.js"

const NOW = 1_700_000_000_000
const orders = { logGroupName: "orders", logStreamName: "api-1" }
const SECOND = 1_000
const MINUTE = 60_000

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-spool-outage-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const files = (dir: string) => Fs.readdirSync(dir).sort()
const segmentFiles = (dir: string) => files(dir).filter((f) => f.endsWith(".seg"))

/** The messages of the events a segment file holds, in order. */
const segmentMessages = (dir: string) =>
  segmentFiles(dir).flatMap((f) =>
    [...format.read(Fs.readFileSync(Path.join(dir, f))).entries].map((e) => e.event.message)
  )

const stored = Effect.map(
  TestCloudWatchLogs.events(orders.logGroupName, orders.logStreamName),
  (events) => events.map((e) => e.message)
)

/** The messages of the durable logger's lines (structured JSON). */
const lines = Effect.map(stored, (messages) => messages.map((m): unknown => JSON.parse(m).message))

/** The PutLogEvents calls the service has seen. */
const puts = Effect.map(TestCloudWatchLogs.calls, (calls) => calls.filter((c) => c.operation === "PutLogEvents"))

/** Lets the spool's fibers and its files keep up with the TestClock (they do real I/O). */
const settle = TestServices.provideLive(Effect.sleep("5 millis"))

/**
 * Moves the TestClock `millis` on, a second at a time, with `settleMillis` of real time after each step
 * (for the spool's file work between them).
 */
const pass = (millis: number, settleMillis = 5) =>
  Effect.gen(function*() {
    const wait = settleMillis === 5 ? settle : TestServices.provideLive(Effect.sleep(settleMillis))
    for (let t = 0; t < millis; t += SECOND) {
      yield* TestClock.adjust(Math.min(SECOND, millis - t))
      yield* wait
    }
  })

/** Moves the TestClock on, a second at a time, until `fiber` has ended (for at most `limit` ms). */
const passUntilDone = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, limit = 10 * MINUTE) =>
  Effect.gen(function*() {
    for (let t = 0; fiber.unsafePoll() === null; t += SECOND) {
      if (t > limit) return yield* Effect.dieMessage(`not done within ${limit} ms of the TestClock`)
      yield* TestClock.adjust(SECOND)
      yield* settle
    }
    return yield* Fiber.join(fiber)
  })

/** Moves the TestClock on, a second at a time (at most ~8 minutes), until `ok` holds. */
const passUntil = <A, E, R>(get: Effect.Effect<A, E, R>, ok: (a: A) => boolean) =>
  eventuallyLive(Effect.zipLeft(get, TestClock.adjust(SECOND)), ok)

/** `n` events, 1 ms apart from `at`: the service keeps them in the order of their timestamps. */
const events = (n: number, prefix: string, at = NOW): Array<LogEvent.LogEvent> =>
  Array.from({ length: n }, (_, i) => ({ timestamp: at + i, message: `${prefix}-${i}` }))

/** `n` events from the TestClock's time. */
const eventsNow = (n: number, prefix: string) => Effect.map(Clock.currentTimeMillis, (at) => events(n, prefix, at))

/**
 * The spool gave up on two segments of 10 events each ("a", "b"): all 20 counted `Failed`, listed
 * undelivered, both segments named, and kept on disk.
 */
const givenUpOnBoth = (error: CloudWatchLogs.ShipError, directory: string) => {
  expect(error.report.rejected.Failed).toBe(20)
  expect(error.undelivered.flatMap((u) => u.events.map((e) => e.message)).sort()).toEqual(
    [...events(10, "a"), ...events(10, "b")].map((e) => e.message).sort()
  )
  expect(error.message).toContain("000000000001.seg")
  expect(error.message).toContain("000000000002.seg")
  expect(segmentFiles(directory)).toEqual(["000000000001.seg", "000000000002.seg"])
}

/** A write of nothing: fails with the spool's failure, if it has failed for good. */
const probe = (spool: DurableSpool.Spool) => Effect.either(spool.write([]))

const routed = (input: ReadonlyArray<LogEvent.LogEvent>) => input.map((event) => ({ destination: orders, event }))

/**
 * On a failure of `effect` (an assertion), moves the TestClock on in the background, a second every 5 ms
 * of real time, for 10 minutes of it: a spool closed in an outage then ends at its drain deadline (on the
 * TestClock), and the test fails with its assertion instead of a timeout.
 */
const clockRunsOnFailure = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.tapErrorCause(effect, () => Effect.forkDaemon(pass(10 * MINUTE)))

/** Runs `program` with the durable logger in place of the default one, in its own scope. */
const withLogger = <A, E, R>(
  options: Omit<DurableSpool.LoggerOptions, "logGroupName" | "logStreamName">,
  program: Effect.Effect<A, E, R>
) => Effect.provide(clockRunsOnFailure(program), DurableSpool.layerLogger({ ...orders, replace: true, ...options }))

/** Each message's number of copies. */
const copies = (messages: ReadonlyArray<unknown>): Map<unknown, number> => {
  const out = new Map<unknown, number>()
  for (const m of messages) out.set(m, (out.get(m) ?? 0) + 1)
  return out
}

/** The messages of the warnings logged from now on in this fiber and the fibers it forks (the spool's). */
const recordWarnings = Effect.gen(function*() {
  const warnings: Array<string> = []
  const recording = Logger.make(({ logLevel, message }) => {
    if (logLevel._tag === "Warning") warnings.push(String(Array.isArray(message) ? message[0] : message))
  })
  yield* Effect.locallyScopedWith(FiberRef.currentLoggers, HashSet.add(recording))
  return warnings
})

const outages = [["30 s", 30 * SECOND], ["5 minutes", 5 * MINUTE]] as const

describe("DurableSpool through an outage", () => {
  for (const [label, outage] of outages) {
    it.scoped(`the durable logger, an outage of ${label}: every line before, during and after is stored once, in order, none dropped`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const directory = yield* tempDir
        const logged: Array<string> = []
        const log = (message: string) => Effect.zipRight(Effect.sync(() => logged.push(message)), Effect.log(message))
        const report = yield* withLogger(
          { directory },
          Effect.gen(function*() {
            yield* log("before the outage")
            expect((yield* CloudWatchLogs.flush).accepted).toBe(1)
            yield* TestCloudWatchLogs.setOutage(true)
            // a line a second through the outage: the retries run out after ~23 s, and the spool goes on
            for (let t = 0; t < outage; t += SECOND) {
              yield* log(`during the outage, ${t / SECOND} s`)
              yield* pass(SECOND)
            }
            expect(yield* lines).toEqual(["before the outage"])
            // a segment sealed every second in an outage would fill the queue's places (61 by default) and
            // the logger would drop: once the shipping has failed, the timer syncs the segment instead
            expect(segmentFiles(directory).length).toBeLessThan(40)
            yield* TestCloudWatchLogs.setOutage(false)
            // the reviewer's line and flush: the line is written (the report said dropped: 1); the flush
            // does not wait for the shipping to resume (it would, for a minute at most)
            yield* log("after the outage")
            const flushed = yield* CloudWatchLogs.flush
            expect(flushed).toMatchObject({ dropped: 0, accepted: 1 })
            expect(flushed.rejected.Failed).toBe(0)
            // it resumes on its own, after a backoff of a minute at most
            yield* passUntil(lines, (ls) => ls.length === logged.length)
            yield* log("once shipping again")
            return yield* CloudWatchLogs.flush
          })
        )
        expect(yield* lines).toEqual(logged)
        expect(report).toMatchObject({ dropped: 0, accepted: logged.length, possibleDuplicates: 0 })
        expect(report.rejected.Failed).toBe(0)
        // the failed rounds' retries are counted, as they happened
        expect(report.retries).toBeGreaterThanOrEqual(8)
        expect(segmentFiles(directory)).toEqual([])
      }).pipe(clockRunsOnFailure, Effect.provide(TestCloudWatchLogs.layer())))
  }

  for (const [label, outage] of outages) {
    it.scoped(`DurableSpool.make, an outage of ${label}: writes go on to disk, finish waits for the service, nothing lost or sent twice`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const directory = yield* tempDir
        const spool = yield* DurableSpool.make({ directory })
        const before = events(100, "before")
        yield* spool.write(routed(before))
        yield* passUntil(stored, (s) => s.length === 100)
        yield* TestCloudWatchLogs.setOutage(true)
        const during: Array<LogEvent.LogEvent> = []
        for (let t = 0; t < outage; t += 10 * SECOND) {
          const chunk = yield* eventsNow(10, `during-${t / SECOND}`)
          // after the retries ran out (~23 s), a write failed with their ShipError
          yield* spool.write(routed(chunk))
          during.push(...chunk)
          yield* pass(10 * SECOND)
        }
        // finish while the service is still down: it waits for it
        const finishing = yield* Effect.fork(spool.finish)
        yield* pass(30 * SECOND)
        expect(finishing.unsafePoll()).toBeNull()
        expect(yield* stored).toHaveLength(100)
        yield* TestCloudWatchLogs.setOutage(false)
        const report = yield* passUntilDone(finishing)
        const all = yield* stored
        expect(all).toEqual([...before, ...during].map((e) => e.message))
        expect(report).toMatchObject({ accepted: all.length, possibleDuplicates: 0, recovered: 0 })
        expect(report.rejected.Failed).toBe(0)
        expect(segmentFiles(directory)).toEqual([])
      }).pipe(clockRunsOnFailure, Effect.provide(TestCloudWatchLogs.layer())))
  }

  it.scoped("an outage is not counted as events lost: no Failed in the metrics, no 'not delivered' warning, one warning of the pause", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // a destination of its own: the metrics are the process's
      const quiet = { logGroupName: "orders", logStreamName: "outage-metrics" }
      const failedMetric = Metric.value(
        Metrics.forDestination(
          Metrics.eventsRejected,
          Destination.make(quiet.logGroupName, quiet.logStreamName),
          "stream"
        )
          .pipe(Metric.tagged("reason", "Failed"))
      )
      const acceptedMetric = Metric.value(
        Metrics.forDestination(
          Metrics.eventsAccepted,
          Destination.make(quiet.logGroupName, quiet.logStreamName),
          "stream"
        )
      )
      const warnings = yield* recordWarnings
      const report = yield* Effect.gen(function*() {
        const spool = yield* DurableSpool.make({ directory })
        yield* TestCloudWatchLogs.setOutage(true)
        yield* spool.write(events(50, "during").map((event) => ({ destination: quiet, event })))
        // the retries run out (~23 s) several times over
        yield* pass(3 * MINUTE)
        yield* TestCloudWatchLogs.setOutage(false)
        const finishing = yield* Effect.fork(spool.finish)
        return yield* passUntilDone(finishing)
      })
      expect(report).toMatchObject({ accepted: 50 })
      expect(report.rejected.Failed).toBe(0)
      expect((yield* failedMetric).count).toBe(0)
      expect((yield* acceptedMetric).count).toBe(50)
      // the sink's own warnings: "N events to G:S not delivered", and its drain's "N events not delivered, ..."
      expect(warnings.filter((w) => /^cwlogs: (\d+ events to \S+ not delivered|.*\d+ events not delivered,)/.test(w)))
        .toEqual([])
      expect(warnings.filter((w) => w.includes("could not ship"))).toHaveLength(1)
    }).pipe(clockRunsOnFailure, Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("DurableSpool.sink: a stream through a 5-minute outage is taken whole and delivered once, in order", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // an event every 2 s for 8 minutes; the service down from the 20th s to the 320th
      const input = events(240, "e")
      const shipping = yield* Stream.fromIterable(input).pipe(
        Stream.rechunk(1),
        Stream.tap((event) =>
          event.message === "e-10"
            ? TestCloudWatchLogs.setOutage(true)
            : event.message === "e-160"
            ? TestCloudWatchLogs.setOutage(false)
            : Effect.void
        ),
        Stream.tap(() => Effect.sleep("2 seconds")),
        Stream.run(DurableSpool.sink(orders, { directory })),
        Effect.either,
        Effect.fork
      )
      const result = yield* passUntilDone(shipping, 15 * MINUTE)
      // the sink used to fail ~23 s into the outage
      if (Either.isLeft(result)) return yield* Effect.dieMessage(`the sink failed: ${result.left.message}`)
      const all = yield* stored
      expect(all).toEqual(input.map((e) => e.message))
      expect(result.right).toMatchObject({ accepted: 240, possibleDuplicates: 0 })
      expect(result.right.rejected.Failed).toBe(0)
      expect(files(directory)).toEqual([])
    }).pipe(clockRunsOnFailure, Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("flush in an outage: the one waiting returns when the retries run out, later ones at once; none hangs", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      yield* withLogger(
        { directory },
        Effect.gen(function*() {
          yield* Effect.log("one")
          const healthy = yield* CloudWatchLogs.flush
          expect(healthy.accepted).toBe(1)
          yield* TestCloudWatchLogs.setOutage(true)
          yield* Effect.log("two")
          // the flush waits for the segment's shipment: it returns when the retries run out (~23 s)
          const flushing = yield* Effect.fork(CloudWatchLogs.flush)
          const first = yield* passUntilDone(flushing, MINUTE)
          // "two" is neither stored nor failed: it waits on disk, and is shipped again
          expect(first).toMatchObject({ accepted: 1, dropped: 0 })
          expect(first.rejected.Failed).toBe(0)
          expect(first.retries - healthy.retries).toBe(8)
          // in the outage, a flush returns at once (the TestClock does not move), the line synced on disk
          yield* Effect.log("three")
          const second = yield* Effect.fork(CloudWatchLogs.flush)
          const done = yield* eventuallyLive(Effect.sync(() => second.unsafePoll()), (exit) => exit !== null)
          expect(done !== null && Exit.isSuccess(done) && done.value.accepted).toBe(1)
          expect(segmentMessages(directory).map((m): unknown => JSON.parse(m).message)).toEqual(["two", "three"])
          yield* TestCloudWatchLogs.setOutage(false)
          yield* passUntil(lines, (ls) => ls.length === 3)
          const last = yield* CloudWatchLogs.flush
          expect(last).toMatchObject({ accepted: 3, dropped: 0 })
          expect(last.rejected.Failed).toBe(0)
        })
      )
      expect(yield* lines).toEqual(["one", "two", "three"])
    }).pipe(clockRunsOnFailure, Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("shipping resumes on a backoff: a 10-minute outage costs a bounded number of puts, further and further apart", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const spool = yield* DurableSpool.make({ directory })
      yield* TestCloudWatchLogs.setOutage(true)
      yield* spool.write(routed(events(10, "e")))
      yield* pass(10 * MINUTE)
      const during = yield* puts
      // every try of the one segment is its one put and 8 retries (the default retry policy, ~23 s);
      // between tries, 1 s, 2 s, 4 s, ... at most a minute (jittered): 12 or so tries in 10 minutes.
      // Shipping again at once (no backoff) made 26 (234 puts); the old spool stopped after the first.
      // (the last try may be going on)
      const tries = Math.ceil(during.length / 9)
      expect(tries).toBeGreaterThanOrEqual(8)
      expect(tries).toBeLessThanOrEqual(14)
      // the pause between tries: from ~1 s to the cap of a minute
      const pauses = Array.from({ length: tries - 1 }, (_, i) => during[9 * (i + 1)].time - during[9 * i + 8].time)
      expect(pauses[0]).toBeLessThanOrEqual(3 * SECOND)
      expect(pauses.at(-1)).toBeGreaterThanOrEqual(45 * SECOND)
      expect(pauses.at(-1)).toBeLessThanOrEqual(62 * SECOND)
      expect(pauses.every((p, i) => i === 0 || p >= pauses[i - 1] * 0.5)).toBe(true)
      yield* TestCloudWatchLogs.setOutage(false)
      // back within a minute or so (the current pause), and everything delivered once
      yield* passUntil(stored, (s) => s.length === 10)
      const report = yield* spool.finish
      expect(report).toMatchObject({ accepted: 10, possibleDuplicates: 0 })
      expect(report.rejected.Failed).toBe(0)
      // every put of a try but its first is a retry (the last try's too, answered at its first or a later put)
      const all = yield* puts
      expect(report.retries).toBe(all.length - Math.ceil(all.length / 9))
    }).pipe(clockRunsOnFailure, Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a success resets the backoff: the next outage's first pause is ~1 s again", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const spool = yield* DurableSpool.make({
        directory,
        // no sync: the rewrite of a failed segment takes little real time between the TestClock's steps
        fsync: false,
        // one put and one retry a try, no jitter: the calls say the pauses exactly
        resumeSchedule: Schedule.exponential("1 second").pipe(Schedule.union(Schedule.spaced("1 minute")))
      })
      const outage = (prefix: string) =>
        Effect.gen(function*() {
          yield* TestCloudWatchLogs.setOutage(true)
          yield* spool.write(routed(events(10, prefix)))
          const from = (yield* puts).length
          // 25 ms of real time a step: a try's rewrite of its segment, under a loaded machine, ends before
          // the next step (with 5 ms it failed about 1 run in 5 under load, its pause a step late)
          yield* pass(3 * MINUTE, 25)
          yield* TestCloudWatchLogs.setOutage(false)
          const tries = (yield* puts).slice(from)
          const n = Math.floor(tries.length / 2) - 1
          return Array.from({ length: n }, (_, i) => tries[2 * i + 2].time - tries[2 * i + 1].time)
        })
      /**
       * Each pause is the schedule's delay, or up to 2.5 s more: the TestClock moves by seconds, and a
       * step may come before the spool has begun its pause (it rewrites the failed segment in between).
       */
      const asScheduled = (pauses: ReadonlyArray<number>, delays: ReadonlyArray<number>) =>
        delays.every((d, i) => pauses[i] >= d * SECOND && pauses[i] <= d * SECOND + 2_500)
      const first = yield* outage("a")
      // the outage is over once the segment is shipped, its files removed, not once the service stored
      // it (a failure in between is the same outage's, its pause the schedule's next)
      yield* passUntil(
        Effect.zip(stored, Effect.sync(() => files(directory).filter((f) => f.includes(".seg")))),
        ([s, left]) => s.length === 10 && left.length === 0
      )
      const second = yield* outage("b")
      // 1, 2, 4, 8, 16, 32, then 60 s; the next outage starts again from 1 s
      expect(first.length).toBe(7)
      expect(asScheduled(first, [1, 2, 4, 8, 16, 32, 60])).toBe(true)
      expect(asScheduled(second, [1, 2, 4, 8])).toBe(true)
      yield* passUntil(stored, (s) => s.length === 20)
      expect((yield* spool.finish).accepted).toBe(20)
    }).pipe(
      clockRunsOnFailure,
      Effect.provide(TestCloudWatchLogs.layer()),
      Effect.provide(RetryPolicy.layer({
        transient: RetryPolicy.backoff({ base: "100 millis", cap: "100 millis", retries: 1, jitter: false })
      }))
    ))

  it.scoped("a fatal error still stops the spool: later writes fail with it, later lines are dropped, what is left stays on disk", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // a group that does not exist and may not be created: DestinationMissing, fatal. The service is
      // down first: the failure that passes (~23 s in) is not the one that stops it
      const missing = Destination.make("missing", "s", { createGroup: false })
      const warnings = yield* recordWarnings
      const spool = yield* DurableSpool.make({ directory })
      yield* TestCloudWatchLogs.setOutage(true)
      yield* spool.write([{ destination: missing, event: { timestamp: NOW, message: "m-0" } }])
      yield* pass(30 * SECOND)
      // still taking writes: the outage is no fatal error
      yield* spool.write([{ destination: missing, event: { timestamp: NOW, message: "m-1" } }])
      yield* TestCloudWatchLogs.setOutage(false)
      yield* passUntil(probe(spool), Either.isLeft)
      const refused = yield* Effect.either(
        spool.write([{ destination: missing, event: { timestamp: NOW, message: "m-2" } }])
      )
      if (Either.isRight(refused) || refused.left._tag !== "ShipError") {
        return yield* Effect.dieMessage("expected the ShipError")
      }
      expect(refused.left.cause.reason).toBe("DestinationMissing")
      expect(refused.left.message).toContain(directory)
      // the event the fatal try did not deliver is counted so (the outage's try did not count it); m-1,
      // written in the outage, is in the segment being written; both on disk, m-2 not written
      expect(refused.left.report.rejected.Failed).toBe(1)
      expect(refused.left.report.accepted).toBe(0)
      expect(segmentMessages(directory)).toEqual(["m-0", "m-1"])
      const finished = yield* Effect.either(spool.finish)
      expect(Either.isLeft(finished) && finished.left._tag).toBe("ShipError")
      // said once, by the spool: the outage's pause, then the stop (the sink says nothing: it is shipped again)
      expect(warnings.filter((w) => w.includes("could not ship"))).toHaveLength(1)
      expect(warnings.filter((w) => w.includes("stopped shipping"))).toHaveLength(1)
      expect(warnings.filter((w) => /^cwlogs: \d+ events to /.test(w))).toEqual([])
    }).pipe(clockRunsOnFailure, Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("the durable logger after a fatal error: new lines dropped and counted, as documented", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const report = yield* Effect.provide(
        Effect.gen(function*() {
          yield* TestCloudWatchLogs.setOutage(true)
          yield* Effect.log("in the outage")
          yield* pass(30 * SECOND)
          yield* Effect.log("still in the outage")
          yield* TestCloudWatchLogs.setOutage(false)
          // the next try meets the missing group, which may not be created
          yield* passUntil(CloudWatchLogs.report, (r) => r.rejected.Failed > 0)
          yield* Effect.log("after the fatal error")
          return yield* CloudWatchLogs.flush
        }).pipe(clockRunsOnFailure),
        DurableSpool.layerLogger({
          logGroupName: "missing",
          logStreamName: "s",
          createGroup: false,
          directory,
          replace: true
        })
      )
      expect(report).toMatchObject({ accepted: 0, dropped: 1 })
      // the first line's segment failed; the second's was being written (in an outage nothing is sealed
      // by age): on disk, not counted
      expect(report.rejected.Failed).toBe(1)
      expect(segmentMessages(directory).map((m): unknown => JSON.parse(m).message)).toEqual([
        "in the outage",
        "still in the outage"
      ])
    }).pipe(clockRunsOnFailure, Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("an outage early in a recovered segment with a damaged tail: once delivered, recovered and unreadableBytes count it whole, its bytes kept aside", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const garbage = Buffer.from("damaged bytes, not a record")
      const input = events(100_000, "m").map((event) => ({ destination: orders, event }))
      const bytes = Buffer.concat([Buffer.from(format.encode(format.encoder(), input, () => {})), garbage])
      Fs.writeFileSync(Path.join(directory, "000000000001.seg"), bytes)
      yield* TestCloudWatchLogs.setOutage(true)
      const recovering = yield* Effect.fork(DurableSpool.recover({ directory, maxInFlight: 1 }))
      // a try or two fail, long before the sink has read the whole segment
      yield* pass(MINUTE)
      expect((yield* puts).length).toBeGreaterThanOrEqual(9)
      yield* TestCloudWatchLogs.setOutage(false)
      const report = yield* passUntilDone(recovering)
      expect(report.accepted).toBe(100_000)
      expect(report.recovered).toBe(100_000)
      expect(report.unreadableBytes).toBe(garbage.length)
      expect(files(directory)).toEqual(["000000000001.seg.unreadable"])
      expect(Fs.readFileSync(Path.join(directory, "000000000001.seg.unreadable")).equals(bytes)).toBe(true)
    }).pipe(clockRunsOnFailure, Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a resume schedule that ends gives up as a fatal error: its events counted not delivered, kept on disk", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const spool = yield* DurableSpool.make({ directory, resumeSchedule: Schedule.recurs(2) })
      yield* TestCloudWatchLogs.setOutage(true)
      yield* spool.write(routed(events(10, "e")))
      const refused = yield* passUntil(probe(spool), Either.isLeft)
      if (Either.isRight(refused) || refused.left._tag !== "ShipError") {
        return yield* Effect.dieMessage("expected the ShipError")
      }
      expect(refused.left.cause.reason).toBe("RetriesExhausted")
      // three tries (the first and two more), counted once
      expect((yield* puts).length).toBe(3 * 9)
      expect(refused.left.report.rejected.Failed).toBe(10)
      expect(refused.left.report.retries).toBe(3 * 8)
      expect(segmentMessages(directory)).toEqual(events(10, "e").map((e) => e.message))
    }).pipe(clockRunsOnFailure, Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a resume schedule that ends with both shippers' segments put back: the events of both counted Failed and listed undelivered", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const spool = yield* DurableSpool.make({
        directory,
        segmentBytes: 1,
        resumeSchedule: Schedule.spaced("30 seconds").pipe(Schedule.intersect(Schedule.recurs(1)))
      })
      yield* TestCloudWatchLogs.setOutage(true)
      // two segments (each write seals one), shipped together, both failing at each try (no retries)
      yield* spool.write(routed(events(10, "a")))
      yield* spool.write(routed(events(10, "b")))
      const refused = yield* passUntil(probe(spool), Either.isLeft)
      if (Either.isRight(refused) || refused.left._tag !== "ShipError") {
        return yield* Effect.dieMessage("expected the ShipError")
      }
      // two tries of the destination, none delivered: 20 events not delivered. A held destination is
      // tried again by one shipment at a time: the first segment's (before, both segments went: 4 puts)
      expect((yield* puts).length).toBe(3)
      expect(refused.left.report.accepted).toBe(0)
      givenUpOnBoth(refused.left, directory)
    }).pipe(
      clockRunsOnFailure,
      Effect.provide(TestCloudWatchLogs.layer()),
      Effect.provide(RetryPolicy.layer(RetryPolicy.none))
    ))

  it.scoped("a resume schedule that ends counts Failed, and lists undelivered, every event of a large segment put back, not only those its sink had taken", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const spool = yield* DurableSpool.make({
        directory,
        segmentBytes: 1,
        bufferCapacity: 100,
        maxBatchEvents: 100,
        maxInFlight: 1,
        resumeSchedule: Schedule.stop
      })
      yield* TestCloudWatchLogs.setOutage(true)
      // one segment of 20,000 events (the write seals it), its first put failing: a failure that passes,
      // and the schedule that ends at once makes it the end
      const input = events(20_000, "e")
      yield* spool.write(input.map((event) => ({ destination: orders, event })))
      const refused = yield* passUntil(probe(spool), Either.isLeft)
      if (Either.isRight(refused) || refused.left._tag !== "ShipError") {
        return yield* Effect.dieMessage("expected the ShipError")
      }
      // every event is kept on disk for the next run...
      expect(segmentMessages(directory)).toHaveLength(20_000)
      const report = refused.left.report
      const undelivered = refused.left.undelivered.flatMap((u) => u.events).length
      // ...and, as documented ("the events of every segment put back counted Failed and listed in its
      // undelivered"), counted: accepted + rejected = written
      expect({ total: ShipReport.total(report), failed: report.rejected.Failed, undelivered }).toEqual({
        total: 20_000,
        failed: 20_000,
        undelivered: 20_000
      })
    }).pipe(
      Effect.provide(TestCloudWatchLogs.layer()),
      Effect.provide(RetryPolicy.layer(RetryPolicy.none))
    ))
  it.scoped("a fatal error while the other shipper's segment is put back after an outage: the events of both counted Failed and listed undelivered", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const flaky = Destination.make("flaky", "s")
      const denied = Destination.make("denied", "s")
      const spool = yield* DurableSpool.make({
        directory,
        segmentBytes: 1,
        resumeSchedule: Schedule.spaced("1 minute")
      })
      // the first segment's put fails for a reason that passes, at once: put back, the shipping pauses;
      // the second's, under way meanwhile, is refused for good a second later
      yield* spool.write(events(10, "a").map((event) => ({ destination: flaky, event })))
      yield* spool.write(events(10, "b").map((event) => ({ destination: denied, event })))
      const refused = yield* passUntil(probe(spool), Either.isLeft)
      if (Either.isRight(refused) || refused.left._tag !== "ShipError") {
        return yield* Effect.dieMessage("expected the ShipError")
      }
      expect(refused.left.cause.cause._tag).toBe("AccessDeniedException")
      // before: 10 (the refused segment's), and only its events listed
      givenUpOnBoth(refused.left, directory)
    }).pipe(
      clockRunsOnFailure,
      Effect.provide(
        Layer.effect(
          CloudWatchLogsApi.CloudWatchLogsApi,
          Effect.map(TestCloudWatchLogs.TestCloudWatchLogs, (model) => ({
            ...model.api,
            putLogEvents: (request: CloudWatchLogsApi.PutLogEventsRequest) =>
              request.logGroupName === "flaky"
                ? Effect.fail(new CloudWatchLogsError.ServiceUnavailableException({ message: "down", httpStatus: 503 }))
                : request.logGroupName === "denied"
                ? Effect.zipRight(
                  Effect.sleep("1 second"),
                  Effect.fail(new CloudWatchLogsError.AccessDeniedException({ message: "no", httpStatus: 400 }))
                )
                : model.api.putLogEvents(request)
          }))
        ).pipe(Layer.provideMerge(TestCloudWatchLogs.layer()))
      ),
      Effect.provide(RetryPolicy.layer(RetryPolicy.none))
    ))

  for (const closeAt of [10 * SECOND, 30 * SECOND]) {
    it.scoped(`closed ${closeAt / SECOND} s into an outage: the close keeps to its drain deadline, everything waits for the next run`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const directory = yield* tempDir
        const scope = yield* Scope.make()
        const spool = yield* DurableSpool.make({ directory, drainTimeoutMillis: 2_000 }).pipe(Scope.extend(scope))
        yield* TestCloudWatchLogs.setOutage(true)
        const first = yield* eventsNow(20, "first")
        yield* spool.write(routed(first))
        yield* pass(closeAt)
        // 10 s in, its retries are going on; 30 s in, they ran out and the spool waits to ship again
        const second = yield* eventsNow(20, "second")
        yield* spool.write(routed(second))
        const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
        const from = yield* TestClock.currentTimeMillis
        yield* passUntilDone(closing)
        expect((yield* TestClock.currentTimeMillis) - from).toBeLessThanOrEqual(3 * SECOND)
        expect(yield* stored).toEqual([])
        // on disk, and not a byte more was written after the close
        expect(segmentMessages(directory).sort()).toEqual([...first, ...second].map((e) => e.message).sort())
        yield* TestCloudWatchLogs.setOutage(false)
        const report = yield* DurableSpool.recover({ directory })
        expect(report).toMatchObject({ recovered: 40, accepted: 40, possibleDuplicates: 0 })
        expect(yield* stored).toEqual([...first, ...second].map((e) => e.message))
        expect(files(directory)).toEqual([])
      }).pipe(clockRunsOnFailure, Effect.provide(TestCloudWatchLogs.layer())))
  }

  it.scoped("reports stay true: a lost answer, then a failure that passes, then success: each event counted once", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      yield* Effect.flatMap(
        TestCloudWatchLogs.TestCloudWatchLogs,
        (t) =>
          Effect.zipRight(t.api.createLogGroup({ logGroupName: orders.logGroupName }), t.api.createLogStream(orders))
      )
      const directory = yield* tempDir
      // the first put stored and answered; the second stored and its answer lost, and no retries: the
      // shipment fails (retries exhausted), its 200 events kept, 100 of them maybe stored already
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 10_000 })
      const shipping = yield* Stream.fromIterable(events(300, "e")).pipe(
        Stream.run(DurableSpool.sink(orders, { directory, maxBatchEvents: 100, maxInFlight: 1 })),
        Effect.provide(RetryPolicy.layer(RetryPolicy.none)),
        Effect.either,
        Effect.fork
      )
      yield* passUntil(puts, (calls) => calls.length === 1)
      yield* TestCloudWatchLogs.failNext(1, "lostResponse")
      const result = yield* passUntilDone(shipping)
      if (Either.isLeft(result)) return yield* Effect.dieMessage(`the sink failed: ${result.left.message}`)
      expect((yield* puts).map((c) => c.outcome)).toEqual(["Answered", "LostResponse", "Answered", "Answered"])
      const all = yield* stored
      const counts = copies(all)
      expect(counts.size).toBe(300)
      expect([...counts].filter(([, n]) => n === 2).map(([m]) => m)).toEqual(
        events(200, "e").slice(100).map((e) => e.message)
      )
      // 300 accepted, none failed; the 100 stored twice counted once as possible duplicates (the failed
      // shipment counted them, and so did the one that stored them again: 200)
      expect(result.right).toMatchObject({ accepted: 300, possibleDuplicates: 100, batches: 3 })
      expect(result.right.rejected.Failed).toBe(0)
      expect(files(directory)).toEqual([])
    }).pipe(clockRunsOnFailure, Effect.provide(TestCloudWatchLogs.layer())))
})
