/**
 * The durable spool against the in-memory CloudWatch Logs, over a real directory. What a crash leaves
 * is taken as a copy of the directory at that moment (a kill -9 leaves exactly the files); the real
 * kill is in DurableSpool.crash.test.ts.
 */
import { CloudWatchLogs, Destination, Limits, LogEvent, Metrics, ShipReport } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { throwingValidator } from "../../core/test/support/throwingValidator.js"
import * as DurableSpool from "../src/DurableSpool.js"
import { LOCK_FILE } from "../src/internal/spool.js"
import * as format from "../src/internal/spoolFormat.js"
import { eventuallyLive } from "./support/live.js"

const NOW = 1_700_000_000_000
const orders = { logGroupName: "orders", logStreamName: "api-1" }
const billing = { logGroupName: "billing", logStreamName: "api-1" }

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-spool-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/** A copy of the directory as it is now: what a process killed at this moment leaves. */
const crashCopy = (dir: string) =>
  Effect.map(tempDir, (copy) => {
    Fs.cpSync(dir, copy, { recursive: true })
    return copy
  })

const files = (dir: string) => Fs.readdirSync(dir).sort()
const segmentFiles = (dir: string) => files(dir).filter((f) => f.endsWith(".seg"))

/** What a segment file holds. */
const readSegment = (path: string) =>
  [...format.read(Fs.readFileSync(path)).entries].map(({ destination, event }) => ({
    destination,
    event: { timestamp: event.timestamp, message: event.message }
  }))

/** A segment file's bytes for these events. */
const segmentBytes = (inputs: ReadonlyArray<format.Input>): Buffer =>
  Buffer.from(format.encode(format.encoder(), inputs, () => {}))

const events = (n: number, prefix = "e"): Array<LogEvent.LogEvent> =>
  Array.from({ length: n }, (_, i) => ({ timestamp: NOW + i, message: `${prefix}-${i}` }))

const stored = (d: Destination.Destination) =>
  Effect.map(TestCloudWatchLogs.events(d.logGroupName, d.logStreamName), (es) => es.map((e) => e.message))

const eventually = eventuallyLive

/**
 * On a failure of `effect` (an assertion), moves the TestClock on in the background, a second every 2 ms
 * of real time, for 10 minutes of it: a spool closed with puts in flight then ends at its drain deadline.
 */
const clockRunsOnFailure = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.tapErrorCause(effect, () =>
    Effect.forkDaemon(Effect.repeatN(
      Effect.zipRight(TestClock.adjust("1 second"), TestServices.provideLive(Effect.sleep("2 millis"))),
      600
    )))

/**
 * Finishes `spool` (moving the TestClock on until it is done): at least the `answered` events are stored,
 * each once, the report counts them, and no segment is left in `directory`.
 */
const finishDeliversEachOnce = (spool: DurableSpool.Spool, answered: number, directory: string) =>
  Effect.gen(function*() {
    const finishing = yield* Effect.fork(spool.finish)
    for (let i = 0; i < 1_000 && finishing.unsafePoll() === null; i++) {
      yield* TestClock.adjust("1 second")
      yield* TestServices.provideLive(Effect.sleep("2 millis"))
    }
    const report = yield* Fiber.join(finishing)
    const all = yield* stored(orders)
    expect(all.length).toBeGreaterThanOrEqual(answered)
    expect(report.accepted).toBe(all.length)
    expect(new Set(all).size).toBe(all.length)
    expect(segmentFiles(directory)).toEqual([])
  })

