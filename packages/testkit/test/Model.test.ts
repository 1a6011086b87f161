import type { CloudWatchLogsApi as Api } from "@cwlogs/core"
import { CloudWatchLogsError, Limits } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { type DescribeLogGroupsRequest, Model, type ModelOptions, parseFilterPattern } from "../src/internal/model.js"

const G = "orders"
const S = "api-1"
const HOUR = 3_600_000
const DAY = 24 * HOUR
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)

const make = (options: Partial<ModelOptions> = {}): Model =>
  new Model({
    sequenceTokens: "ignored",
    limits: Limits.current,
    throttling: false,
    discard: false,
    accountId: "123456789012",
    region: "eu-west-1",
    ...options
  })

const right = <A, E>(e: Either.Either<A, E>): A => {
  if (Either.isLeft(e)) throw new Error(`expected success, got ${JSON.stringify(e.left)}`)
  return e.right
}

const left = <A, E>(e: Either.Either<A, E>): E => {
  if (Either.isRight(e)) throw new Error(`expected failure, got ${JSON.stringify(e.right)}`)
  return e.left
}

const withStream = (options: Partial<ModelOptions> = {}): Model => {
  const m = make(options)
  right(m.createLogGroup({ logGroupName: G }, NOW))
  right(m.createLogStream({ logGroupName: G, logStreamName: S }, NOW))
  return m
}

/** Puts with the stream's current token (as a well-behaved legacy client would). */
const put = (m: Model, logEvents: ReadonlyArray<Api.InputLogEvent>, now = NOW, stream = S) =>
  m.putLogEvents({ logGroupName: G, logStreamName: stream, logEvents, sequenceToken: m.token(G, stream) }, now)

const ev = (timestamp: number, message: string): Api.InputLogEvent => ({ timestamp, message })
const same = (n: number, message = "x", timestamp = NOW): Array<Api.InputLogEvent> =>
  Array.from({ length: n }, () => ev(timestamp, message))

const expectInvalid = (
  error: unknown,
  rule: CloudWatchLogsError.Rule,
  message: string | RegExp
): void => {
  expect(error).toBeInstanceOf(CloudWatchLogsError.InvalidParameterException)
  if (!(error instanceof CloudWatchLogsError.InvalidParameterException)) return
  expect(error.rule).toBe(rule)
  if (typeof message === "string") expect(error.message).toBe(message)
  else expect(error.message).toMatch(message)
}

const stored = (m: Model, now = NOW, stream = S) => m.visibleEvents(G, stream, now)

const generations = ["enforced", "ignored"] as const

describe.each(generations)("PutLogEvents rules (tokens %s)", (sequenceTokens) => {
  const fresh = (limits: Limits.LimitsShape = Limits.current) => withStream({ sequenceTokens, limits })

  it("accepts 10,000 events and refuses 10,001", () => {
    const m = fresh()
    right(put(m, same(10_000)))
    expect(m.stats(G, S).events).toBe(10_000)
    const error = left(put(m, same(10_001)))
    expectInvalid(
      error,
      "TooManyEvents",
      /^1 validation error detected: Value '.*' at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000$/
    )
    expect(CloudWatchLogsError.ruleOfMessage(error.message)).toBe("TooManyEvents")
    expect(m.stats(G, S).events).toBe(10_000)
  })

  it("refuses an empty batch with AWS's validation message", () => {
    const m = fresh()
    const error = left(put(m, []))
    expectInvalid(
      error,
      "EmptyBatch",
      "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1"
    )
    expect(CloudWatchLogsError.ruleOfMessage(error.message)).toBe("EmptyBatch")
  })

  it("refuses an empty message, naming its 1-based index, and stores nothing of the batch", () => {
    const m = fresh()
    const error = left(put(m, [ev(NOW, "ok"), ev(NOW, "")]))
    expectInvalid(
      error,
      "EmptyMessage",
      "1 validation error detected: Value '' at 'logEvents.2.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1"
    )
    expect(m.stats(G, S).events).toBe(0)
    right(put(m, [ev(NOW, "a")]))
  })

  it("accepts a batch of exactly 1,048,576 bytes (26 per event) and refuses one byte more", () => {
    const m = fresh()
    // 4 events of 262,118 message bytes: 4 × (262,118 + 26) = 1,048,576
    const exact = same(4, "a".repeat(262_118))
    right(put(m, exact))
    expect(m.stats(G, S).bytes).toBe(1_048_576)
    const over = [...same(3, "a".repeat(262_118)), ev(NOW, "a".repeat(262_119))]
    const error = left(put(m, over))
    expectInvalid(error, "BatchTooLarge", "Upload too large: 1048577 bytes exceeds limit of 1048576")
    expect(CloudWatchLogsError.ruleOfMessage(error.message)).toBe("BatchTooLarge")
  })

  it("counts the 26 bytes per event: 10,000 events of 78 bytes fit, 79 do not", () => {
    const m = fresh()
    // 10,000 × (78 + 26) = 1,040,000 ≤ 1,048,576; with 1,048,576 / 10,000 = 104.8576 per event, 79 + 26 = 105 is over
    right(put(m, same(10_000, "m".repeat(78))))
    const error = left(put(m, same(10_000, "m".repeat(79))))
    expectInvalid(error, "BatchTooLarge", "Upload too large: 1050000 bytes exceeds limit of 1048576")
  })

  it("sizes multi-byte UTF-8 messages in bytes, not characters", () => {
    const m = fresh()
    // "😀" is 2 UTF-16 units and 4 UTF-8 bytes; "é" 2 bytes; "€" 3 bytes
    const emoji = "😀".repeat(262_137) // 1,048,548 bytes
    right(put(m, [ev(NOW, emoji + "é")])) // 1,048,550 + 26 = 1,048,576
    expect(m.stats(G, S)).toMatchObject({ bytes: 1_048_576, messageBytes: 1_048_550 })
    const error = left(put(m, [ev(NOW, emoji + "€")]))
    expectInvalid(error, "EventTooLarge", "Log event too large: 1048577 bytes exceeds limit of 1048576")
    expect(CloudWatchLogsError.ruleOfMessage(error.message)).toBe("EventTooLarge")
  })

  it("accepts an event of exactly maxEventBytes and refuses one byte more (current: 1,048,576)", () => {
    const m = fresh()
    right(put(m, [ev(NOW, "e".repeat(1_048_550))]))
    const error = left(put(m, [ev(NOW, "e".repeat(1_048_551))]))
    expectInvalid(error, "EventTooLarge", "Log event too large: 1048577 bytes exceeds limit of 1048576")
  })

  it("accepts an event of exactly maxEventBytes and refuses one byte more (legacy: 262,144)", () => {
    const m = fresh(Limits.legacy)
    right(put(m, [ev(NOW, "e".repeat(262_118))]))
    const error = left(put(m, [ev(NOW, "e".repeat(262_119))]))
    expectInvalid(error, "EventTooLarge", "Log event too large: 262145 bytes exceeds limit of 262144")
    expect(m.stats(G, S).events).toBe(1)
  })

  it("refuses events out of chronological order, equal timestamps are fine", () => {
    const m = fresh()
    right(put(m, [ev(NOW - 1, "a"), ev(NOW - 1, "b"), ev(NOW, "c")]))
    const error = left(put(m, [ev(NOW, "a"), ev(NOW - 1, "b")]))
    expectInvalid(
      error,
      "NotChronological",
      "Log events in a single PutLogEvents request must be in chronological order."
    )
    expect(CloudWatchLogsError.ruleOfMessage(error.message)).toBe("NotChronological")
    expect(m.stats(G, S).events).toBe(3)
  })

  it("accepts a span of exactly 24 hours and refuses 24 hours + 1 ms", () => {
    const m = fresh()
    right(put(m, [ev(NOW - DAY, "first"), ev(NOW, "last")]))
    const error = left(put(m, [ev(NOW - DAY - 1, "first"), ev(NOW, "last")]))
    expectInvalid(
      error,
      "SpanOver24Hours",
      "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
    )
    expect(CloudWatchLogsError.ruleOfMessage(error.message)).toBe("SpanOver24Hours")
  })

  it("measures the 24 h span over the events that are not rejected", () => {
    const m = fresh()
    const res = right(put(m, [ev(NOW - 20 * DAY, "too old"), ev(NOW - DAY, "a"), ev(NOW, "b")]))
    expect(res.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 1 })
    expect(stored(m).map((e) => e.message)).toEqual(["a", "b"])
  })

  it("keeps an event exactly 14 days old and rejects one 1 ms older, storing the rest", () => {
    const m = fresh()
    const ok = right(put(m, [ev(NOW - 14 * DAY, "edge")]))
    expect(ok.rejectedLogEventsInfo).toBeUndefined()
    const res = right(put(m, [ev(NOW - 14 * DAY - 1, "old"), ev(NOW - 14 * DAY, "edge2")]))
    expect(res.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 1 })
    expect(stored(m).map((e) => e.message)).toEqual(["edge", "edge2"])
  })

  it("keeps an event exactly 2 h ahead and rejects one 1 ms further, storing the rest", () => {
    const m = fresh()
    expect(right(put(m, [ev(NOW + 2 * HOUR, "edge")])).rejectedLogEventsInfo).toBeUndefined()
    const res = right(put(m, [ev(NOW, "now"), ev(NOW + 2 * HOUR + 1, "new")]))
    expect(res.rejectedLogEventsInfo).toEqual({ tooNewLogEventStartIndex: 1 })
    expect(stored(m).map((e) => e.message)).toEqual(["now", "edge"])
  })

  it("reports a mixed batch by reason (exclusive end indexes, inclusive start) and stores the rest", () => {
    const m = fresh()
    right(m.putRetentionPolicy({ logGroupName: G, retentionInDays: 1 }, NOW))
    const batch = [
      ev(NOW - 15 * DAY, "too old and expired"),
      ev(NOW - 2 * DAY, "expired"),
      ev(NOW - DAY, "exactly at retention"),
      ev(NOW, "now"),
      ev(NOW + 3 * HOUR, "too new"),
      ev(NOW + 4 * HOUR, "too new too")
    ]
    const res = right(put(m, batch))
    expect(res.rejectedLogEventsInfo).toEqual({
      tooOldLogEventEndIndex: 1,
      expiredLogEventEndIndex: 2,
      tooNewLogEventStartIndex: 4
    })
    expect(stored(m).map((e) => e.message)).toEqual(["exactly at retention", "now"])
    expect(m.stats(G, S)).toMatchObject({ events: 2, messageBytes: 23, bytes: 23 + 52 })
    expect(res.nextSequenceToken).toBeDefined()
  })

  it("answers a batch whose events are all rejected with the indexes and stores nothing", () => {
    const m = fresh()
    const res = right(put(m, [ev(NOW + 3 * HOUR, "a"), ev(NOW + 3 * HOUR, "b")]))
    expect(res.rejectedLogEventsInfo).toEqual({ tooNewLogEventStartIndex: 0 })
    expect(m.stats(G, S).events).toBe(0)
  })

  it("stamps stored events with the ingestion time", () => {
    const m = fresh()
    right(put(m, [ev(NOW - 5, "a")], NOW + 7))
    expect(stored(m, NOW + 7)).toMatchObject([{ timestamp: NOW - 5, message: "a", ingestionTime: NOW + 7 }])
  })

  it("refuses negative and fractional timestamps", () => {
    const m = fresh()
    expectInvalid(left(put(m, [ev(-1, "a")])), "InvalidTimestamp", /logEvents\.1\.member\.timestamp/)
    expectInvalid(left(put(m, [ev(1.5, "a")])), "InvalidTimestamp", /logEvents\.1\.member\.timestamp/)
  })

  it("takes timestamps at and above 2^53 as legal longs, rejected as too new while the rest is stored", () => {
    const m = fresh()
    const batch = [
      ev(NOW, "now"),
      ev(Number.MAX_SAFE_INTEGER, "2^53 - 1"),
      ev(2 ** 53, "2^53"),
      ev(9_007_199_254_740_994, "2^53 + 2")
    ]
    expect(right(put(m, batch)).rejectedLogEventsInfo).toEqual({ tooNewLogEventStartIndex: 1 })
    expect(right(put(m, [ev(9_007_199_254_740_994, "alone")])).rejectedLogEventsInfo).toEqual({
      tooNewLogEventStartIndex: 0
    })
    expect(stored(m).map((e) => e.message)).toEqual(["now"])
  })

  it("answers ResourceNotFound for a missing group or stream, with AWS's messages", () => {
    const m = fresh()
    const noGroup = left(
      m.putLogEvents({ logGroupName: "nope", logStreamName: S, logEvents: [ev(NOW, "a")] }, NOW)
    )
    expect(noGroup).toMatchObject({
      _tag: "ResourceNotFoundException",
      message: "The specified log group does not exist.",
      resource: "logGroup"
    })
    const noStream = left(
      m.putLogEvents({ logGroupName: G, logStreamName: "nope", logEvents: [ev(NOW, "a")] }, NOW)
    )
    expect(noStream).toMatchObject({
      _tag: "ResourceNotFoundException",
      message: "The specified log stream does not exist.",
      resource: "logStream"
    })
  })
})

