import {
  type CloudWatchLogsApi,
  CloudWatchLogsError,
  Limits,
  Metrics,
  RetryPolicy,
  SequenceTokenStore,
  Uploader,
  UploadRateLimiter
} from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as TestClock from "effect/TestClock"
import type * as Tracer from "effect/Tracer"
import * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"
import { batch, dest, G, inFlight, NOW, S, settle, setup, tokenNowhere, tokenOnlyInMessage } from "./UploaderHelpers.js"

const puts = (calls: ReadonlyArray<TestCloudWatchLogs.Call>) => calls.filter((c) => c.operation === "PutLogEvents")

describe("Uploader: sequence tokens", () => {
  it.effect("auto: the second put probes without a token; the token in the error's field is adopted at once", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ model: { sequenceTokens: "enforced" } })
      const first = yield* uploader.upload(dest(), batch("a", 3))
      expect(first).toEqual({ accepted: 3, rejected: [], retries: 0, possibleDuplicates: 0, bytes: 3 * (3 + 26) })
      const second = yield* uploader.upload(dest(), batch("b", 2, NOW + 10))
      expect(second.retries).toBe(1)
      const third = yield* uploader.upload(dest(), batch("c", 2, NOW + 20))
      expect(third.retries).toBe(0)
      const calls = puts(yield* model.calls)
      expect(calls.map((c) => c.outcome)).toEqual([
        "Answered",
        "InvalidSequenceTokenException", // the probe: proof that tokens are enforced
        "Answered",
        "Answered"
      ])
      expect(calls[0].sequenceToken).toBeUndefined()
      expect(calls[1].sequenceToken).toBeUndefined()
      expect(calls[2].sequenceToken).toBeDefined()
      expect(yield* model.callCount("DescribeLogStreams")).toBe(0)
      expect((yield* model.events(G, S)).map((e) => e.message)).toEqual([
        "a-0",
        "a-1",
        "a-2",
        "b-0",
        "b-1",
        "c-0",
        "c-1"
      ])
    }))

  it.effect("auto: against a service that ignores tokens the probe is an ordinary put (no extra call)", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ model: { sequenceTokens: "ignored" } })
      for (let i = 0; i < 4; i++) yield* uploader.upload(dest(), batch(`b${i}`, 2, NOW + 10 * i))
      const calls = yield* model.calls
      expect(calls.filter((c) => c.operation !== "CreateLogGroup" && c.operation !== "CreateLogStream")).toHaveLength(4)
      expect(puts(calls).every((c) => c.outcome === "Answered")).toBe(true)
      // from the probe on, no token is sent
      expect(puts(calls).slice(1).every((c) => c.sequenceToken === undefined)).toBe(true)
    }))

  it.effect("a competing writer moved the token: the token only in the message is adopted, no DescribeLogStreams", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" },
        wrap: tokenOnlyInMessage
      })
      yield* uploader.upload(dest(), batch("a", 1))
      yield* model.failNext(1, "competingWriter")
      const result = yield* uploader.upload(dest(), batch("b", 1, NOW + 5))
      expect(result.retries).toBe(1)
      expect(puts(yield* model.calls).map((c) => c.outcome)).toEqual([
        "Answered",
        "InvalidSequenceTokenException",
        "Answered"
      ])
      expect(yield* model.callCount("DescribeLogStreams")).toBe(0)
    }))

  it.effect("a token error with no token: exactly one DescribeLogStreams, the stream matched by its exact name", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" },
        wrap: (api) => {
          const stripped = tokenNowhere(api)
          // list the prefix's other streams first, as a look-alike service might
          return {
            ...stripped,
            describeLogStreams: (r) =>
              Effect.map(api.describeLogStreams(r), (res) => ({ ...res, logStreams: [...res.logStreams].reverse() }))
          }
        }
      })
      // streams sharing the prefix, each with a token of its own
      yield* Effect.orDie(model.api.createLogStream({ logGroupName: G, logStreamName: `${S}0` }))
      yield* Effect.orDie(model.api.putLogEvents({ logGroupName: G, logStreamName: `${S}0`, logEvents: batch("x", 1) }))
      yield* uploader.upload(dest(), batch("a", 1))
      yield* model.failNext(1, "competingWriter")
      const result = yield* uploader.upload(dest(), batch("b", 1, NOW + 5))
      expect(result.retries).toBe(1)
      expect(yield* model.callCount("DescribeLogStreams")).toBe(1)
      const calls = puts(yield* model.calls).filter((c) => c.logStreamName === S)
      expect(calls.map((c) => c.outcome)).toEqual(["Answered", "InvalidSequenceTokenException", "Answered"])
    }))

  it.effect("DescribeLogStreams: follows pages until the exact name", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" },
        wrap: (api) => ({
          ...tokenNowhere(api),
          describeLogStreams: (r) =>
            r.nextToken === undefined
              ? Effect.succeed({
                logStreams: [{ logStreamName: `${S}0`, creationTime: 0, uploadSequenceToken: "4900" }],
                nextToken: "page-2"
              })
              : api.describeLogStreams({ ...r, nextToken: undefined })
        })
      })
      yield* uploader.upload(dest(), batch("a", 1))
      yield* model.failNext(1, "competingWriter")
      const result = yield* uploader.upload(dest(), batch("b", 1, NOW + 5))
      expect(result.retries).toBe(1)
      expect((yield* model.events(G, S)).length).toBe(3)
    }))

  it.effect("DescribeLogStreams denied: the upload is not failed by it; the token retries run out", () =>
    Effect.gen(function*() {
      let describes = 0
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" },
        // a token schedule bounded by a count, to count the calls exactly
        policy: RetryPolicy.make({
          token: RetryPolicy.immediateThen(3, RetryPolicy.backoff({ base: "50 millis", cap: "2 seconds", retries: 7 }))
        }),
        wrap: (api) => ({
          ...tokenNowhere(api),
          describeLogStreams: () =>
            Effect.suspend(() => {
              describes++
              return Effect.fail(new CloudWatchLogsError.AccessDeniedException({ message: "not allowed" }))
            })
        })
      })
      yield* uploader.upload(dest(), batch("a", 1))
      yield* model.failNext(1, "competingWriter")
      const events = batch("b", 2, NOW + 5)
      const result = yield* settle(Effect.either(uploader.upload(dest(), events)))
      expect(Either.isLeft(result) && result.left.reason).toBe("RetriesExhausted")
      expect(Either.isLeft(result) && result.left.cause._tag).toBe("InvalidSequenceTokenException")
      expect(Either.isLeft(result) && result.left.events).toEqual(events)
      // 1 + 10 token retries, one DescribeLogStreams per token error (bounded by the schedule)
      expect(yield* model.callCount("PutLogEvents")).toBe(1 + 11)
      expect(describes).toBe(11)
    }))

  it.effect("a token error saying `null` (a stream never written): resend without a token, no DescribeLogStreams", () =>
    Effect.gen(function*() {
      const { model, store, uploader } = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" }
      })
      yield* store.set(dest(), "49590000000000000000000000000000000000000000000000000001")
      const result = yield* uploader.upload(dest(), batch("a", 1))
      expect(result.retries).toBe(1)
      expect(yield* model.callCount("DescribeLogStreams")).toBe(0)
      expect((yield* model.events(G, S)).length).toBe(1)
    }))

  it.effect("the token store adopts nextSequenceToken", () =>
    Effect.gen(function*() {
      const { model, store, uploader } = yield* setup({ model: { sequenceTokens: "enforced" } })
      yield* uploader.upload(dest(), batch("a", 1))
      expect(yield* store.get(dest())).toEqual(Option.fromNullable(yield* model.token(G, S)))
    }))
})

