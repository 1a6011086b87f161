import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs"
import {
  CloudWatchLogs,
  CloudWatchLogsApi,
  CloudWatchLogsError,
  Destination,
  LogEvent,
  RetryPolicy,
  UploadRateLimiter
} from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import { invalidOptions, MAX_RESPONSE_BYTES } from "../src/internal/sdk.js"
import * as NodeCloudWatchLogs from "../src/NodeCloudWatchLogs.js"
import { type Answer, awsError, awsOk, fakeServer, freePort, httpServer, type SeenRequest } from "./support/servers.js"

const SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
const SESSION = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789"

const credentials = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: Redacted.make(SECRET),
  sessionToken: Redacted.make(SESSION)
}

const api = (endpoint: string, options: NodeCloudWatchLogs.Options = {}) =>
  NodeCloudWatchLogs.make({ endpoint, region: "us-east-1", credentials, ...options })

const put = (cw: CloudWatchLogsApi.CloudWatchLogsApiShape) =>
  cw.putLogEvents({ logGroupName: "g", logStreamName: "s", logEvents: [{ timestamp: 1, message: "m" }] })

const answering = (answer: Answer | ((request: SeenRequest) => Answer)) =>
  fakeServer(typeof answer === "function" ? answer : () => answer)

const secretFree = (error: unknown) => {
  for (const text of [String(error), JSON.stringify(error), error instanceof Error ? error.message : ""]) {
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain(SESSION)
  }
}

