/**
 * Helpers shared by the pipeline tests.
 */
import type { CloudWatchLogsError } from "@cwlogs/core"
import { CloudWatchLogsApi, Destination } from "@cwlogs/core"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"

/** Lets forked fibers run until they wait on the clock or on each other. */
export const settle = Effect.gen(function*() {
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
})

/** Runs `effect` while the TestClock moves on 100 ms at a time (lingers, retries and rate limits wait on it). */
export const onClock = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < 10_000 && fiber.unsafePoll() === null; i++) {
      yield* settle
      yield* TestClock.adjust(100)
    }
    return yield* Fiber.join(fiber)
  })

/**
 * Interrupts the sink running on `fiber` (the TestClock moving on a second at a time, for at most a
 * minute, while its drain ends) and answers how many events its warnings said were not delivered.
 */
export const interruptSink = <A, E>(fiber: Fiber.RuntimeFiber<A, E>, warnings: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    yield* settle
    const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
    for (let i = 0; i < 60 && interrupting.unsafePoll() === null; i++) {
      yield* TestClock.adjust(1000)
      yield* settle
    }
    if (interrupting.unsafePoll() === null) return yield* Effect.dieMessage("the sink did not end within a minute")
    const said = warnings.map((w) => /(\d+) events not delivered/.exec(w)).find((m) => m !== null)
    return said === undefined ? 0 : Number(said[1])
  })

/** A group `short` whose retention is one day, and its stream `s`: events older than a day are `Expired`. */
export const shortRetention: Effect.Effect<
  Destination.Destination,
  CloudWatchLogsError.CloudWatchLogsError,
  CloudWatchLogsApi.CloudWatchLogsApi
> = Effect.gen(function*() {
  const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
  yield* api.createLogGroup({ logGroupName: "short" })
  yield* api.putRetentionPolicy({ logGroupName: "short", retentionInDays: 1 })
  return Destination.make("short", "s")
})
