/**
 * Possible duplicates across runs of the durable spool. A put whose answer a run never saw (in flight
 * when the close's deadline cut it off or the process was killed, or answered by a lost response) may
 * have stored its events; they stay in the segment, and the next run sends them again. That run counts
 * them in `possibleDuplicates`, from what the first one wrote beside the segment before each put.
 *
 * The in-memory service applies a put when it is called and answers it after its latency (10 s on the
 * TestClock): a put "in flight" has stored its events, so the duplicates are real and read back here.
 */
import type { LogEvent } from "@cwlogs/core"
import { Destination, RetryPolicy } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as DurableSpool from "../src/DurableSpool.js"
import * as format from "../src/internal/spoolFormat.js"
import { eventuallyLive } from "./support/live.js"
import { answeredThenLostThenGivenUp, copies, puts } from "./support/spool.js"

const NOW = 1_700_000_000_000
const orders = { logGroupName: "orders", logStreamName: "api-1" }

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-spool-dup-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const files = (dir: string) => Fs.readdirSync(dir).sort()

const events = (n: number): Array<LogEvent.LogEvent> =>
  Array.from({ length: n }, (_, i) => ({ timestamp: NOW + i, message: `e-${i}` }))

const stored = Effect.map(
  TestCloudWatchLogs.events(orders.logGroupName, orders.logStreamName),
  (es) => es.map((e) => e.message)
)

const eventually = eventuallyLive

/** The stream exists: the first put stores at once (no ResourceNotFound round trip first). */
const createStream = Effect.flatMap(
  TestCloudWatchLogs.TestCloudWatchLogs,
  (t) => Effect.zipRight(t.api.createLogGroup({ logGroupName: orders.logGroupName }), t.api.createLogStream(orders))
)

/**
 * A spool of one segment, 300 events, put 100 at a time, one put at a time, its close's deadline 1 s;
 * `until` runs with it open (the shipping going on), then the scope closes. Answers when the close is done.
 */
const firstRun = <E, R>(directory: string, until: Effect.Effect<void, E, R>) =>
  Effect.gen(function*() {
    const closeNow = yield* Deferred.make<void>()
    const written = yield* Deferred.make<void>()
    const run = yield* Effect.fork(Effect.scoped(Effect.gen(function*() {
      const spool = yield* DurableSpool.make({
        directory,
        maxBatchEvents: 100,
        maxInFlight: 1,
        drainTimeoutMillis: 1_000,
        segmentMillis: 1_000
      })
      yield* spool.write(events(300).map((event) => ({ destination: orders, event })))
      yield* Deferred.succeed(written, undefined)
      yield* Deferred.await(closeNow)
    })))
    // `until` moves the clock: not before the segment is open (under load, a clock moved before the write
    // opened it a second later, and the put never came)
    yield* Deferred.await(written)
    // what `until` asserts is answered once the spool is closed (its close waits for the clock to move)
    const checked = yield* Effect.exit(until)
    yield* Deferred.succeed(closeNow, undefined)
    // the close's deadline: 1 s, well within the 10 s the put in flight takes
    while (run.unsafePoll() === null) {
      yield* TestClock.adjust("500 millis")
      yield* TestServices.provideLive(Effect.sleep("5 millis"))
    }
    yield* Fiber.join(run)
    yield* checked
  })

/** The segment is sealed on time (1 s) and its first put is in flight: stored, its answer 10 s away. */
const firstPutInFlight = Effect.gen(function*() {
  yield* TestClock.adjust("1 second")
  yield* eventually(puts, (outcomes) => outcomes.length === 1)
  expect(yield* puts).toEqual(["Answered"])
  expect(yield* stored).toHaveLength(100)
})

