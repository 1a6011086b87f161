/**
 * Waiting in real time inside tests that run on the TestClock: for what a spool does on its own fibers
 * and in the file system, which the TestClock does not drive.
 */
import * as Effect from "effect/Effect"
import * as TestServices from "effect/TestServices"

/** Reads `get` every 10 ms of real time until `ok` holds (and returns it), for at most 5 s. */
export const eventuallyLive = <A, E, R>(get: Effect.Effect<A, E, R>, ok: (a: A) => boolean): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      const a = yield* get
      if (ok(a)) return a
      yield* TestServices.provideLive(Effect.sleep("10 millis"))
    }
    return yield* Effect.dieMessage("condition not reached in 5 s")
  })
