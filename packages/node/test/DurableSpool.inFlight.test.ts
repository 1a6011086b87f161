/**
 * The durable spool's uploads in flight, counted at the port: two segments are shipped at once, each
 * through a sink of its own with `maxInFlight` upload slots, and the user's `maxInFlight` bounds the
 * puts of both together (it used to bound each sink's: twice as many were in flight).
 */
import { CloudWatchLogsApi } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as TestServices from "effect/TestServices"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as DurableSpool from "../src/DurableSpool.js"
import { eventuallyLive } from "./support/live.js"

const NOW = 1_700_000_000_000

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-spool-inflight-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/** PutLogEvents calls in progress at the port, now and at most. */
interface Gauge {
  now: number
  max: number
}

/** The in-memory service, with its PutLogEvents counted while they are in progress. */
const countingLayer = (gauge: Gauge) =>
  Layer.effect(
    CloudWatchLogsApi.CloudWatchLogsApi,
    Effect.map(TestCloudWatchLogs.TestCloudWatchLogs, (t): CloudWatchLogsApi.CloudWatchLogsApiShape => ({
      ...t.api,
      putLogEvents: (request) =>
        Effect.acquireUseRelease(
          Effect.sync(() => {
            gauge.now++
            gauge.max = Math.max(gauge.max, gauge.now)
          }),
          () => t.api.putLogEvents(request),
          () =>
            Effect.sync(() => {
              gauge.now--
            })
        )
    }))
  ).pipe(Layer.provideMerge(TestCloudWatchLogs.layer({ faults: { latencyMillis: 10_000 } })))

/** Waits, in real time, for what the spool does on its own fibers. */
const eventually = (ok: () => boolean) => eventuallyLive(Effect.void, ok)

/**
 * Writes `segments` segments of 100 events (20 bytes each: a write of 100 fills a segment of 2,000 bytes),
 * put 10 at a time, to `destinations` in turn, and ships them while every put takes 10 s on the TestClock
 * (nothing ends until the clock moves). Answers the report.
 */
const shipSlowly = (
  gauge: Gauge,
  options: { readonly maxInFlight: number | undefined; readonly destinations: number; readonly segments: number }
) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(NOW)
    const directory = yield* tempDir
    const spool = yield* DurableSpool.make({
      directory,
      segmentBytes: 2_000,
      maxBatchEvents: 10,
      lingerMillis: 0,
      ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight })
    })
    const destinations = Array.from({ length: options.destinations }, (_, i) => ({
      logGroupName: "orders",
      logStreamName: `api-${i}`
    }))
    const input = Array.from({ length: options.segments * 100 }, (_, i) => ({
      destination: destinations[i % destinations.length],
      event: { timestamp: NOW + i, message: `e-${String(i).padStart(4, "0")}` }
    }))
    // a segment per write: sealed by the write that fills it
    for (let i = 0; i < input.length; i += 100) yield* spool.write(input.slice(i, i + 100))
    const finishing = yield* Effect.fork(spool.finish)
    // each destination's first put (the token generation's probe) goes alone; once answered, both
    // shippers' sinks have batches ready
    yield* eventually(() => gauge.now >= 1)
    while (finishing.unsafePoll() === null) {
      yield* TestClock.adjust("10 seconds")
      // every batch ready has had its chance to go out (a slot free or not) before the clock moves
      yield* TestServices.provideLive(Effect.sleep("20 millis"))
    }
    const report = yield* Fiber.join(finishing)
    expect(report.accepted).toBe(input.length)
    return report
  })

describe("DurableSpool, uploads in flight", () => {
  it.scoped("maxInFlight bounds the spool's puts in flight, both segments being shipped together, and is reached", () => {
    const gauge: Gauge = { now: 0, max: 0 }
    // before: each segment's sink had 2 slots of its own, and 4 puts were in flight
    return Effect.zipRight(
      shipSlowly(gauge, { maxInFlight: 2, destinations: 1, segments: 6 }),
      Effect.sync(() => expect(gauge.max).toBe(2))
    ).pipe(Effect.provide(countingLayer(gauge)))
  })

  it.scoped("the default (4) bounds them too, over several destinations (each with 4 parallel slots)", () => {
    const gauge: Gauge = { now: 0, max: 0 }
    // before: 8, each sink's 4 slots spread over the two destinations
    return Effect.zipRight(
      shipSlowly(gauge, { maxInFlight: undefined, destinations: 2, segments: 8 }),
      Effect.sync(() => expect(gauge.max).toBe(4))
    ).pipe(Effect.provide(countingLayer(gauge)))
  })

  it.scoped("maxInFlight: 1 ships every segment, one put at a time", () => {
    const gauge: Gauge = { now: 0, max: 0 }
    return Effect.zipRight(
      shipSlowly(gauge, { maxInFlight: 1, destinations: 1, segments: 4 }),
      Effect.sync(() => expect(gauge.max).toBe(1))
    ).pipe(Effect.provide(countingLayer(gauge)))
  })
})