describe("the legacy token protocol (enforced), call by call", () => {
  const request = (logEvents: ReadonlyArray<Api.InputLogEvent>, sequenceToken?: string): Api.PutLogEventsRequest => ({
    logGroupName: G,
    logStreamName: S,
    logEvents,
    ...(sequenceToken !== undefined ? { sequenceToken } : {})
  })

  it("first put without a token, then the returned token, wrong token, replay, describe", () => {
    const m = withStream({ sequenceTokens: "enforced" })
    // a new stream: no uploadSequenceToken yet
    const before = right(m.describeLogStreams({ logGroupName: G }, NOW)).logStreams[0]
    expect(before.uploadSequenceToken).toBeUndefined()

    // 1. first put, no token
    const b1 = [ev(NOW, "one")]
    const t1 = right(m.putLogEvents(request(b1), NOW)).nextSequenceToken
    expect(t1).toMatch(/^\d{56}$/)
    expect(right(m.describeLogStreams({ logGroupName: G }, NOW)).logStreams[0].uploadSequenceToken).toBe(t1)

    // 2. next put without a token fails, the expected token in the field and in the message
    const missing = left(m.putLogEvents(request([ev(NOW, "two")]), NOW))
    expect(missing).toBeInstanceOf(CloudWatchLogsError.InvalidSequenceTokenException)
    expect(missing).toMatchObject({
      expectedSequenceToken: t1,
      message: `The given sequenceToken is invalid. The next expected sequenceToken is: ${t1}`
    })

    // 3. a wrong token fails the same way
    const wrong = left(m.putLogEvents(request([ev(NOW, "two")], "49000"), NOW))
    expect(wrong).toBeInstanceOf(CloudWatchLogsError.InvalidSequenceTokenException)
    if (wrong._tag === "InvalidSequenceTokenException") {
      expect(CloudWatchLogsError.expectedSequenceToken(wrong)).toBe(t1)
    }

    // 4. the right token
    const b2 = [ev(NOW, "two")]
    const t2 = right(m.putLogEvents(request(b2, t1), NOW)).nextSequenceToken
    expect(t2).toBeDefined()
    expect(t2).not.toBe(t1)

    // 5. replaying the last accepted batch with the token it was accepted under
    const replay = left(m.putLogEvents(request([ev(NOW, "two")], t1), NOW))
    expect(replay).toBeInstanceOf(CloudWatchLogsError.DataAlreadyAcceptedException)
    expect(replay).toMatchObject({
      expectedSequenceToken: t2,
      message:
        `The given batch of log events has already been accepted. The next batch can be sent with sequenceToken: ${t2}`
    })
    if (replay._tag === "DataAlreadyAcceptedException") {
      expect(CloudWatchLogsError.expectedSequenceToken(replay)).toBe(t2)
    }
    // nothing stored twice, the token did not move
    expect(stored(m).map((e) => e.message)).toEqual(["one", "two"])
    expect(m.token(G, S)).toBe(t2)

    // 6. the old token with a different batch is a plain token error
    const other = left(m.putLogEvents(request([ev(NOW, "three")], t1), NOW))
    expect(other._tag).toBe("InvalidSequenceTokenException")

    // 7. DescribeLogStreams shows the current token
    expect(right(m.describeLogStreams({ logGroupName: G }, NOW)).logStreams[0].uploadSequenceToken).toBe(t2)
  })

  it("replaying the first batch (sent with no token) is DataAlreadyAccepted too", () => {
    const m = withStream({ sequenceTokens: "enforced" })
    const t1 = right(m.putLogEvents(request([ev(NOW, "one")]), NOW)).nextSequenceToken
    const replay = left(m.putLogEvents(request([ev(NOW, "one")]), NOW))
    expect(replay).toMatchObject({ _tag: "DataAlreadyAcceptedException", expectedSequenceToken: t1 })
    expect(m.stats(G, S).events).toBe(1)
  })

  it("a token sent to a stream that never had a put is invalid, expected token null", () => {
    const m = withStream({ sequenceTokens: "enforced" })
    const error = left(m.putLogEvents(request([ev(NOW, "one")], "49123"), NOW))
    expect(error).toMatchObject({
      _tag: "InvalidSequenceTokenException",
      message: "The given sequenceToken is invalid. The next expected sequenceToken is: null"
    })
    if (error._tag === "InvalidSequenceTokenException") {
      expect(CloudWatchLogsError.expectedSequenceToken(error)).toBeUndefined()
    }
  })

  it("tokens are per stream", () => {
    const m = withStream({ sequenceTokens: "enforced" })
    right(m.createLogStream({ logGroupName: G, logStreamName: "api-2" }, NOW))
    const t1 = right(m.putLogEvents(request([ev(NOW, "one")]), NOW)).nextSequenceToken
    const error = left(
      m.putLogEvents({ logGroupName: G, logStreamName: "api-2", logEvents: [ev(NOW, "x")], sequenceToken: t1 }, NOW)
    )
    expect(error._tag).toBe("InvalidSequenceTokenException")
  })

  it("a competing put advances the token: the other writer's token becomes invalid", () => {
    const m = withStream({ sequenceTokens: "enforced" })
    const t1 = right(m.putLogEvents(request([ev(NOW, "one")]), NOW)).nextSequenceToken
    expect(m.competingPut(G, S, NOW)).toBe(true)
    const t2 = m.token(G, S)
    expect(t2).not.toBe(t1)
    const error = left(m.putLogEvents(request([ev(NOW, "two")], t1), NOW))
    expect(error).toMatchObject({ _tag: "InvalidSequenceTokenException", expectedSequenceToken: t2 })
    expect(stored(m).map((e) => e.message)).toEqual(["one", expect.stringMatching(/^competing-writer /)])
  })
})

