import { CloudWatchLogsApi, Limits } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import * as TestCloudWatchLogs from "../src/TestCloudWatchLogs.js"

const G = "orders"
const S = "api-1"
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)

const setup = Effect.gen(function*() {
  yield* TestClock.setTime(NOW)
  const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
  yield* api.createLogGroup({ logGroupName: G })
  yield* api.createLogStream({ logGroupName: G, logStreamName: S })
  return api
})

describe("TestCloudWatchLogs layer", () => {
  it.effect("stores a batch and reads it back through the accessors", () =>
    Effect.gen(function*() {
      const api = yield* setup
      const res = yield* api.putLogEvents({
        logGroupName: G,
        logStreamName: S,
        logEvents: [{ timestamp: NOW - 1, message: "a" }, { timestamp: NOW, message: "b" }]
      })
      expect(res.nextSequenceToken).toMatch(/^\d{56}$/)
      const stored = yield* TestCloudWatchLogs.events(G, S)
      expect(stored).toEqual([
        { timestamp: NOW - 1, message: "a", ingestionTime: NOW },
        { timestamp: NOW, message: "b", ingestionTime: NOW }
      ])
      expect(yield* TestCloudWatchLogs.callCount("PutLogEvents")).toBe(1)
      const calls = yield* TestCloudWatchLogs.calls
      expect(calls.map((c) => c.operation)).toEqual(["CreateLogGroup", "CreateLogStream", "PutLogEvents"])
      expect(calls[2]).toMatchObject({ outcome: "Answered", eventCount: 2, logGroupName: G, logStreamName: S })
      expect(yield* TestCloudWatchLogs.streamStats(G, S)).toEqual({ events: 2, bytes: 54, messageBytes: 2, batches: 1 })
      expect(yield* TestCloudWatchLogs.token(G, S)).toBe(res.nextSequenceToken)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("latency is slept on the Clock before answering", () =>
    Effect.gen(function*() {
      const api = yield* setup
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 5_000 })
      const fiber = yield* Effect.fork(
        api.putLogEvents({ logGroupName: G, logStreamName: S, logEvents: [{ timestamp: NOW, message: "x" }] })
      )
      yield* TestClock.adjust(4_999)
      expect(fiber.unsafePoll()).toBeNull()
      yield* TestClock.adjust(1)
      const res = yield* Fiber.join(fiber)
      expect(res.nextSequenceToken).toBeDefined()
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})

describe("what is stored is what was accepted", () => {
  it.effect("a caller reusing its batch array after a put does not change the stored events", () =>
    Effect.gen(function*() {
      const api = yield* setup
      const buffer = [{ timestamp: NOW - 1, message: "a" }, { timestamp: NOW, message: "b" }]
      yield* api.putLogEvents({ logGroupName: G, logStreamName: S, logEvents: buffer })
      // a batcher clears and refills its buffer for the next batch (the service has a copy by now)
      buffer.length = 0
      buffer.push({ timestamp: NOW, message: "next-batch" })
      const stored = yield* Effect.exit(TestCloudWatchLogs.events(G, S))
      expect(stored).toMatchObject({
        _tag: "Success",
        value: [
          { timestamp: NOW - 1, message: "a", ingestionTime: NOW },
          { timestamp: NOW, message: "b", ingestionTime: NOW }
        ]
      })
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("changing an event object after the put does not rewrite history", () =>
    Effect.gen(function*() {
      const api = yield* setup
      const event = { timestamp: NOW, message: "original" }
      yield* api.putLogEvents({ logGroupName: G, logStreamName: S, logEvents: [event] })
      event.message = "rewritten"
      event.timestamp = NOW - 5
      expect(yield* TestCloudWatchLogs.events(G, S)).toEqual([{
        timestamp: NOW,
        message: "original",
        ingestionTime: NOW
      }])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("enforced: new events in a reused batch array, sent with a stale token, are InvalidSequenceToken (not DataAlreadyAccepted)", () =>
    Effect.gen(function*() {
      const api = yield* setup
      const buffer = [{ timestamp: NOW, message: "first" }]
      const first = yield* api.putLogEvents({ logGroupName: G, logStreamName: S, logEvents: buffer })
      const second = yield* api.putLogEvents({
        logGroupName: G,
        logStreamName: S,
        logEvents: buffer,
        sequenceToken: first.nextSequenceToken
      })
      // the shipper reuses its array for the next batch and, by mistake, the token before `second`
      buffer[0] = { timestamp: NOW, message: "third (new data)" }
      const stale = yield* Effect.flip(
        api.putLogEvents({
          logGroupName: G,
          logStreamName: S,
          logEvents: buffer,
          sequenceToken: first.nextSequenceToken
        })
      )
      // the service never saw this content: it is not a replay
      expect(stale).toMatchObject({
        _tag: "InvalidSequenceTokenException",
        expectedSequenceToken: second.nextSequenceToken
      })
      // the same content again is a replay, whatever array it comes in
      const replay = yield* Effect.flip(
        api.putLogEvents({
          logGroupName: G,
          logStreamName: S,
          logEvents: [{ timestamp: NOW, message: "first" }],
          sequenceToken: first.nextSequenceToken
        })
      )
      expect(replay).toMatchObject({
        _tag: "DataAlreadyAcceptedException",
        expectedSequenceToken: second.nextSequenceToken
      })
      expect((yield* TestCloudWatchLogs.events(G, S)).map((e) => e.message)).toEqual(["first", "first"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ sequenceTokens: "enforced" }))))
})

const putOne = (api: CloudWatchLogsApi.CloudWatchLogsApiShape, message: string, sequenceToken?: string) =>
  api.putLogEvents({
    logGroupName: G,
    logStreamName: S,
    logEvents: [{ timestamp: NOW, message }],
    ...(sequenceToken !== undefined ? { sequenceToken } : {})
  })

describe("throttling on the model's time", () => {
  it.effect("per operation: a burst of the quota, then ThrottlingException, refilled after a second", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
      // CreateLogGroup: 10 TPS
      for (let i = 0; i < 10; i++) yield* api.createLogGroup({ logGroupName: `g${i}` })
      const error = yield* Effect.flip(api.createLogGroup({ logGroupName: "g10" }))
      expect(error).toMatchObject({ _tag: "ThrottlingException", message: "Rate exceeded" })
      // another operation has its own bucket
      yield* api.createLogStream({ logGroupName: "g0", logStreamName: "s" })
      yield* TestClock.adjust(99)
      expect((yield* Effect.flip(api.createLogGroup({ logGroupName: "g10" })))._tag).toBe("ThrottlingException")
      yield* TestClock.adjust(1) // 100 ms: one token back
      yield* api.createLogGroup({ logGroupName: "g10" })
      yield* TestClock.adjust(1_000)
      for (let i = 11; i < 21; i++) yield* api.createLogGroup({ logGroupName: `g${i}` })
      expect((yield* Effect.flip(api.createLogGroup({ logGroupName: "g21" })))._tag).toBe("ThrottlingException")
      // DescribeLogStreams: 25 TPS today
      for (let i = 0; i < 25; i++) yield* api.describeLogStreams({ logGroupName: "g0" })
      expect((yield* Effect.flip(api.describeLogStreams({ logGroupName: "g0" })))._tag).toBe("ThrottlingException")
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ throttling: true }))))

  it.effect("legacy per-stream rate: 5 puts per second per stream, other streams unaffected", () =>
    Effect.gen(function*() {
      const api = yield* setup
      yield* api.createLogStream({ logGroupName: G, logStreamName: "other" })
      for (let i = 0; i < 5; i++) yield* putOne(api, `m${i}`)
      expect((yield* Effect.flip(putOne(api, "m5")))._tag).toBe("ThrottlingException")
      yield* api.putLogEvents({
        logGroupName: G,
        logStreamName: "other",
        logEvents: [{ timestamp: NOW, message: "o" }]
      })
      yield* TestClock.adjust(1_000)
      for (let i = 5; i < 10; i++) yield* putOne(api, `m${i}`)
      expect((yield* TestCloudWatchLogs.streamStats(G, S)).events).toBe(10)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ throttling: true, limits: Limits.legacy }))))

  it.effect("off by default", () =>
    Effect.gen(function*() {
      const api = yield* setup
      for (let i = 0; i < 100; i++) yield* api.createLogStream({ logGroupName: G, logStreamName: `s${i}` })
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ limits: Limits.legacy }))))
})

describe("faults", () => {
  const outcomes = (seed: number) =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const t = yield* TestCloudWatchLogs.make({
        seed,
        faults: { unavailable: 0.2, throttle: 0.1, lostResponse: 0.1, reset: 0.1, competingWriter: 0.1 }
      })
      yield* t.api.createLogGroup({ logGroupName: G })
      yield* t.api.createLogStream({ logGroupName: G, logStreamName: S })
      const results: Array<string> = []
      for (let i = 0; i < 200; i++) {
        const exit = yield* Effect.exit(putOne(t.api, `e${i}`))
        results.push(exit._tag === "Success" ? "ok" : exit.cause._tag === "Fail" ? exit.cause.error._tag : "other")
      }
      return { results, stats: yield* t.streamStats(G, S) }
    })

  it.effect("the same seed gives the same sequence, another seed another", () =>
    Effect.gen(function*() {
      const a = yield* outcomes(42)
      const b = yield* outcomes(42)
      const c = yield* outcomes(43)
      expect(a).toEqual(b)
      expect(a.stats.events).toBeGreaterThan(100)
      expect(c.results).not.toEqual(a.results)
      const kinds = new Set(a.results)
      for (const k of ["ok", "ServiceUnavailableException", "ThrottlingException", "NetworkError"]) {
        expect(kinds.has(k)).toBe(true)
      }
    }))

  it.effect("an outage does not shift the seeded sequence: the calls after it meet the faults they would have", () =>
    Effect.gen(function*() {
      const run = (outageFor: number) =>
        Effect.gen(function*() {
          const t = yield* TestCloudWatchLogs.make({ seed: 42, faults: { unavailable: 0.5 } })
          yield* t.api.createLogGroup({ logGroupName: G })
          yield* t.api.createLogStream({ logGroupName: G, logStreamName: S })
          const results: Array<string> = []
          for (let i = 0; i < 12; i++) {
            yield* t.setOutage(i < outageFor)
            const exit = yield* Effect.exit(putOne(t.api, `e${i}`))
            results.push(exit._tag === "Success" ? "ok" : exit.cause._tag === "Fail" ? exit.cause.error._tag : "other")
          }
          return results
        })
      yield* TestClock.setTime(NOW)
      const plain = yield* run(0)
      const afterOutage = yield* run(3)
      expect(afterOutage.slice(0, 3)).toEqual(["NetworkError", "NetworkError", "NetworkError"])
      expect(afterOutage.slice(3)).toEqual(plain.slice(3))
    }))

  it.effect("a forced lostResponse on a call that fails loses its error answer: the client sees a lost answer", () =>
    Effect.gen(function*() {
      const api = yield* setup
      yield* TestCloudWatchLogs.failNext(1, "lostResponse")
      const lost = yield* Effect.flip(
        api.putLogEvents({ logGroupName: G, logStreamName: "missing", logEvents: [{ timestamp: NOW, message: "m" }] })
      )
      expect(lost._tag).toBe("ServiceUnavailableException")
      expect(lost.message).toMatch(/response was lost/)
      // used up: the next call is answered as it is
      const missing = yield* Effect.flip(
        api.putLogEvents({ logGroupName: G, logStreamName: "missing", logEvents: [{ timestamp: NOW, message: "m" }] })
      )
      expect(missing._tag).toBe("ResourceNotFoundException")
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("unavailable, throttle and reset store nothing; lostResponse stores the batch", () =>
    Effect.gen(function*() {
      const api = yield* setup
      yield* TestCloudWatchLogs.failNext(1, "unavailable")
      expect(yield* Effect.flip(putOne(api, "u"))).toMatchObject({
        _tag: "ServiceUnavailableException",
        httpStatus: 500
      })
      yield* TestCloudWatchLogs.failNext(1, "throttle")
      expect(yield* Effect.flip(putOne(api, "t"))).toMatchObject({
        _tag: "ThrottlingException",
        message: "Rate exceeded"
      })
      yield* TestCloudWatchLogs.failNext(1, "reset")
      expect(yield* Effect.flip(putOne(api, "r"))).toMatchObject({ _tag: "NetworkError", reason: "reset" })
      expect((yield* TestCloudWatchLogs.events(G, S)).length).toBe(0)
      yield* TestCloudWatchLogs.failNext(1, "lostResponse")
      const lost = yield* Effect.flip(putOne(api, "lost"))
      expect(lost._tag).toBe("ServiceUnavailableException")
      expect(lost.message).toMatch(/response was lost/)
      expect((yield* TestCloudWatchLogs.events(G, S)).map((e) => e.message)).toEqual(["lost"])
      // the fault was for one call only
      yield* putOne(api, "fine")
      const calls = yield* TestCloudWatchLogs.calls
      expect(calls.filter((c) => c.operation === "PutLogEvents").map((c) => c.outcome)).toEqual([
        "ServiceUnavailableException",
        "ThrottlingException",
        "ConnectionReset",
        "LostResponse",
        "Answered"
      ])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("lostResponse with tokens enforced: the replay is answered by DataAlreadyAccepted", () =>
    Effect.gen(function*() {
      const api = yield* setup
      const t1 = (yield* putOne(api, "first")).nextSequenceToken
      yield* TestCloudWatchLogs.failNext(1, "lostResponse")
      yield* Effect.flip(putOne(api, "second", t1))
      const t2 = yield* TestCloudWatchLogs.token(G, S)
      const replay = yield* Effect.flip(putOne(api, "second", t1))
      expect(replay).toMatchObject({ _tag: "DataAlreadyAcceptedException", expectedSequenceToken: t2 })
      expect((yield* TestCloudWatchLogs.events(G, S)).map((e) => e.message)).toEqual(["first", "second"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ sequenceTokens: "enforced" }))))

  it.effect("a competing writer puts one event before the call and advances the token", () =>
    Effect.gen(function*() {
      const api = yield* setup
      const t1 = (yield* putOne(api, "mine")).nextSequenceToken
      yield* TestCloudWatchLogs.failNext(1, "competingWriter")
      const error = yield* Effect.flip(putOne(api, "mine again", t1))
      const t2 = yield* TestCloudWatchLogs.token(G, S)
      expect(t2).not.toBe(t1)
      expect(error).toMatchObject({ _tag: "InvalidSequenceTokenException", expectedSequenceToken: t2 })
      yield* putOne(api, "mine again", t2)
      const messages = (yield* TestCloudWatchLogs.events(G, S)).map((e) => e.message)
      expect(messages).toEqual(["mine", expect.stringMatching(/^competing-writer /), "mine again"])
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ sequenceTokens: "enforced" }))))

  it.effect("failNext targets one operation and counts down", () =>
    Effect.gen(function*() {
      const api = yield* setup
      yield* TestCloudWatchLogs.failNext(2, "unavailable", "DescribeLogStreams")
      yield* putOne(api, "unaffected")
      expect((yield* Effect.flip(api.describeLogStreams({ logGroupName: G })))._tag).toBe("ServiceUnavailableException")
      expect((yield* Effect.flip(api.describeLogStreams({ logGroupName: G })))._tag).toBe("ServiceUnavailableException")
      expect((yield* api.describeLogStreams({ logGroupName: G })).logStreams.length).toBe(1)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("the outage switch refuses every call until turned off", () =>
    Effect.gen(function*() {
      const api = yield* setup
      yield* TestCloudWatchLogs.setOutage(true)
      expect(yield* Effect.flip(putOne(api, "x"))).toMatchObject({ _tag: "NetworkError", reason: "refused" })
      expect((yield* Effect.flip(api.describeLogGroups({})))._tag).toBe("NetworkError")
      yield* TestCloudWatchLogs.setOutage(false)
      yield* putOne(api, "x")
      expect((yield* TestCloudWatchLogs.streamStats(G, S)).events).toBe(1)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("setFaults changes the probabilities at run time", () =>
    Effect.gen(function*() {
      const api = yield* setup
      yield* TestCloudWatchLogs.setFaults({ unavailable: 1 })
      expect((yield* Effect.flip(putOne(api, "x")))._tag).toBe("ServiceUnavailableException")
      yield* TestCloudWatchLogs.setFaults({})
      yield* putOne(api, "x")
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("latency jitter stays within [latencyMillis, latencyMillis + jitter]", () =>
    Effect.gen(function*() {
      const api = yield* setup
      yield* TestCloudWatchLogs.setFaults({ latencyMillis: 100, latencyJitterMillis: 50 })
      for (let i = 0; i < 20; i++) {
        const fiber = yield* Effect.fork(putOne(api, "x"))
        yield* TestClock.adjust(99)
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust(51)
        yield* Fiber.join(fiber)
      }
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})

describe("invoke, for transports", () => {
  it.effect("tells a lost response and a reset apart from errors", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(NOW)
      const t = yield* TestCloudWatchLogs.make()
      expect(yield* t.invoke("CreateLogGroup", { logGroupName: G })).toEqual({ _tag: "Answered", value: undefined })
      const missing = yield* t.invoke("CreateLogStream", { logGroupName: "nope", logStreamName: S })
      expect(missing._tag === "Failed" && missing.error._tag).toBe("ResourceNotFoundException")
      yield* t.invoke("CreateLogStream", { logGroupName: G, logStreamName: S })
      const request = { logGroupName: G, logStreamName: S, logEvents: [{ timestamp: NOW, message: "m" }] }
      yield* t.failNext(1, "lostResponse")
      const lost = yield* t.invoke("PutLogEvents", request)
      expect(lost._tag).toBe("LostResponse")
      expect(lost._tag === "LostResponse" && lost.value.nextSequenceToken).toBe(yield* t.token(G, S))
      yield* t.failNext(1, "reset")
      expect(yield* t.invoke("PutLogEvents", request)).toEqual({ _tag: "ConnectionReset" })
      yield* t.setOutage(true)
      expect(yield* t.invoke("PutLogEvents", request)).toEqual({ _tag: "ConnectionRefused" })
      expect((yield* t.streamStats(G, S)).events).toBe(1)
    }))
})

describe("limits", () => {
  it.effect("enforces the Limits in context when no limits are given", () =>
    Effect.gen(function*() {
      const api = yield* setup
      const error = yield* Effect.flip(putOne(api, "e".repeat(262_119)))
      expect(error).toMatchObject({ _tag: "InvalidParameterException", rule: "EventTooLarge" })
      yield* putOne(api, "e".repeat(262_118))
    }).pipe(Effect.provide(TestCloudWatchLogs.layer()), Effect.provide(Limits.layer(Limits.legacy))))

  it.effect("sizes lone surrogates as the encoder sends them (U+FFFD, 3 bytes)", () =>
    Effect.gen(function*() {
      const api = yield* setup
      yield* putOne(api, "\ud800")
      expect((yield* TestCloudWatchLogs.streamStats(G, S)).messageBytes).toBe(3)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))
})

describe("reset and discard", () => {
  it.effect("reset empties the service, the calls and the faults", () =>
    Effect.gen(function*() {
      const api = yield* setup
      yield* putOne(api, "x")
      yield* TestCloudWatchLogs.setOutage(true)
      yield* TestCloudWatchLogs.reset
      expect(yield* TestCloudWatchLogs.calls).toEqual([])
      expect(yield* TestCloudWatchLogs.callCount("PutLogEvents")).toBe(0)
      expect((yield* Effect.flip(putOne(api, "x")))._tag).toBe("ResourceNotFoundException")
    }).pipe(Effect.provide(TestCloudWatchLogs.layer())))

  it.effect("discard counts without keeping messages or calls", () =>
    Effect.gen(function*() {
      const api = yield* setup
      for (let i = 0; i < 3; i++) yield* putOne(api, "héllo")
      expect(yield* TestCloudWatchLogs.events(G, S)).toEqual([])
      expect(yield* TestCloudWatchLogs.streamStats(G, S)).toEqual({
        events: 3,
        bytes: 3 * (6 + 26),
        messageBytes: 18,
        batches: 3
      })
      expect(yield* TestCloudWatchLogs.calls).toEqual([])
      expect(yield* TestCloudWatchLogs.callCount("PutLogEvents")).toBe(3)
    }).pipe(Effect.provide(TestCloudWatchLogs.layer({ discard: true }))))
})