describe("NodeCloudWatchLogs: failures are typed", () => {
  it.scopedLive("a closed port is NetworkError refused", () =>
    Effect.gen(function*() {
      const port = yield* freePort
      const cw = yield* api(`http://127.0.0.1:${port}`)
      const error = yield* Effect.flip(put(cw))
      expect(error._tag).toBe("NetworkError")
      expect(error._tag === "NetworkError" && error.reason).toBe("refused")
      expect(CloudWatchLogsError.classify(error)).toBe("transient")
      secretFree(error)
    }))

  it.scopedLive("a host that does not resolve is NetworkError dns", () =>
    Effect.gen(function*() {
      const cw = yield* api("http://cwlogs-test.invalid")
      const error = yield* Effect.flip(put(cw))
      expect(error._tag === "NetworkError" && error.reason).toBe("dns")
    }))

  it.scopedLive("an HTML page (200) or a gateway's HTML error (502) is MalformedResponseError", () =>
    Effect.gen(function*() {
      const ok = yield* answering({ status: 200, headers: { "content-type": "text/html" }, body: "<html>hi</html>" })
      const bad = yield* answering({ status: 502, headers: { "content-type": "text/html" }, body: "<html>502</html>" })
      const e200 = yield* Effect.flip(Effect.flatMap(api(ok.endpoint), (cw) => cw.describeLogGroups({})))
      expect(e200._tag).toBe("MalformedResponseError")
      expect(e200._tag === "MalformedResponseError" && e200.httpStatus).toBe(200)
      expect(CloudWatchLogsError.classify(e200)).toBe("fatal")
      const e502 = yield* Effect.flip(Effect.flatMap(api(bad.endpoint), put))
      expect(e502._tag).toBe("MalformedResponseError")
      expect(e502._tag === "MalformedResponseError" && e502.httpStatus).toBe(502)
      expect(CloudWatchLogsError.classify(e502)).toBe("transient")
    }))

  it.scopedLive("garbage bytes are MalformedResponseError", () =>
    Effect.gen(function*() {
      const server = yield* answering({ status: 200, body: "\u0000\u0001not json at all{" })
      const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint), put))
      expect(error._tag).toBe("MalformedResponseError")
    }))

  it.scopedLive("a JSON answer lacking a required member is MalformedResponseError", () =>
    Effect.gen(function*() {
      const server = yield* answering(awsOk({ logGroups: [{ creationTime: 1 }] }))
      const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint), (cw) => cw.describeLogGroups({})))
      expect(error._tag).toBe("MalformedResponseError")
      expect(error.message).toContain("logGroupName")
    }))

  it.scopedLive("a token that is not a string (a number, an object) is MalformedResponseError, not sent back", () =>
    Effect.gen(function*() {
      for (const token of [123, { token: "x" }, true]) {
        const server = yield* answering(awsOk({ nextSequenceToken: token }))
        const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint), put))
        expect(error).toMatchObject({ _tag: "MalformedResponseError", httpStatus: 200 })
        expect(error.message).toContain("nextSequenceToken")
      }
      // an index to cut the batch at that is not a whole number
      const index = yield* answering(awsOk({ rejectedLogEventsInfo: { tooOldLogEventEndIndex: "2" } }))
      const wrongIndex = yield* Effect.flip(Effect.flatMap(api(index.endpoint), put))
      expect(wrongIndex.message).toContain("tooOldLogEventEndIndex is not a whole number")
      // null is none, as the SDK reads it
      const none = yield* answering(awsOk({ nextSequenceToken: null }))
      expect((yield* Effect.flatMap(api(none.endpoint), put)).nextSequenceToken).toBeUndefined()
    }))

  it.scopedLive("the call's span ends with the error it gives: a malformed answer, and a narrowed one", () =>
    Effect.gen(function*() {
      const spans: Array<Tracer.Span> = []
      const base = yield* Effect.tracer
      const recording = Tracer.make({
        span: (...args) => {
          const span = base.span(...args)
          spans.push(span)
          return span
        },
        context: base.context
      })
      const malformed = yield* answering(awsOk({ logGroups: [{ creationTime: 1 }] }))
      yield* Effect.flip(
        Effect.flatMap(api(malformed.endpoint), (cw) => cw.describeLogGroups({})).pipe(
          Effect.withTracer(recording)
        )
      )
      // a put answered with an error PutLogEvents does not have (the narrowing demotes it)
      const denied = yield* answering(awsError(400, "InvalidOperationException", "not for puts"))
      const narrowed = yield* Effect.flip(Effect.flatMap(api(denied.endpoint), put).pipe(Effect.withTracer(recording)))
      const ended = (name: string) => {
        const span = spans.find((s) => s.name === name)
        return span?.status._tag === "Ended" ? span.status.exit : undefined
      }
      const described = ended("CloudWatchLogs.DescribeLogGroups")
      expect(described !== undefined && Exit.isFailure(described)).toBe(true)
      expect(described !== undefined && Exit.isFailure(described) && Cause.squash(described.cause)).toMatchObject({
        _tag: "MalformedResponseError"
      })
      const putExit = ended("CloudWatchLogs.PutLogEvents")
      expect(putExit !== undefined && Exit.isFailure(putExit) && Cause.squash(putExit.cause)).toMatchObject({
        _tag: narrowed._tag
      })
    }))

  it.scopedLive("a server that never answers is NetworkError timeout after requestTimeout", () =>
    Effect.gen(function*() {
      const server = yield* answering("hang")
      const cw = yield* api(server.endpoint, { requestTimeout: "300 millis" })
      const error = yield* Effect.flip(put(cw))
      expect(error._tag === "NetworkError" && error.reason).toBe("timeout")
      expect(CloudWatchLogsError.classify(error)).toBe("transient")
    }))

  it.scopedLive("an answer cut in its body is NetworkError reset (lost, not malformed): retried, not fatal", () =>
    Effect.gen(function*() {
      const server = yield* answering("cut")
      const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint), put))
      expect(error._tag === "NetworkError" && error.reason).toBe("reset")
      expect(CloudWatchLogsError.classify(error)).toBe("transient")
    }))

  it.scopedLive("an answer that stalls after its headers fails as a timeout at the call's deadline, its request aborted", () =>
    Effect.gen(function*() {
      const server = yield* answering("stall")
      const cw = yield* api(server.endpoint, { connectionTimeout: "300 millis", requestTimeout: "300 millis" })
      const error = yield* Effect.flip(put(cw)).pipe(Effect.timeout("20 seconds"))
      expect(error._tag === "NetworkError" && error.reason).toBe("timeout")
      expect(CloudWatchLogsError.classify(error)).toBe("transient")
      yield* Effect.sync(() => server.aborted.length).pipe(
        Effect.repeat({ until: (n) => n > 0, schedule: Schedule.spaced("10 millis") }),
        Effect.timeout("5 seconds")
      )
    }))

  it.scopedLive("429 without an AWS error body (a proxy, a gateway) is throttling", () =>
    Effect.gen(function*() {
      for (const body of ["", "<html>Too Many Requests</html>"]) {
        const server = yield* answering({ status: 429, headers: { "retry-after": "1" }, body })
        const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint), put))
        expect(error._tag).toBe("ThrottlingException")
        expect(CloudWatchLogsError.classify(error)).toBe("throttled")
      }
    }))

  it.scopedLive("a signature refused for the clock is retried; a wrong signature is not", () =>
    Effect.gen(function*() {
      const skewed = yield* answering(
        awsError(
          400,
          "InvalidSignatureException",
          "Signature expired: 20261207T050000Z is now earlier than 20261207T060000Z"
        )
      )
      const expired = yield* Effect.flip(Effect.flatMap(api(skewed.endpoint), put))
      expect(expired._tag).toBe("InvalidSignatureException")
      expect(CloudWatchLogsError.classify(expired)).toBe("transient")
      const wrong = yield* answering(
        awsError(
          400,
          "InvalidSignatureException",
          "The request signature we calculated does not match the signature you provided."
        )
      )
      const refused = yield* Effect.flip(Effect.flatMap(api(wrong.endpoint), put))
      expect(CloudWatchLogsError.classify(refused)).toBe("fatal")
    }))

  it.scopedLive("an infinite requestTimeout, or one longer than a timer can wait, is none (it timed out at once)", () =>
    Effect.gen(function*() {
      const server = yield* answering(awsOk({ nextSequenceToken: "1" }))
      for (const requestTimeout of [Duration.infinity, Duration.days(30)]) {
        const cw = yield* api(server.endpoint, { requestTimeout })
        yield* put(cw)
      }
    }))

  it.scopedLive("an empty region is none: with an endpoint and no region anywhere, MissingRegion, typed", () =>
    Effect.gen(function*() {
      // no region anywhere: not in the environment, nor in a config file
      const keys = ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE", "AWS_PROFILE"] as const
      const saved = keys.map((k) => [k, process.env[k]] as const)
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          for (const [k, v] of saved) {
            if (v === undefined) delete process.env[k]
            else process.env[k] = v
          }
        })
      )
      for (const k of keys) delete process.env[k]
      process.env.AWS_CONFIG_FILE = "/nonexistent/aws-config"
      const server = yield* answering(awsOk({}))
      const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint, { region: "" }), put))
      expect(error._tag === "UnknownServiceError" && error.errorName).toBe("MissingRegion")
    }))

  it.scopedLive("a dropped connection is NetworkError reset", () =>
    Effect.gen(function*() {
      const server = yield* answering("reset")
      const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint), put))
      expect(error._tag === "NetworkError" && error.reason).toBe("reset")
    }))

  it.scopedLive("interrupting a call aborts its HTTP request", () =>
    Effect.gen(function*() {
      const server = yield* answering("hang")
      const cw = yield* api(server.endpoint)
      const fiber = yield* Effect.fork(put(cw))
      yield* Effect.sync(() => server.seen.length).pipe(
        Effect.repeat({ until: (n) => n > 0, schedule: Schedule.spaced("10 millis") })
      )
      yield* Fiber.interrupt(fiber)
      yield* Effect.sync(() => server.aborted.length).pipe(
        Effect.repeat({ until: (n) => n > 0, schedule: Schedule.spaced("10 millis") }),
        Effect.timeout("5 seconds")
      )
      expect(server.aborted.map((r) => r.operation)).toEqual(["PutLogEvents"])
    }))

  it.scopedLive("the SDK does not retry on its own: one 503 is one request and one typed error", () =>
    Effect.gen(function*() {
      const server = yield* answering(awsError(503, "ServiceUnavailableException", "try later"))
      const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint), put))
      expect(error._tag).toBe("ServiceUnavailableException")
      expect(server.seen).toHaveLength(1)
      const throttled = yield* answering(awsError(400, "ThrottlingException", "Rate exceeded"))
      const e2 = yield* Effect.flip(Effect.flatMap(api(throttled.endpoint), put))
      expect(e2._tag).toBe("ThrottlingException")
      expect(throttled.seen).toHaveLength(1)
    }))
})