describe("Uploader: lost answers, faults and backoff", () => {
  it.effect("enforced: a lost answer is replayed with the same token and DataAlreadyAccepted is a success", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" }
      })
      yield* uploader.upload(dest(), batch("a", 1))
      yield* model.failNext(1, "lostResponse")
      const result = yield* settle(uploader.upload(dest(), batch("b", 3, NOW + 5)))
      expect(result).toEqual({ accepted: 3, rejected: [], retries: 1, possibleDuplicates: 0, bytes: 3 * 29 })
      const calls = puts(yield* model.calls)
      expect(calls.map((c) => c.outcome)).toEqual(["Answered", "LostResponse", "DataAlreadyAcceptedException"])
      expect(calls[1].sequenceToken).toBe(calls[2].sequenceToken)
      expect((yield* model.events(G, S)).map((e) => e.message)).toEqual(["a-0", "b-0", "b-1", "b-2"])
      // the token of DataAlreadyAccepted is adopted: the next put goes through at once
      const next = yield* uploader.upload(dest(), batch("c", 1, NOW + 10))
      expect(next.retries).toBe(0)
    }))

  it.effect("ignored: a lost answer replayed is stored twice and reported as possible duplicates", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "ignored" },
        uploader: { tokens: "ignored" }
      })
      yield* model.failNext(1, "lostResponse")
      const result = yield* settle(uploader.upload(dest(), batch("a", 2)))
      expect(result.possibleDuplicates).toBe(2)
      expect((yield* model.events(G, S)).length).toBe(4)
    }))

  it.effect("5xx twice, then success, after backoff on the TestClock", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ model: { sequenceTokens: "ignored" } })
      yield* model.failNext(2, "unavailable")
      const result = yield* settle(uploader.upload(dest(), batch("a", 2)), 10)
      expect(result.retries).toBe(2)
      expect(result.possibleDuplicates).toBe(4) // a 5xx may have stored the batch: counted, not hidden
      const calls = puts(yield* model.calls)
      expect(calls.map((c) => c.outcome)).toEqual([
        "ServiceUnavailableException",
        "ServiceUnavailableException",
        "Answered"
      ])
      // exponential backoff from 100 ms with ±20% jitter
      expect(calls[1].time - calls[0].time).toBeGreaterThanOrEqual(80)
      expect(calls[2].time - calls[1].time).toBeGreaterThanOrEqual(160)
      expect((yield* model.events(G, S)).length).toBe(2)
    }))

  it.effect("throttling then success: a longer backoff, and the allowed rate is lowered", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.make({ quotas: Limits.current.quotas, perStreamPutsPerSecond: null })
      const { model, uploader } = yield* setup({ limiter })
      yield* model.failNext(1, "throttle")
      const result = yield* settle(uploader.upload(dest(), batch("a", 1)), 10)
      expect(result.retries).toBe(1)
      const calls = puts(yield* model.calls)
      expect(calls.map((c) => c.outcome)).toEqual(["ThrottlingException", "Answered"])
      expect(calls[1].time - calls[0].time).toBeGreaterThanOrEqual(400) // 500 ms ± 20%
      const rate = yield* limiter.currentRate("putLogEvents")
      expect(rate).toBeLessThan(Limits.current.quotas.putLogEvents)
      expect(rate).toBeGreaterThanOrEqual(Limits.current.quotas.putLogEvents / 2)
    }))

  it.effect("a connection reset is retried", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" }
      })
      yield* model.failNext(1, "reset")
      const result = yield* settle(uploader.upload(dest(), batch("a", 2)))
      expect(result.retries).toBe(1)
      expect(result.possibleDuplicates).toBe(0)
      expect(puts(yield* model.calls).map((c) => c.outcome)).toEqual(["ConnectionReset", "Answered"])
      expect((yield* model.events(G, S)).length).toBe(2)
    }))

  it.effect("retries exhausted: UploadError carrying every event of the batch", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        policy: RetryPolicy.make({
          transient: RetryPolicy.backoff({ base: "100 millis", cap: "1 second", retries: 3 })
        })
      })
      yield* model.setOutage(true)
      const events = batch("a", 5)
      const result = yield* settle(Effect.either(uploader.upload(dest(), events)))
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) {
        expect(result.left).toBeInstanceOf(Uploader.UploadError)
        expect(result.left.reason).toBe("RetriesExhausted")
        expect(result.left.events).toEqual(events)
        expect(result.left.cause._tag).toBe("NetworkError")
      }
      expect(yield* model.callCount("PutLogEvents")).toBe(4) // 1 + 3 retries
    }))

  it.effect("the default transient schedule gives up after 8 retries", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup()
      yield* model.setOutage(true)
      const result = yield* settle(Effect.either(uploader.upload(dest(), batch("a", 1))), 500)
      expect(Either.isLeft(result)).toBe(true)
      expect(yield* model.callCount("PutLogEvents")).toBe(9)
    }))

  it.effect("fatal errors are never retried: exactly one call", () =>
    Effect.gen(function*() {
      const fatal: ReadonlyArray<CloudWatchLogsApi.PutLogEventsError> = [
        new CloudWatchLogsError.InvalidParameterException({ message: "bad", rule: "InvalidParameter" }),
        new CloudWatchLogsError.UnrecognizedClientException({ message: "The security token is invalid" }),
        new CloudWatchLogsError.InvalidSignatureException({ message: "signature" }),
        new CloudWatchLogsError.AccessDeniedException({ message: "denied" })
      ]
      for (const error of fatal) {
        let calls = 0
        const { uploader } = yield* setup({
          wrap: (api) => ({
            ...api,
            putLogEvents: () =>
              Effect.suspend(() => {
                calls++
                return Effect.fail(error)
              })
          })
        })
        const result = yield* Effect.either(uploader.upload(dest(), batch("a", 2)))
        expect(calls).toBe(1)
        expect(Either.isLeft(result) && result.left.reason).toBe("Fatal")
        expect(Either.isLeft(result) && result.left.cause._tag).toBe(error._tag)
        expect(Either.isLeft(result) && result.left.cause.message).toBe(error.message)
        expect(Either.isLeft(result) && result.left.events.length).toBe(2)
      }
    }))

  it.effect("LimitExceeded on CreateLogGroup is not retried (the SDK would retry it as throttling)", () =>
    Effect.gen(function*() {
      let calls = 0
      const { model, uploader } = yield* setup({
        create: false,
        wrap: (api) => ({
          ...api,
          createLogGroup: () =>
            Effect.suspend(() => {
              calls++
              return Effect.fail(
                new CloudWatchLogsError.LimitExceededException({ message: "Resource limit exceeded." })
              )
            })
        })
      })
      const result = yield* Effect.either(uploader.upload(dest(), batch("a", 1)))
      expect(calls).toBe(1)
      expect(Either.isLeft(result) && result.left.reason).toBe("Fatal")
      expect(Either.isLeft(result) && result.left.cause._tag).toBe("LimitExceededException")
      expect(yield* model.callCount("PutLogEvents")).toBe(1)
    }))

  it.effect("an invalid batch (not chronological) fails Fatal with the rule, after one call", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup()
      const result = yield* Effect.either(
        uploader.upload(dest(), [{ timestamp: NOW + 1, message: "b" }, { timestamp: NOW, message: "a" }])
      )
      expect(yield* model.callCount("PutLogEvents")).toBe(1)
      expect(Either.isLeft(result) && result.left.cause._tag === "InvalidParameterException" && result.left.cause.rule)
        .toBe("NotChronological")
    }))

  it.effect("an empty batch makes no call", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup()
      const result = yield* uploader.upload(dest(), [])
      expect(result.accepted).toBe(0)
      expect(yield* model.callCount("PutLogEvents")).toBe(0)
    }))

  it.effect("bytes: measured when not given, taken as given (not measured again) when the caller knows them", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ model: { sequenceTokens: "ignored" } })
      const events = [{ timestamp: NOW, message: "héllo 😀" }, { timestamp: NOW + 1, message: "x" }]
      const measured = yield* uploader.upload(dest(), events)
      expect(measured.bytes).toBe(11 + 26 + 1 + 26)
      const known = 11 + 26 + 1 + 26
      const given = yield* uploader.upload(dest(), events, { bytes: known })
      expect(given).toEqual(measured)
      // the figure given is the one reported: the uploader does not scan the batch again
      const other = yield* uploader.upload(dest(), batch("z", 2, NOW + 2), { bytes: 1_000 })
      expect(other.bytes).toBe(1_000)
      expect(other.accepted).toBe(2)
      const sizes = yield* uploader.upload(dest(), [], { bytes: 5 })
      expect(sizes.bytes).toBe(0)
      expect(yield* model.callCount("PutLogEvents")).toBe(3)
    }))
})