describe("the current token protocol (ignored)", () => {
  it("never checks tokens, accepts replays as duplicates, still returns nextSequenceToken", () => {
    const m = withStream({ sequenceTokens: "ignored" })
    const r1 = right(m.putLogEvents({ logGroupName: G, logStreamName: S, logEvents: [ev(NOW, "a")] }, NOW))
    expect(r1.nextSequenceToken).toMatch(/^\d{56}$/)
    right(
      m.putLogEvents({ logGroupName: G, logStreamName: S, logEvents: [ev(NOW, "a")], sequenceToken: "garbage" }, NOW)
    )
    right(m.putLogEvents({ logGroupName: G, logStreamName: S, logEvents: [ev(NOW, "a")] }, NOW))
    expect(stored(m).map((e) => e.message)).toEqual(["a", "a", "a"])
  })

  it("DescribeLogStreams shows uploadSequenceToken: none before the first put, then the last token returned", () => {
    const m = withStream({ sequenceTokens: "ignored" })
    const describe = () => right(m.describeLogStreams({ logGroupName: G }, NOW)).logStreams[0].uploadSequenceToken
    expect(describe()).toBeUndefined()
    const r1 = right(m.putLogEvents({ logGroupName: G, logStreamName: S, logEvents: [ev(NOW, "a")] }, NOW))
    expect(describe()).toBe(r1.nextSequenceToken)
    const r2 = right(
      m.putLogEvents({ logGroupName: G, logStreamName: S, logEvents: [ev(NOW, "b")], sequenceToken: "garbage" }, NOW)
    )
    expect(r2.nextSequenceToken).not.toBe(r1.nextSequenceToken)
    expect(describe()).toBe(r2.nextSequenceToken)
  })
})

describe("names", () => {
  it("group names: 512 chars accepted, 513 refused, forbidden characters refused", () => {
    const m = make()
    right(m.createLogGroup({ logGroupName: "g".repeat(512) }, NOW))
    right(m.createLogGroup({ logGroupName: "a.b-c_d/e#F9" }, NOW))
    const long = left(m.createLogGroup({ logGroupName: "g".repeat(513) }, NOW))
    expectInvalid(long, "InvalidLogGroupName", /at 'logGroupName' failed to satisfy constraint/)
    expect(CloudWatchLogsError.ruleOfMessage(long.message)).toBe("InvalidLogGroupName")
    for (const bad of ["", "a b", "a:b", "a*b", "é"]) {
      expectInvalid(left(m.createLogGroup({ logGroupName: bad }, NOW)), "InvalidLogGroupName", /logGroupName/)
    }
  })

  it("CreateLogGroup refuses names starting with aws/ ('aws', '/aws/...', 'awsx/' are fine)", () => {
    const m = make()
    for (const ok of ["aws", "awsx/y", "/aws/lambda/f", "my/aws/x", "aws-x"]) {
      right(m.createLogGroup({ logGroupName: ok }, NOW))
    }
    for (const bad of ["aws/", "aws/x", "aws/spans"]) {
      const error = left(m.createLogGroup({ logGroupName: bad }, NOW))
      expectInvalid(
        error,
        "InvalidLogGroupName",
        `Invalid logGroupName '${bad}': log group names can't start with the string aws/`
      )
      expect(CloudWatchLogsError.ruleOfMessage(error.message)).toBe("InvalidLogGroupName")
    }
    expect(right(m.describeLogGroups({}, NOW)).logGroups.map((g) => g.logGroupName)).toEqual(
      ["/aws/lambda/f", "aws", "aws-x", "awsx/y", "my/aws/x"]
    )
    // Only creation: other operations take such a name (AWS creates groups like aws/spans itself).
    const spans = "aws/spans"
    expect(left(m.createLogStream({ logGroupName: spans, logStreamName: S }, NOW))._tag).toBe(
      "ResourceNotFoundException"
    )
    expect(left(m.putLogEvents({ logGroupName: spans, logStreamName: S, logEvents: [ev(NOW, "x")] }, NOW))._tag)
      .toBe("ResourceNotFoundException")
    expect(left(m.describeLogStreams({ logGroupName: spans }, NOW))._tag).toBe("ResourceNotFoundException")
    expect(left(m.filterLogEvents({ logGroupName: spans }, NOW))._tag).toBe("ResourceNotFoundException")
  })

  it("stream names: 512 chars accepted, 513 refused, ':' and '*' refused", () => {
    const m = withStream()
    right(m.createLogStream({ logGroupName: G, logStreamName: "s".repeat(512) }, NOW))
    right(m.createLogStream({ logGroupName: G, logStreamName: "any thing/é 😀" }, NOW))
    const long = left(m.createLogStream({ logGroupName: G, logStreamName: "s".repeat(513) }, NOW))
    expectInvalid(long, "InvalidLogStreamName", /at 'logStreamName' failed to satisfy constraint/)
    expect(CloudWatchLogsError.ruleOfMessage(long.message)).toBe("InvalidLogStreamName")
    for (const bad of ["", "a:b", "a*b"]) {
      expectInvalid(
        left(m.createLogStream({ logGroupName: G, logStreamName: bad }, NOW)),
        "InvalidLogStreamName",
        /logStreamName/
      )
    }
    // PutLogEvents checks the names too
    expectInvalid(
      left(m.putLogEvents({ logGroupName: G, logStreamName: "a:b", logEvents: [ev(NOW, "x")] }, NOW)),
      "InvalidLogStreamName",
      /logStreamName/
    )
  })

  it("names of exactly 1 character are accepted by every operation that takes them, 0 characters refused", () => {
    const m = make()
    right(m.createLogGroup({ logGroupName: "g" }, NOW))
    right(m.createLogStream({ logGroupName: "g", logStreamName: "s" }, NOW))
    const res = right(m.putLogEvents({ logGroupName: "g", logStreamName: "s", logEvents: [ev(NOW, "x")] }, NOW))
    expect(res.rejectedLogEventsInfo).toBeUndefined()
    expect(m.visibleEvents("g", "s", NOW).map((e) => e.message)).toEqual(["x"])
    expectInvalid(
      left(m.putLogEvents({ logGroupName: "", logStreamName: "s", logEvents: [ev(NOW, "x")] }, NOW)),
      "InvalidLogGroupName",
      /logGroupName/
    )
    expectInvalid(
      left(m.putLogEvents({ logGroupName: "g", logStreamName: "", logEvents: [ev(NOW, "x")] }, NOW)),
      "InvalidLogStreamName",
      /logStreamName/
    )
  })

  it("creating twice answers ResourceAlreadyExists with AWS's messages", () => {
    const m = withStream()
    expect(left(m.createLogGroup({ logGroupName: G }, NOW))).toMatchObject({
      _tag: "ResourceAlreadyExistsException",
      message: "The specified log group already exists"
    })
    expect(left(m.createLogStream({ logGroupName: G, logStreamName: S }, NOW))).toMatchObject({
      _tag: "ResourceAlreadyExistsException",
      message: "The specified log stream already exists"
    })
    expect(left(m.createLogStream({ logGroupName: "nope", logStreamName: S }, NOW))).toMatchObject({
      _tag: "ResourceNotFoundException",
      message: "The specified log group does not exist."
    })
  })

  it("deletes streams and groups, and answers ResourceNotFound after", () => {
    const m = withStream()
    right(put(m, [ev(NOW, "a")]))
    right(m.deleteLogStream({ logGroupName: G, logStreamName: S }, NOW))
    expect(left(m.deleteLogStream({ logGroupName: G, logStreamName: S }, NOW))._tag).toBe("ResourceNotFoundException")
    expect(left(put(m, [ev(NOW, "a")]))).toMatchObject({ resource: "logStream" })
    right(m.deleteLogGroup({ logGroupName: G }, NOW))
    expect(left(m.deleteLogGroup({ logGroupName: G }, NOW))).toMatchObject({ resource: "logGroup" })
  })
})

