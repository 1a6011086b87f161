/**
 * Every PutLogEvents rule of the service at its limit and one step past it, over HTTP with the real AWS
 * SDK, through the emulator's wire layer and its model.
 *
 * The emulator runs on the runtime it was started from: started under the TestClock, its model reads the
 * time the test set, so "exactly 14 days old" is exact. Nothing here sleeps, so the clients' real I/O
 * never waits on the TestClock.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  PutLogEventsCommand,
  type PutLogEventsCommandOutput
} from "@aws-sdk/client-cloudwatch-logs"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/TestClock"
import * as Emulator from "../src/Emulator.js"

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)
const HOUR = 3_600_000
const DAY = 24 * HOUR
const G = "g"
const S = "s"

type Sent = { readonly ok: PutLogEventsCommandOutput } | { readonly error: unknown }

const ev = (message: string, timestamp = NOW) => ({ timestamp, message })

/** An emulator started at NOW (on the TestClock), a group and a stream in it, and a put to that stream. */
const setup = Effect.gen(function*() {
  yield* TestClock.setTime(NOW)
  const emulator = yield* Emulator.make()
  const client = new CloudWatchLogsClient({
    endpoint: emulator.url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKID", secretAccessKey: "secret" },
    maxAttempts: 1
  })
  yield* Effect.addFinalizer(() => Effect.sync(() => client.destroy()))
  yield* Effect.promise(() => client.send(new CreateLogGroupCommand({ logGroupName: G })))
  yield* Effect.promise(() => client.send(new CreateLogStreamCommand({ logGroupName: G, logStreamName: S })))
  const put = (logEvents: Array<{ timestamp: number; message: string }>): Effect.Effect<Sent> =>
    Effect.promise(() =>
      client.send(new PutLogEventsCommand({ logGroupName: G, logStreamName: S, logEvents })).then(
        (ok): Sent => ({ ok }),
        (error: unknown): Sent => ({ error })
      )
    )
  const stored = Effect.map(emulator.model.events(G, S), (events) => events.map((e) => e.message))
  return { put, stored }
})

const okOf = (sent: Sent): PutLogEventsCommandOutput => {
  if ("error" in sent) throw new Error(`expected success, got ${String(sent.error)}`)
  return sent.ok
}

const errorOf = (sent: Sent): unknown => ("error" in sent ? sent.error : { unexpected: "success" })

describe("the emulator at every PutLogEvents limit, over HTTP", () => {
  it.scoped("10,000 events are stored, 10,001 refused with nothing stored", () =>
    Effect.gen(function*() {
      const { put, stored } = yield* setup
      okOf(yield* put(Array.from({ length: 10_000 }, () => ev("x"))))
      expect(errorOf(yield* put(Array.from({ length: 10_001 }, () => ev("y"))))).toMatchObject({
        name: "InvalidParameterException",
        message: expect.stringContaining("Member must have length less than or equal to 10000")
      })
      const messages = yield* stored
      expect(messages.length).toBe(10_000)
      expect(messages.includes("y")).toBe(false)
    }))

  it.scoped("an event exactly 14 days old is stored; 1 ms older is rejected as too old, the rest stored", () =>
    Effect.gen(function*() {
      const { put, stored } = yield* setup
      expect(okOf(yield* put([ev("edge", NOW - 14 * DAY)])).rejectedLogEventsInfo).toBeUndefined()
      const res = okOf(yield* put([ev("old", NOW - 14 * DAY - 1), ev("edge2", NOW - 14 * DAY)]))
      expect(res.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 1 })
      expect(yield* stored).toEqual(["edge", "edge2"])
    }))

  it.scoped("an event exactly 2 hours ahead is stored; 1 ms further is rejected as too new, the rest stored", () =>
    Effect.gen(function*() {
      const { put, stored } = yield* setup
      expect(okOf(yield* put([ev("edge", NOW + 2 * HOUR)])).rejectedLogEventsInfo).toBeUndefined()
      const res = okOf(yield* put([ev("now", NOW), ev("new", NOW + 2 * HOUR + 1)]))
      expect(res.rejectedLogEventsInfo).toEqual({ tooNewLogEventStartIndex: 1 })
      expect(yield* stored).toEqual(["now", "edge"])
    }))

  it.scoped("a batch spanning exactly 24 hours is stored; 24 hours + 1 ms is refused, nothing stored", () =>
    Effect.gen(function*() {
      const { put, stored } = yield* setup
      okOf(yield* put([ev("first", NOW - DAY), ev("last", NOW)]))
      expect(errorOf(yield* put([ev("first2", NOW - DAY - 1), ev("last2", NOW)]))).toMatchObject({
        name: "InvalidParameterException",
        message: "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
      })
      expect(yield* stored).toEqual(["first", "last"])
    }))

  it.scoped("one event of 1,048,550 bytes (1,048,576 with its 26) is stored; one byte more is refused", () =>
    Effect.gen(function*() {
      const { put, stored } = yield* setup
      okOf(yield* put([ev("e".repeat(1_048_550))]))
      expect(errorOf(yield* put([ev("e".repeat(1_048_551))]))).toMatchObject({
        name: "InvalidParameterException",
        message: "Log event too large: 1048577 bytes exceeds limit of 1048576"
      })
      expect((yield* stored).map((m) => m.length)).toEqual([1_048_550])
    }))

  it.scoped("multi-byte messages are sized in UTF-8 bytes on the wire too: 1,048,550 stored, 1,048,551 refused", () =>
    Effect.gen(function*() {
      const { put, stored } = yield* setup
      // "😀" is 4 bytes, "é" 2, "€" 3: 262,137 × 4 + 2 = 1,048,550; + 3 instead = 1,048,551
      const emoji = "😀".repeat(262_137)
      okOf(yield* put([ev(emoji + "é")]))
      expect(errorOf(yield* put([ev(emoji + "€")]))).toMatchObject({
        name: "InvalidParameterException",
        message: "Log event too large: 1048577 bytes exceeds limit of 1048576"
      })
      expect((yield* stored).length).toBe(1)
    }))
})