describe("Uploader: rejected events", () => {
  it.effect("reports too old, expired and too new events by index and does not count them as accepted", () =>
    Effect.gen(function*() {
      const { uploader } = yield* setup()
      const DAY = 86_400_000
      const events = [
        { timestamp: NOW - 15 * DAY, message: "old" },
        { timestamp: NOW, message: "ok-1" },
        { timestamp: NOW + 1, message: "ok-2" },
        { timestamp: NOW + 3 * 3_600_000, message: "new" }
      ]
      const result = yield* uploader.upload(dest(), events)
      expect(result.accepted).toBe(2)
      expect(result.rejected).toEqual([{ index: 0, reason: "TooOld" }, { index: 3, reason: "TooNew" }])
    }))
})

describe("Uploader: missing group or stream", () => {
  it.effect("group missing: CreateLogGroup, PutRetentionPolicy, CreateLogStream, then the batch is resent", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ create: false })
      const result = yield* uploader.upload(dest({ retentionInDays: 7 }), batch("a", 2))
      expect(result.accepted).toBe(2)
      expect(result.retries).toBe(1)
      expect((yield* model.calls).map((c) => `${c.operation}:${c.outcome}`)).toEqual([
        "PutLogEvents:ResourceNotFoundException",
        "CreateLogGroup:Answered",
        "PutRetentionPolicy:Answered",
        "CreateLogStream:Answered",
        "PutLogEvents:Answered"
      ])
      const groups = yield* Effect.orDie(model.api.describeLogGroups({ logGroupNamePrefix: G }))
      expect(groups.logGroups[0].retentionInDays).toBe(7)
      expect((yield* model.events(G, S)).length).toBe(2)
    }))

  it.effect("stream missing: CreateLogStream only, then the batch is resent", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ create: false })
      yield* Effect.orDie(model.api.createLogGroup({ logGroupName: G }))
      const result = yield* uploader.upload(dest({ retentionInDays: 7 }), batch("a", 2))
      expect(result.accepted).toBe(2)
      expect((yield* model.calls).map((c) => `${c.operation}:${c.outcome}`)).toEqual([
        "CreateLogGroup:Answered",
        "PutLogEvents:ResourceNotFoundException",
        "CreateLogStream:Answered",
        "PutLogEvents:Answered"
      ])
    }))

  it.effect("a stream created meanwhile by someone else (ResourceAlreadyExists) is fine", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        create: false,
        wrap: (api) => ({
          ...api,
          // another process creates the stream between our put and our create
          createLogStream: (r) => Effect.zipRight(Effect.ignore(api.createLogStream(r)), api.createLogStream(r))
        })
      })
      yield* Effect.orDie(model.api.createLogGroup({ logGroupName: G }))
      const result = yield* uploader.upload(dest(), batch("a", 1))
      expect(result.accepted).toBe(1)
    }))

  it.effect("a new stream not visible at once: resent after a short backoff", () =>
    Effect.gen(function*() {
      let notYet = 2
      const { model, uploader } = yield* setup({
        create: false,
        wrap: (api) => ({
          ...api,
          putLogEvents: (r) =>
            Effect.suspend(() =>
              notYet-- > 0
                ? Effect.fail(
                  new CloudWatchLogsError.ResourceNotFoundException({
                    message: "The specified log stream does not exist.",
                    resource: "logStream"
                  })
                )
                : api.putLogEvents(r)
            )
        })
      })
      yield* Effect.orDie(model.api.createLogGroup({ logGroupName: G }))
      const result = yield* settle(uploader.upload(dest(), batch("a", 1)))
      expect(result.accepted).toBe(1)
      expect(result.retries).toBe(2)
      // the second create finds the stream there already
      expect((yield* model.calls).map((c) => `${c.operation}:${c.outcome}`)).toEqual([
        "CreateLogGroup:Answered",
        "CreateLogStream:Answered",
        "CreateLogStream:ResourceAlreadyExistsException",
        "PutLogEvents:Answered"
      ])
    }))

  it.effect("createGroup: false → DestinationMissing carrying the events, no CreateLogGroup", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ create: false })
      const events = batch("a", 3)
      const result = yield* Effect.either(uploader.upload(dest({ createGroup: false }), events))
      expect(Either.isLeft(result) && result.left.reason).toBe("DestinationMissing")
      expect(Either.isLeft(result) && result.left.events).toEqual(events)
      expect(yield* model.callCount("CreateLogGroup")).toBe(0)
      expect(yield* model.callCount("PutLogEvents")).toBe(1)
    }))

  it.effect("createStream: false → DestinationMissing when the stream is missing, no CreateLogStream", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ create: false })
      yield* Effect.orDie(model.api.createLogGroup({ logGroupName: G }))
      const result = yield* Effect.either(uploader.upload(dest({ createStream: false }), batch("a", 1)))
      expect(Either.isLeft(result) && result.left.reason).toBe("DestinationMissing")
      expect(yield* model.callCount("CreateLogStream")).toBe(0)
    }))

  it.effect("an invalid retention fails Fatal with the rule, before the group is made (not left without one)", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ create: false })
      const result = yield* Effect.either(uploader.upload(dest({ retentionInDays: 8 }), batch("a", 1)))
      expect(Either.isLeft(result) && result.left.reason).toBe("Fatal")
      expect(Either.isLeft(result) && result.left.cause).toMatchObject({
        _tag: "InvalidParameterException",
        rule: "InvalidRetention"
      })
      expect(Either.isLeft(result) && result.left.events).toHaveLength(1)
      expect(yield* model.callCount("CreateLogGroup")).toBe(0)
      // with a retention it accepts, the next upload makes the group with it
      const stored = yield* uploader.upload(dest({ retentionInDays: 7 }), batch("a", 1))
      expect(stored.accepted).toBe(1)
      const groups = yield* Effect.orDie(model.api.describeLogGroups({}))
      expect(groups.logGroups.map((g) => [g.logGroupName, g.retentionInDays])).toEqual([[G, 7]])
    }))
})

