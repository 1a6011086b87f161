/**
 * The durable spool's report against what it was handed (observability review): every event written is
 * stored, or counted (rejected by reason, or not delivered), once.
 */
import type { LogEvent } from "@cwlogs/core"
import { LogEvent as LogEvents, RetryPolicy, ShipReport } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as DurableSpool from "../src/DurableSpool.js"
import * as format from "../src/internal/spoolFormat.js"
import { eventuallyLive } from "./support/live.js"

const NOW = 1_700_000_000_000
const SECOND = 1_000
const orders = { logGroupName: "orders", logStreamName: "api-1" }

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-spool-acct-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)
const segmentFiles = (dir: string) => Fs.readdirSync(dir).sort().filter((f) => f.endsWith(".seg"))
const segmentMessages = (dir: string) =>
  segmentFiles(dir).flatMap((f) =>
    [...format.read(Fs.readFileSync(Path.join(dir, f))).entries].map((e) => e.event.message)
  )
const events = (n: number, prefix: string, at = NOW): Array<LogEvent.LogEvent> =>
  Array.from({ length: n }, (_, i) => ({ timestamp: at + i, message: `${prefix}-${i}` }))
const probe = (spool: DurableSpool.Spool) => Effect.either(spool.write([]))
const passUntil = <A, E, R>(get: Effect.Effect<A, E, R>, ok: (a: A) => boolean) =>
  eventuallyLive(Effect.zipLeft(get, TestClock.adjust(SECOND)), ok)

describe("DurableSpool accounting", () => {
  it.scoped("an input whose fields cannot be read is refused (InvalidMessage) and counted, as CloudWatchLogs.sink does, not a defect that loses its chunk", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const directory = yield* tempDir
      const unreadable = new Proxy(LogEvents.make(NOW, "unreadable"), {
        get: () => {
          throw new Error("unreadable")
        }
      })
      const exit = yield* Stream.make(LogEvents.make(NOW, "ok"), unreadable, LogEvents.make(NOW + 1, "ok too")).pipe(
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
})