describe("NodeCloudWatchLogs: options", () => {
  it.scopedLive("maxAttempts hands retrying back to the SDK when asked (3 attempts on a 503)", () =>
    Effect.gen(function*() {
      const server = yield* answering(awsError(503, "ServiceUnavailableException", "try later"))
      const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint, { maxAttempts: 3 }), put))
      expect(error._tag).toBe("ServiceUnavailableException")
      expect(server.seen).toHaveLength(3)
    }))

  it.scopedLive("the region option signs for that region", () =>
    Effect.gen(function*() {
      const server = yield* answering(awsOk({ logGroups: [] }))
      yield* Effect.flatMap(api(server.endpoint, { region: "ap-southeast-2" }), (cw) => cw.describeLogGroups({}))
      expect(String(server.seen[0].headers["authorization"])).toContain("/ap-southeast-2/logs/aws4_request")
      expect(server.seen[0].headers["x-amz-target"]).toBe("Logs_20140328.DescribeLogGroups")
    }))
})

describe("NodeCloudWatchLogs: service errors", () => {
  it.scopedLive("InvalidSequenceTokenException carries the expected token, the request id and the status", () =>
    Effect.gen(function*() {
      const server = yield* answering(
        awsError(
          400,
          "InvalidSequenceTokenException",
          "The given sequenceToken is invalid. The next expected sequenceToken is: 4955",
          {
            expectedSequenceToken: "4955"
          }
        )
      )
      const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint), put))
      expect(error).toBeInstanceOf(CloudWatchLogsError.InvalidSequenceTokenException)
      if (error._tag !== "InvalidSequenceTokenException") return
      expect(CloudWatchLogsError.expectedSequenceToken(error)).toBe("4955")
      expect(error.requestId).toBe("req-InvalidSequenceTokenException")
      expect(error.httpStatus).toBe(400)
    }))

  it.scopedLive("DataAlreadyAcceptedException is classified alreadyAccepted, with its token", () =>
    Effect.gen(function*() {
      const server = yield* answering(
        awsError(
          400,
          "DataAlreadyAcceptedException",
          "The given batch of log events has already been accepted. The next batch can be sent with sequenceToken: 77",
          { expectedSequenceToken: "77" }
        )
      )
      const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint), put))
      expect(CloudWatchLogsError.classify(error)).toBe("alreadyAccepted")
      expect(error._tag === "DataAlreadyAcceptedException" && CloudWatchLogsError.expectedSequenceToken(error)).toBe(
        "77"
      )
    }))

  it.scopedLive("error names with a namespace prefix are normalised", () =>
    Effect.gen(function*() {
      const server = yield* answering(
        awsError(400, "com.amazonaws.logs#ResourceNotFoundException", "The specified log stream does not exist.")
      )
      const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint), put))
      expect(error._tag).toBe("ResourceNotFoundException")
      expect(error._tag === "ResourceNotFoundException" && error.resource).toBe("logStream")
    }))

  it.scopedLive("an unknown error is UnknownServiceError; a 5xx one is transient", () =>
    Effect.gen(function*() {
      const server = yield* answering(awsError(500, "SomethingNewException", "new"))
      const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint), put))
      expect(error._tag === "UnknownServiceError" && [error.errorName, error.fault]).toEqual([
        "SomethingNewException",
        "server"
      ])
      expect(CloudWatchLogsError.classify(error)).toBe("transient")
    }))

  it.scopedLive("an error outside an operation's union is kept as UnknownServiceError, never dropped", () =>
    Effect.gen(function*() {
      const server = yield* answering(
        awsError(400, "ResourceNotFoundException", "The specified log group does not exist.")
      )
      const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint), (cw) => cw.describeLogGroups({})))
      expect(error._tag === "UnknownServiceError" && error.errorName).toBe("ResourceNotFoundException")
      expect(error.message).toBe("The specified log group does not exist.")
    }))

  it.scopedLive("UnrecognizedClientException is fatal", () =>
    Effect.gen(function*() {
      const server = yield* answering(
        awsError(400, "UnrecognizedClientException", "The security token included in the request is invalid.")
      )
      const error = yield* Effect.flip(Effect.flatMap(api(server.endpoint), put))
      expect(error._tag).toBe("UnrecognizedClientException")
      expect(CloudWatchLogsError.classify(error)).toBe("fatal")
    }))
})