describe("Uploader: a new group named by many destinations", () => {
  /** `n` uploads of one event each, to streams s-0..s-(n-1) of the group G, at once. */
  const toStreams = (uploader: Uploader.UploaderShape, n: number, retentionInDays?: number) =>
    Effect.forEach(
      Array.from({ length: n }, (_, i) => i),
      (i) =>
        Effect.either(uploader.upload(
          { logGroupName: G, logStreamName: `s-${i}`, ...(retentionInDays === undefined ? {} : { retentionInDays }) },
          batch(`s${i}`, 1)
        )),
      { concurrency: "unbounded" }
    )

  it.effect("100 streams of a new group: the group is created and its retention set once, not once per stream", () =>
    Effect.gen(function*() {
      const limiter = yield* UploadRateLimiter.make({ quotas: Limits.current.quotas, perStreamPutsPerSecond: null })
      const { model, uploader } = yield* setup({
        create: false,
        limiter,
        model: {
          throttling: true,
          faults: {
            latencyMillis: 20,
            operations: ["PutLogEvents", "CreateLogGroup", "CreateLogStream", "PutRetentionPolicy"]
          }
        }
      })
      const start = yield* Clock.currentTimeMillis
      const results = yield* settle(toStreams(uploader, 100, 7), 10)
      expect(results.every((r) => Either.isRight(r) && r.right.accepted === 1)).toBe(true)
      // each stream waited for one creation (at 10 CreateLogGroup a second, 100 took 19 s)
      expect((yield* Clock.currentTimeMillis) - start).toBeLessThan(3_000)
      expect(yield* model.callCount("CreateLogGroup")).toBe(1)
      expect(yield* model.callCount("PutRetentionPolicy")).toBe(1)
      expect(yield* model.callCount("CreateLogStream")).toBe(100)
      const groups = yield* Effect.orDie(model.api.describeLogGroups({ logGroupNamePrefix: G }))
      expect(groups.logGroups.map((g) => g.retentionInDays)).toEqual([7])
    }))

  it.effect("the creation's failure is every waiting destination's, each with its own events", () =>
    Effect.gen(function*() {
      let creates = 0
      const { model, uploader } = yield* setup({
        create: false,
        wrap: (api) => ({
          ...api,
          createLogGroup: () =>
            Effect.zipRight(
              Effect.zipRight(Effect.sync(() => creates++), Effect.sleep(20)),
              Effect.fail(new CloudWatchLogsError.AccessDeniedException({ message: "not allowed" }))
            )
        })
      })
      const results = yield* settle(toStreams(uploader, 10), 10)
      results.forEach((r, i) => {
        expect(Either.isLeft(r) && r.left.reason).toBe("Fatal")
        expect(Either.isLeft(r) && r.left.cause._tag).toBe("AccessDeniedException")
        expect(Either.isLeft(r) && r.left.events).toEqual(batch(`s${i}`, 1))
        expect(Either.isLeft(r) && r.left.destination.logStreamName).toBe(`s-${i}`)
      })
      expect(yield* model.callCount("PutLogEvents")).toBe(10)
      expect(creates).toBe(1)
    }))

  it.effect("a creation given up (its upload interrupted) leaves the waiting destinations to create the group", () =>
    Effect.gen(function*() {
      let creates = 0
      const { model, uploader } = yield* setup({
        create: false,
        wrap: (api) => ({
          ...api,
          // the first CreateLogGroup never answers
          createLogGroup: (r) => creates++ === 0 ? Effect.never : api.createLogGroup(r)
        })
      })
      const first = yield* Effect.fork(uploader.upload({ logGroupName: G, logStreamName: "s-0" }, batch("a", 1)))
      yield* TestClock.adjust(10)
      const second = yield* Effect.fork(uploader.upload({ logGroupName: G, logStreamName: "s-1" }, batch("b", 1)))
      yield* TestClock.adjust(10)
      expect(creates).toBe(1) // the second waits for the first's creation
      yield* Fiber.interrupt(first)
      const result = yield* settle(Fiber.join(second))
      expect(result.accepted).toBe(1)
      expect(creates).toBe(2)
      expect((yield* model.events(G, "s-1")).length).toBe(1)
    }))

  it.effect("a group deleted after it was created is created again by the next not-found", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ create: false })
      expect((yield* uploader.upload(dest({ retentionInDays: 7 }), batch("a", 1))).accepted).toBe(1)
      yield* Effect.orDie(model.api.deleteLogGroup({ logGroupName: G }))
      expect((yield* uploader.upload(dest({ retentionInDays: 7 }), batch("b", 1, NOW + 1))).accepted).toBe(1)
      expect(yield* model.callCount("CreateLogGroup")).toBe(2)
      expect(yield* model.callCount("PutRetentionPolicy")).toBe(2)
    }))

  it.effect("a CreateLogGroup whose answer was lost (it did make the group) still gets its retention", () =>
    Effect.gen(function*() {
      let creates = 0
      const { model, uploader } = yield* setup({
        create: false,
        wrap: (api) => ({
          ...api,
          // the first CreateLogGroup is carried out, its answer lost (a timeout): the retry is answered
          // ResourceAlreadyExists, for the group this very upload made
          createLogGroup: (r) =>
            Effect.suspend(() =>
              creates++ === 0
                ? Effect.zipRight(
                  Effect.orDie(api.createLogGroup(r)),
                  Effect.fail(new CloudWatchLogsError.NetworkError({ message: "socket timeout", reason: "timeout" }))
                )
                : api.createLogGroup(r)
            )
        })
      })
      const result = yield* settle(uploader.upload(dest({ retentionInDays: 7 }), batch("a", 1)))
      expect(result.accepted).toBe(1)
      expect(creates).toBe(2)
      // before: no PutRetentionPolicy, the group kept its events for ever
      expect(yield* model.callCount("PutRetentionPolicy")).toBe(1)
      const groups = yield* Effect.orDie(model.api.describeLogGroups({ logGroupNamePrefix: G }))
      expect(groups.logGroups.map((g) => g.retentionInDays)).toEqual([7])
    }))

  it.effect("a group another writer made meanwhile (ResourceAlreadyExists) keeps its retention: none is sent", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        create: false,
        wrap: (api) => ({
          ...api,
          // another process creates the group, with a retention of its own, between our put and our create
          createLogGroup: (r) =>
            Effect.zipRight(
              Effect.ignore(Effect.zipRight(
                api.createLogGroup(r),
                api.putRetentionPolicy({ logGroupName: r.logGroupName, retentionInDays: 30 })
              )),
              api.createLogGroup(r)
            )
        })
      })
      expect((yield* uploader.upload(dest({ retentionInDays: 7 }), batch("a", 1))).accepted).toBe(1)
      expect(yield* model.callCount("PutRetentionPolicy")).toBe(1) // the other writer's
      const groups = yield* Effect.orDie(model.api.describeLogGroups({ logGroupNamePrefix: G }))
      expect(groups.logGroups.map((g) => g.retentionInDays)).toEqual([30])
    }))
})

