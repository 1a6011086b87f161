import { describe, expect, it } from "@effect/vitest"
import * as Errors from "../src/CloudWatchLogsError.js"
import * as Protocol from "../src/internal/tokenProtocol.js"

describe("Uploader protocol: what a token error says", () => {
  const token = "49590338271490256608559692538361571095492760312045158374"
  it("the field first, else the message, `null` meaning no token, else unknown", () => {
    expect(
      Protocol.tokenHint(
        new Errors.InvalidSequenceTokenException({
          message: "The given sequenceToken is invalid. The next expected sequenceToken is: 1",
          expectedSequenceToken: token
        })
      )
    ).toEqual({ _tag: "Token", token })
    expect(
      Protocol.tokenHint(
        new Errors.InvalidSequenceTokenException({
          message: `The given sequenceToken is invalid. The next expected sequenceToken is: ${token}`
        })
      )
    ).toEqual({ _tag: "Token", token })
    expect(
      Protocol.tokenHint(
        new Errors.InvalidSequenceTokenException({
          message: "The given sequenceToken is invalid. The next expected sequenceToken is: null"
        })
      )
    ).toEqual({ _tag: "NoToken" })
    expect(
      Protocol.tokenHint(new Errors.InvalidSequenceTokenException({ message: "The given sequenceToken is invalid." }))
    )
      .toEqual({ _tag: "Unknown" })
    expect(
      Protocol.tokenHint(
        new Errors.DataAlreadyAcceptedException({
          message:
            `The given batch of log events has already been accepted. The next batch can be sent with sequenceToken: ${token}`
        })
      )
    ).toEqual({ _tag: "Token", token })
  })
})

describe("Uploader protocol: may a failed call have been applied?", () => {
  it("server faults, resets, timeouts and unreadable answers may; refused connections and client errors may not", () => {
    const yes: ReadonlyArray<Errors.CloudWatchLogsError> = [
      new Errors.ServiceUnavailableException({ message: "", httpStatus: 503 }),
      new Errors.NetworkError({ message: "", reason: "reset" }),
      new Errors.NetworkError({ message: "", reason: "timeout" }),
      new Errors.NetworkError({ message: "", reason: "other" }),
      new Errors.MalformedResponseError({ message: "", httpStatus: 200 }),
      new Errors.MalformedResponseError({ message: "" }),
      new Errors.UnknownServiceError({ message: "", errorName: "X", fault: "server" })
    ]
    const no: ReadonlyArray<Errors.CloudWatchLogsError> = [
      new Errors.NetworkError({ message: "", reason: "refused" }),
      new Errors.NetworkError({ message: "", reason: "dns" }),
      new Errors.ThrottlingException({ message: "" }),
      new Errors.MalformedResponseError({ message: "", httpStatus: 400 }),
      new Errors.UnknownServiceError({ message: "", errorName: "X", fault: "client" }),
      new Errors.OperationAbortedException({ message: "" })
    ]
    for (const e of yes) expect(Protocol.possiblyApplied(e)).toBe(true)
    for (const e of no) expect(Protocol.possiblyApplied(e)).toBe(false)
  })
})

describe("Uploader protocol: rejected events", () => {
  it("events before an end index, and from the start index on", () => {
    expect(Protocol.rejectedIndexes(undefined, 3)).toEqual([])
    expect(Protocol.rejectedIndexes({}, 3)).toEqual([])
    expect(Protocol.rejectedIndexes({ tooOldLogEventEndIndex: 2, tooNewLogEventStartIndex: 4 }, 5)).toEqual([
      { index: 0, reason: "TooOld" },
      { index: 1, reason: "TooOld" },
      { index: 4, reason: "TooNew" }
    ])
    expect(Protocol.rejectedIndexes({ tooOldLogEventEndIndex: 1, expiredLogEventEndIndex: 3 }, 4)).toEqual([
      { index: 0, reason: "TooOld" },
      { index: 1, reason: "Expired" },
      { index: 2, reason: "Expired" }
    ])
  })

  it("at the limits: 0 and n reject nothing; indexes past the batch are clamped", () => {
    expect(Protocol.rejectedIndexes({ tooOldLogEventEndIndex: 0, tooNewLogEventStartIndex: 3 }, 3)).toEqual([])
    expect(Protocol.rejectedIndexes({ tooOldLogEventEndIndex: 9 }, 2).length).toBe(2)
    expect(Protocol.rejectedIndexes({ tooNewLogEventStartIndex: -1 }, 2).map((r) => r.reason)).toEqual([
      "TooNew",
      "TooNew"
    ])
    expect(Protocol.rejectedIndexes({ tooNewLogEventStartIndex: 2 }, 3)).toEqual([{ index: 2, reason: "TooNew" }])
  })

  it("batch bytes: UTF-8 bytes + 26 per event", () => {
    expect(Protocol.batchBytes([{ timestamp: 0, message: "é" }, { timestamp: 0, message: "ab" }])).toBe(2 + 26 + 2 + 26)
  })
})

describe("Uploader protocol: DescribeLogStreams filters by prefix", () => {
  it("only the exact name is ours", () => {
    const streams = [
      { logStreamName: "api-10", creationTime: 0, uploadSequenceToken: "x" },
      { logStreamName: "api-1", creationTime: 0, uploadSequenceToken: "y" }
    ]
    expect(Protocol.exactStream(streams, "api-1")?.uploadSequenceToken).toBe("y")
    expect(Protocol.exactStream(streams.slice(0, 1), "api-1")).toBeUndefined()
  })
})
