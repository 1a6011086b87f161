/**
 * Credentials from the SDK's default chain, served by a container credentials endpoint (as ECS serves
 * them, `AWS_CONTAINER_CREDENTIALS_FULL_URI`) over real HTTP, and the real SDK shipping to the emulator.
 *
 * The SDK says the same thing ("Could not load credentials from any providers") when no credentials are
 * configured and when their endpoint fails while they are refreshed. The first is fatal at once; the
 * second, after this client's credentials had been loaded, is a transient `NetworkError` (`credentials`):
 * retried, and what was shipped before and after the failure is all stored.
 */
import { CloudWatchLogs, CloudWatchLogsError, LogEvent } from "@cwlogs/core"
import { Emulator } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as NodeCloudWatchLogs from "../src/NodeCloudWatchLogs.js"
import { type Answer, fakeServer } from "./support/servers.js"

/** Credentials that expire `lifeMillis` after they are served (the SDK refreshes them from then on). */
const served = (lifeMillis: number): Answer => ({
  status: 200,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({
    AccessKeyId: "AKIDCONTAINER",
    SecretAccessKey: "container-secret",
    Token: "container-token",
    Expiration: new Date(Date.now() + lifeMillis).toISOString()
  })
})

/** The process's AWS settings replaced by the container endpoint's for the scope, then restored. */
const containerCredentials = (uri: string | undefined) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const saved: Record<string, string | undefined> = {}
      for (const key of Object.keys(process.env)) {
        if (key.startsWith("AWS_")) {
          saved[key] = process.env[key]
          delete process.env[key]
        }
      }
      if (uri !== undefined) process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = uri
      process.env.AWS_EC2_METADATA_DISABLED = "true"
      process.env.AWS_CONFIG_FILE = "/nonexistent/aws-config"
      process.env.AWS_SHARED_CREDENTIALS_FILE = "/nonexistent/aws-credentials"
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true"
      return saved
    }),
    (saved) =>
      Effect.sync(() => {
        for (const key of Object.keys(process.env)) if (key.startsWith("AWS_")) delete process.env[key]
        for (const [key, value] of Object.entries(saved)) if (value !== undefined) process.env[key] = value
      })
  )

const events = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => LogEvent.make(Date.now(), `event ${from + i}`))

describe("NodeCloudWatchLogs: credentials from the default chain", () => {
  it.scopedLive(
    "their endpoint failing while they are refreshed is retried, and nothing is lost",
    () =>
      Effect.gen(function*() {
        // The first request gets credentials that expire within 300 ms; the next FAILING requests fail
        // (500), more than a call of the SDK tries while refreshing them (10, see the last test), so one
        // call fails; then the endpoint serves again.
        const FAILING = 12
        let requests = 0
        const creds = yield* fakeServer(() => {
          requests++
          return requests === 1 || requests > 1 + FAILING ? served(300) : { status: 500, body: "unavailable" }
        })
        yield* containerCredentials(`${creds.endpoint}/credentials`)
        const emulator = yield* Emulator.make()
        // the destination exists: the only retries are the credentials'
        yield* emulator.model.api.createLogGroup({ logGroupName: "g" })
        yield* emulator.model.api.createLogStream({ logGroupName: "g", logStreamName: "s" })
        const report = yield* Stream.fromIterable(events(0, 100)).pipe(
          // the second half after the first credentials have expired
          Stream.concat(Stream.fromEffect(Effect.sleep("600 millis")).pipe(Stream.drain)),
          Stream.concat(Stream.fromIterable(events(100, 100))),
          Stream.run(CloudWatchLogs.sink({ logGroupName: "g", logStreamName: "s" }, { lingerMillis: 0 })),
          Effect.provide(NodeCloudWatchLogs.layer({ endpoint: emulator.url, region: "us-east-1" }))
        )
        expect(requests).toBeGreaterThan(1 + FAILING)
        expect(report.accepted).toBe(200)
        expect(report.retries).toBeGreaterThanOrEqual(1)
        // the failed attempts were never sent: not counted as possibly stored twice
        expect(report.possibleDuplicates).toBe(0)
        const stored = yield* emulator.model.events("g", "s")
        expect(new Set(stored.map((e) => e.message)).size).toBe(200)
        expect(stored).toHaveLength(200)
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "the same failure before any request was answered is missing credentials: fatal at once",
    () =>
      Effect.gen(function*() {
        const creds = yield* fakeServer(() => ({ status: 500, body: "unavailable" }))
        yield* containerCredentials(`${creds.endpoint}/credentials`)
        const emulator = yield* Emulator.make()
        const api = yield* NodeCloudWatchLogs.make({ endpoint: emulator.url, region: "us-east-1" })
        const error = yield* Effect.flip(api.describeLogGroups({}))
        expect(error._tag).toBe("UnrecognizedClientException")
        expect(error.message).toMatch(/^No usable AWS credentials: Could not load credentials from any providers/)
        expect(CloudWatchLogsError.classify(error)).toBe("fatal")
      }),
    { timeout: 60_000 }
  )

  it.scopedLive(
    "after an answer, the same failure is a NetworkError (credentials): transient, never sent",
    () =>
      Effect.gen(function*() {
        let requests = 0
        const creds = yield* fakeServer(() => ++requests === 1 ? served(100) : { status: 500, body: "unavailable" })
        yield* containerCredentials(`${creds.endpoint}/credentials`)
        const emulator = yield* Emulator.make()
        const api = yield* NodeCloudWatchLogs.make({ endpoint: emulator.url, region: "us-east-1" })
        yield* api.describeLogGroups({})
        yield* Effect.sleep("300 millis")
        const error = yield* Effect.flip(api.describeLogGroups({}))
        expect(error._tag === "NetworkError" && error.reason).toBe("credentials")
        // what a call of this SDK tries before it gives up refreshing (the first test fails more than that)
        expect(requests - 1).toBeLessThanOrEqual(10)
        expect(error.message).toMatch(/the AWS credentials could not be refreshed \(they were loaded before/)
        expect(CloudWatchLogsError.classify(error)).toBe("transient")
      }),
    { timeout: 60_000 }
  )
})