describe("Uploader: the retention of a group it creates", () => {
  /** PutRetentionPolicy answers ResourceNotFound `times` times (a new group not visible yet), then works. */
  const notVisibleFor = (times: number) => {
    const state = { refused: 0 }
    const wrap = (api: CloudWatchLogsApi.CloudWatchLogsApiShape): CloudWatchLogsApi.CloudWatchLogsApiShape => ({
      ...api,
      putRetentionPolicy: (request) =>
        Effect.suspend(() =>
          state.refused++ < times
            ? Effect.fail(
              new CloudWatchLogsError.ResourceNotFoundException({
                message: "The specified log group does not exist.",
                resource: "logGroup"
              })
            )
            : api.putRetentionPolicy(request)
        )
    })
    return { state, wrap }
  }

  it.effect("PutRetentionPolicy answered ResourceNotFound (the group not visible yet) is sent again", () =>
    Effect.gen(function*() {
      const { state, wrap } = notVisibleFor(1)
      const { model, uploader } = yield* setup({ create: false, wrap })
      const result = yield* settle(uploader.upload(dest({ retentionInDays: 7 }), batch("r", 3)))
      expect(result.accepted).toBe(3)
      expect(state.refused).toBe(2)
      const groups = yield* Effect.orDie(model.api.describeLogGroups({ logGroupNamePrefix: G }))
      expect(groups.logGroups.map((g) => g.retentionInDays)).toEqual([7])
    }))

  it.effect("not found past the not-found schedule: the events are still delivered, and a warning says so", () =>
    Effect.gen(function*() {
      const { state, wrap } = notVisibleFor(Number.POSITIVE_INFINITY)
      const { model, uploader } = yield* setup({ create: false, wrap })
      const warnings: Array<string> = []
      const logger = Logger.make(({ logLevel, message }) => {
        if (logLevel._tag === "Warning") warnings.push(String(message))
      })
      const result = yield* settle(uploader.upload(dest({ retentionInDays: 7 }), batch("r", 3))).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      expect(result.accepted).toBe(3)
      expect(state.refused).toBe(5) // once, then the 4 retries of the default not-found schedule
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/retention of 7 days was not set on the log group orders/)
      const groups = yield* Effect.orDie(model.api.describeLogGroups({ logGroupNamePrefix: G }))
      expect(groups.logGroups.map((g) => g.retentionInDays)).toEqual([undefined])
    }))
})

