import { describe, expect, it } from "@effect/vitest"
import * as CloudWatchLogsError from "../src/CloudWatchLogsError.js"

describe("CloudWatchLogsError", () => {
  it("maps wire names, dropping prefix# and :suffix", () => {
    const e = CloudWatchLogsError.fromWire({
      name: "com.amazonaws.logs#ThrottlingException:http://internal",
      message: "Rate exceeded",
      httpStatus: 400
    })
    expect(e._tag).toBe("ThrottlingException")
    expect(CloudWatchLogsError.classify(e)).toBe("throttled")
  })

  it("a signature refused for the clock is transient (the SDK corrects its offset); any other is fatal", () => {
    const cls = (name: string, message: string) =>
      CloudWatchLogsError.classify(CloudWatchLogsError.fromWire({ name, message, httpStatus: 400 }))
    expect(cls("InvalidSignatureException", "Signature expired: 20261207T050000Z is now earlier than ...")).toBe(
      "transient"
    )
    expect(cls("InvalidSignatureException", "Signature not yet current: 20261207T070000Z is still later than ..."))
      .toBe("transient")
    expect(cls("RequestTimeTooSkewed", "The difference between the request time and the current time is too large."))
      .toBe("transient")
    expect(cls("RequestExpired", "Request has expired.")).toBe("transient")
    expect(cls("InvalidSignatureException", "The request signature we calculated does not match the signature")).toBe(
      "fatal"
    )
  })

  it("429 Too Many Requests is throttling, whatever the error is called", () => {
    const e = CloudWatchLogsError.fromWire({ name: "SlowDownPlease", message: "", httpStatus: 429 })
    expect(e._tag).toBe("ThrottlingException")
    expect(
      CloudWatchLogsError.classify(new CloudWatchLogsError.MalformedResponseError({ message: "html", httpStatus: 429 }))
    )
      .toBe("throttled")
    expect(
      CloudWatchLogsError.classify(
        new CloudWatchLogsError.UnknownServiceError({ errorName: "X", message: "", fault: "client", httpStatus: 429 })
      )
    ).toBe("throttled")
  })

  it("reads the expected token from the field, else from the message", () => {
    const fromField = new CloudWatchLogsError.InvalidSequenceTokenException({
      message: "The given sequenceToken is invalid. The next expected sequenceToken is: 111",
      expectedSequenceToken: "222"
    })
    expect(CloudWatchLogsError.expectedSequenceToken(fromField)).toBe("222")
    const fromMessage = new CloudWatchLogsError.InvalidSequenceTokenException({
      message: "The given sequenceToken is invalid. The next expected sequenceToken is: 4958"
    })
    expect(CloudWatchLogsError.expectedSequenceToken(fromMessage)).toBe("4958")
    const none = new CloudWatchLogsError.InvalidSequenceTokenException({
      message: "The given sequenceToken is invalid. The next expected sequenceToken is: null"
    })
    expect(CloudWatchLogsError.expectedSequenceToken(none)).toBeUndefined()
  })

  it("classifies every kind as the reference's retry column says", () => {
    const cases: ReadonlyArray<[string, number, CloudWatchLogsError.ErrorClass]> = [
      ["InvalidSequenceTokenException", 400, "token"],
      ["DataAlreadyAcceptedException", 400, "alreadyAccepted"],
      ["ThrottlingException", 400, "throttled"],
      ["ServiceUnavailableException", 503, "transient"],
      ["OperationAbortedException", 400, "transient"],
      ["ResourceNotFoundException", 400, "notFound"],
      ["InvalidParameterException", 400, "fatal"],
      ["UnrecognizedClientException", 400, "fatal"],
      ["LimitExceededException", 400, "fatal"],
      ["SomethingNew", 500, "transient"],
      ["SomethingNew", 400, "fatal"]
    ]
    for (const [name, httpStatus, expected] of cases) {
      expect(CloudWatchLogsError.classify(CloudWatchLogsError.fromWire({ name, message: "m", httpStatus }))).toBe(
        expected
      )
    }
  })

  it("retries what the AWS SDK's retry strategy retries: its throttling and transient names (LimitExceeded aside)", () => {
    // THROTTLING_ERROR_CODES and TRANSIENT_ERROR_CODES of @smithy/core's service-error-classification
    const cases: ReadonlyArray<[string, number, string, CloudWatchLogsError.ErrorClass]> = [
      ["RequestTimeout", 400, "ServiceUnavailableException", "transient"],
      ["RequestTimeoutException", 400, "ServiceUnavailableException", "transient"],
      ["RequestTimeoutException", 408, "ServiceUnavailableException", "transient"],
      ["TimeoutError", 400, "ServiceUnavailableException", "transient"],
      ["RequestThrottled", 400, "ThrottlingException", "throttled"],
      ["RequestThrottledException", 400, "ThrottlingException", "throttled"],
      ["ThrottledException", 400, "ThrottlingException", "throttled"],
      ["SlowDown", 503, "ThrottlingException", "throttled"],
      ["PriorRequestNotComplete", 400, "ThrottlingException", "throttled"],
      ["BandwidthLimitExceeded", 400, "ThrottlingException", "throttled"],
      ["ProvisionedThroughputExceededException", 400, "ThrottlingException", "throttled"],
      ["EC2ThrottledException", 400, "ThrottlingException", "throttled"],
      ["TransactionInProgressException", 400, "ThrottlingException", "throttled"],
      ["com.amazonaws.logs#RequestThrottled:http://internal", 400, "ThrottlingException", "throttled"],
      // a quota (too many log groups): waiting does not lift it
      ["LimitExceededException", 400, "LimitExceededException", "fatal"]
    ]
    for (const [name, httpStatus, tag, expected] of cases) {
      const error = CloudWatchLogsError.fromWire({ name, message: "m", httpStatus, requestId: "r" })
      expect({ name, tag: error._tag, class: CloudWatchLogsError.classify(error) }).toEqual({
        name,
        tag,
        class: expected
      })
      expect(error).toMatchObject({ message: "m", httpStatus, requestId: "r" })
    }
  })

  it("tells a missing group from a missing stream", () => {
    const g = CloudWatchLogsError.fromWire({
      name: "ResourceNotFoundException",
      message: "The specified log group does not exist."
    })
    const s = CloudWatchLogsError.fromWire({
      name: "ResourceNotFoundException",
      message: "The specified log stream does not exist."
    })
    expect(g._tag === "ResourceNotFoundException" && g.resource).toBe("logGroup")
    expect(s._tag === "ResourceNotFoundException" && s.resource).toBe("logStream")
  })
})

describe("ruleOfMessage", () => {
  it("names the rule of each of AWS's InvalidParameter messages", () => {
    const cases: ReadonlyArray<[string, CloudWatchLogsError.Rule]> = [
      [
        "1 validation error detected: Value '' at 'logEvents.3.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1",
        "EmptyMessage"
      ],
      [
        "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1",
        "EmptyBatch"
      ],
      [
        "1 validation error detected: Value '[...]' at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000",
        "TooManyEvents"
      ],
      ["Upload too large: 1048577 bytes exceeds limit of 1048576", "BatchTooLarge"],
      ["Log event too large: 262145 bytes exceeds limit of 262144", "EventTooLarge"],
      ["Log events in a single PutLogEvents request must be in chronological order.", "NotChronological"],
      [
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        "SpanOver24Hours"
      ],
      ["something else entirely", "InvalidParameter"]
    ]
    for (const [message, rule] of cases) expect(CloudWatchLogsError.ruleOfMessage(message)).toBe(rule)
  })
})