describe("NodeCloudWatchLogs: what the AWS SDK retries is retried", () => {
  // THROTTLING_ERROR_CODES and TRANSIENT_ERROR_CODES of @smithy/core's service-error-classification
  const cases = [
    [400, "RequestTimeout", "transient"],
    [400, "RequestTimeoutException", "transient"],
    [408, "RequestTimeoutException", "transient"],
    [400, "RequestThrottled", "throttled"],
    [400, "RequestThrottledException", "throttled"],
    [503, "SlowDown", "throttled"],
    [400, "PriorRequestNotComplete", "throttled"],
    [400, "BandwidthLimitExceeded", "throttled"]
  ] as const
  // retries without a pause: nothing here waits on the clock
  const Retries = RetryPolicy.layer({ transient: Schedule.recurs(2), throttled: Schedule.recurs(2) })

  for (const [status, type, expected] of cases) {
    it.scopedLive(`${status} ${type} is ${expected}: the batch is sent again and stored`, () =>
      Effect.gen(function*() {
        const once = yield* answering(awsError(status, type, "try again"))
        const error = yield* Effect.flip(Effect.flatMap(api(once.endpoint), put))
        expect({ status: "httpStatus" in error && error.httpStatus, class: CloudWatchLogsError.classify(error) })
          .toEqual({ status, class: expected })

        let puts = 0
        const server = yield* answering((request) => {
          if (request.operation !== "PutLogEvents") return awsOk({})
          puts += 1
          return puts === 1 ? awsError(status, type, "try again") : awsOk({ nextSequenceToken: "1" })
        })
        const report = yield* Stream.make(LogEvent.make(Date.now(), "kept")).pipe(
          Stream.run(CloudWatchLogs.sink(Destination.make("g", "s"), { maxInFlight: 1 })),
          Effect.provide(
            Layer.mergeAll(
              NodeCloudWatchLogs.layer({ endpoint: server.endpoint, region: "us-east-1", credentials }),
              Retries,
              UploadRateLimiter.layerUnlimited
            )
          )
        )
        expect(report.accepted).toBe(1)
        expect(report.retries).toBe(1)
        const sent = server.seen.filter((r) => r.operation === "PutLogEvents").map((r) => JSON.parse(r.body))
        expect(sent).toHaveLength(2)
        expect(sent[1]).toEqual(sent[0])
      }))
  }
})