describe("Uploader: token mode detection", () => {
  it.effect("auto: a token error on the first put (a stream used before a restart) proves enforcement: no probe", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ model: { sequenceTokens: "enforced" } })
      // another process wrote the stream before we started
      yield* Effect.orDie(model.api.putLogEvents({ logGroupName: G, logStreamName: S, logEvents: batch("x", 1) }))
      const first = yield* uploader.upload(dest(), batch("a", 1, NOW + 1))
      expect(first.retries).toBe(1)
      for (let i = 0; i < 3; i++) {
        expect((yield* uploader.upload(dest(), batch(`b${i}`, 1, NOW + 2 + i))).retries).toBe(0)
      }
      expect(puts(yield* model.calls).map((c) => c.outcome)).toEqual([
        "Answered",
        "InvalidSequenceTokenException",
        "Answered",
        "Answered",
        "Answered",
        "Answered"
      ])
    }))

  it.effect("auto: a stream the uploader creates is probed only after its first put stored events", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ model: { sequenceTokens: "enforced" }, create: false })
      yield* uploader.upload(dest(), batch("a", 1))
      yield* uploader.upload(dest(), batch("b", 1, NOW + 1))
      expect(puts(yield* model.calls).map((c) => c.outcome)).toEqual([
        "ResourceNotFoundException",
        "Answered",
        "InvalidSequenceTokenException",
        "Answered"
      ])
    }))

  it.effect("forced ignored against a service that enforces tokens: still delivers, with the adopted token", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "ignored" }
      })
      for (let i = 0; i < 3; i++) yield* uploader.upload(dest(), batch(`b${i}`, 1, NOW + i))
      expect((yield* model.events(G, S)).length).toBe(3)
    }))

  it.effect("per-destination mode by function", () =>
    Effect.gen(function*() {
      const flight = inFlight()
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "ignored", faults: { latencyMillis: 50 } },
        uploader: { tokens: (d) => (d.logStreamName === S ? "enforced" : "ignored") },
        wrap: flight.wrap
      })
      yield* Effect.orDie(model.api.createLogStream({ logGroupName: G, logStreamName: "other" }))
      yield* settle(
        Effect.forEach([1, 2, 3], (i) => uploader.upload(dest(), batch(`a${i}`, 1, NOW + i)), {
          concurrency: "unbounded"
        }),
        10
      )
      expect(flight.max()).toBe(1)
      yield* settle(
        Effect.forEach(
          [1, 2, 3],
          (i) => uploader.upload({ logGroupName: G, logStreamName: "other" }, batch(`b${i}`, 1, NOW + i)),
          { concurrency: "unbounded" }
        ),
        10
      )
      expect(flight.max()).toBe(3)
    }))
})

