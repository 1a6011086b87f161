import { type CloudWatchLogsApi, CloudWatchLogsError, Limits, UploadRateLimiter } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import type * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"
import { batch, dest, G, NOW, S, settle, setup } from "./UploaderHelpers.js"

const puts = (calls: ReadonlyArray<TestCloudWatchLogs.Call>) =>
  calls.filter((c) => c.operation === "PutLogEvents").map((c) => c.outcome)

const messages = (events: ReadonlyArray<{ readonly message: string }>) => events.map((e) => e.message)

/** An enforcing service, a first batch stored (so the stream has a token), then `faults` for the next puts. */
const enforced = (wrap?: (api: CloudWatchLogsApi.CloudWatchLogsApiShape) => CloudWatchLogsApi.CloudWatchLogsApiShape) =>
  Effect.gen(function*() {
    const env = yield* setup({
      model: { sequenceTokens: "enforced" },
      uploader: { tokens: "enforced" },
      wrap
    })
    yield* env.uploader.upload(dest(), batch("a", 1))
    return env
  })

/** The next calls fail in this order: `[kind]` a put, `[kind, operation]` a call of that operation. */
const inTurn = (
  model: TestCloudWatchLogs.TestCloudWatchLogsShape,
  ...faults: ReadonlyArray<readonly [TestCloudWatchLogs.FaultKind, TestCloudWatchLogs.OperationName?]>
) => Effect.forEach(faults, ([kind, operation]) => model.failNext(1, kind, operation), { discard: true })

/** A put stored with its answer lost, another writer passing it, and the read-back of the stream failing. */
const lostPassedUnread = [["lostResponse"], ["competingWriter"], ["unavailable", "GetLogEvents"]] as const