describe("DurableSpool, possible duplicates across runs", () => {
  it.scoped("a close that cuts off a put in flight: the next run stores its events again and counts exactly them", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      yield* createStream
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 10_000 })
      const directory = yield* tempDir
      yield* firstRun(directory, firstPutInFlight)
      // nothing was acknowledged: the whole segment waits for the next run
      expect(files(directory)).toContain("000000000001.seg")
      expect(yield* stored).toHaveLength(100)

      yield* TestCloudWatchLogs.setFaults({})
      const report = yield* DurableSpool.recover({ directory })
      const all = yield* stored
      const counts = copies(all)
      expect([...counts.keys()].sort()).toEqual(events(300).map((e) => e.message).sort())
      const twice = [...counts].filter(([, n]) => n === 2).map(([m]) => m)
      expect(twice.sort()).toEqual(events(100).map((e) => e.message).sort())
      expect(all.length - counts.size).toBe(100)
      expect(report.recovered).toBe(300)
      expect(report.accepted).toBe(300)
      // the 100 events of the put cut off, each once: what was stored twice, nothing else
      expect(report.possibleDuplicates).toBe(100)
      expect(report.perDestination.get(Destination.key(orders))?.possibleDuplicates).toBe(100)
      expect(files(directory)).toEqual([])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("killed with a put in flight (what was on disk then): the mark was written before the put went out", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      yield* createStream
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 10_000 })
      const directory = yield* tempDir
      const killed = yield* tempDir
      yield* firstRun(
        directory,
        Effect.zipRight(
          firstPutInFlight,
          // a kill -9 now leaves exactly the files as they are: no close, nothing written at the end
          Effect.sync(() => Fs.cpSync(directory, killed, { recursive: true }))
        )
      )
      yield* TestCloudWatchLogs.setFaults({})
      const report = yield* DurableSpool.recover({ directory: killed })
      const all = yield* stored
      expect(copies(all).size).toBe(300)
      expect(all.length).toBe(400)
      expect(report.accepted).toBe(300)
      expect(report.possibleDuplicates).toBe(100)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("an answer lost, then the put sent again cut off in flight: both copies are counted, as stored", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      yield* createStream
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 10_000 })
      // the first put is stored and its answer lost (after its 10 s); it is sent again
      yield* TestCloudWatchLogs.failNext(1, "lostResponse")
      const directory = yield* tempDir
      yield* firstRun(
        directory,
        Effect.gen(function*() {
          yield* TestClock.adjust("1 second")
          yield* eventually(puts, (outcomes) => outcomes.length === 1)
          expect(yield* puts).toEqual(["LostResponse"])
          // the answer is lost at 10 s; the retry goes out after its backoff (100 ms or so)
          yield* TestClock.adjust("10 seconds")
          yield* eventually(
            Effect.zipLeft(puts, TestClock.adjust("100 millis")),
            (outcomes) => outcomes.length === 2
          )
          expect(yield* puts).toEqual(["LostResponse", "Answered"])
        })
      )
      yield* TestCloudWatchLogs.setFaults({})
      const report = yield* DurableSpool.recover({ directory })
      const all = yield* stored
      const counts = copies(all)
      expect(counts.size).toBe(300)
      expect([...counts.values()].filter((n) => n === 3)).toHaveLength(100)
      // two copies of each of the 100 may be stored (the lost answer's and the put in flight's): both were
      expect(report.possibleDuplicates).toBe(200)
      expect(report.possibleDuplicates).toBe(all.length - counts.size)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a put answered (throttled: nothing stored) before the close is not counted, nor are puts stored and answered", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      yield* createStream
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 10_000 })
      const directory = yield* tempDir
      const acks = Path.join(directory, "000000000001.seg.acks")
      const said = Effect.sync(() => format.readAcks(Fs.readFileSync(acks)))
      yield* firstRun(
        directory,
        Effect.gen(function*() {
          // the first put stored and answered; the second throttled (after its 10 s), then waiting a
          // minute to be sent again when the close comes
          yield* firstPutInFlight
          yield* TestCloudWatchLogs.failNext(1, "throttle")
          yield* TestClock.adjust("10 seconds")
          yield* eventually(puts, (outcomes) => outcomes.length === 2)
          // sent: the second put's events may be stored until its answer comes
          expect(yield* said).toEqual({ acked: [[0, 100]], sent: [[100, 200, 1]], end: 36 })
          yield* TestClock.adjust("10 seconds")
          // answered: nothing stored
          yield* eventually(said, (now) => now.sent.length === 0)
          expect(yield* puts).toEqual(["Answered", "ThrottlingException"])
        })
      ).pipe(Effect.provide(RetryPolicy.layer({
        throttled: RetryPolicy.backoff({ base: "1 minute", cap: "1 minute", retries: 3 })
      })))
      expect(yield* stored).toHaveLength(100)
      yield* TestCloudWatchLogs.setFaults({})
      const report = yield* DurableSpool.recover({ directory })
      expect(report.recovered).toBe(200)
      expect(yield* stored).toEqual(events(300).map((e) => e.message))
      expect(report.possibleDuplicates).toBe(0)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a fatal error after a lost answer: the rewritten segment's events keep their numbers, and what may be stored of them", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      yield* createStream
      const directory = yield* tempDir
      // the first put stored and answered; the second stored and its answer lost, and no retries: given
      // up at once (retries exhausted passes, and the spool would ship again: here it gives up, as fatal)
      const result = yield* answeredThenLostThenGivenUp(directory, orders, events(300))
      if (Either.isRight(result) || result.left._tag !== "ShipError") {
        return yield* Effect.dieMessage("expected a ShipError")
      }
      expect(result.left.cause.reason).toBe("RetriesExhausted")
      expect(yield* puts).toEqual(["Answered", "LostResponse"])
      // the segment holds the 200 events not delivered (numbered 100 to 299, as before); e-100 to e-199 may be stored
      expect(yield* stored).toHaveLength(200)
      expect(files(directory)).toContain("000000000001.seg")

      yield* TestCloudWatchLogs.setFaults({})
      const report = yield* DurableSpool.recover({ directory })
      const all = yield* stored
      const counts = copies(all)
      expect(counts.size).toBe(300)
      expect([...counts].filter(([, n]) => n === 2).map(([m]) => m).sort()).toEqual(
        events(200).slice(100).map((e) => e.message).sort()
      )
      expect(report.accepted).toBe(200)
      expect(report.possibleDuplicates).toBe(100)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.scoped("a run with no cut-off counts no possible duplicates, also with every put slow and several in flight", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 10_000 })
      const directory = yield* tempDir
      const shipping = yield* Stream.fromIterable(events(3_000)).pipe(
        Stream.rechunk(500),
        Stream.run(DurableSpool.sink(orders, { directory, maxBatchEvents: 100, segmentBytes: 4_000 })),
        Effect.fork
      )
      while (shipping.unsafePoll() === null) {
        yield* TestClock.adjust("10 seconds")
        yield* TestServices.provideLive(Effect.sleep("5 millis"))
      }
      const report = yield* Fiber.join(shipping)
      expect(report.accepted).toBe(3_000)
      expect(report.possibleDuplicates).toBe(0)
      expect(copies(yield* stored).size).toBe(3_000)
      expect(files(directory)).toEqual([])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})