describe("NodeCloudWatchLogs: the size of an answer is bounded", () => {
  const MiB = 1024 * 1024
  /** What the server writes at most: far past the bound, so that an unbounded read gets it all. */
  const ENDLESS = 128 * MiB
  /**
   * Socket buffers between the server's writes and the client's reads (loopback: a receive buffer of up
   * to `tcp_rmem`'s 32 MiB here, a send buffer of 4 MiB, a chunk): what the server may have written past
   * what the client read.
   */
  const IN_BUFFERS = 40 * MiB

  /**
   * A server that answers every request with `status` and a JSON body that goes on for `ENDLESS` bytes,
   * written as fast as the client takes it; `declared` sets a content-length. It counts what it wrote
   * and whether the client closed the connection before the body's end.
   */
  const endless = (status: number, declared?: number) =>
    Effect.gen(function*() {
      const state = { sent: 0, closedEarly: false }
      const chunk = Buffer.alloc(MiB, 0x61)
      const endpoint = yield* httpServer((req, res) => {
        req.resume()
        res.writeHead(status, {
          "content-type": "application/x-amz-json-1.1",
          ...(declared !== undefined ? { "content-length": String(declared) } : {})
        })
        res.once("close", () => {
          if (!res.writableFinished) state.closedEarly = true
        })
        res.write("{\"nextSequenceToken\":\"")
        const pump = () => {
          while (!res.destroyed) {
            if (state.sent >= ENDLESS) {
              if (declared === undefined) res.end("\"}")
              else res.destroy()
              return
            }
            state.sent += chunk.length
            if (!res.write(chunk)) return
          }
        }
        res.on("drain", pump)
        pump()
      })
      return { endpoint, state }
    })

  /** How a call ended, in a few words (an answer read whole would be too large to print). */
  const outcome = <A, E extends CloudWatchLogsError.CloudWatchLogsError, R>(call: Effect.Effect<A, E, R>) =>
    Effect.match(call, {
      onSuccess: () => ({ _tag: "Success", httpStatus: undefined, message: "", class: undefined }),
      onFailure: (error) => ({
        _tag: error._tag,
        httpStatus: "httpStatus" in error ? error.httpStatus : undefined,
        message: error.message.slice(0, 300),
        class: CloudWatchLogsError.classify(error)
      })
    })

  const waitClosed = (state: { readonly closedEarly: boolean }) =>
    Effect.sync(() => state.closedEarly).pipe(
      Effect.repeat({ until: (closed) => closed, schedule: Schedule.spaced("10 millis") }),
      Effect.timeout("5 seconds")
    )

  it.scopedLive("an endless 200 body fails as MalformedResponseError once past the bound, its request aborted", () =>
    Effect.gen(function*() {
      const server = yield* endless(200)
      // the default deadline (35 s): the bound ends the call, not the deadline
      const ended = yield* outcome(Effect.flatMap(api(server.endpoint), put))
      // classified as any malformed answer with this status
      expect(ended).toMatchObject({ _tag: "MalformedResponseError", httpStatus: 200, class: "fatal" })
      expect(ended.message).toContain(`larger than the ${MAX_RESPONSE_BYTES} bytes a response may have`)
      yield* waitClosed(server.state)
      expect(server.state.sent).toBeGreaterThan(MAX_RESPONSE_BYTES)
      expect(server.state.sent).toBeLessThan(MAX_RESPONSE_BYTES + IN_BUFFERS)
      secretFree(ended)
    }))

  it.scopedLive("an endless 502 body is MalformedResponseError too, and transient as a gateway's HTML is", () =>
    Effect.gen(function*() {
      const server = yield* endless(502)
      const ended = yield* outcome(
        Effect.flatMap(api(server.endpoint), (cw) => cw.describeLogStreams({ logGroupName: "g" }))
      )
      expect(ended).toMatchObject({ _tag: "MalformedResponseError", httpStatus: 502, class: "transient" })
      yield* waitClosed(server.state)
      expect(server.state.sent).toBeLessThan(MAX_RESPONSE_BYTES + IN_BUFFERS)
    }))

  it.scopedLive("a content-length past the bound fails before the body is read", () =>
    Effect.gen(function*() {
      const server = yield* endless(200, 1024 * MiB)
      const ended = yield* outcome(Effect.flatMap(api(server.endpoint), put))
      expect(ended).toMatchObject({ _tag: "MalformedResponseError", httpStatus: 200 })
      expect(ended.message).toContain(`(its content-length: ${1024 * MiB})`)
      yield* waitClosed(server.state)
      // nothing read: what the server wrote is what the socket buffers took
      expect(server.state.sent).toBeLessThan(IN_BUFFERS)
    }))

  it.scopedLive("a page of the largest JSON the service sends (1 MiB of control characters, escaped) is read", () =>
    Effect.gen(function*() {
      const message = "\u0001".repeat(MiB)
      const server = yield* answering(awsOk({ events: [{ timestamp: 1, message, ingestionTime: 2 }] }))
      const page = yield* Effect.flatMap(
        api(server.endpoint),
        (cw) => cw.getLogEvents({ logGroupName: "g", logStreamName: "s" })
      )
      expect(page.events.map((e) => e.message.length)).toEqual([MiB])
    }))
})