/** Wraps the API so that each put records the span it runs in (the upload's). */
const recordingSpans = (spans: Array<Tracer.Span>) => (api: CloudWatchLogsApi.CloudWatchLogsApiShape) => ({
  ...api,
  putLogEvents: (r: CloudWatchLogsApi.PutLogEventsRequest) =>
    Effect.zipRight(
      Effect.tap(Effect.orDie(Effect.currentSpan), (span) => Effect.sync(() => spans.push(span))),
      api.putLogEvents(r)
    )
})

describe("Uploader: metrics and span", () => {
  it.effect("updates the destination's metrics", () =>
    Effect.gen(function*() {
      const stream = "metrics-1"
      const d = { logGroupName: G, logStreamName: stream }
      const { model, uploader } = yield* setup()
      yield* Effect.orDie(model.api.createLogStream({ logGroupName: G, logStreamName: stream }))
      yield* model.failNext(1, "unavailable")
      const events = [{ timestamp: NOW - 15 * 86_400_000, message: "old" }, ...batch("a", 2)]
      yield* settle(uploader.upload(d, events))
      // the convention: the destination's tags first, then `reason` or `class`
      const count = (metric: Metric.Metric.Counter<number>, tag?: readonly [string, string]) =>
        Effect.map(
          Metric.value(
            tag === undefined
              ? Metrics.forDestination(metric, d)
              : Metrics.forDestination(metric, d).pipe(Metric.tagged(tag[0], tag[1]))
          ),
          (s) => s.count
        )
      const histogram = (metric: Metric.Metric.Histogram<number>) => Metric.value(Metrics.forDestination(metric, d))
      expect(yield* count(Metrics.uploads)).toBe(1)
      expect(yield* count(Metrics.eventsAccepted)).toBe(2)
      expect(yield* count(Metrics.eventsRejected, ["reason", "TooOld"])).toBe(1)
      expect(yield* count(Metrics.retries, ["class", "transient"])).toBe(1)
      expect((yield* histogram(Metrics.batchBytes)).sum).toBe(3 + 26 + 2 * (3 + 26))
      expect((yield* histogram(Metrics.uploadLatency)).count).toBe(1)
      yield* model.setOutage(true)
      yield* settle(Effect.either(uploader.upload(d, batch("b", 4))), 1000)
      expect(yield* count(Metrics.eventsRejected, ["reason", "Failed"])).toBe(4)
    }))

  it.effect("one span cwlogs.upload per upload, with the destination and the batch as attributes", () =>
    Effect.gen(function*() {
      const seen: Array<Tracer.Span> = []
      const { uploader } = yield* setup({ wrap: recordingSpans(seen) })
      yield* uploader.upload(dest(), batch("a", 2))
      expect(seen).toHaveLength(1)
      expect(seen[0].name).toBe("cwlogs.upload")
      expect(seen[0].attributes.get("cwlogs.log_group")).toBe(G)
      expect(seen[0].attributes.get("cwlogs.log_stream")).toBe(S)
      expect(seen[0].attributes.get("cwlogs.events")).toBe(2)
    }))

  it.effect("a failed upload's span ends with its error and tells its retries, as a successful one's does", () =>
    Effect.gen(function*() {
      const seen: Array<Tracer.Span> = []
      const { model, uploader } = yield* setup({ wrap: recordingSpans(seen) })
      yield* model.failNext(2, "unavailable")
      yield* settle(uploader.upload(dest(), batch("a", 2)), 1000)
      yield* model.setOutage(true)
      const failed = yield* settle(Effect.either(uploader.upload(dest(), batch("b", 3))), 1000)
      expect(Either.isLeft(failed)).toBe(true)
      // the span of each upload, whatever its puts
      const spans = [...new Set(seen)]
      expect(spans).toHaveLength(2)
      const [ok, bad] = spans
      expect(ok.attributes.get("cwlogs.retries")).toBe(2)
      expect(ok.attributes.get("cwlogs.accepted")).toBe(2)
      expect(ok.status._tag === "Ended" && Exit.isSuccess(ok.status.exit)).toBe(true)
      // the default transient policy: 8 retries, then the batch is handed back
      expect(bad.attributes.get("cwlogs.retries")).toBe(8)
      expect(bad.attributes.get("cwlogs.accepted")).toBe(0)
      expect(bad.attributes.get("cwlogs.rejected")).toBe(3)
      expect(bad.attributes.get("cwlogs.possibly_stored")).toBe(0)
      expect(bad.status._tag === "Ended" && Exit.isFailure(bad.status.exit)).toBe(true)
    }))
})

