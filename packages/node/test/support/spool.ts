/**
 * What the durable spool's tests share: the service's puts, copies of messages, and the scenario of a
 * put whose answer was lost followed by a fatal give-up.
 */
import type { CloudWatchLogs, CloudWatchLogsApi, LogEvent } from "@cwlogs/core"
import { RetryPolicy } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import * as Effect from "effect/Effect"
import type * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as DurableSpool from "../../src/DurableSpool.js"
import { eventuallyLive } from "./live.js"

/** The PutLogEvents calls the service has seen, by outcome. */
export const puts = Effect.map(
  TestCloudWatchLogs.calls,
  (calls) => calls.filter((c) => c.operation === "PutLogEvents").map((c) => c.outcome)
)

/** How many times each message is stored. */
export const copies = (messages: ReadonlyArray<string>): Map<string, number> => {
  const out = new Map<string, number>()
  for (const m of messages) out.set(m, (out.get(m) ?? 0) + 1)
  return out
}

/**
 * `input` through a spool sink in `directory`, 100 events a put, one put at a time: the first put stored
 * and answered (acknowledged), the second stored and its answer lost (said sent), then given up at once
 * (no retries, `Schedule.stop`: fatal). The sink's outcome (a `ShipError`, for the caller to check).
 */
export const answeredThenLostThenGivenUp = (
  directory: string,
  destination: { readonly logGroupName: string; readonly logStreamName: string },
  input: ReadonlyArray<LogEvent.LogEvent>
): Effect.Effect<
  Either.Either<DurableSpool.SpoolReport, DurableSpool.SpoolError | CloudWatchLogs.ShipError>,
  never,
  CloudWatchLogsApi.CloudWatchLogsApi | TestCloudWatchLogs.TestCloudWatchLogs
> =>
  Effect.gen(function*() {
    yield* TestCloudWatchLogs.setFaults({ latencyMillis: 10_000 })
    const run = yield* Stream.fromIterable(input).pipe(
      Stream.run(DurableSpool.sink(destination, {
        directory,
        maxBatchEvents: 100,
        maxInFlight: 1,
        resumeSchedule: Schedule.stop
      })),
      Effect.provide(RetryPolicy.layer(RetryPolicy.none)),
      Effect.either,
      Effect.fork
    )
    yield* eventuallyLive(Effect.zipLeft(puts, TestClock.adjust("1 second")), (outcomes) => outcomes.length === 1)
    yield* TestCloudWatchLogs.failNext(1, "lostResponse")
    while (run.unsafePoll() === null) {
      yield* TestClock.adjust("10 seconds")
      yield* TestServices.provideLive(Effect.sleep("5 millis"))
    }
    return yield* Fiber.join(run)
  })

/** A temporary directory (named from `prefix`) for the scope, removed with its files at its close. */
export const tempDirNamed = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), prefix))),
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
  )

/**
 * Moves the TestClock `seconds` on, a second at a time, with `settleMillis` of real time after each step
 * for the spool's fibers and files to keep up (a shipment takes some).
 */
export const passSeconds = (seconds: number, settleMillis = 5) =>
  Effect.gen(function*() {
    const settle = TestServices.provideLive(Effect.sleep(settleMillis))
    for (let t = 0; t < seconds; t++) {
      yield* TestClock.adjust("1 second")
      yield* settle
    }
  })

/**
 * On a failure (an assertion), moves the TestClock on in the background: a spool closed in an outage
 * ends at its drain deadline.
 */
export const clockRunsOnFailure = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.tapErrorCause(effect, () => Effect.forkDaemon(passSeconds(600)))