describe("NodeCloudWatchLogs: secrets", () => {
  it.scopedLive("the secret key and session token never appear in an error, even when a server echoes them", () =>
    Effect.gen(function*() {
      // The session token travels in a header; a hostile server puts it (and the secret) in its message.
      const server = yield* answering((request) =>
        awsError(
          400,
          "AccessDeniedException",
          `denied for ${String(request.headers["x-amz-security-token"])} / ${SECRET} / ${
            String(request.headers["authorization"])
          }`
        )
      )
      const cw = yield* api(server.endpoint)
      const denied = yield* Effect.flip(put(cw))
      expect(denied._tag).toBe("AccessDeniedException")
      expect(server.seen[0].headers["x-amz-security-token"]).toBe(SESSION)
      expect(denied.message).toContain("<redacted>")
      secretFree(denied)
      const html = yield* answering({ status: 200, body: `<html>${SECRET}</html>` })
      secretFree(yield* Effect.flip(Effect.flatMap(api(html.endpoint), put)))
      const hang = yield* answering("hang")
      secretFree(yield* Effect.flip(Effect.flatMap(api(hang.endpoint, { requestTimeout: "200 millis" }), put)))
    }))

  it("the options print the secret as <redacted>", () => {
    const options: NodeCloudWatchLogs.Options = { credentials }
    expect(JSON.stringify(options)).not.toContain(SECRET)
    expect(String(options.credentials?.secretAccessKey)).not.toContain(SECRET)
  })
})