describe("DurableSpool", () => {
  it.scoped("ships every event through segments, in order, and leaves the directory empty", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const input = events(25_000)
      const report = yield* Stream.fromIterable(input).pipe(
        Stream.rechunk(1000),
        Stream.run(DurableSpool.sink(orders, { directory, segmentBytes: 64 * 1024 }))
      )
      expect(report.accepted).toBe(25_000)
      expect(report.recovered).toBe(0)
      expect(report.written).toBe(25_000)
      expect(yield* stored(orders)).toEqual(input.map((e) => e.message))
      // 20 bytes per event record, 64 KiB segments: 8 segments were shipped (a batch at least each) and removed
      expect(report.batches).toBeGreaterThanOrEqual(Math.floor(25_000 * 20 / (64 * 1024)))
      expect(segmentFiles(directory)).toEqual([])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a maxBatchBytes the sinks would refuse (below 30) is refused when the spool is made, before any write", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const exit = yield* Effect.exit(Effect.scoped(DurableSpool.make({ directory, maxBatchBytes: 29 })))
      expect(exit._tag === "Failure" && Cause.isDie(exit.cause)).toBe(true)
      expect(exit._tag === "Failure" && Cause.pretty(exit.cause)).toContain("maxBatchBytes must be at least 30")
      expect(segmentFiles(directory)).toEqual([])
      // at the limit it is taken, and an event that fits alone in such a batch goes whole
      yield* TestClock.setTime(NOW)
      const report = yield* Stream.make({ timestamp: NOW, message: "abcd" }).pipe(
        Stream.run(DurableSpool.sink(orders, { directory, maxBatchBytes: 30 }))
      )
      expect(report).toMatchObject({ accepted: 1, split: 0 })
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("every option the sinks would refuse, and the spool's own out of range, are refused before any write", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const refused: ReadonlyArray<[Partial<DurableSpool.Options>, string]> = [
        [{ maxBatchEvents: 0 }, "maxBatchEvents must be a whole number, 1 or more"],
        [{ lingerMillis: -1 }, "lingerMillis must be 0 or more"],
        [{ bufferCapacity: 0 }, "bufferCapacity must be a whole number, 1 or more"],
        [{ maxInFlight: Number.NaN }, "maxInFlight must be a whole number, 1 or more"],
        [{ drainTimeoutMillis: -5 }, "drainTimeoutMillis must be 0 or more"],
        [{ segmentBytes: 0 }, "segmentBytes must be 1 or more, got 0"],
        [{ segmentBytes: Number.NaN }, "segmentBytes must be 1 or more"],
        [{ maxSpoolBytes: 0.5 }, "maxSpoolBytes must be 1 or more"],
        [{ segmentMillis: -1 }, "segmentMillis must be 0 or more"]
      ]
      for (const [options, message] of refused) {
        const exit = yield* Effect.exit(Effect.scoped(DurableSpool.make({ directory, ...options })))
        expect(exit._tag === "Failure" && Cause.isDie(exit.cause) && Cause.pretty(exit.cause)).toContain(message)
        const logger = yield* Effect.exit(
          Effect.scoped(
            DurableSpool.makeLogger({ directory, logGroupName: "orders", logStreamName: "api-1", ...options })
          )
        )
        expect(logger._tag === "Failure" && Cause.isDie(logger.cause) && Cause.pretty(logger.cause)).toContain(message)
      }
      expect(Fs.readdirSync(directory)).toEqual([])
      // at the limits they are taken
      yield* TestClock.setTime(NOW)
      const report = yield* Stream.make({ timestamp: NOW, message: "abcd" }, { timestamp: NOW, message: "efgh" }).pipe(
        Stream.run(DurableSpool.sink(orders, {
          directory,
          maxBatchEvents: 1,
          lingerMillis: 0,
          bufferCapacity: 1,
          maxInFlight: 1,
          segmentBytes: 1,
          segmentMillis: 0,
          maxSpoolBytes: Infinity
        }))
      )
      expect(report).toMatchObject({ accepted: 2, batches: 2 })
      expect(yield* stored(orders)).toEqual(["abcd", "efgh"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("segments share one uploader: with tokens enforced, what it learnt outlives a segment", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const report = yield* Stream.fromIterable(events(5_000)).pipe(
        Stream.rechunk(500),
        Stream.run(DurableSpool.sink(orders, { directory, segmentBytes: 16 * 1024 }))
      )
      expect(report.accepted).toBe(5_000)
      const puts = (yield* TestCloudWatchLogs.calls).filter((c) => c.operation === "PutLogEvents")
      expect(puts.length).toBeGreaterThanOrEqual(6)
      // the stream is created by the first put, and one probe learns that tokens are enforced; from then
      // on every put, in every segment, carries the right token (an uploader per segment: one refusal each)
      const refused = puts.filter((c) => c.outcome !== "Answered").map((c) => c.outcome)
      expect(refused).toEqual(["ResourceNotFoundException", "InvalidSequenceTokenException"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ sequenceTokens: "enforced" }))))

  it.scoped("a write returns once its events are on disk: a crash right after it loses none of them", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const spool = yield* DurableSpool.make({ directory })
      yield* spool.write(events(3).map((event) => ({ destination: orders, event })))
      yield* spool.write([{ destination: billing, event: { timestamp: NOW, message: "b" } }])
      const left = yield* crashCopy(directory)
      // nothing was shipped yet (the segment is 1 s from sealing on the TestClock), all of it is on disk
      expect(yield* stored(orders)).toEqual([])
      expect(segmentFiles(left)).toHaveLength(1)
      expect(readSegment(Path.join(left, segmentFiles(left)[0]!))).toEqual([
        ...events(3).map((event) => ({ destination: orders, event })),
        { destination: billing, event: { timestamp: NOW, message: "b" } }
      ])
      // the next run, on what the crash left: everything, once, counted as recovered
      const report = yield* DurableSpool.recover({ directory: left })
      expect(report.recovered).toBe(4)
      expect(report.accepted).toBe(4)
      expect(yield* stored(orders)).toEqual(["e-0", "e-1", "e-2"])
      expect(yield* stored(billing)).toEqual(["b"])
      expect(segmentFiles(left)).toEqual([])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a write given up half-way (its caller interrupted) leaves the segment whole: the next write keeps its destination", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const spool = yield* DurableSpool.make({ directory })
      yield* spool.write([{ destination: orders, event: { timestamp: NOW, message: "o-1" } }])
      const givenUp = yield* Effect.fork(
        spool.write(events(2_000, "b").map((event) => ({ destination: billing, event })))
      )
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(givenUp)
      yield* spool.write([{ destination: billing, event: { timestamp: NOW, message: "b-last" } }])
      const report = yield* spool.finish
      // the given-up write went whole or not at all; "b-last" went to billing, not to orders
      expect(yield* stored(orders)).toEqual(["o-1"])
      const toBilling = yield* stored(billing)
      expect(toBilling).toContain("b-last")
      expect([1, 2_001]).toContain(toBilling.length)
      expect(report.unreadableBytes).toBe(0)
      expect(segmentFiles(directory)).toEqual([])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a write given up while it waits for room leaves the segment it sealed queued: finish ships it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // a segment per 4 writes; room for one sealed segment besides the two being shipped
      const spool = yield* DurableSpool.make({ directory, segmentBytes: 10_000, maxSpoolBytes: 40_000 })
      yield* TestCloudWatchLogs.setOutage(true)
      let n = 0
      const batch = () =>
        Array.from({ length: 30 }, () => ({
          destination: orders,
          event: { timestamp: NOW, message: `e-${n++}-${"x".repeat(80)}` }
        }))
      let answered = 0
      // write until a write waits for room (the service is out: it waits for ever), then give it up; a
      // write that is only slow (a busy disk) is waited for, not taken for one waiting
      while (true) {
        const write = yield* Effect.fork(spool.write(batch()))
        const done = yield* TestServices.provideLive(Effect.timeoutOption(Fiber.await(write), "2 seconds"))
        if (Option.isNone(done)) {
          yield* Fiber.interrupt(write)
          break
        }
        answered += 30
      }
      expect(answered).toBeGreaterThan(0)
      yield* TestCloudWatchLogs.setOutage(false)
      // every answered write is stored (the given-up one too: its events were on disk), and nothing is left
      yield* finishDeliversEachOnce(spool, answered, directory)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("writes given up one after another while the spool is full leave nothing more on disk: it stays within maxSpoolBytes", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // the service stalled: every put is answered a minute later on the TestClock, which does not move yet
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 60_000 })
      const segmentBytes = 10_000
      const maxSpoolBytes = 40_000
      const spool = yield* DurableSpool.make({ directory, segmentBytes, maxSpoolBytes })
      let n = 0
      const batch = () =>
        Array.from({ length: 30 }, () => ({
          destination: orders,
          event: { timestamp: NOW, message: `e-${n++}-${"x".repeat(80)}` }
        }))
      const writeBytes = segmentBytes / 3
      let answered = 0
      let givenUp = 0
      // each producer call gives up a write not answered at once (a request handler answering 503)
      for (let i = 0; i < 40; i++) {
        const write = yield* Effect.fork(spool.write(batch()))
        yield* TestServices.provideLive(Effect.sleep("5 millis"))
        if (write.unsafePoll() === null) {
          givenUp++
          yield* Fiber.interrupt(write)
        } else {
          answered += 30
        }
      }
      expect(givenUp).toBeGreaterThan(1)
      const onDisk = segmentFiles(directory).reduce((sum, f) => sum + Fs.statSync(Path.join(directory, f)).size, 0)
      // the bound, and beside it the segment being written (up to segmentBytes and one write) and a sealed
      // one waiting for room (before: a segment more for each write given up, 4.5 times the bound)
      expect(onDisk).toBeLessThanOrEqual(maxSpoolBytes + 2 * (segmentBytes + writeBytes))
      // the service back: every write answered is delivered, once
      yield* TestCloudWatchLogs.setFaults({})
      yield* finishDeliversEachOnce(spool, answered, directory)
    }).pipe(clockRunsOnFailure, Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("fsync: false still writes before answering (a process crash loses nothing; a machine's may)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const spool = yield* DurableSpool.make({ directory, fsync: false })
      yield* spool.write(events(2).map((event) => ({ destination: orders, event })))
      const left = yield* crashCopy(directory)
      expect(readSegment(Path.join(left, segmentFiles(left)[0]!)).map((e) => e.event.message)).toEqual(["e-0", "e-1"])
      expect((yield* spool.finish).accepted).toBe(2)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("what an earlier run left is shipped too, taken before the new events", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const first = yield* tempDir
      // the earlier run (its closing drain ships to a model of its own), killed right after its write
      yield* Effect.scoped(Effect.gen(function*() {
        const spool = yield* DurableSpool.make({ directory })
        yield* spool.write(events(5, "old").map((event) => ({ destination: orders, event })))
        Fs.cpSync(directory, first, { recursive: true })
      })).pipe(Effect.provide(TestCloudWatchLogs.layer()))
      const report = yield* Stream.fromIterable(events(7, "new")).pipe(
        Stream.run(DurableSpool.sink(orders, { directory: first }))
      )
      expect(report.recovered).toBe(5)
      expect(report.accepted).toBe(12)
      expect((yield* stored(orders)).sort()).toEqual(
        [...events(5, "old"), ...events(7, "new")].map((e) => e.message).sort()
      )
      const puts = (yield* TestCloudWatchLogs.calls).filter((c) =>
        c.operation === "PutLogEvents" && c.outcome === "Answered"
      )
      // the leftover segment and the new one, a put each (two shippers: taken in that order, answered in either)
      expect(puts.map((c) => c.eventCount).sort()).toEqual([5, 7])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a segment is sealed and shipped once it is segmentMillis old (TestClock)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const spool = yield* DurableSpool.make({ directory, segmentMillis: 5_000 })
      yield* spool.write(events(3).map((event) => ({ destination: orders, event })))
      yield* TestClock.adjust("4999 millis")
      yield* TestServices.provideLive(Effect.sleep("50 millis"))
      expect(yield* stored(orders)).toEqual([])
      yield* TestClock.adjust("1 millis")
      expect(yield* eventually(stored(orders), (s) => s.length === 3)).toEqual(["e-0", "e-1", "e-2"])
      yield* eventually(Effect.sync(() => segmentFiles(directory)), (s) => s.length === 0)
      // the next write opens a new segment, with its own clock
      yield* spool.write([{ destination: orders, event: { timestamp: NOW, message: "later" } }])
      yield* TestClock.adjust("5 seconds")
      yield* eventually(stored(orders), (s) => s.length === 4)
      const report = yield* spool.finish
      expect(report.accepted).toBe(4)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a TestClock at a fraction of a millisecond (after a jittered sleep) is a time like any", () =>
    Effect.gen(function*() {
      // 0.1 + 0.2 ms from the epoch: a time in nanoseconds that is no whole number (the TestClock's
      // currentTimeNanos threw)
      yield* TestClock.adjust(Duration.millis(0.1))
      yield* TestClock.adjust(Duration.millis(0.2))
      const directory = yield* tempDir
      const input = [0, 0, 0].map((timestamp, i) => ({ timestamp, message: `e-${i}` }))
      const report = yield* Stream.fromIterable(input).pipe(Stream.run(DurableSpool.sink(orders, { directory })))
      expect(report.accepted).toBe(3)
      expect(yield* stored(orders)).toEqual(input.map((e) => e.message))
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("events JSON cannot carry are rejected at once with the validator's reason; nothing else is lost", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // as an untyped caller hands them over
      const input: ReadonlyArray<LogEvent.LogEvent> = JSON.parse(
        `[{"timestamp":"soon","message":"a"},{"timestamp":${NOW},"message":7},{"timestamp":${NOW},"message":""},` +
          `{"timestamp":${NOW},"message":"ok"},{"timestamp":${NOW - 15 * 24 * 3600 * 1000},"message":"old"}]`
      )
      const report = yield* Stream.fromIterable(input).pipe(Stream.run(DurableSpool.sink(orders, { directory })))
      expect(report.rejected).toMatchObject({ InvalidTimestamp: 1, InvalidMessage: 1, Empty: 1, TooOld: 1 })
      expect(report.accepted).toBe(1)
      // on disk: all but the two JSON cannot carry (the service refuses the empty and the old ones)
      expect(report.written).toBe(3)
      expect(report.perDestination.get(Destination.key(orders))?.rejected.InvalidMessage).toBe(1)
      expect(yield* stored(orders)).toEqual(["ok"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("an input whose fields cannot be read is refused (InvalidMessage) and counted, as CloudWatchLogs.sink does, not a defect that loses its chunk", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const unreadable = new Proxy(LogEvent.make(NOW, "unreadable"), {
        get: () => {
          throw new Error("unreadable")
        }
      })
      const exit = yield* Stream.make(LogEvent.make(NOW, "ok"), unreadable, LogEvent.make(NOW + 1, "ok too")).pipe(
        Stream.run(DurableSpool.sink(orders, { directory })),
        Effect.exit
      )
      // CloudWatchLogs.sink ends with { accepted: 2, rejected.InvalidMessage: 1 } for the same stream
      expect(Exit.isSuccess(exit)).toBe(true)
      if (Exit.isSuccess(exit)) {
        expect(exit.value.accepted).toBe(2)
        expect(exit.value.rejected.InvalidMessage).toBe(1)
        expect(ShipReport.total(exit.value)).toBe(3)
      }
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  for (const metricLabels of ["stream", "group"] as const) {
    it.scoped(`events refused when written are counted in Metrics.eventsRejected by reason (metricLabels: ${metricLabels})`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const directory = yield* tempDir
        // a destination of this test's own: the metrics are the process's
        const refused = { logGroupName: `refused-at-write-${metricLabels}`, logStreamName: "api-1" }
        const spool = yield* DurableSpool.make({ directory, metricLabels })
        yield* spool.write([
          { destination: refused, event: { timestamp: Number.NaN, message: "no time" } },
          { destination: refused, event: JSON.parse(`{"timestamp":${NOW},"message":7}`) },
          { destination: refused, event: JSON.parse(`{"timestamp":${NOW},"message":null}`) },
          { destination: refused, event: { timestamp: NOW, message: "ok" } }
        ])
        const report = yield* spool.finish
        expect(report.rejected).toMatchObject({ InvalidTimestamp: 1, InvalidMessage: 2 })
        const counted = (reason: string) =>
          Effect.map(
            Metric.value(
              Metrics.forDestination(Metrics.eventsRejected, refused, metricLabels).pipe(
                Metric.tagged("reason", reason)
              )
            ),
            (state) => state.count
          )
        expect(yield* counted("InvalidTimestamp")).toBe(1)
        expect(yield* counted("InvalidMessage")).toBe(2)
        expect(yield* Metric.value(Metrics.forDestination(Metrics.eventsAccepted, refused, metricLabels)))
          .toMatchObject(
            { count: 1 }
          )
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
  }

  it.scoped("a fatal error early in a large segment keeps on disk every event it had not stored, not only those it had taken", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const missing = Destination.make("missing", "s", { createGroup: false })
      // one segment of 50,000 events to a group that may not be created: the first put fails for good,
      // long before the sink has taken the whole segment
      const input = events(50_000, "m")
      const result = yield* Stream.fromIterable(input).pipe(
        Stream.run(DurableSpool.sink(missing, {
          directory,
          maxInFlight: 1,
          segmentBytes: 64 * 1024 * 1024,
          segmentMillis: 3_600_000
        })),
        Effect.either
      )
      if (Either.isRight(result) || result.left._tag !== "ShipError") {
        return yield* Effect.dieMessage("expected a ShipError")
      }
      // every event kept is counted and listed, those the sink had not taken when it failed too (before:
      // only those it had taken, a few thousand)
      expect(result.left.undelivered.flatMap((u) => u.events.map((e) => e.message))).toEqual(
        input.map((e) => e.message)
      )
      expect(result.left.report.rejected.Failed).toBe(50_000)
      expect(ShipReport.total(result.left.report)).toBe(50_000)
      const [segment] = segmentFiles(directory)
      const kept = readSegment(Path.join(directory, segment!))
      expect(kept.map((e) => e.event.message)).toEqual(input.map((e) => e.message))
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  for (const [tail, what] of [["damaged", "unreadableBytes"], ["torn", "tornBytes"]] as const) {
    it.scoped(`a fatal error early in a segment left with a ${tail} tail: ${what} and recovered count the whole segment${tail === "damaged" ? ", its bytes kept aside" : ""}`, () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(NOW)
        const directory = yield* tempDir
        const missing = Destination.make("missing", "s", { createGroup: false })
        const input = events(30_000, "m").map((event) => ({ destination: missing, event }))
        const whole = segmentBytes([...input, { destination: missing, event: { timestamp: NOW, message: "cut" } }])
        // a damaged tail, or the last record cut off by a crash
        const bytes = tail === "damaged"
          ? Buffer.concat([segmentBytes(input), Buffer.from("damaged bytes, not a record")])
          : whole.subarray(0, whole.length - 2)
        const extra = bytes.length - segmentBytes(input).length
        Fs.writeFileSync(Path.join(directory, "000000000001.seg"), bytes)
        // the first put fails for good, long before the sink has read the whole segment
        const result = yield* Effect.either(DurableSpool.recover({ directory, maxInFlight: 1 }))
        if (Either.isRight(result) || result.left._tag !== "ShipError") {
          return yield* Effect.dieMessage("expected a ShipError")
        }
        // (the spool's ShipError carries its SpoolReport)
        expect(result.left.report).toMatchObject({
          recovered: 30_000,
          unreadableBytes: tail === "damaged" ? extra : 0,
          tornBytes: tail === "torn" ? extra : 0
        })
        expect(readSegment(Path.join(directory, "000000000001.seg"))).toHaveLength(30_000)
        if (tail === "damaged") {
          expect(Fs.readFileSync(Path.join(directory, "000000000001.seg.unreadable")).equals(bytes)).toBe(true)
        } else {
          expect(files(directory)).not.toContain("000000000001.seg.unreadable")
        }
      }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
  }

  it.scoped("a fatal error keeps exactly the events not delivered on disk; the next run sends nothing twice", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const missing = Destination.make("missing", "s", { createGroup: false })
      const input = [
        ...events(40, "ok").map((event) => ({ destination: orders, event })),
        ...events(30, "m").map((event) => ({ destination: missing, event }))
      ]
      const result = yield* Stream.fromIterable(input).pipe(
        Stream.run(DurableSpool.sink((r: CloudWatchLogs.Routed) => r, { directory, maxInFlight: 1 })),
        Effect.either
      )
      if (Either.isRight(result)) return yield* Effect.dieMessage("expected a ShipError")
      const error = result.left
      if (error._tag !== "ShipError") return yield* Effect.dieMessage(`expected a ShipError, got ${error.message}`)
      expect(error.cause.reason).toBe("DestinationMissing")
      expect(error.message).toContain(directory)
      expect(error.report.accepted).toBe(40)
      expect(yield* stored(orders)).toHaveLength(40)
      // the segment now holds the 30 undelivered events, with their destination and its options
      const [segment] = segmentFiles(directory)
      const kept = readSegment(Path.join(directory, segment!))
      expect(kept).toHaveLength(30)
      // the rewrite keeps each event's number (40 to 69): the acknowledgements stay as they were, naming
      // the 40 stored (0 to 39), none of the rewrite's events
      const numbers = [...format.read(Fs.readFileSync(Path.join(directory, segment!))).entries].map(({ event }) =>
        event instanceof format.SpoolEvent ? event.record : -1
      )
      expect(numbers).toEqual(Array.from({ length: 30 }, (_, i) => 40 + i))
      expect(format.readAcks(Fs.readFileSync(Path.join(directory, `${segment!}.acks`))).acked).toEqual([[0, 40]])
      expect(kept.every((e) => e.destination.logGroupName === "missing" && e.destination.createGroup === false)).toBe(
        true
      )
      // once the group exists, the next run delivers them, and orders gets nothing again
      yield* Effect.flatMap(TestCloudWatchLogs.TestCloudWatchLogs, (t) =>
        Effect.zipRight(
          t.api.createLogGroup({ logGroupName: "missing" }),
          t.api.createLogStream({ logGroupName: "missing", logStreamName: "s" })
        ))
      const report = yield* DurableSpool.recover({ directory })
      expect(report.recovered).toBe(30)
      expect(report.accepted).toBe(30)
      expect((yield* stored(missing)).sort()).toEqual(events(30, "m").map((e) => e.message).sort())
      expect(yield* stored(orders)).toHaveLength(40)
      expect(segmentFiles(directory)).toEqual([])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("recovery skips a write cut off by the crash and keeps a damaged segment aside", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const at = (message: string) => ({ destination: orders, event: { timestamp: NOW, message } })
      const garbage = Buffer.from("not a record")
      Fs.writeFileSync(
        Path.join(directory, "000000000001.seg"),
        Buffer.concat([segmentBytes([at("one"), at("two")]), garbage])
      )
      const cut = segmentBytes([at("three"), at("four")])
      Fs.writeFileSync(Path.join(directory, "000000000002.seg"), cut.subarray(0, cut.length - 2))
      Fs.writeFileSync(Path.join(directory, "000000000002.seg.tmp"), segmentBytes([at("half a rewrite")]))
      const report = yield* DurableSpool.recover({ directory })
      // two segments shipped at once, events of one timestamp: the service's order between them is either
      expect((yield* stored(orders)).sort()).toEqual(["one", "three", "two"])
      expect({ ...report, perDestination: undefined }).toMatchObject({
        recovered: 3,
        accepted: 3,
        unreadableBytes: garbage.length,
        tornBytes: 13 + "four".length - 2
      })
      expect(files(directory)).toEqual(["000000000001.seg.unreadable"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("one process per directory: a second spool fails Locked, a lock left by a dead process is taken over", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      yield* Effect.scoped(Effect.gen(function*() {
        yield* DurableSpool.make({ directory })
        expect(Fs.readFileSync(Path.join(directory, LOCK_FILE), "utf8")).toBe(`${process.pid}\n`)
        const second = yield* Effect.either(DurableSpool.make({ directory }))
        if (Either.isRight(second)) return yield* Effect.dieMessage("expected SpoolError")
        expect(second.left.reason).toBe("Locked")
        expect(second.left.message).toContain("in use by process")
        // the same directory through a symbolic link is the same directory
        const linked = `${directory}-link`
        Fs.symlinkSync(directory, linked)
        yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(linked, { force: true })))
        const throughLink = yield* Effect.either(DurableSpool.make({ directory: linked }))
        expect(Either.isLeft(throughLink) && throughLink.left.reason).toBe("Locked")
      }))
      expect(files(directory)).toEqual([])
      // a process that has exited (its pid is free) left its lock behind; and one of another live process
      Fs.writeFileSync(Path.join(directory, LOCK_FILE), "2147483646\n")
      const report = yield* DurableSpool.recover({ directory })
      expect(report.accepted).toBe(0)
      Fs.writeFileSync(Path.join(directory, LOCK_FILE), `${process.ppid}\n`)
      const held = yield* Effect.either(DurableSpool.recover({ directory }))
      expect(Either.isLeft(held) && held.left._tag === "SpoolError" && held.left.reason === "Locked").toBe(true)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  // sysfs refuses new files even to root: a directory that exists and may not be written in
  it.scoped.skipIf(!Fs.existsSync("/sys/kernel"))(
    "a lock that cannot be created is said as it is (permission denied), not as a takeover that failed",
    () =>
      Effect.gen(function*() {
        const refused = yield* Effect.flip(DurableSpool.make({ directory: "/sys/kernel" }))
        expect(refused.reason).not.toBe("Locked")
        expect(refused.message).toContain(`creating /sys/kernel/${LOCK_FILE} failed`)
        expect(refused.message).not.toContain("taking over")
      }).pipe(Effect.provide(TestCloudWatchLogs.layer()))
  )

  it.scoped("maxSpoolBytes bounds bytes, whatever the segments' size: large writes into tiny segments wait too", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // every PutLogEvents waits 10 s on the TestClock: nothing completes until the clock moves
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 10_000 })
      // each write of ~100 KB seals a segment of its own (segmentBytes 1): the count of segments said
      // nothing of their bytes, and the producer never waited (200 MB in the review's run)
      const spool = yield* DurableSpool.make({ directory, segmentBytes: 1, maxSpoolBytes: 1_000_000 })
      const write = (i: number) =>
        spool.write(Array.from({ length: 100 }, (_, j) => ({
          destination: orders,
          event: { timestamp: NOW, message: `${i}-${j}-${"x".repeat(1_000)}` }
        })))
      let done = 0
      const writer = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 30 }, (_, i) => i), (i) =>
          Effect.tap(write(i), () =>
            Effect.sync(() => {
              done++
            })), { discard: true })
      )
      yield* eventually(Effect.sync(() => done), (n) => n >= 5)
      yield* TestServices.provideLive(Effect.sleep("300 millis"))
      expect(writer.unsafePoll()).toBeNull()
      const onDisk = segmentFiles(directory).reduce((sum, f) => sum + Fs.statSync(Path.join(directory, f)).size, 0)
      // the bound, the write that waits for room and the one before it (sealed, not yet queued)
      expect(onDisk).toBeLessThanOrEqual(1_000_000 + 2 * 110_000)
      expect(done).toBeLessThan(15)
      const moved = Effect.zipRight(TestClock.adjust("10 seconds"), TestServices.provideLive(Effect.sleep("5 millis")))
      while (writer.unsafePoll() === null) yield* moved
      const finishing = yield* Effect.fork(spool.finish)
      while (finishing.unsafePoll() === null) yield* moved
      const report = yield* Fiber.join(finishing)
      expect(report.accepted).toBe(3_000)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scopedLive("a wall clock set back (NTP) does not hold a segment unsealed: its age is on the monotonic clock", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const live = yield* Effect.clock
      // the wall clock, which will be set back; the monotonic clock (nanoseconds) and the sleeps as they are
      let offset = 0
      const wall: Clock.Clock = {
        [Clock.ClockTypeId]: Clock.ClockTypeId,
        unsafeCurrentTimeMillis: () => live.unsafeCurrentTimeMillis() + offset,
        currentTimeMillis: Effect.sync(() => live.unsafeCurrentTimeMillis() + offset),
        unsafeCurrentTimeNanos: () => live.unsafeCurrentTimeNanos(),
        currentTimeNanos: live.currentTimeNanos,
        sleep: (duration) => live.sleep(duration)
      }
      const spool = yield* Effect.withClock(DurableSpool.make({ directory, segmentMillis: 100 }), wall)
      // written, then the wall clock set back 10 minutes before the segment's 100 ms are up
      yield* Effect.withClock(
        spool.write([{ destination: orders, event: { timestamp: Date.now(), message: "on time" } }]),
        wall
      )
      offset = -600_000
      yield* eventually(stored(orders), (messages) => messages.length === 1)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("the disk is bounded: with the service stalled, the producer waits at maxSpoolBytes", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // every PutLogEvents waits 10 s on the TestClock: nothing completes until the clock moves
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 10_000 })
      const segmentBytes = 1000
      const producer = yield* Stream.fromIterable(events(2_000)).pipe(
        Stream.rechunk(10),
        Stream.run(DurableSpool.sink(orders, { directory, segmentBytes, maxSpoolBytes: 5 * segmentBytes })),
        Effect.fork
      )
      // two segments being shipped, two sealed and waiting, the fifth full and waiting for room to be sealed
      yield* eventually(Effect.sync(() => segmentFiles(directory).length), (n) => n === 5)
      yield* TestServices.provideLive(Effect.sleep("100 millis"))
      expect(segmentFiles(directory)).toHaveLength(5)
      expect(producer.unsafePoll()).toBeNull()
      const moved = Effect.zipRight(TestClock.adjust("10 seconds"), TestServices.provideLive(Effect.sleep("5 millis")))
      while (producer.unsafePoll() === null) yield* moved
      const report = yield* Fiber.join(producer)
      expect(report.accepted).toBe(2_000)
      expect(yield* stored(orders)).toEqual(events(2_000).map((e) => e.message))
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a shipment that dies (a validator of the application's throws) fails the producer; it does not wait forever", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // small segments and a small spool: once the shipping stops, the producer soon waits for room
      const producer = yield* Stream.fromIterable(events(20_000)).pipe(
        Stream.rechunk(100),
        Stream.run(DurableSpool.sink(orders, { directory, segmentBytes: 1_000, maxSpoolBytes: 5_000 })),
        Effect.provide(throwingValidator((message) => message === "e-300")),
        Effect.fork
      )
      const exit = yield* eventually(Effect.sync(() => producer.unsafePoll()), (e) => e !== null)
      if (exit === null || exit._tag !== "Failure") return yield* Effect.dieMessage("expected the producer to fail")
      const defect = Cause.dieOption(exit.cause)
      expect(defect._tag === "Some" && defect.value instanceof RangeError).toBe(true)
      // what was written and not stored is still on disk for the next run
      expect(segmentFiles(directory).length).toBeGreaterThan(0)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.runIf(process.platform === "linux")(
    "a directory that cannot be made fails with a SpoolError, at once",
    () =>
      Effect.gen(function*() {
        // Node's recursive mkdir never returns for this path
        const error = yield* Effect.flip(Effect.scoped(DurableSpool.make({ directory: "/proc/cwlogs-nope/spool" })))
        expect(error._tag).toBe("SpoolError")
        expect(error.reason).toBe("FileSystem")
        expect(error.message).toContain("creating the directory failed")
        expect(error.message).toContain("ENOENT")
      }).pipe(Effect.provide(TestCloudWatchLogs.layer()), Effect.runPromise)
  )

  it.live("a spool with room for one sealed segment ends as soon as it has shipped (its close waited out the drain)", () =>
    Effect.gen(function*() {
      const directory = yield* tempDir
      const now = Date.now()
      const input = Array.from({ length: 500 }, (_, i) => ({ timestamp: now, message: `m-${i}` }))
      // 4 segments of room: 2 being shipped, 1 being written, 1 sealed and waiting
      const report = yield* Stream.fromIterable(input).pipe(
        Stream.rechunk(50),
        Stream.run(DurableSpool.sink(orders, { directory, segmentBytes: 1_000, maxSpoolBytes: 4_000 })),
        // well under the drain's deadline (10 s), which the close used to wait out
        Effect.timeoutFail({ duration: "5 seconds", onTimeout: () => "the sink did not end" })
      )
      expect(report.accepted).toBe(500)
      expect(files(directory)).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("closing the scope without finish ships what it can within the drain deadline; the rest stays", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      yield* Effect.scoped(Effect.gen(function*() {
        const spool = yield* DurableSpool.make({ directory, segmentMillis: 60_000 })
        yield* spool.write(events(10).map((event) => ({ destination: orders, event })))
      }))
      // sealed at close and shipped before the scope was released
      expect(yield* stored(orders)).toHaveLength(10)
      expect(segmentFiles(directory)).toEqual([])
      yield* TestCloudWatchLogs.setOutage(true)
      const closing = yield* Effect.scoped(Effect.gen(function*() {
        const spool = yield* DurableSpool.make({ directory, segmentMillis: 60_000, drainTimeoutMillis: 2_000 })
        yield* spool.write(events(10, "late").map((event) => ({ destination: orders, event })))
      })).pipe(Effect.fork)
      while (closing.unsafePoll() === null) {
        yield* TestClock.adjust("1 second")
        yield* TestServices.provideLive(Effect.sleep("5 millis"))
      }
      yield* Fiber.join(closing)
      expect(segmentFiles(directory)).toHaveLength(1)
      yield* TestCloudWatchLogs.setOutage(false)
      const report = yield* DurableSpool.recover({ directory })
      expect(report.recovered).toBe(10)
      expect(yield* stored(orders)).toHaveLength(20)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
  /**
   * Ships `input` as one segment of 1,000 events, 100 per put, one put at a time, each answered 100 ms
   * late (TestClock); once 300 events are stored the service goes down and the scope's drain runs out of
   * time. Then the service comes back and the segment is recovered.
   */
  const cutOffThenRecover = (input: ReadonlyArray<LogEvent.LogEvent>) =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const cutOff = yield* Effect.scoped(Effect.gen(function*() {
        const spool = yield* DurableSpool.make({
          directory,
          segmentBytes: 1,
          maxBatchEvents: 100,
          maxInFlight: 1,
          drainTimeoutMillis: 2_000
        })
        yield* spool.write(input.map((event) => ({ destination: orders, event })))
        return spool
      })).pipe(Effect.fork)
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 100 })
      let down = false
      while (cutOff.unsafePoll() === null) {
        if (!down && (yield* stored(orders)).length >= 300) {
          yield* TestCloudWatchLogs.setOutage(true)
          down = true
        }
        yield* TestClock.adjust(down ? "1 second" : "50 millis")
        yield* TestServices.provideLive(Effect.sleep("5 millis"))
      }
      const cutOffRun = (yield* Fiber.join(cutOff)).report()
      const before = (yield* stored(orders)).length
      expect(before).toBeGreaterThanOrEqual(300)
      expect(before).toBeLessThan(1_000)
      // the run cut off counts what it was done with, though its shipment was interrupted (the sink's
      // report went with it): the events stored (an event split in two parts is one) and one refused empty
      // if there was one, as many as the events stored
      expect(cutOffRun.accepted + cutOffRun.rejected.Empty).toBe(before)
      const [segment] = segmentFiles(directory)
      expect(files(directory)).toEqual([segment, `${segment}.acks`])
      yield* TestCloudWatchLogs.setOutage(false)
      yield* TestCloudWatchLogs.setFaults({})
      const report = yield* DurableSpool.recover({ directory })
      expect(files(directory)).toEqual([])
      return { before, report }
    })

  it.scoped("a shipment cut off mid-segment: the next run sends only what no put had stored, nothing twice", () =>
    Effect.gen(function*() {
      const input = events(1_000)
      const { before, report } = yield* cutOffThenRecover(input)
      expect(report.recovered).toBe(1_000 - before)
      expect(report.accepted).toBe(1_000 - before)
      expect(yield* stored(orders)).toEqual(input.map((e) => e.message))
      // the puts the outage refused stored nothing, and said so: none of the events sent again is counted
      expect(report.possibleDuplicates).toBe(0)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("cut off mid-segment: events refused or split before the cut are acknowledged too, not sent again", () =>
    Effect.gen(function*() {
      const input = events(1_000)
      // early in the segment: an empty message (refused, never sent) and one split in two parts
      input[10] = { timestamp: NOW + 10, message: "" }
      input[20] = { timestamp: NOW + 20, message: "s".repeat(Limits.maxMessageBytes(Limits.current) + 1) }
      const { before, report } = yield* cutOffThenRecover(input)
      // `before` counts the two parts: 1 + 1 inputs more than the events stored were done with
      expect(report.recovered).toBe(1_000 - (before - 1) - 1)
      expect(report.split).toBe(0)
      expect(report.rejected.Empty).toBe(0)
      const all = yield* stored(orders)
      expect(all.length).toBe(1_000)
      // the empty one is not stored: the parts are the 20th and 21st
      expect(all.slice(19, 21).join("")).toBe(input[20].message)
      expect(all.filter((m) => m.startsWith("s")).length).toBe(2)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("acknowledgements whose segment is gone are removed at start: a new segment of that number ships whole", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // what a run that ended between removing a shipped segment and its acknowledgements leaves
      Fs.writeFileSync(
        Path.join(directory, `${format.segmentName(1)}.acks`),
        format.encodeAcks(Array.from({ length: 10 }, (_, i) => i))
      )
      const input = events(10)
      const report = yield* Stream.fromIterable(input).pipe(Stream.run(DurableSpool.sink(orders, { directory })))
      expect(report.accepted).toBe(10)
      expect(yield* stored(orders)).toEqual(input.map((e) => e.message))
      expect(files(directory)).toEqual([])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})
