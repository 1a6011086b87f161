/**
 * The growth of a segment's acknowledgements file (`*.seg.acks`). Each put of a segment says its events
 * sent before it goes out and again once answered: a segment tried again and again through an outage (or
 * a process restarted again and again) appended entries for the same events at every try, without bound.
 * The file is compacted once it passes twice what it needs (4 KiB at least), written aside and renamed
 * over it: what it says is kept (acknowledgements, and the copies of lost answers), and a compaction cut
 * off leaves a temporary file the next run removes.
 */
import type { LogEvent } from "@cwlogs/core"
import { RetryPolicy } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as DurableSpool from "../src/DurableSpool.js"
import { ACKS_COMPACT_FLOOR } from "../src/internal/spool.js"
import * as format from "../src/internal/spoolFormat.js"
import { eventuallyLive } from "./support/live.js"
import { clockRunsOnFailure, passSeconds, puts, tempDirNamed } from "./support/spool.js"

const NOW = 1_700_000_000_000
const orders = { logGroupName: "orders", logStreamName: "api-1" }

const tempDir = tempDirNamed("cwlogs-spool-acks-")

const events = (n: number, prefix = "e"): Array<LogEvent.LogEvent> =>
  Array.from({ length: n }, (_, i) => ({ timestamp: NOW + i, message: `${prefix}-${i}` }))

const routed = (input: ReadonlyArray<LogEvent.LogEvent>) => input.map((event) => ({ destination: orders, event }))

const stored = Effect.map(
  TestCloudWatchLogs.events(orders.logGroupName, orders.logStreamName),
  (es) => es.map((e) => e.message)
)

const createStream = Effect.flatMap(
  TestCloudWatchLogs.TestCloudWatchLogs,
  (t) => Effect.zipRight(t.api.createLogGroup({ logGroupName: orders.logGroupName }), t.api.createLogStream(orders))
)

const pass = (seconds: number) => passSeconds(seconds, 5)

const acksSize = (directory: string): number =>
  Fs.readdirSync(directory).filter((f) => f.endsWith(".seg.acks")).reduce(
    (sum, f) => sum + Fs.statSync(Path.join(directory, f)).size,
    0
  )

describe("DurableSpool acknowledgements files", () => {
  it("compactAcks says what the entries said, in fewer bytes: acknowledgements, sent copies, later entries overriding earlier ones", () => {
    const entries = Buffer.concat([
      format.encodeSent([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 1),
      format.encodeAcks([0, 1, 2]),
      format.encodeSent([5, 6], 3),
      format.encodeSent([8], 0),
      format.encodeAcks([4]),
      ...Array.from({ length: 100 }, () => format.encodeSent([9], 2))
    ])
    const said = format.readAcks(entries)
    const compact = format.compactAcks(said)
    // one entry per range: 2 acknowledged, 4 sent (of 105 entries)
    expect(compact.length).toBe(6 * 12)
    const again = format.readAcks(compact)
    expect({ acked: again.acked, sent: again.sent }).toEqual({ acked: said.acked, sent: said.sent })
    expect(said).toMatchObject({ acked: [[0, 3], [4, 5]], sent: [[3, 4, 1], [5, 7, 3], [7, 8, 1], [9, 10, 2]] })
  })

  it.scoped("an outage of hundreds of tries of one segment: its acks file stays bounded, and says what it said (a lost answer's copy counted once delivered)", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const spool = yield* DurableSpool.make({
        directory,
        fsync: false,
        // a try a second or so: one put each (no retries)
        resumeSchedule: Schedule.spaced("1 second")
      })
      yield* createStream
      // the first put is stored, its answer lost: one copy said sent, which the acks file must keep
      yield* TestCloudWatchLogs.failNext(1, "lostResponse")
      yield* spool.write(routed(events(1)))
      // sealed after a second, shipped; the TestClock stands still until the outage is on (the next try
      // waits a second of it)
      yield* TestClock.adjust("1 second")
      yield* eventuallyLive(puts, (p) => p.length === 1)
      yield* TestCloudWatchLogs.setOutage(true)
      let largest = 0
      for (let t = 0; t < 400; t += 10) {
        yield* pass(10)
        largest = Math.max(largest, acksSize(directory))
      }
      const tries = (yield* puts).length
      // every try appended two sent entries (24 bytes) for the one event: 9 KB or so for a 60-byte segment
      expect(tries).toBeGreaterThan(300)
      expect(largest).toBeGreaterThan(0)
      expect(largest).toBeLessThanOrEqual(ACKS_COMPACT_FLOOR)
      yield* TestCloudWatchLogs.setOutage(false)
      yield* eventuallyLive(Effect.zipLeft(stored, TestClock.adjust("1 second")), (s) => s.length === 2)
      const report = yield* spool.finish
      // stored twice (the lost answer's put, and the one after the outage): counted as a possible duplicate
      expect(report).toMatchObject({ accepted: 1, possibleDuplicates: 1 })
      expect(Fs.readdirSync(directory).filter((f) => f.includes(".seg"))).toEqual([])
    }).pipe(
      clockRunsOnFailure,
      Effect.provide(TestCloudWatchLogs.layer()),
      Effect.provide(RetryPolicy.layer(RetryPolicy.none))
    ))

  it.scoped("a compaction cut off (its temporary file left): the next run removes it and keeps to the acks file as it was", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      // a segment of 10 events, the first 6 acknowledged, the 4 others said sent once (a lost answer)
      const segment = Path.join(directory, format.segmentName(1))
      const written = format.encode(format.encoder(), routed(events(10)), () => undefined)
      Fs.writeFileSync(segment, written)
      Fs.writeFileSync(
        format.acksOf(segment),
        Buffer.concat([format.encodeAcks([0, 1, 2, 3, 4, 5]), format.encodeSent([6, 7, 8, 9], 1)])
      )
      // what a compaction cut off before its rename leaves: a temporary file (here one that says nothing)
      Fs.writeFileSync(format.temporaryOf(format.acksOf(segment)), Buffer.alloc(0))
      const report = yield* Effect.scoped(Effect.gen(function*() {
        const spool = yield* DurableSpool.make({ directory, fsync: false })
        const finishing = yield* Effect.fork(spool.finish)
        yield* eventuallyLive(
          Effect.zipLeft(Effect.sync(() => finishing.unsafePoll()), TestClock.adjust("1 second")),
          (e) => e !== null
        )
        return yield* Fiber.join(finishing)
      }))
      expect(yield* stored).toEqual(["e-6", "e-7", "e-8", "e-9"])
      expect(report).toMatchObject({ accepted: 4, possibleDuplicates: 4 })
      expect(Fs.readdirSync(directory).filter((f) => f.includes(".seg"))).toEqual([])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})