describe("Uploader: layers", () => {
  it.effect("layer and layerConfig build over their services", () =>
    Effect.gen(function*() {
      const services = Layer.mergeAll(
        TestCloudWatchLogs.layer({ sequenceTokens: "ignored" }),
        SequenceTokenStore.layerMemory,
        UploadRateLimiter.layer(),
        RetryPolicy.layerDefault
      )
      yield* TestClock.setTime(NOW)
      const viaLayer = yield* Effect.gen(function*() {
        const uploader = yield* Uploader.Uploader
        return yield* uploader.upload(dest({ retentionInDays: 1 }), batch("a", 1))
      }).pipe(Effect.provide(Uploader.layer.pipe(Layer.provideMerge(services))))
      expect(viaLayer.accepted).toBe(1)
      const viaConfig = yield* Effect.gen(function*() {
        const uploader = yield* Uploader.Uploader
        return yield* uploader.upload(dest(), batch("a", 1))
      }).pipe(
        Effect.provide(
          Uploader.layerConfig({ tokens: Config.literal("auto", "enforced", "ignored")("TOKENS") }).pipe(
            Layer.provideMerge(services)
          )
        ),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["TOKENS", "ignored"]])))
      )
      expect(viaConfig.accepted).toBe(1)
    }))
})

describe("Uploader: DataAlreadyAccepted is a success only for a replay of ours", () => {
  it.effect("auto: the probe repeating the first batch exactly is not taken for a replay (no event lost)", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ model: { sequenceTokens: "enforced" } })
      const same = batch("same", 3)
      yield* uploader.upload(dest(), same)
      const second = yield* uploader.upload(dest(), same)
      expect(second.accepted).toBe(3)
      expect(puts(yield* model.calls).map((c) => c.outcome)).toEqual([
        "Answered",
        "DataAlreadyAcceptedException",
        "Answered"
      ])
      // the caller uploaded the events twice: they are stored twice
      expect((yield* model.events(G, S)).length).toBe(6)
    }))

  it.effect("enforced: an identical batch uploaded again under a stale token is sent, not dropped", () =>
    Effect.gen(function*() {
      const { model, store, uploader } = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" }
      })
      const same = batch("same", 2)
      yield* uploader.upload(dest(), same)
      // the store lost the last token (a stale cache after a restart): the next put carries no token
      yield* store.invalidate(dest())
      const again = yield* uploader.upload(dest(), same)
      expect(again.accepted).toBe(2)
      expect((yield* model.events(G, S)).length).toBe(4)
    }))
})

describe("Uploader: a batch that fails after lost answers", () => {
  it.effect("says how many copies those puts may have stored: its events may be stored though handed back", () =>
    Effect.gen(function*() {
      // tokens ignored, every answer lost: each attempt stores the batch, none is known to
      const { model, uploader } = yield* setup({ model: { faults: { lostResponse: 1 } } })
      const result = yield* settle(Effect.either(uploader.upload(dest(), batch("a", 2))))
      if (Either.isRight(result)) return yield* Effect.dieMessage("expected the upload to fail")
      const stored = (yield* model.events(G, S)).length / 2
      expect(stored).toBeGreaterThan(1)
      expect(result.left.possiblyStored).toBe(stored)
    }))
})

describe("Uploader: retry budgets of the service's failures hold for the whole upload", () => {
  it.effect("a throttle between server faults does not start the server faults' count again", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup()
      // 5 + 3 server faults with a throttle between: 8 in all (8 allowed)
      yield* model.failNext(5, "unavailable")
      yield* model.failNext(1, "throttle")
      yield* model.failNext(3, "unavailable")
      const result = yield* settle(Effect.either(uploader.upload(dest(), batch("a", 1))))
      expect(Either.isRight(result) && result.right.accepted).toBe(1)
      expect(yield* model.callCount("PutLogEvents")).toBe(10)
      // 5 + 4 are one too many, the throttle between them notwithstanding (it restarted the count before)
      yield* model.failNext(5, "unavailable")
      yield* model.failNext(1, "throttle")
      yield* model.failNext(4, "unavailable")
      const exhausted = yield* settle(Effect.either(uploader.upload(dest(), batch("b", 1, NOW + 1))))
      expect(Either.isLeft(exhausted) && exhausted.left.reason).toBe("RetriesExhausted")
      expect(Either.isLeft(exhausted) && exhausted.left.cause._tag).toBe("ServiceUnavailableException")
    }))

  it.effect("not-found answers between server faults do not start the not-found count again; a 5th is too many", () =>
    Effect.gen(function*() {
      // the puts fail in this order (the stream "missing" although it exists: CreateLogStream finds it)
      const failures: Array<"notFound" | "unavailable"> = []
      const { uploader } = yield* setup({
        wrap: (api) => ({
          ...api,
          putLogEvents: (request) =>
            Effect.suspend(() => {
              const next = failures.shift()
              return next === undefined
                ? api.putLogEvents(request)
                : Effect.fail(
                  next === "notFound"
                    ? new CloudWatchLogsError.ResourceNotFoundException({
                      message: "The specified log stream does not exist.",
                      resource: "logStream"
                    })
                    : new CloudWatchLogsError.ServiceUnavailableException({ message: "try again" })
                )
            })
        })
      })
      // 4 not-found answers, never two in a row (4 retries allowed in all)
      for (let i = 0; i < 4; i++) failures.push("notFound", "unavailable")
      const result = yield* settle(Effect.either(uploader.upload(dest(), batch("a", 1))))
      expect(Either.isRight(result) && result.right.accepted).toBe(1)
      expect(Either.isRight(result) && result.right.retries).toBe(8)
      // a 5th, server faults between them or not (they restarted the count before)
      for (let i = 0; i < 4; i++) failures.push("notFound", "unavailable")
      failures.push("notFound")
      const exhausted = yield* settle(Effect.either(uploader.upload(dest(), batch("b", 1, NOW + 1))))
      expect(Either.isLeft(exhausted) && exhausted.left.reason).toBe("RetriesExhausted")
      expect(Either.isLeft(exhausted) && exhausted.left.cause._tag).toBe("ResourceNotFoundException")
    }))
})