describe("NodeCloudWatchLogs: layers and configuration", () => {
  const describeGroups = Effect.flatMap(CloudWatchLogsApi.CloudWatchLogsApi, (cw) => cw.describeLogGroups({}))

  it.scopedLive("a timeout of zero or less is refused, never taken as none (a call would wait for ever)", () =>
    Effect.gen(function*() {
      const server = yield* answering("hang")
      const invalid: ReadonlyArray<NodeCloudWatchLogs.Options> = [
        { requestTimeout: "0 millis" },
        { requestTimeout: Duration.seconds(-1) },
        { connectionTimeout: 0 },
        { maxAttempts: 0 },
        { maxAttempts: 1.5 }
      ]
      for (const options of invalid) {
        const exit = yield* Effect.exit(Effect.scoped(api(server.endpoint, options)))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toMatch(
          /cwlogs: NodeCloudWatchLogs: (requestTimeout|connectionTimeout|maxAttempts) must be/
        )
      }
      // from Config: a ConfigError that says which
      const layer = NodeCloudWatchLogs.layerConfig({
        endpoint: Config.succeed(server.endpoint),
        region: Config.succeed("us-east-1"),
        requestTimeout: Config.duration("TIMEOUT")
      })
      const error = yield* Effect.flip(
        describeGroups.pipe(
          Effect.provide(layer),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["TIMEOUT", "0 millis"]])))
        )
      )
      expect(ConfigError.isConfigError(error) && String(error)).toMatch(/requestTimeout must be more than zero/)
      expect(server.seen).toHaveLength(0)
    }))

  it.scopedLive("an endpoint that is not an http(s) URL is refused when the layer is made, not at the first call", () =>
    Effect.gen(function*() {
      for (const endpoint of ["localhost:4566", "127.0.0.1:4566", "ftp://127.0.0.1:4566", "::not a url"]) {
        const options = { endpoint, region: "us-east-1", credentials }
        const exit = yield* Effect.exit(describeGroups.pipe(Effect.provide(NodeCloudWatchLogs.layer(options))))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain(
          `cwlogs: NodeCloudWatchLogs: endpoint must be a URL starting with http:// or https:// (got ${
            JSON.stringify(endpoint)
          })`
        )
        const error = yield* Effect.flip(
          describeGroups.pipe(
            Effect.provide(NodeCloudWatchLogs.layerConfig({
              endpoint: Config.string("ENDPOINT"),
              region: Config.succeed("us-east-1")
            })),
            Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["ENDPOINT", endpoint]])))
          )
        )
        expect(ConfigError.isConfigError(error) && String(error)).toContain("endpoint must be a URL")
      }
    }))

  it.scopedLive("an AWS_ENDPOINT_URL* without a scheme is refused when the layer is made, naming the variable", () =>
    Effect.gen(function*() {
      const server = yield* answering(awsOk({ logGroups: [] }))
      const saved = { service: process.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, all: process.env.AWS_ENDPOINT_URL }
      const restore = (name: string, value: string | undefined) => {
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
      }
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          restore("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", saved.service)
          restore("AWS_ENDPOINT_URL", saved.all)
        })
      )
      const fromEnvironment = { region: "us-east-1", credentials }
      delete process.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS
      process.env.AWS_ENDPOINT_URL = "localhost:4566"
      const exit = yield* Effect.exit(describeGroups.pipe(Effect.provide(NodeCloudWatchLogs.layer(fromEnvironment))))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain(
        `cwlogs: NodeCloudWatchLogs: AWS_ENDPOINT_URL must be a URL starting with http:// or https:// (got "localhost:4566")`
      )
      const error = yield* Effect.flip(
        describeGroups.pipe(Effect.provide(NodeCloudWatchLogs.layerConfig({ region: Config.succeed("us-east-1") })))
      )
      expect(ConfigError.isConfigError(error) && String(error)).toContain("AWS_ENDPOINT_URL must be a URL")
      // the service's own variable comes first, as in the SDK: a good one there is used
      process.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS = server.endpoint
      expect(yield* describeGroups.pipe(Effect.provide(NodeCloudWatchLogs.layer(fromEnvironment)))).toEqual({
        logGroups: [],
        nextToken: undefined
      })
      // and a bad one there is named
      process.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS = "127.0.0.1:1"
      process.env.AWS_ENDPOINT_URL = server.endpoint
      const service = yield* Effect.exit(describeGroups.pipe(Effect.provide(NodeCloudWatchLogs.layer(fromEnvironment))))
      expect(Exit.isFailure(service) && Cause.pretty(service.cause)).toContain(
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS must be"
      )
      // AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true: the SDK ignores both variables, so they are not checked
      expect(
        invalidOptions({ region: "us-east-1" }, {
          AWS_ENDPOINT_URL: "localhost:4566",
          AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: "true"
        })
      ).toBeUndefined()
      // an endpoint given as an option wins over the environment, whatever it holds
      yield* describeGroups.pipe(
        Effect.provide(NodeCloudWatchLogs.layer({ ...fromEnvironment, endpoint: server.endpoint }))
      )
      expect(server.seen).toHaveLength(2)
    }))

  it.scopedLive("layer: maps the response and drops $metadata; arrays default to []", () =>
    Effect.gen(function*() {
      const server = yield* answering(awsOk({}))
      const result = yield* describeGroups.pipe(
        Effect.provide(NodeCloudWatchLogs.layer({ endpoint: server.endpoint, region: "us-east-1", credentials }))
      )
      expect(result).toEqual({ logGroups: [], nextToken: undefined })
      expect(server.seen[0].operation).toBe("DescribeLogGroups")
      expect(server.seen[0].headers["content-type"]).toBe("application/x-amz-json-1.1")
    }))

  it.scopedLive("layerConfig reads endpoint, region and credentials from Config; the secret via Config.redacted", () =>
    Effect.gen(function*() {
      const server = yield* answering(awsOk({ logGroups: [] }))
      const layer = NodeCloudWatchLogs.layerConfig({
        endpoint: Config.string("ENDPOINT"),
        region: Config.string("REGION"),
        credentials: Config.all({
          accessKeyId: Config.string("KEY_ID"),
          secretAccessKey: Config.redacted("SECRET")
        })
      })
      const provider = ConfigProvider.fromMap(
        new Map([["ENDPOINT", server.endpoint], ["REGION", "eu-west-3"], ["KEY_ID", "AKIDCONFIG"], ["SECRET", SECRET]])
      )
      yield* describeGroups.pipe(Effect.provide(layer), Effect.withConfigProvider(provider))
      const authorization = String(server.seen[0].headers["authorization"])
      expect(authorization).toContain("AKIDCONFIG/")
      expect(authorization).toContain("/eu-west-3/logs/aws4_request")
      const missing = yield* Effect.exit(
        describeGroups.pipe(Effect.provide(layer), Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
      )
      expect(Exit.isFailure(missing)).toBe(true)
    }))

  it.scopedLive("the endpoint comes from AWS_ENDPOINT_URL_CLOUDWATCH_LOGS when not given", () =>
    Effect.gen(function*() {
      const server = yield* answering(awsOk({ logGroups: [] }))
      const previous = process.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          process.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS = server.endpoint
        }),
        () =>
          Effect.sync(() => {
            if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS
            else process.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS = previous
          })
      )
      yield* describeGroups.pipe(Effect.provide(NodeCloudWatchLogs.layer({ region: "us-east-1", credentials })))
      expect(server.seen.map((r) => r.operation)).toEqual(["DescribeLogGroups"])
    }))

  it.scopedLive("closing the layer's scope destroys the client and its keep-alive sockets", () =>
    Effect.gen(function*() {
      const server = yield* answering(awsOk({ logGroups: [] }))
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(
        NodeCloudWatchLogs.layer({ endpoint: server.endpoint, region: "us-east-1", credentials }),
        scope
      )
      yield* Effect.provide(describeGroups, context)
      expect(server.openSockets()).toBe(1)
      yield* Scope.close(scope, Exit.void)
      yield* Effect.sync(() => server.openSockets()).pipe(
        Effect.repeat({ until: (n) => n === 0, schedule: Schedule.spaced("10 millis") }),
        Effect.timeout("5 seconds")
      )
    }))

  it.scopedLive("layerClient uses the caller's client and leaves it open", () =>
    Effect.gen(function*() {
      const server = yield* answering(awsOk({ logGroups: [{ logGroupName: "mine", creationTime: 5 }] }))
      const client = yield* Effect.acquireRelease(
        Effect.sync(() =>
          new CloudWatchLogsClient({
            endpoint: server.endpoint,
            region: "us-east-1",
            credentials: { accessKeyId: "a", secretAccessKey: "b" }
          })
        ),
        (c) => Effect.sync(() => c.destroy())
      )
      const first = yield* describeGroups.pipe(Effect.provide(NodeCloudWatchLogs.layerClient(client)))
      expect(first.logGroups.map((g) => [g.logGroupName, g.creationTime])).toEqual([["mine", 5]])
      const again = yield* describeGroups.pipe(Effect.provide(NodeCloudWatchLogs.layerClient(client)))
      expect(again.logGroups).toHaveLength(1)
    }))

  it.scopedLive("PutLogEvents sends the members with AWS's names and maps rejectedLogEventsInfo", () =>
    Effect.gen(function*() {
      const server = yield* answering(
        awsOk({
          nextSequenceToken: "t2",
          rejectedLogEventsInfo: { tooOldLogEventEndIndex: 1, tooNewLogEventStartIndex: 2 }
        })
      )
      const cw = yield* api(server.endpoint)
      const result = yield* cw.putLogEvents({
        logGroupName: "g",
        logStreamName: "s",
        sequenceToken: "t1",
        logEvents: [{ timestamp: 1, message: "a" }, { timestamp: 2, message: "b" }, { timestamp: 3, message: "c" }],
        entity: { keyAttributes: { Type: "Service", Name: "orders" } }
      })
      expect(result).toEqual({
        nextSequenceToken: "t2",
        rejectedLogEventsInfo: {
          tooOldLogEventEndIndex: 1,
          tooNewLogEventStartIndex: 2,
          expiredLogEventEndIndex: undefined
        },
        rejectedEntityInfo: undefined
      })
      expect(JSON.parse(server.seen[0].body)).toEqual({
        logGroupName: "g",
        logStreamName: "s",
        sequenceToken: "t1",
        logEvents: [{ timestamp: 1, message: "a" }, { timestamp: 2, message: "b" }, { timestamp: 3, message: "c" }],
        entity: { keyAttributes: { Type: "Service", Name: "orders" } }
      })
    }))
})