describe("retention", () => {
  it("accepts every value of RETENTION_DAYS and refuses the others", () => {
    const m = withStream()
    for (const days of Limits.RETENTION_DAYS) {
      right(m.putRetentionPolicy({ logGroupName: G, retentionInDays: days }, NOW))
    }
    for (const days of [0, 2, 4, 8, 13, 15, 366, 3654, -1, 1.5]) {
      const error = left(m.putRetentionPolicy({ logGroupName: G, retentionInDays: days }, NOW))
      expectInvalid(error, "InvalidRetention", /at 'retentionInDays' failed to satisfy constraint/)
      expect(CloudWatchLogsError.ruleOfMessage(error.message)).toBe("InvalidRetention")
    }
    expect(left(m.putRetentionPolicy({ logGroupName: "nope", retentionInDays: 1 }, NOW))._tag).toBe(
      "ResourceNotFoundException"
    )
    expect(right(m.describeLogGroups({}, NOW)).logGroups[0].retentionInDays).toBe(3653)
    right(m.deleteRetentionPolicy({ logGroupName: G }, NOW))
    expect(right(m.describeLogGroups({}, NOW)).logGroups[0].retentionInDays).toBeUndefined()
  })

  it("hides events older than the retention from reads, as time passes and when the policy is set", () => {
    const m = withStream()
    right(put(m, [ev(NOW - 2 * DAY, "two days")]))
    right(put(m, [ev(NOW - HOUR, "an hour")]))
    expect(stored(m).length).toBe(2)
    right(m.putRetentionPolicy({ logGroupName: G, retentionInDays: 1 }, NOW))
    expect(stored(m).map((e) => e.message)).toEqual(["an hour"])
    // exactly at the retention age it is still there, 1 ms later it is gone
    expect(stored(m, NOW - HOUR + DAY).map((e) => e.message)).toEqual(["an hour"])
    expect(stored(m, NOW - HOUR + DAY + 1)).toEqual([])
    expect(right(m.getLogEvents({ logGroupName: G, logStreamName: S }, NOW + DAY)).events).toEqual([])
    right(m.deleteRetentionPolicy({ logGroupName: G }, NOW))
    expect(stored(m).length).toBe(2)
  })
})