describe("Uploader: a lost answer, then another writer, on an enforced stream", () => {
  it.effect("the lost put was stored: found by GetLogEvents, a success with no resend and no copy", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* enforced()
      yield* model.failNext(1, "lostResponse")
      yield* model.failNext(1, "competingWriter")
      const result = yield* settle(uploader.upload(dest(), batch("b", 3, NOW + 5)))
      expect(result).toEqual({ accepted: 3, rejected: [], retries: 1, possibleDuplicates: 0, bytes: 3 * 29 })
      const calls = yield* model.calls
      expect(puts(calls)).toEqual(["Answered", "LostResponse", "InvalidSequenceTokenException"])
      const stored = messages(yield* model.events(G, S))
      expect(stored.filter((m) => m.startsWith("b-"))).toEqual(["b-0", "b-1", "b-2"])
      expect(stored.filter((m) => m.startsWith("competing-writer"))).toHaveLength(1)
      // read once, no sooner than a second after the lost answer, over the batch's time range from the head
      const reads = calls.filter((c) => c.operation === "GetLogEvents")
      expect(reads).toHaveLength(1)
      const lost = calls.find((c) => c.outcome === "LostResponse")
      expect(reads[0].time - (lost?.time ?? Infinity)).toBeGreaterThanOrEqual(1_000)
      // the expected token was adopted: the next put goes through at once
      const next = yield* uploader.upload(dest(), batch("c", 1, NOW + 10))
      expect(next.retries).toBe(0)
    }))

  it.effect("the request reads the batch's range from the head, through the rate limiter", () =>
    Effect.gen(function*() {
      const requests: Array<CloudWatchLogsApi.GetLogEventsRequest> = []
      const operations: Array<string> = []
      const { model, uploader } = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" },
        limiter: {
          ...UploadRateLimiter.unlimited,
          withPermit: (d, operation) => {
            operations.push(operation)
            return UploadRateLimiter.unlimited.withPermit(d, operation)
          }
        },
        wrap: (api) => ({
          ...api,
          getLogEvents: (r) => Effect.zipRight(Effect.sync(() => requests.push(r)), api.getLogEvents(r))
        })
      })
      yield* uploader.upload(dest(), batch("a", 1))
      yield* model.failNext(1, "lostResponse")
      yield* model.failNext(1, "competingWriter")
      yield* settle(uploader.upload(dest(), batch("b", 3, NOW + 5)))
      expect(requests).toEqual([{
        logGroupName: G,
        logStreamName: S,
        startTime: NOW + 5,
        endTime: NOW + 8,
        startFromHead: true
      }])
      expect(operations.filter((o) => o === "getLogEvents")).toHaveLength(1)
      expect(Limits.current.quotas.getLogEvents).toBe(10)
      expect(Limits.legacy.quotas.getLogEvents).toBe(10)
    }))

  it.effect("the lost put was not stored (a 5xx): resent once under the new token, no copy counted", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* enforced()
      yield* model.failNext(1, "unavailable")
      yield* model.failNext(1, "competingWriter")
      const result = yield* settle(uploader.upload(dest(), batch("b", 3, NOW + 5)))
      expect(result.accepted).toBe(3)
      expect(result.possibleDuplicates).toBe(0)
      expect(puts(yield* model.calls)).toEqual([
        "Answered",
        "ServiceUnavailableException",
        "InvalidSequenceTokenException",
        "Answered"
      ])
      expect(messages(yield* model.events(G, S)).filter((m) => m.startsWith("b-"))).toEqual(["b-0", "b-1", "b-2"])
      expect(yield* model.callCount("GetLogEvents")).toBeGreaterThan(0)
    }))

  it.effect("the lost put stored only the events the service took (one too old): that is the result", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* enforced()
      const DAY = 86_400_000
      const events = [
        { timestamp: NOW - 14 * DAY - 3_600_000, message: "old" },
        { timestamp: NOW - 14 * DAY + 3_600_000, message: "kept-1" },
        { timestamp: NOW - 14 * DAY + 3_600_001, message: "kept-2" }
      ]
      yield* model.failNext(1, "lostResponse")
      yield* model.failNext(1, "competingWriter")
      const result = yield* settle(uploader.upload(dest(), events))
      expect(result.accepted).toBe(2)
      expect(result.rejected).toEqual([{ index: 0, reason: "TooOld" }])
      expect(result.possibleDuplicates).toBe(0)
      expect(puts(yield* model.calls)).toEqual(["Answered", "LostResponse", "InvalidSequenceTokenException"])
      expect(messages(yield* model.events(G, S)).filter((m) => m.startsWith("kept"))).toEqual(["kept-1", "kept-2"])
    }))

  it.effect("the same events uploaded before (10 minutes earlier) are not taken for the lost put", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* enforced()
      const same = batch("same", 2, NOW + 5)
      yield* uploader.upload(dest(), same)
      yield* TestClock.adjust("10 minutes")
      yield* model.failNext(1, "unavailable")
      yield* model.failNext(1, "competingWriter")
      const again = yield* settle(uploader.upload(dest(), same))
      expect(again.accepted).toBe(2)
      expect(again.possibleDuplicates).toBe(0)
      // the caller uploaded them twice: stored twice
      expect(messages(yield* model.events(G, S)).filter((m) => m.startsWith("same"))).toHaveLength(4)
      expect(yield* model.callCount("GetLogEvents")).toBeGreaterThan(0)
    }))

  it.effect("the check fails (GetLogEvents 5xx): resent, and the copy is counted", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* enforced()
      yield* inTurn(model, ...lostPassedUnread)
      const result = yield* settle(uploader.upload(dest(), batch("b", 3, NOW + 5)))
      expect(result.accepted).toBe(3)
      expect(result.possibleDuplicates).toBe(3)
      expect(messages(yield* model.events(G, S)).filter((m) => m.startsWith("b-"))).toHaveLength(6)
      expect(yield* model.callCount("GetLogEvents")).toBe(1)
    }))

  it.effect("a failed check, a resend whose answer is lost too, then a check that works: the copy is counted", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* enforced()
      yield* inTurn(model, ...lostPassedUnread, ["lostResponse"], ["competingWriter"])
      const result = yield* settle(uploader.upload(dest(), batch("b", 3, NOW + 5)))
      expect(puts(yield* model.calls)).toEqual([
        "Answered",
        "LostResponse",
        "InvalidSequenceTokenException",
        "LostResponse",
        "InvalidSequenceTokenException"
      ])
      // two copies stored, both seen by the second read: one is reported, and nothing is sent a third time
      expect(messages(yield* model.events(G, S)).filter((m) => m.startsWith("b-"))).toHaveLength(6)
      expect(result.accepted).toBe(3)
      expect(result.possibleDuplicates).toBe(3)
    }))

  it.effect("the check is denied (AccessDenied): resent, the copy counted, the upload not failed", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* enforced((api) => ({
        ...api,
        getLogEvents: () =>
          Effect.fail(new CloudWatchLogsError.AccessDeniedException({ message: "no logs:GetLogEvents" }))
      }))
      yield* model.failNext(1, "lostResponse")
      yield* model.failNext(1, "competingWriter")
      const result = yield* settle(uploader.upload(dest(), batch("b", 3, NOW + 5)))
      expect(result.accepted).toBe(3)
      expect(result.possibleDuplicates).toBe(3)
      expect(puts(yield* model.calls)).toEqual([
        "Answered",
        "LostResponse",
        "InvalidSequenceTokenException",
        "Answered"
      ])
    }))

  it.effect("the read does not end within 10 pages: the check gives up, resent, the copy counted", () =>
    Effect.gen(function*() {
      let pages = 0
      const { model, uploader } = yield* enforced((api) => ({
        ...api,
        getLogEvents: () =>
          Effect.sync(() => {
            pages++
            return { events: [], nextForwardToken: `f/${pages}` }
          })
      }))
      yield* model.failNext(1, "lostResponse")
      yield* model.failNext(1, "competingWriter")
      const result = yield* settle(uploader.upload(dest(), batch("b", 3, NOW + 5)))
      expect(pages).toBe(10)
      expect(result.possibleDuplicates).toBe(3)
      expect(messages(yield* model.events(G, S)).filter((m) => m.startsWith("b-"))).toHaveLength(6)
    }))

  it.effect("a read ending on its 10th page (the token repeats) is a verdict", () =>
    Effect.gen(function*() {
      let pages = 0
      const { model, uploader } = yield* enforced((api) => ({
        ...api,
        getLogEvents: (r) =>
          Effect.suspend(() => {
            pages++
            // nine empty pages, then the real read, whose token repeats
            return pages < 10 ? Effect.succeed({ events: [], nextForwardToken: `f/${pages}` }) : api.getLogEvents({
              ...r,
              nextToken: undefined
            })
          })
      }))
      yield* model.failNext(1, "lostResponse")
      yield* model.failNext(1, "competingWriter")
      const result = yield* settle(uploader.upload(dest(), batch("b", 3, NOW + 5)))
      expect(pages).toBe(10)
      expect(result.possibleDuplicates).toBe(0)
      expect(messages(yield* model.events(G, S)).filter((m) => m.startsWith("b-"))).toHaveLength(3)
    }))

  it.effect("no lost answer before the token error: no read", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* enforced()
      yield* model.failNext(1, "competingWriter")
      const result = yield* uploader.upload(dest(), batch("b", 3, NOW + 5))
      expect(result.possibleDuplicates).toBe(0)
      expect(yield* model.callCount("GetLogEvents")).toBe(0)
    }))

  it.effect("a service that ignores tokens: never a read; a replayed lost answer is counted", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* setup({ model: { sequenceTokens: "ignored" } })
      yield* uploader.upload(dest(), batch("a", 1))
      yield* uploader.upload(dest(), batch("probe", 1, NOW + 1))
      yield* model.failNext(1, "lostResponse")
      const result = yield* settle(uploader.upload(dest(), batch("b", 3, NOW + 5)))
      expect(result.possibleDuplicates).toBe(3)
      expect(yield* model.callCount("GetLogEvents")).toBe(0)
    }))

  const DAY = 24 * 60 * 60 * 1000

  it.effect("DataAlreadyAccepted after a lost answer: the events the service refused are not counted accepted", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* enforced()
      yield* model.failNext(1, "lostResponse")
      // the first event too old when it was put: refused, the second stored; the replay is DataAlreadyAccepted
      const sent = [{ timestamp: NOW - 14 * DAY - 1_000, message: "old" }, { timestamp: NOW + 1, message: "fresh" }]
      const result = yield* settle(uploader.upload(dest(), sent))
      expect((yield* model.events(G, S)).map((e) => e.message)).toEqual(["a-0", "fresh"])
      expect(result.accepted).toBe(1)
      expect(result.rejected).toEqual([{ index: 0, reason: "TooOld" }])
    }))

  it.effect("DataAlreadyAccepted after an earlier lost answer under another token: that copy is counted possible", () =>
    Effect.gen(function*() {
      const { model, uploader } = yield* enforced()
      // stored, answer lost; another writer moves the stream; the read-back fails: resent, stored again,
      // answer lost; the replay of that one is DataAlreadyAccepted
      yield* inTurn(model, ...lostPassedUnread, ["lostResponse"])
      const result = yield* settle(uploader.upload(dest(), batch("b", 3, NOW + 5)))
      const copies = (yield* model.events(G, S)).filter((e) => e.message.startsWith("b-")).length / 3
      expect(copies).toBe(2)
      expect(result.accepted).toBe(3)
      expect(result.possibleDuplicates).toBeGreaterThanOrEqual(3 * (copies - 1))
    }))

  it.effect("two uploaders sharing a token store: a lost put is replayed under its own token, not the other's", () =>
    Effect.gen(function*() {
      const a = yield* setup({ model: { sequenceTokens: "enforced" }, uploader: { tokens: "enforced" } })
      const b = yield* setup({ uploader: { tokens: "enforced" }, sharing: a })
      yield* a.uploader.upload(dest(), batch("a", 1))
      yield* b.uploader.upload(dest(), batch("b", 1, NOW + 1))
      yield* a.uploader.upload(dest(), batch("a2", 1, NOW + 2))
      // A's put is stored and its answer lost; while A waits to retry, B puts and stores a newer token
      yield* a.model.failNext(1, "lostResponse")
      const lost = yield* Effect.fork(a.uploader.upload(dest(), batch("A", 3, NOW + 10)))
      for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
      yield* settle(b.uploader.upload(dest(), batch("B", 1, NOW + 20)))
      const result = yield* settle(Fiber.join(lost))
      expect(result.accepted).toBe(3)
      expect((yield* a.model.events(G, S)).filter((e) => e.message.startsWith("A-"))).toHaveLength(3)
      expect(result.possibleDuplicates).toBe(0)
    }))

  it.effect("a shared token store: a replay that is throttled is replayed again under its own token, stored once", () =>
    Effect.gen(function*() {
      const a = yield* setup({ model: { sequenceTokens: "enforced" }, uploader: { tokens: "enforced" } })
      const b = yield* setup({ uploader: { tokens: "enforced" }, sharing: a })
      yield* a.uploader.upload(dest(), batch("a", 1))
      yield* inTurn(a.model, ["lostResponse"], ["throttle"])
      const lost = yield* Effect.fork(a.uploader.upload(dest(), batch("A", 2, NOW + 5)))
      // A's put is stored and its answer lost, its replay throttled: A waits out the throttling backoff
      for (let i = 0; i < 30; i++) yield* TestClock.adjust(10)
      expect(puts(yield* a.model.calls)).toEqual(["Answered", "LostResponse", "ThrottlingException"])
      // B moves the stream and the shared store on meanwhile
      yield* settle(b.uploader.upload(dest(), batch("B", 1, NOW + 10)))
      const result = yield* settle(Fiber.join(lost))
      expect(messages(yield* a.model.events(G, S)).filter((m) => m.startsWith("A-"))).toEqual(["A-0", "A-1"])
      expect(result.accepted).toBe(2)
      expect(result.possibleDuplicates).toBe(0)
    }))

  it.effect("a shared token store: a replay whose connection is refused is replayed again under its own token", () =>
    Effect.gen(function*() {
      const a = yield* setup({ model: { sequenceTokens: "enforced" }, uploader: { tokens: "enforced" } })
      const b = yield* setup({ uploader: { tokens: "enforced" }, sharing: a })
      yield* a.uploader.upload(dest(), batch("a", 1))
      yield* a.model.failNext(1, "lostResponse")
      const lost = yield* Effect.fork(a.uploader.upload(dest(), batch("A", 2, NOW + 5)))
      yield* TestClock.adjust(1)
      // the replays meet refused connections (they never reach the service) until B has moved the stream on
      yield* a.model.setOutage(true)
      for (let i = 0; i < 30; i++) yield* TestClock.adjust(10)
      expect(puts(yield* a.model.calls)).toContain("ConnectionRefused")
      yield* a.model.setOutage(false)
      yield* settle(b.uploader.upload(dest(), batch("B", 1, NOW + 10)))
      const result = yield* settle(Fiber.join(lost))
      expect(messages(yield* a.model.events(G, S)).filter((m) => m.startsWith("A-"))).toEqual(["A-0", "A-1"])
      expect(result.accepted).toBe(2)
      expect(result.possibleDuplicates).toBe(0)
    }))
})
