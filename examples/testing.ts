/**
 * Testing code that logs to CloudWatch: the in-memory CloudWatch Logs of `@cwlogs/testkit` and Effect's
 * `TestClock`. No network, no real time: the linger timer of the logger moves only when the test moves
 * the clock, so the test is exact and instant.
 *
 * In your test file (vitest + @effect/vitest):
 *
 *   import { it } from "@effect/vitest"
 *   it.effect("a signup is shipped once the linger time has passed", () => shippedAfterLinger)
 *
 * (`examples/test/examples.test.ts` does exactly that.) `npx tsx examples/testing.ts` runs the same tests
 * without vitest.
 */
import type { CloudWatchLogsApi } from "@cwlogs/core"
import { CloudWatchLogs } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import * as TestContext from "effect/TestContext"
import { strict as assert } from "node:assert"
import * as Backend from "./support/backend.js"

// ---- the code under test (in your app it lives in src/) --------------------------------------------

export const signup = (email: string) =>
  Effect.gen(function*() {
    yield* Effect.logInfo("user signed up").pipe(Effect.annotateLogs({ email }))
    return { email }
  })

export const logGroupName = "examples-users"
export const logStreamName = "signups"

export const AppLogger = (
  lingerMillis: number
): Layer.Layer<CloudWatchLogs.CloudWatchLogs, never, CloudWatchLogsApi.CloudWatchLogsApi> =>
  CloudWatchLogs.layerLogger({ logGroupName, logStreamName, lingerMillis })

// ---- the test's layer: the app's logger over the in-memory CloudWatch Logs -----------------------------

// `provideMerge` keeps `TestCloudWatchLogs` visible to the test, so it can look at what was stored.
export const TestLogging: Layer.Layer<
  CloudWatchLogs.CloudWatchLogs | TestCloudWatchLogs.TestCloudWatchLogs | CloudWatchLogsApi.CloudWatchLogsApi
> = AppLogger(1000).pipe(Layer.provideMerge(TestCloudWatchLogs.layer()))

const storedSignups = Effect.map(
  TestCloudWatchLogs.events(logGroupName, logStreamName),
  (events) => events.map((e) => JSON.parse(e.message))
)

// ---- the tests -------------------------------------------------------------------------------------

/** Nothing leaves before the linger time; everything is there right after it. */
export const shippedAfterLinger = Effect.gen(function*() {
  yield* signup("ada@example.com")
  yield* signup("grace@example.com")

  yield* TestClock.adjust("999 millis")
  assert.deepEqual(yield* storedSignups, [])

  yield* TestClock.adjust("1 millis")
  yield* CloudWatchLogs.flush // waits for the upload the timer started
  const stored = yield* storedSignups
  assert.deepEqual(stored.map((line) => line.annotations.email), ["ada@example.com", "grace@example.com"])
  assert.equal(stored[0].level, "INFO")
  assert.equal(stored[0].message, "user signed up")
}).pipe(Effect.provide(TestLogging))

/** `flush` ships at once, whatever the linger time (what a Lambda handler does before returning). */
export const flushShipsAtOnce = Effect.gen(function*() {
  yield* signup("ada@example.com")
  const report = yield* CloudWatchLogs.flush
  assert.equal(report.accepted, 1)
  assert.equal((yield* storedSignups).length, 1)
  // the group and the stream did not exist: the first put found out, they were created, the put resent
  assert.equal(yield* TestCloudWatchLogs.callCount("CreateLogGroup"), 1)
  assert.equal(yield* TestCloudWatchLogs.callCount("CreateLogStream"), 1)
}).pipe(Effect.provide(TestLogging))

/** A service outage: the logger retries with backoff (on the TestClock) and loses nothing. */
export const survivesServerErrors = Effect.gen(function*() {
  yield* TestCloudWatchLogs.failNext(3, "unavailable")
  yield* signup("ada@example.com")
  yield* TestClock.adjust("1 second") // the linger time
  yield* TestClock.adjust("1 minute") // the backoff of the retries
  yield* CloudWatchLogs.flush
  assert.equal((yield* storedSignups).length, 1)
}).pipe(Effect.provide(TestLogging))

export const tests = { shippedAfterLinger, flushShipsAtOnce, survivesServerErrors }

/** The tests, each with a fresh TestClock, as `it.effect` would run them. */
export const program = Effect.forEach(
  Object.entries(tests),
  ([name, test]) => Effect.as(Effect.provide(test, TestContext.TestContext), `ok ${name}`)
)

if (Backend.isMain(import.meta.url)) {
  Effect.runPromise(program).then(
    (lines) => console.log(lines.join("\n")),
    (error) => {
      console.error(error)
      process.exitCode = 1
    }
  )
}