describe("DescribeLogGroups and DescribeLogStreams", () => {
  const streams = (names: ReadonlyArray<string>): Model => {
    const m = withStream()
    for (const name of names) right(m.createLogStream({ logGroupName: G, logStreamName: name }, NOW))
    return m
  }

  it("filters by prefix, orders by name (ascending and descending) and pages with nextToken", () => {
    const m = streams(["b-2", "b-1", "a-1", "b-3", "c-1"])
    const all = right(m.describeLogStreams({ logGroupName: G }, NOW)).logStreams.map((s) => s.logStreamName)
    expect(all).toEqual(["a-1", "api-1", "b-1", "b-2", "b-3", "c-1"])
    const b = right(m.describeLogStreams({ logGroupName: G, logStreamNamePrefix: "b-" }, NOW))
    expect(b.logStreams.map((s) => s.logStreamName)).toEqual(["b-1", "b-2", "b-3"])
    // a prefix is not the stream: "api" finds "api-1" only by prefix
    expect(
      right(m.describeLogStreams({ logGroupName: G, logStreamNamePrefix: "a" }, NOW)).logStreams.map((s) =>
        s.logStreamName
      )
    ).toEqual(["a-1", "api-1"])
    const desc = right(m.describeLogStreams({ logGroupName: G, descending: true }, NOW))
    expect(desc.logStreams.map((s) => s.logStreamName)).toEqual([...all].reverse())

    const seen: Array<string> = []
    let nextToken: string | undefined
    let pages = 0
    do {
      const page = right(m.describeLogStreams({ logGroupName: G, limit: 4, nextToken }, NOW))
      seen.push(...page.logStreams.map((s) => s.logStreamName))
      nextToken = page.nextToken
      pages++
    } while (nextToken !== undefined)
    expect(seen).toEqual(all)
    expect(pages).toBe(2)
  })

  it("orders by LastEventTime, and refuses LastEventTime with a prefix", () => {
    const m = streams(["x", "y"])
    right(put(m, [ev(NOW - 10, "a")], NOW, "y"))
    right(put(m, [ev(NOW - 5, "a")], NOW, "x"))
    right(put(m, [ev(NOW - 1, "a")], NOW, S))
    const byTime = right(m.describeLogStreams({ logGroupName: G, orderBy: "LastEventTime", descending: true }, NOW))
    expect(byTime.logStreams.map((s) => s.logStreamName)).toEqual([S, "x", "y"])
    expect(byTime.logStreams[0]).toMatchObject({
      firstEventTimestamp: NOW - 1,
      lastEventTimestamp: NOW - 1,
      lastIngestionTime: NOW,
      storedBytes: 0,
      arn: `arn:aws:logs:eu-west-1:123456789012:log-group:${G}:log-stream:${S}`
    })
    expectInvalid(
      left(m.describeLogStreams({ logGroupName: G, orderBy: "LastEventTime", logStreamNamePrefix: "x" }, NOW)),
      "InvalidParameter",
      /LastEventTime/
    )
  })

  it("page tokens name the last entry returned: streams and groups created or deleted between pages neither shift nor repeat the rest", () => {
    const names = (r: Api.DescribeLogStreamsResponse) => r.logStreams.map((s) => s.logStreamName)
    const m = streams(["b", "c", "d", "e/1"])
    const first = right(m.describeLogStreams({ logGroupName: G, limit: 2 }, NOW))
    expect(names(first)).toEqual(["api-1", "b"])
    right(m.deleteLogStream({ logGroupName: G, logStreamName: "b" }, NOW))
    right(m.createLogStream({ logGroupName: G, logStreamName: "a" }, NOW))
    right(m.createLogStream({ logGroupName: G, logStreamName: "bb" }, NOW))
    const second = right(m.describeLogStreams({ logGroupName: G, limit: 2, nextToken: first.nextToken }, NOW))
    expect(names(second)).toEqual(["bb", "c"])
    // the last entry of a page may be gone: the listing goes on after its name; names may hold "/"
    right(m.deleteLogStream({ logGroupName: G, logStreamName: "c" }, NOW))
    const third = right(m.describeLogStreams({ logGroupName: G, limit: 2, nextToken: second.nextToken }, NOW))
    expect(names(third)).toEqual(["d", "e/1"])
    expect(third.nextToken).toBeUndefined()
    const desc1 = right(m.describeLogStreams({ logGroupName: G, limit: 2, descending: true }, NOW))
    expect(names(desc1)).toEqual(["e/1", "d"])
    right(m.createLogStream({ logGroupName: G, logStreamName: "z" }, NOW))
    const desc2 = right(
      m.describeLogStreams({ logGroupName: G, limit: 2, descending: true, nextToken: desc1.nextToken }, NOW)
    )
    expect(names(desc2)).toEqual(["bb", "api-1"])

    const groups = make()
    for (const name of ["g/b", "g/c", "g/d"]) right(groups.createLogGroup({ logGroupName: name }, NOW))
    const g1 = right(groups.describeLogGroups({ limit: 2 }, NOW))
    expect(g1.logGroups.map((g) => g.logGroupName)).toEqual(["g/b", "g/c"])
    right(groups.deleteLogGroup({ logGroupName: "g/b" }, NOW))
    right(groups.createLogGroup({ logGroupName: "g/a" }, NOW))
    const g2 = right(groups.describeLogGroups({ limit: 2, nextToken: g1.nextToken }, NOW))
    expect(g2.logGroups.map((g) => g.logGroupName)).toEqual(["g/d"])
    expect(g2.nextToken).toBeUndefined()
  })

  it("orderBy LastEventTime pages by time then name, either direction; a token is refused in another order or direction", () => {
    const names = (r: Api.DescribeLogStreamsResponse) => r.logStreams.map((s) => s.logStreamName)
    const m = streams(["w", "x", "y", "z"])
    right(put(m, [ev(NOW - 10, "a")], NOW, "y"))
    right(put(m, [ev(NOW - 5, "a")], NOW, "x"))
    right(put(m, [ev(NOW - 5, "a")], NOW, "w"))
    right(put(m, [ev(NOW - 1, "a")], NOW, S))
    // ascending: "z" (no events) first, then by time, equal times by name
    const all = names(right(m.describeLogStreams({ logGroupName: G, orderBy: "LastEventTime" }, NOW)))
    expect(all).toEqual(["z", "y", "w", "x", S])
    for (const descending of [false, true]) {
      const seen: Array<string> = []
      let nextToken: string | undefined
      do {
        const page = right(
          m.describeLogStreams({ logGroupName: G, orderBy: "LastEventTime", descending, limit: 2, nextToken }, NOW)
        )
        seen.push(...names(page))
        nextToken = page.nextToken
      } while (nextToken !== undefined)
      expect(seen).toEqual(descending ? [...all].reverse() : all)
    }
    const page = right(m.describeLogStreams({ logGroupName: G, orderBy: "LastEventTime", limit: 2 }, NOW))
    // "y" (the first returned before the cursor) is deleted, "v" has no events: before the cursor, not shown
    right(m.deleteLogStream({ logGroupName: G, logStreamName: "y" }, NOW))
    right(m.createLogStream({ logGroupName: G, logStreamName: "v" }, NOW))
    const next = right(
      m.describeLogStreams({ logGroupName: G, orderBy: "LastEventTime", limit: 2, nextToken: page.nextToken }, NOW)
    )
    expect(names(next)).toEqual(["w", "x"])
    for (
      const other of [
        { orderBy: "LastEventTime" as const, descending: true },
        { orderBy: "LogStreamName" as const },
        {}
      ]
    ) {
      expectInvalid(
        left(m.describeLogStreams({ logGroupName: G, ...other, nextToken: page.nextToken }, NOW)),
        "InvalidParameter",
        "The specified nextToken is invalid."
      )
    }
    expectInvalid(left(m.describeLogGroups({ nextToken: page.nextToken }, NOW)), "InvalidParameter", /nextToken/)
  })

  it("reports a stream's storedBytes as 0 (no longer supported), the group's as its message bytes", () => {
    const m = streams(["empty"])
    const before = right(m.describeLogStreams({ logGroupName: G }, NOW)).logStreams
    expect(before.map((s) => s.storedBytes)).toEqual([0, 0])
    right(put(m, [ev(NOW, "héllo"), ev(NOW, "x")]))
    const after = right(m.describeLogStreams({ logGroupName: G }, NOW)).logStreams
    expect(after.map((s) => [s.logStreamName, s.storedBytes])).toEqual([[S, 0], ["empty", 0]])
    expect(right(m.describeLogGroups({}, NOW)).logGroups[0].storedBytes).toBe(7)
  })

  it("limit: 1 and 50 accepted, 0 and 51 refused; a bad nextToken refused; a missing group is not found", () => {
    const m = streams([])
    right(m.describeLogStreams({ logGroupName: G, limit: 1 }, NOW))
    right(m.describeLogStreams({ logGroupName: G, limit: 50 }, NOW))
    expectInvalid(
      left(m.describeLogStreams({ logGroupName: G, limit: 51 }, NOW)),
      "InvalidParameter",
      "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50"
    )
    expectInvalid(left(m.describeLogStreams({ logGroupName: G, limit: 0 }, NOW)), "InvalidParameter", /'limit'/)
    expectInvalid(left(m.describeLogGroups({ limit: 51 }, NOW)), "InvalidParameter", /'limit'/)
    right(m.describeLogGroups({ limit: 50 }, NOW))
    expectInvalid(
      left(m.describeLogStreams({ logGroupName: G, nextToken: "bogus" }, NOW)),
      "InvalidParameter",
      "The specified nextToken is invalid."
    )
    expect(left(m.describeLogStreams({ logGroupName: "nope" }, NOW))._tag).toBe("ResourceNotFoundException")
  })

  it("describes groups by prefix or pattern, with paging and ARNs", () => {
    const m = make()
    for (const name of ["app/a", "app/b", "app/c", "other/App"]) right(m.createLogGroup({ logGroupName: name }, NOW))
    const page1 = right(m.describeLogGroups({ logGroupNamePrefix: "app/", limit: 2 }, NOW))
    expect(page1.logGroups.map((g) => g.logGroupName)).toEqual(["app/a", "app/b"])
    const page2 = right(m.describeLogGroups({ logGroupNamePrefix: "app/", limit: 2, nextToken: page1.nextToken }, NOW))
    expect(page2.logGroups.map((g) => g.logGroupName)).toEqual(["app/c"])
    expect(page2.nextToken).toBeUndefined()
    expect(page1.logGroups[0]).toMatchObject({
      creationTime: NOW,
      logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:app/a",
      arn: "arn:aws:logs:eu-west-1:123456789012:log-group:app/a:*",
      logGroupClass: "STANDARD"
    })
    expect(left(m.describeLogGroups({ logGroupNamePrefix: "a", logGroupNamePattern: "b" }, NOW))._tag).toBe(
      "InvalidParameterException"
    )
  })

  it("logGroupNamePattern: a case-sensitive substring search answering only arn, creationTime and logGroupName", () => {
    const m = make()
    // the model's example, with /aws/DataLogs for aws/DataLogs (CreateLogGroup refuses aws/)
    for (const name of ["DataLogs", "/aws/DataLogs", "GroupDataLogs", "datalogs", "Data/log/s", "Groupdata"]) {
      right(m.createLogGroup({ logGroupName: name }, NOW))
    }
    right(m.putRetentionPolicy({ logGroupName: "DataLogs", retentionInDays: 7 }, NOW))
    const names = (pattern: string) =>
      right(m.describeLogGroups({ logGroupNamePattern: pattern }, NOW)).logGroups.map((g) => g.logGroupName)
    expect(names("DataLogs")).toEqual(["/aws/DataLogs", "DataLogs", "GroupDataLogs"])
    expect(names("datalogs")).toEqual(["datalogs"])
    expect(names("Datalogs")).toEqual([])
    const found = right(m.describeLogGroups({ logGroupNamePattern: "DataLogs", limit: 2 }, NOW))
    expect(found.logGroups[1]).toEqual({
      logGroupName: "DataLogs",
      creationTime: NOW,
      arn: "arn:aws:logs:eu-west-1:123456789012:log-group:DataLogs:*"
    })
    const rest = right(
      m.describeLogGroups({ logGroupNamePattern: "DataLogs", limit: 2, nextToken: found.nextToken }, NOW)
    )
    expect(rest.logGroups.map((g) => g.logGroupName)).toEqual(["GroupDataLogs"])
    // without a pattern every member is there
    expect(right(m.describeLogGroups({ logGroupNamePrefix: "DataLogs" }, NOW)).logGroups[0]).toEqual({
      logGroupName: "DataLogs",
      creationTime: NOW,
      retentionInDays: 7,
      storedBytes: 0,
      arn: "arn:aws:logs:eu-west-1:123456789012:log-group:DataLogs:*",
      logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:DataLogs",
      logGroupClass: "STANDARD",
      deletionProtectionEnabled: false
    })
  })

  it("kmsKeyId and deletionProtectionEnabled are kept and reported; protection refuses DeleteLogGroup and DeleteLogStream", () => {
    const m = make()
    const kmsKeyId = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    right(m.createLogGroup({ logGroupName: "kept", kmsKeyId, deletionProtectionEnabled: true }, NOW))
    right(m.createLogStream({ logGroupName: "kept", logStreamName: S }, NOW))
    right(m.createLogGroup({ logGroupName: "plain" }, NOW))
    const groups = right(m.describeLogGroups({}, NOW)).logGroups
    expect(groups.map((g) => [g.logGroupName, g.kmsKeyId, g.deletionProtectionEnabled])).toEqual([
      ["kept", kmsKeyId, true],
      ["plain", undefined, false]
    ])
    expect("kmsKeyId" in (groups[1] ?? {})).toBe(false)
    // with a pattern, only arn, creationTime and logGroupName
    expect(right(m.describeLogGroups({ logGroupNamePattern: "kept" }, NOW)).logGroups[0]).not.toHaveProperty("kmsKeyId")
    expect(left(m.deleteLogGroup({ logGroupName: "kept" }, NOW))).toMatchObject({
      _tag: "UnknownServiceError",
      errorName: "ValidationException",
      message: "Cannot delete log group with deletion protection enabled. Disable deletion protection first.",
      httpStatus: 400
    })
    expect(left(m.deleteLogStream({ logGroupName: "kept", logStreamName: S }, NOW))).toMatchObject({
      _tag: "UnknownServiceError",
      errorName: "ValidationException"
    })
    expect(right(m.describeLogStreams({ logGroupName: "kept" }, NOW)).logStreams.map((s) => s.logStreamName)).toEqual([
      S
    ])
    right(m.deleteLogGroup({ logGroupName: "plain" }, NOW))
    expect(right(m.describeLogGroups({}, NOW)).logGroups.map((g) => g.logGroupName)).toEqual(["kept"])
  })

  it("logGroupClass keeps the groups of that class, alone or with a prefix or a pattern", () => {
    const m = make()
    right(m.createLogGroup({ logGroupName: "a/std" }, NOW))
    right(m.createLogGroup({ logGroupName: "a/ia", logGroupClass: "INFREQUENT_ACCESS" }, NOW))
    right(m.createLogGroup({ logGroupName: "b/ia", logGroupClass: "INFREQUENT_ACCESS" }, NOW))
    right(m.createLogGroup({ logGroupName: "a/dl", logGroupClass: "DELIVERY" }, NOW))
    const names = (request: DescribeLogGroupsRequest) =>
      right(m.describeLogGroups(request, NOW)).logGroups.map((g) => g.logGroupName)
    expect(names({})).toEqual(["a/dl", "a/ia", "a/std", "b/ia"])
    expect(names({ logGroupClass: "STANDARD" })).toEqual(["a/std"])
    expect(names({ logGroupClass: "INFREQUENT_ACCESS" })).toEqual(["a/ia", "b/ia"])
    expect(names({ logGroupClass: "DELIVERY" })).toEqual(["a/dl"])
    expect(names({ logGroupClass: "INFREQUENT_ACCESS", logGroupNamePrefix: "a/" })).toEqual(["a/ia"])
    expect(names({ logGroupClass: "INFREQUENT_ACCESS", logGroupNamePattern: "/i" })).toEqual(["a/ia", "b/ia"])
    expect(names({ logGroupClass: "DELIVERY", logGroupNamePattern: "/i" })).toEqual([])
    const page = right(m.describeLogGroups({ logGroupClass: "INFREQUENT_ACCESS", limit: 1 }, NOW))
    expect(page.logGroups.map((g) => [g.logGroupName, g.logGroupClass])).toEqual([["a/ia", "INFREQUENT_ACCESS"]])
    const next = right(
      m.describeLogGroups({ logGroupClass: "INFREQUENT_ACCESS", limit: 1, nextToken: page.nextToken }, NOW)
    )
    expect(next.logGroups.map((g) => g.logGroupName)).toEqual(["b/ia"])
    expect(next.nextToken).toBeUndefined()
  })

  it("logGroupIdentifiers: 1 to 50 names matched exactly, paged, with no other filter", () => {
    const m = make()
    const all = Array.from({ length: 60 }, (_, i) => `g-${String(i).padStart(2, "0")}`)
    for (const name of all) right(m.createLogGroup({ logGroupName: name }, NOW))
    const names = (request: DescribeLogGroupsRequest) =>
      right(m.describeLogGroups(request, NOW)).logGroups.map((g) => g.logGroupName)
    // exact names only: not a prefix; unknown names and duplicates are harmless; results by name
    expect(names({ logGroupIdentifiers: ["g-07", "g-0", "nope", "g-03", "g-07"] })).toEqual(["g-03", "g-07"])
    expect(names({ logGroupIdentifiers: ["g-1"] })).toEqual([])
    // outside a monitoring account only names are taken: an ARN names no group (our reading)
    expect(names({ logGroupIdentifiers: ["arn:aws:logs:eu-west-1:123456789012:log-group:g-01"] })).toEqual([])
    const fifty = all.slice(0, 50)
    expect(names({ logGroupIdentifiers: fifty })).toEqual(fifty)
    expectInvalid(
      left(m.describeLogGroups({ logGroupIdentifiers: all.slice(0, 51) }, NOW)),
      "InvalidParameter",
      /^1 validation error detected: Value '.*' at 'logGroupIdentifiers' failed to satisfy constraint: Member must have length less than or equal to 50$/
    )
    expectInvalid(
      left(m.describeLogGroups({ logGroupIdentifiers: [] }, NOW)),
      "InvalidParameter",
      "1 validation error detected: Value '[]' at 'logGroupIdentifiers' failed to satisfy constraint: Member must have length greater than or equal to 1"
    )
    // paging (limit and nextToken are not filters)
    const page = right(m.describeLogGroups({ logGroupIdentifiers: ["g-05", "g-01", "g-09"], limit: 2 }, NOW))
    expect(page.logGroups.map((g) => g.logGroupName)).toEqual(["g-01", "g-05"])
    const next = right(
      m.describeLogGroups({ logGroupIdentifiers: ["g-05", "g-01", "g-09"], limit: 2, nextToken: page.nextToken }, NOW)
    )
    expect(next.logGroups.map((g) => g.logGroupName)).toEqual(["g-09"])
    expect(page.logGroups[0]).toMatchObject({ logGroupArn: "arn:aws:logs:eu-west-1:123456789012:log-group:g-01" })
    // the only other filter allowed is includeLinkedAccounts
    for (
      const other of [{ logGroupNamePrefix: "g-" }, { logGroupNamePattern: "g" }, {
        logGroupClass: "STANDARD" as const
      }]
    ) {
      expectInvalid(
        left(m.describeLogGroups({ logGroupIdentifiers: ["g-01"], ...other }, NOW)),
        "InvalidParameter",
        "logGroupIdentifiers can't be combined with logGroupNamePrefix, logGroupNamePattern or logGroupClass."
      )
    }
  })
})

