import { CloudWatchLogsError } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import { fromSdkError, networkReason, RESPONSE_TOO_LARGE, scrub } from "../src/internal/classify.js"

const err = (name: string, message: string, extra: object = {}) => Object.assign(new Error(message), { name }, extra)

describe("classify: SDK failures to typed errors", () => {
  it("reads network failures by socket code first, then by name and message", () => {
    const cases: ReadonlyArray<[unknown, string]> = [
      [err("Error", "connect ECONNREFUSED 127.0.0.1:1", { code: "ECONNREFUSED" }), "refused"],
      [err("TimeoutError", "socket hang up", { code: "ECONNRESET" }), "reset"],
      [err("TimeoutError", "write EPIPE", { code: "EPIPE" }), "reset"],
      [err("TimeoutError", "exceeded requestTimeout", { code: "ETIMEDOUT" }), "timeout"],
      [err("TimeoutError", "did not establish a connection"), "timeout"],
      [err("Error", "getaddrinfo ENOTFOUND x.invalid", { code: "ENOTFOUND" }), "dns"],
      [err("Error", "getaddrinfo EAI_AGAIN x", { code: "EAI_AGAIN" }), "dns"],
      [err("AbortError", "Request aborted"), "other"],
      [err("Error", "socket hang up"), "reset"],
      [err("Error", "fetch failed", { cause: { code: "ECONNREFUSED" } }), "refused"]
    ]
    for (const [error, reason] of cases) {
      expect(networkReason(error)).toBe(reason)
      const typed = fromSdkError(error)
      expect(typed._tag).toBe("NetworkError")
      expect(typed._tag === "NetworkError" && typed.reason).toBe(reason)
    }
  })

  it("a body cut off at the bound is MalformedResponseError with the status the SDK gave it", () => {
    const tooLarge = (httpStatusCode: number) =>
      fromSdkError(
        err(
          RESPONSE_TOO_LARGE,
          "The endpoint answered with a body of more than 16 bytes\n  Deserialization error: ...",
          {
            $metadata: { httpStatusCode, requestId: "r1" }
          }
        )
      )
    for (const [status, expected] of [[200, "fatal"], [429, "throttled"], [502, "transient"]] as const) {
      const typed = tooLarge(status)
      expect(typed).toMatchObject({
        _tag: "MalformedResponseError",
        httpStatus: status,
        requestId: "r1",
        message: `The endpoint answered with a body of more than 16 bytes (HTTP ${status})`
      })
      expect(CloudWatchLogsError.classify(typed)).toBe(expected)
    }
  })

  it("is not a network failure when nothing says so", () => {
    expect(networkReason(err("Error", "boom"))).toBeUndefined()
    expect(networkReason("a string")).toBeUndefined()
    expect(networkReason(null)).toBeUndefined()
  })

  it("a service error goes through fromWire with status, request id and expected token", () => {
    const typed = fromSdkError(
      err("InvalidSequenceTokenException", "The next expected sequenceToken is: 9", {
        $fault: "client",
        $metadata: { httpStatusCode: 400, requestId: "r1" },
        expectedSequenceToken: "9"
      })
    )
    expect(typed).toMatchObject({
      _tag: "InvalidSequenceTokenException",
      httpStatus: 400,
      requestId: "r1",
      expectedSequenceToken: "9"
    })
  })

  it("a body that is not JSON is MalformedResponseError with the status", () => {
    const typed = fromSdkError(
      err("SyntaxError", "Unexpected token '<'\n  Deserialization error: ...", { $metadata: { httpStatusCode: 503 } })
    )
    expect(typed).toMatchObject({ _tag: "MalformedResponseError", httpStatus: 503 })
    expect(typed.message).not.toContain("\n")
  })

  it("missing credentials are UnrecognizedClientException; a missing region is named", () => {
    expect(fromSdkError(err("CredentialsProviderError", "Could not load credentials from any providers"))._tag).toBe(
      "UnrecognizedClientException"
    )
    // after an answer, a failure to load them again is their source failing: transient, nothing sent
    const refresh = fromSdkError(
      err("CredentialsProviderError", "Could not load credentials from any providers"),
      [],
      true
    )
    expect(refresh._tag === "NetworkError" && refresh.reason).toBe("credentials")
    // but an answer with a status that speaks of credentials (a proxy's 407) was not a failure to load them
    const proxy = fromSdkError(
      err("Error", "Proxy credentials required", { $metadata: { httpStatusCode: 407 } }),
      [],
      true
    )
    expect(proxy._tag).toBe("UnrecognizedClientException")
    const region = fromSdkError(err("Error", "Region is missing"))
    expect(region._tag === "UnknownServiceError" && region.errorName).toBe("MissingRegion")
  })

  it("anything else is UnknownServiceError, never thrown away", () => {
    const typed = fromSdkError(err("TypeError", "Invalid URL"))
    expect(typed).toMatchObject({ _tag: "UnknownServiceError", errorName: "TypeError", fault: "client" })
    expect(fromSdkError("weird")._tag).toBe("UnknownServiceError")
  })

  it("scrubs secrets from every kept message", () => {
    expect(scrub("a SECRET b SECRET", ["SECRET"])).toBe("a <redacted> b <redacted>")
    const typed = fromSdkError(err("AccessDeniedException", "no for SECRETKEY", { $fault: "client" }), ["SECRETKEY"])
    expect(typed.message).toBe("no for <redacted>")
    const network = fromSdkError(err("Error", "connect ECONNREFUSED SECRETKEY", { code: "ECONNREFUSED" }), [
      "SECRETKEY"
    ])
    expect(network.message).not.toContain("SECRETKEY")
  })
})