describe("GetLogEvents", () => {
  const filled = (n: number): Model => {
    const m = withStream()
    right(put(m, Array.from({ length: n }, (_, i) => ev(NOW - n + i, `e${i}`))))
    return m
  }
  const messages = (r: Api.GetLogEventsResponse) => r.events.map((e) => e.message)

  it("from the head, pages forward until the token comes back unchanged", () => {
    const m = filled(25)
    const seen: Array<string> = []
    let token: string | undefined
    let first = right(m.getLogEvents({ logGroupName: G, logStreamName: S, startFromHead: true, limit: 10 }, NOW))
    seen.push(...messages(first))
    for (let i = 0; i < 10; i++) {
      token = first.nextForwardToken
      const next = right(m.getLogEvents({ logGroupName: G, logStreamName: S, nextToken: token, limit: 10 }, NOW))
      seen.push(...messages(next))
      if (next.nextForwardToken === token) break
      first = next
    }
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => `e${i}`))
  })

  it("without startFromHead returns the newest page; the backward token pages to older events", () => {
    const m = filled(25)
    const tail = right(m.getLogEvents({ logGroupName: G, logStreamName: S, limit: 10 }, NOW))
    expect(messages(tail)).toEqual(Array.from({ length: 10 }, (_, i) => `e${i + 15}`))
    const older = right(
      m.getLogEvents({ logGroupName: G, logStreamName: S, limit: 10, nextToken: tail.nextBackwardToken }, NOW)
    )
    expect(messages(older)).toEqual(Array.from({ length: 10 }, (_, i) => `e${i + 5}`))
    const oldest = right(
      m.getLogEvents({ logGroupName: G, logStreamName: S, limit: 10, nextToken: older.nextBackwardToken }, NOW)
    )
    expect(messages(oldest)).toEqual(["e0", "e1", "e2", "e3", "e4"])
    const end = right(
      m.getLogEvents({ logGroupName: G, logStreamName: S, limit: 10, nextToken: oldest.nextBackwardToken }, NOW)
    )
    expect(end.events).toEqual([])
    expect(end.nextBackwardToken).toBe(oldest.nextBackwardToken)
  })

  it("sees events that arrive after the last forward token", () => {
    const m = filled(3)
    const page = right(m.getLogEvents({ logGroupName: G, logStreamName: S, startFromHead: true }, NOW))
    expect(page.events.length).toBe(3)
    right(put(m, [ev(NOW, "later")]))
    const next = right(m.getLogEvents({ logGroupName: G, logStreamName: S, nextToken: page.nextForwardToken }, NOW))
    expect(messages(next)).toEqual(["later"])
  })

  it("filters by startTime (inclusive) and endTime (exclusive)", () => {
    const m = filled(10) // timestamps NOW-10 .. NOW-1
    const r = right(
      m.getLogEvents(
        { logGroupName: G, logStreamName: S, startTime: NOW - 8, endTime: NOW - 5, startFromHead: true },
        NOW
      )
    )
    expect(messages(r)).toEqual(["e2", "e3", "e4"])
  })

  it("returns events sorted by timestamp across batches sent out of order", () => {
    const m = withStream()
    right(put(m, [ev(NOW - 1, "b1"), ev(NOW, "b2")]))
    right(put(m, [ev(NOW - 3, "a1"), ev(NOW - 2, "a2")]))
    right(put(m, [ev(NOW - 1, "c1")]))
    const r = right(m.getLogEvents({ logGroupName: G, logStreamName: S, startFromHead: true }, NOW))
    expect(messages(r)).toEqual(["a1", "a2", "b1", "c1", "b2"])
  })

  it("answers at most 1 MB of events per page (message bytes + 26), paging on for the rest", () => {
    const m = withStream()
    // 8 events of 262,118 + 26 = 262,144 bytes: 4 fit exactly in 1 MB, the 5th does not
    for (let i = 0; i < 8; i++) right(put(m, [ev(NOW - 8 + i, String(i) + "b".repeat(262_117))]))
    const head = right(m.getLogEvents({ logGroupName: G, logStreamName: S, startFromHead: true }, NOW))
    expect(head.events.length).toBe(4)
    const next = right(m.getLogEvents({ logGroupName: G, logStreamName: S, nextToken: head.nextForwardToken }, NOW))
    expect(next.events.map((e) => e.message[0])).toEqual(["4", "5", "6", "7"])
    const tail = right(m.getLogEvents({ logGroupName: G, logStreamName: S }, NOW))
    expect(tail.events.map((e) => e.message[0])).toEqual(["4", "5", "6", "7"])
    const filtered = right(m.filterLogEvents({ logGroupName: G }, NOW))
    expect(filtered.events.length).toBe(4)
    expect(filtered.nextToken).toBeDefined()
    // a single event larger than the cap still comes out alone
    right(m.createLogStream({ logGroupName: G, logStreamName: "big" }, NOW))
    right(put(m, [ev(NOW, "x".repeat(1_048_550))], NOW, "big"))
    right(put(m, [ev(NOW, "y")], NOW, "big"))
    const big = right(m.getLogEvents({ logGroupName: G, logStreamName: "big", startFromHead: true }, NOW))
    expect(big.events.length).toBe(1)
  })

  it("limit 10,000 accepted, 10,001 refused; a bad token refused; missing stream not found", () => {
    const m = filled(1)
    right(m.getLogEvents({ logGroupName: G, logStreamName: S, limit: 10_000 }, NOW))
    expectInvalid(
      left(m.getLogEvents({ logGroupName: G, logStreamName: S, limit: 10_001 }, NOW)),
      "InvalidParameter",
      /Member must have value less than or equal to 10000/
    )
    expectInvalid(
      left(m.getLogEvents({ logGroupName: G, logStreamName: S, nextToken: "x" }, NOW)),
      "InvalidParameter",
      "The specified nextToken is invalid."
    )
    expect(left(m.getLogEvents({ logGroupName: G, logStreamName: "nope" }, NOW))).toMatchObject({
      resource: "logStream"
    })
  })
})

describe("FilterLogEvents", () => {
  const setup = (): Model => {
    const m = withStream()
    right(m.createLogStream({ logGroupName: G, logStreamName: "api-2" }, NOW))
    right(m.createLogStream({ logGroupName: G, logStreamName: "worker" }, NOW))
    right(put(m, [ev(NOW - 6, "ERROR disk full on /var"), ev(NOW - 3, "INFO started")], NOW, S))
    right(put(m, [ev(NOW - 5, "ERROR timeout calling db"), ev(NOW - 2, "ERROR disk full again")], NOW, "api-2"))
    right(put(m, [ev(NOW - 4, "WARN disk slow"), ev(NOW - 1, "ERROR full disk")], NOW, "worker"))
    return m
  }
  const messages = (r: Api.FilterLogEventsResponse) => r.events.map((e) => e.message)

  it("parses terms, quoted phrases, ?optional and -excluded terms", () => {
    const none = { required: [], optional: [], excluded: [] }
    expect(parseFilterPattern(`ERROR "disk full"  db`)).toEqual({ ...none, required: ["ERROR", "disk full", "db"] })
    expect(parseFilterPattern(`?ERROR ?"disk full" -db -"a b" x - ?`)).toEqual({
      required: ["x", "-", "?"],
      optional: ["ERROR", "disk full"],
      excluded: ["db", "a b"]
    })
    expect(parseFilterPattern(undefined)).toEqual(none)
    expect(parseFilterPattern("   ")).toEqual(none)
    expect(parseFilterPattern(`" "`)).toEqual(none)
  })

  it("?terms match any of them, -terms exclude, with the required terms; quoted phrases whole", () => {
    const m = setup()
    const run = (filterPattern: string) => messages(right(m.filterLogEvents({ logGroupName: G, filterPattern }, NOW)))
    expect(run("?WARN ?INFO")).toEqual(["WARN disk slow", "INFO started"])
    expect(run(`?timeout ?"disk full"`)).toEqual([
      "ERROR disk full on /var",
      "ERROR timeout calling db",
      "ERROR disk full again"
    ])
    expect(run("ERROR -full")).toEqual(["ERROR timeout calling db"])
    expect(run(`ERROR -"disk full"`)).toEqual(["ERROR timeout calling db", "ERROR full disk"])
    expect(run("-ERROR")).toEqual(["WARN disk slow", "INFO started"])
    expect(run("disk ?WARN ?again -slow")).toEqual(["ERROR disk full again"])
    // AWS: `" "` matches everything
    expect(run(`" "`).length).toBe(6)
  })

  it("JSON, space-delimited and regular-expression patterns are refused as not supported, not matched as terms", () => {
    const m = setup()
    for (
      const [filterPattern, syntax] of [
        [`{ $.level = "ERROR" }`, "JSON"],
        ["[ip, user, status = 404]", "space-delimited"],
        ["%ERROR|WARN%", "regular expression"]
      ]
    ) {
      expectInvalid(
        left(m.filterLogEvents({ logGroupName: G, filterPattern }, NOW)),
        "InvalidParameter",
        `The filter pattern '${filterPattern}' uses the ${syntax} syntax, which the emulator does not support (it supports terms, "quoted phrases", ?term and -term).`
      )
    }
  })

  it("matches every term, in time order across streams", () => {
    const m = setup()
    const all = right(m.filterLogEvents({ logGroupName: G }, NOW))
    expect(all.events.length).toBe(6)
    expect(all.events.map((e) => e.timestamp)).toEqual([6, 5, 4, 3, 2, 1].map((d) => NOW - d))
    const both = right(m.filterLogEvents({ logGroupName: G, filterPattern: "ERROR disk" }, NOW))
    expect(messages(both)).toEqual(["ERROR disk full on /var", "ERROR disk full again", "ERROR full disk"])
    const phrase = right(m.filterLogEvents({ logGroupName: G, filterPattern: `ERROR "disk full"` }, NOW))
    expect(messages(phrase)).toEqual(["ERROR disk full on /var", "ERROR disk full again"])
    expect(phrase.events[1]).toMatchObject({ logStreamName: "api-2", ingestionTime: NOW })
    expect(new Set(all.events.map((e) => e.eventId)).size).toBe(6)
  })

  it("restricts to logStreamNames or a prefix, not both; startTime and endTime inclusive", () => {
    const m = setup()
    expect(messages(right(m.filterLogEvents({ logGroupName: G, logStreamNames: ["worker"] }, NOW)))).toEqual([
      "WARN disk slow",
      "ERROR full disk"
    ])
    expect(right(m.filterLogEvents({ logGroupName: G, logStreamNamePrefix: "api" }, NOW)).events.length).toBe(4)
    expectInvalid(
      left(m.filterLogEvents({ logGroupName: G, logStreamNames: [S], logStreamNamePrefix: "api" }, NOW)),
      "InvalidParameter",
      /both/
    )
    const window = right(m.filterLogEvents({ logGroupName: G, startTime: NOW - 5, endTime: NOW - 3 }, NOW))
    expect(window.events.map((e) => e.timestamp)).toEqual([NOW - 5, NOW - 4, NOW - 3])
  })

  it("pages with nextToken, none on the last page", () => {
    const m = setup()
    const seen: Array<string> = []
    let nextToken: string | undefined
    let pages = 0
    do {
      const page = right(m.filterLogEvents({ logGroupName: G, limit: 4, nextToken }, NOW))
      seen.push(...messages(page))
      nextToken = page.nextToken
      pages++
    } while (nextToken !== undefined)
    expect(pages).toBe(2)
    expect(seen).toEqual(messages(right(m.filterLogEvents({ logGroupName: G }, NOW))))
    expectInvalid(
      left(m.filterLogEvents({ logGroupName: G, limit: 10_001 }, NOW)),
      "InvalidParameter",
      /less than or equal to 10000/
    )
    expect(left(m.filterLogEvents({ logGroupName: "nope" }, NOW))._tag).toBe("ResourceNotFoundException")
  })

  const Y2024 = Date.UTC(2024, 0, 1)

  it("startFromHead false: the latest first, its nextToken paging on in that direction", () => {
    const m = setup()
    const latest = { logGroupName: G, startTime: Y2024, startFromHead: false } as const
    const all = right(m.filterLogEvents(latest, NOW))
    expect(all.events.map((e) => e.timestamp)).toEqual([1, 2, 3, 4, 5, 6].map((d) => NOW - d))
    expect(all.nextToken).toBeUndefined()
    const first = right(m.filterLogEvents({ ...latest, limit: 4 }, NOW))
    expect(first.events.map((e) => e.timestamp)).toEqual([1, 2, 3, 4].map((d) => NOW - d))
    expect(first.nextToken).toBeDefined()
    // the token keeps its direction, whatever startFromHead says
    for (const startFromHead of [undefined, true, false]) {
      const next = right(
        m.filterLogEvents(
          { logGroupName: G, startTime: Y2024, startFromHead, limit: 4, nextToken: first.nextToken },
          NOW
        )
      )
      expect(next.events.map((e) => e.timestamp)).toEqual([NOW - 5, NOW - 6])
      expect(next.nextToken).toBeUndefined()
    }
    // a filter pattern and stream names apply the same way
    const errors = right(m.filterLogEvents({ ...latest, filterPattern: "ERROR disk", limit: 2 }, NOW))
    expect(messages(errors)).toEqual(["ERROR full disk", "ERROR disk full again"])
    const rest = right(
      m.filterLogEvents({ ...latest, filterPattern: "ERROR disk", limit: 2, nextToken: errors.nextToken }, NOW)
    )
    expect(messages(rest)).toEqual(["ERROR disk full on /var"])
    expect(messages(right(m.filterLogEvents({ ...latest, logStreamNames: ["worker"] }, NOW)))).toEqual([
      "ERROR full disk",
      "WARN disk slow"
    ])
    // an earliest-first token stays earliest first
    const head = right(m.filterLogEvents({ logGroupName: G, limit: 4 }, NOW))
    const onward = right(m.filterLogEvents({ ...latest, limit: 4, nextToken: head.nextToken }, NOW))
    expect(onward.events.map((e) => e.timestamp)).toEqual([NOW - 2, NOW - 1])
    // a FilterLogEvents token is no GetLogEvents token
    expectInvalid(
      left(m.getLogEvents({ logGroupName: G, logStreamName: S, nextToken: first.nextToken }, NOW)),
      "InvalidParameter",
      "The specified nextToken is invalid."
    )
  })

  it("startFromHead false needs a startTime on or after Jan 1, 2024 UTC: at it or none accepted, 1 ms before refused", () => {
    const m = setup()
    const says =
      "startFromHead false is supported only when startTime is on or after Jan 1, 2024 00:00:00 UTC (1704067200000)."
    expect(Y2024).toBe(1_704_067_200_000)
    expect(right(m.filterLogEvents({ logGroupName: G, startTime: Y2024, startFromHead: false }, NOW)).events.length)
      .toBe(6)
    expectInvalid(
      left(m.filterLogEvents({ logGroupName: G, startTime: Y2024 - 1, startFromHead: false }, NOW)),
      "InvalidParameter",
      says
    )
    // the model bounds only a startTime given
    expect(right(m.filterLogEvents({ logGroupName: G, startFromHead: false }, NOW)).events.length).toBe(6)
    // earliest first has no such bound
    expect(right(m.filterLogEvents({ logGroupName: G, startTime: 0, startFromHead: true }, NOW)).events.length).toBe(6)
    // a latest-first token with an earlier startTime is refused too; an earliest-first one is not
    const latest = right(m.filterLogEvents({ logGroupName: G, startTime: Y2024, startFromHead: false, limit: 1 }, NOW))
    expectInvalid(
      left(m.filterLogEvents({ logGroupName: G, startTime: Y2024 - 1, nextToken: latest.nextToken }, NOW)),
      "InvalidParameter",
      says
    )
    const earliest = right(m.filterLogEvents({ logGroupName: G, limit: 1 }, NOW))
    right(m.filterLogEvents({ logGroupName: G, startFromHead: false, nextToken: earliest.nextToken }, NOW))
  })
})

describe("discard mode", () => {
  it("counts events and bytes per stream without keeping messages", () => {
    const m = withStream({ discard: true })
    right(put(m, [ev(NOW, "héllo"), ev(NOW, "world")]))
    expect(m.stats(G, S)).toEqual({ events: 2, bytes: 6 + 5 + 52, messageBytes: 11, batches: 1 })
    expect(stored(m)).toEqual([])
    expect(right(m.describeLogStreams({ logGroupName: G }, NOW)).logStreams[0].lastEventTimestamp).toBe(NOW)
  })
})
