/**
 * The wire layer of the emulator over a stub of the port: protocol, validation, errors, SigV4, body
 * bound, HTTP-level faults and outages. The model itself is exercised in Emulator.test.ts.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeLogGroupsCommand,
  PutLogEventsCommand
} from "@aws-sdk/client-cloudwatch-logs"
import { CloudWatchLogsApi, CloudWatchLogsError } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { request } from "node:http"
import * as Emulator from "../src/Emulator.js"
import { expectedSignature } from "../src/internal/sigv4.js"

/** The `message` member of an error or a JSON body, if it has one. */
const messageOf = (value: unknown): string | undefined => {
  if (typeof value !== "object" || value === null) return undefined
  const message: unknown = Reflect.get(value, "message")
  return typeof message === "string" ? message : undefined
}

interface Call {
  readonly op: string
  readonly request: unknown
}

const stub = (
  put: (
    r: CloudWatchLogsApi.PutLogEventsRequest
  ) => Effect.Effect<CloudWatchLogsApi.PutLogEventsResponse, CloudWatchLogsApi.PutLogEventsError> = () =>
    Effect.succeed({ nextSequenceToken: "43" })
) => {
  const calls: Array<Call> = []
  const record = <A>(op: string, request: unknown, a: A) =>
    Effect.sync(() => {
      calls.push({ op, request })
      return a
    })
  const api: CloudWatchLogsApi.CloudWatchLogsApiShape = {
    putLogEvents: (r) => Effect.zipRight(record("putLogEvents", r, undefined), put(r)),
    createLogGroup: (r) => record("createLogGroup", r, undefined),
    createLogStream: (r) => record("createLogStream", r, undefined),
    deleteLogGroup: (r) => record("deleteLogGroup", r, undefined),
    deleteLogStream: (r) => record("deleteLogStream", r, undefined),
    describeLogGroups: (r) => record("describeLogGroups", r, { logGroups: [{ logGroupName: "g", creationTime: 1 }] }),
    describeLogStreams: (r) => record("describeLogStreams", r, { logStreams: [] }),
    putRetentionPolicy: (r) => record("putRetentionPolicy", r, undefined),
    deleteRetentionPolicy: (r) => record("deleteRetentionPolicy", r, undefined),
    getLogEvents: (r) => record("getLogEvents", r, { events: [] }),
    filterLogEvents: (r) => record("filterLogEvents", r, { events: [] })
  }
  return { api, calls }
}

const client = (url: string, credentials = { accessKeyId: "AKID", secretAccessKey: "secret" }) =>
  new CloudWatchLogsClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 })

/** Runs an SDK call; succeeds with the error it failed with, if any. */
const attempt = <A>(f: () => Promise<A>): Effect.Effect<{ readonly ok: A } | { readonly error: unknown }> =>
  Effect.promise(() => f().then((ok) => ({ ok }), (error: unknown) => ({ error })))

interface Raw {
  readonly status: number
  readonly headers: Record<string, string | Array<string> | undefined>
  readonly text: string
  readonly json: unknown
}

/** A raw JSON 1.1 request with node:http. */
const raw = (
  url: string,
  target: string | undefined,
  body: string | Buffer,
  extraHeaders: Record<string, string> = {}
): Effect.Effect<Raw, Error> =>
  Effect.async<Raw, Error>((resume) => {
    const headers: Record<string, string | number> = {
      "Content-Type": "application/x-amz-json-1.1",
      "Content-Length": Buffer.byteLength(body),
      ...extraHeaders
    }
    if (target !== undefined) headers["X-Amz-Target"] = target
    const req = request(`${url}/`, { method: "POST", headers, agent: false }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        let json: unknown = undefined
        try {
          json = JSON.parse(text)
        } catch {
          json = undefined
        }
        resume(Effect.succeed({ status: res.statusCode ?? 0, headers: res.headers, text, json }))
      })
    })
    req.on("error", (e) => resume(Effect.fail(e)))
    req.end(body)
  })

const T = (op: string) => `Logs_20140328.${op}`

const event = (message: string, timestamp = 1_700_000_000_000) => ({ timestamp, message })

describe("Emulator wire protocol", () => {
  it.scopedLive("the real SDK round-trips a call and an error", () =>
    Effect.gen(function*() {
      const { api, calls } = stub()
      const server = yield* Emulator.serve(api)
      const c = client(server.url)
      yield* Effect.promise(() => c.send(new CreateLogGroupCommand({ logGroupName: "g" })))
      const out = yield* Effect.promise(() =>
        c.send(new PutLogEventsCommand({ logGroupName: "g", logStreamName: "s", logEvents: [event("hi")] }))
      )
      expect(out.nextSequenceToken).toBe("43")
      const groups = yield* Effect.promise(() => c.send(new DescribeLogGroupsCommand({ limit: 50 })))
      expect(groups.logGroups?.map((g) => g.logGroupName)).toEqual(["g"])
      expect(calls.map((c) => c.op)).toEqual(["createLogGroup", "putLogEvents", "describeLogGroups"])
      expect(calls[1]?.request).toEqual({
        logGroupName: "g",
        logStreamName: "s",
        logEvents: [event("hi")],
        sequenceToken: undefined,
        entity: undefined
      })
    }))

  it.scopedLive("every answer carries x-amzn-RequestId; errors carry x-amzn-errortype and __type", () =>
    Effect.gen(function*() {
      const server = yield* Emulator.serve(stub().api)
      const ok = yield* raw(server.url, T("CreateLogGroup"), JSON.stringify({ logGroupName: "g" }))
      expect(ok.status).toBe(200)
      expect(ok.headers["x-amzn-requestid"]).toMatch(/^[0-9a-f-]{36}$/)
      expect(ok.headers["content-type"]).toBe("application/x-amz-json-1.1")
      const unknown = yield* raw(server.url, T("StartQuery"), "{}")
      expect(unknown.status).toBe(400)
      expect(unknown.headers["x-amzn-errortype"]).toBe("UnknownOperationException")
      expect(unknown.headers["x-amzn-requestid"]).toMatch(/^[0-9a-f-]{36}$/)
      expect(unknown.json).toMatchObject({ __type: "UnknownOperationException" })
      const missing = yield* raw(server.url, undefined, "{}")
      expect(missing.json).toMatchObject({ __type: "UnknownOperationException" })
      const otherService = yield* raw(server.url, "Kinesis_20131202.PutRecord", "{}")
      expect(otherService.json).toMatchObject({ __type: "UnknownOperationException" })
    }))

  it.scopedLive("a malformed body is a SerializationException; a member of the wrong JSON type too", () =>
    Effect.gen(function*() {
      const { api, calls } = stub()
      const server = yield* Emulator.serve(api)
      const bad = yield* raw(server.url, T("CreateLogGroup"), "{\"logGroupName\": ")
      expect(bad.status).toBe(400)
      expect(bad.headers["x-amzn-errortype"]).toBe("SerializationException")
      expect(bad.json).toMatchObject({ __type: "SerializationException" })
      const array = yield* raw(server.url, T("CreateLogGroup"), "[1]")
      expect(array.json).toMatchObject({ __type: "SerializationException" })
      const wrongType = yield* raw(server.url, T("CreateLogGroup"), JSON.stringify({ logGroupName: 5 }))
      expect(wrongType.json).toEqual({
        __type: "SerializationException",
        message: "VALUE_NUMBER can not be converted to String"
      })
      const float = yield* raw(
        server.url,
        T("PutLogEvents"),
        JSON.stringify({ logGroupName: "g", logStreamName: "s", logEvents: [event("x", 1.5)] })
      )
      expect(float.json).toMatchObject({ __type: "SerializationException" })
      expect(calls).toEqual([])
    }))

  it.scopedLive("missing members and broken constraints are InvalidParameterException in AWS's words", () =>
    Effect.gen(function*() {
      const { api, calls } = stub()
      const server = yield* Emulator.serve(api)
      const missing = yield* raw(server.url, T("CreateLogStream"), JSON.stringify({ logGroupName: "g" }))
      expect(missing.status).toBe(400)
      expect(missing.json).toEqual({
        __type: "InvalidParameterException",
        message:
          "1 validation error detected: Value null at 'logStreamName' failed to satisfy constraint: Member must not be null"
      })
      const two = yield* raw(server.url, T("CreateLogStream"), JSON.stringify({ logStreamName: "a:b" }))
      expect(two.json).toMatchObject({ __type: "InvalidParameterException" })
      expect(messageOf(two.json)).toMatch(
        /^2 validation errors detected: .*'logGroupName'.*Member must not be null; Value 'a:b' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: \[\^:\*\]\*$/
      )
      const emptyMessage = yield* raw(
        server.url,
        T("PutLogEvents"),
        JSON.stringify({ logGroupName: "g", logStreamName: "s", logEvents: [event("a"), event("")] })
      )
      expect(messageOf(emptyMessage.json)).toBe(
        "1 validation error detected: Value '' at 'logEvents.2.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1"
      )
      const negative = yield* raw(
        server.url,
        T("PutLogEvents"),
        JSON.stringify({ logGroupName: "g", logStreamName: "s", logEvents: [event("a", -1)] })
      )
      expect(messageOf(negative.json)).toContain(
        "at 'logEvents.1.member.timestamp' failed to satisfy constraint: Member must have value greater than or equal to 0"
      )
      const badEnum = yield* raw(
        server.url,
        T("DescribeLogStreams"),
        JSON.stringify({ logGroupName: "g", orderBy: "Name" })
      )
      expect(messageOf(badEnum.json)).toContain(
        "Member must satisfy enum value set: [LogStreamName, LastEventTime]"
      )
      expect(calls).toEqual([])
    }))

  const limits: ReadonlyArray<{
    readonly name: string
    readonly op: string
    readonly at: object
    readonly past: object
    readonly says: string
  }> = [
    {
      name: "logGroupName 512 / 513 characters",
      op: "CreateLogGroup",
      at: { logGroupName: "g".repeat(512) },
      past: { logGroupName: "g".repeat(513) },
      says: "'logGroupName' failed to satisfy constraint: Member must have length less than or equal to 512"
    },
    {
      name: "logGroupName 1 / 0 characters",
      op: "CreateLogGroup",
      at: { logGroupName: "g" },
      past: { logGroupName: "" },
      says: "'logGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1"
    },
    {
      name: "logStreamName 512 / 513 characters",
      op: "CreateLogStream",
      at: { logGroupName: "g", logStreamName: "s".repeat(512) },
      past: { logGroupName: "g", logStreamName: "s".repeat(513) },
      says: "'logStreamName' failed to satisfy constraint: Member must have length less than or equal to 512"
    },
    {
      name: "logStreamName 1 / 0 characters",
      op: "CreateLogStream",
      at: { logGroupName: "g", logStreamName: "s" },
      past: { logGroupName: "g", logStreamName: "" },
      says: "'logStreamName' failed to satisfy constraint: Member must have length greater than or equal to 1"
    },
    {
      name: "log stream name pattern ('*')",
      op: "CreateLogStream",
      at: { logGroupName: "g", logStreamName: "a#b c/é 😀" },
      past: { logGroupName: "g", logStreamName: "a*b" },
      says: "Member must satisfy regular expression pattern: [^:*]*"
    },
    {
      name: "message 1 / 0 characters",
      op: "PutLogEvents",
      at: { logGroupName: "g", logStreamName: "s", logEvents: [event("x")] },
      past: { logGroupName: "g", logStreamName: "s", logEvents: [event("")] },
      says:
        "'logEvents.1.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1"
    },
    {
      name: "logEvents 10,000 / 10,001 events",
      op: "PutLogEvents",
      at: { logGroupName: "g", logStreamName: "s", logEvents: Array.from({ length: 10_000 }, () => event("x")) },
      past: { logGroupName: "g", logStreamName: "s", logEvents: Array.from({ length: 10_001 }, () => event("x")) },
      says: "'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000"
    },
    {
      name: "logEvents 1 / 0 events",
      op: "PutLogEvents",
      at: { logGroupName: "g", logStreamName: "s", logEvents: [event("x")] },
      past: { logGroupName: "g", logStreamName: "s", logEvents: [] },
      says: "'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1"
    },
    {
      name: "DescribeLogGroups limit 50 / 51",
      op: "DescribeLogGroups",
      at: { limit: 50 },
      past: { limit: 51 },
      says: "'limit' failed to satisfy constraint: Member must have value less than or equal to 50"
    },
    {
      name: "DescribeLogGroups logGroupIdentifiers 50 / 51",
      op: "DescribeLogGroups",
      at: { logGroupIdentifiers: Array.from({ length: 50 }, (_, i) => `g${i}`) },
      past: { logGroupIdentifiers: Array.from({ length: 51 }, (_, i) => `g${i}`) },
      says: "'logGroupIdentifiers' failed to satisfy constraint: Member must have length less than or equal to 50"
    },
    {
      name: "DescribeLogGroups logGroupIdentifiers 1 / 0",
      op: "DescribeLogGroups",
      at: { logGroupIdentifiers: ["g"] },
      past: { logGroupIdentifiers: [] },
      says: "'logGroupIdentifiers' failed to satisfy constraint: Member must have length greater than or equal to 1"
    },
    {
      name: "DescribeLogStreams limit 1 / 0",
      op: "DescribeLogStreams",
      at: { logGroupName: "g", limit: 1 },
      past: { logGroupName: "g", limit: 0 },
      says: "'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
    },
    {
      name: "GetLogEvents limit 10,000 / 10,001",
      op: "GetLogEvents",
      at: { logGroupName: "g", logStreamName: "s", limit: 10_000 },
      past: { logGroupName: "g", logStreamName: "s", limit: 10_001 },
      says: "'limit' failed to satisfy constraint: Member must have value less than or equal to 10000"
    },
    {
      name: "FilterLogEvents filterPattern 1,024 / 1,025 characters",
      op: "FilterLogEvents",
      at: { logGroupName: "g", filterPattern: "x".repeat(1024) },
      past: { logGroupName: "g", filterPattern: "x".repeat(1025) },
      says: "'filterPattern' failed to satisfy constraint: Member must have length less than or equal to 1024"
    },
    {
      name: "FilterLogEvents logStreamNames 100 / 101",
      op: "FilterLogEvents",
      at: { logGroupName: "g", logStreamNames: Array.from({ length: 100 }, (_, i) => `s${i}`) },
      past: { logGroupName: "g", logStreamNames: Array.from({ length: 101 }, (_, i) => `s${i}`) },
      says: "'logStreamNames' failed to satisfy constraint: Member must have length less than or equal to 100"
    },
    {
      name: "CreateLogGroup tags 50 / 51",
      op: "CreateLogGroup",
      at: { logGroupName: "g", tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, "v"])) },
      past: { logGroupName: "g", tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"])) },
      says: "'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
    },
    {
      name: "log group name pattern",
      op: "DeleteLogGroup",
      at: { logGroupName: "/aws/lambda/a.b-c_d#e" },
      past: { logGroupName: "a b" },
      says: "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"
    }
  ]

  for (const limit of limits) {
    it.scopedLive(`limit: ${limit.name}`, () =>
      Effect.gen(function*() {
        const { api, calls } = stub()
        const server = yield* Emulator.serve(api)
        const at = yield* raw(server.url, T(limit.op), JSON.stringify(limit.at))
        expect(at.status).toBe(200)
        expect(calls.length).toBe(1)
        const past = yield* raw(server.url, T(limit.op), JSON.stringify(limit.past))
        expect(past.status).toBe(400)
        expect(past.json).toMatchObject({ __type: "InvalidParameterException" })
        expect(messageOf(past.json)).toContain(limit.says)
        expect(calls.length).toBe(1)
      }))
  }

  it.scopedLive("logGroupIdentifier (a name or an ARN) stands for logGroupName; both at once is refused", () =>
    Effect.gen(function*() {
      const { api, calls } = stub()
      const server = yield* Emulator.serve(api)
      yield* raw(
        server.url,
        T("GetLogEvents"),
        JSON.stringify({ logGroupIdentifier: "arn:aws:logs:us-east-1:123456789012:log-group:app", logStreamName: "s" })
      )
      expect(calls[0]?.request).toMatchObject({ logGroupName: "app", logStreamName: "s" })
      const both = yield* raw(
        server.url,
        T("DescribeLogStreams"),
        JSON.stringify({ logGroupIdentifier: "app", logGroupName: "app" })
      )
      expect(both.json).toMatchObject({ __type: "InvalidParameterException" })
      const neither = yield* raw(server.url, T("FilterLogEvents"), "{}")
      expect(neither.json).toMatchObject({ __type: "InvalidParameterException" })
      expect(calls.length).toBe(1)
    }))

  it.scopedLive("errors of the model go out with AWS's status, name and extra members", () =>
    Effect.gen(function*() {
      let answer: CloudWatchLogsError.CloudWatchLogsError = new CloudWatchLogsError.InvalidSequenceTokenException({
        message: "The given sequenceToken is invalid. The next expected sequenceToken is: 42",
        expectedSequenceToken: "42"
      })
      const { api } = stub(() =>
        Effect.suspend(() => {
          switch (answer._tag) {
            case "InvalidSequenceTokenException":
            case "ServiceUnavailableException":
            case "ThrottlingException":
            case "ResourceNotFoundException":
              return Effect.fail(answer)
            default:
              return Effect.die("unexpected")
          }
        })
      )
      const server = yield* Emulator.serve(api)
      const put = JSON.stringify({ logGroupName: "g", logStreamName: "s", logEvents: [event("x")] })
      const token = yield* raw(server.url, T("PutLogEvents"), put)
      expect(token.status).toBe(400)
      expect(token.headers["x-amzn-errortype"]).toBe("InvalidSequenceTokenException")
      expect(token.json).toEqual({
        __type: "InvalidSequenceTokenException",
        message: "The given sequenceToken is invalid. The next expected sequenceToken is: 42",
        expectedSequenceToken: "42"
      })
      answer = new CloudWatchLogsError.ServiceUnavailableException({ message: "The server failed." })
      const unavailable = yield* raw(server.url, T("PutLogEvents"), put)
      expect(unavailable.status).toBe(500)
      expect(unavailable.json).toEqual({ __type: "ServiceUnavailableException", message: "The server failed." })
      answer = new CloudWatchLogsError.ThrottlingException({ message: "Rate exceeded" })
      const throttled = yield* raw(server.url, T("PutLogEvents"), put)
      expect(throttled.status).toBe(400)
      expect(throttled.json).toEqual({ __type: "ThrottlingException", message: "Rate exceeded" })

      // The SDK reads them back into its own exception classes.
      answer = new CloudWatchLogsError.InvalidSequenceTokenException({
        message: "The given sequenceToken is invalid. The next expected sequenceToken is: 42",
        expectedSequenceToken: "42"
      })
      const sdk = yield* attempt(() =>
        client(server.url).send(
          new PutLogEventsCommand({ logGroupName: "g", logStreamName: "s", logEvents: [event("x")] })
        )
      )
      expect("error" in sdk && sdk.error).toMatchObject({
        name: "InvalidSequenceTokenException",
        expectedSequenceToken: "42",
        $metadata: { httpStatusCode: 400 }
      })
    }))

  it.scopedLive("a defect in the model is a 500 InternalFailure, and the server keeps serving", () =>
    Effect.gen(function*() {
      const { api } = stub(() => Effect.die(new Error("boom")))
      const server = yield* Emulator.serve(api)
      const put = JSON.stringify({ logGroupName: "g", logStreamName: "s", logEvents: [event("x")] })
      const res = yield* raw(server.url, T("PutLogEvents"), put)
      expect(res.status).toBe(500)
      expect(res.json).toMatchObject({ __type: "InternalFailure" })
      const next = yield* raw(server.url, T("CreateLogGroup"), JSON.stringify({ logGroupName: "g" }))
      expect(next.status).toBe(200)
    }))

  it.scopedLive("a body over the bound is refused with 413 from its Content-Length, one at the bound is served", () =>
    Effect.gen(function*() {
      const { api, calls } = stub()
      const server = yield* Emulator.serve(api, { maxRequestBytes: 1000 })
      const atBound = JSON.stringify({ logGroupName: "g".repeat(500) }).padEnd(1000, " ")
      expect(Buffer.byteLength(atBound)).toBe(1000)
      const ok = yield* raw(server.url, T("CreateLogGroup"), atBound)
      expect(ok.status).toBe(200)
      const over = yield* raw(server.url, T("CreateLogGroup"), `${atBound} `)
      expect(over.status).toBe(413)
      expect(over.json).toMatchObject({ __type: "RequestEntityTooLargeException" })
      expect(over.headers["x-amzn-requestid"]).toBeDefined()
      expect(calls.length).toBe(1)
    }))

  it.scopedLive("a chunked body (no Content-Length) is cut off as soon as it passes the bound", () =>
    Effect.gen(function*() {
      const { api, calls } = stub()
      const server = yield* Emulator.serve(api, { maxRequestBytes: 10_000 })
      const result = yield* Effect.async<{ readonly status: number; readonly body: string }, Error>((resume) => {
        const req = request(`${server.url}/`, {
          method: "POST",
          headers: { "X-Amz-Target": T("CreateLogGroup"), "Transfer-Encoding": "chunked" }
        }, (res) => {
          const chunks: Array<Buffer> = []
          res.on("data", (c: Buffer) => chunks.push(c))
          res.on(
            "end",
            () => resume(Effect.succeed({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
          )
        })
        req.on("error", (e) => resume(Effect.fail(e)))
        // Far more than the bound, in small pieces: the server answers without waiting for the end.
        for (let i = 0; i < 100; i++) req.write(" ".repeat(1000))
        req.end()
      }).pipe(Effect.either)
      if (result._tag === "Right") {
        expect(result.right.status).toBe(413)
        expect(result.right.body).toContain("RequestEntityTooLargeException")
      }
      expect(calls).toEqual([])
    }))

  describe("SigV4", () => {
    it("computes the signature of AWS's published example (IAM ListUsers, 2015-08-30)", () => {
      const signature = expectedSignature(
        {
          method: "GET",
          url: "/?Action=ListUsers&Version=2010-05-08",
          headers: {
            "content-type": "application/x-www-form-urlencoded; charset=utf-8",
            host: "iam.amazonaws.com",
            "x-amz-date": "20150830T123600Z"
          },
          body: Buffer.alloc(0)
        },
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        { date: "20150830", region: "us-east-1", service: "iam", signedHeaders: ["content-type", "host", "x-amz-date"] }
      )
      expect(signature).toBe("5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
    })

    const requireAuth = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }

    it.scopedLive("the right key pair works; a wrong key or secret fails with AWS's error", () =>
      Effect.gen(function*() {
        const { api, calls } = stub()
        const server = yield* Emulator.serve(api, { requireAuth })
        const good = yield* attempt(() => client(server.url, requireAuth).send(new DescribeLogGroupsCommand({})))
        expect("ok" in good).toBe(true)
        const wrongKey = yield* attempt(() =>
          client(server.url, { ...requireAuth, accessKeyId: "AKIDOTHER" }).send(new DescribeLogGroupsCommand({}))
        )
        expect("error" in wrongKey && wrongKey.error).toMatchObject({
          name: "UnrecognizedClientException",
          message: "The security token included in the request is invalid."
        })
        const wrongSecret = yield* attempt(() =>
          client(server.url, { ...requireAuth, secretAccessKey: "nope" }).send(new DescribeLogGroupsCommand({}))
        )
        expect("error" in wrongSecret && wrongSecret.error).toMatchObject({ name: "InvalidSignatureException" })
        // A big signed body (the payload hash is checked too).
        const big = yield* attempt(() =>
          client(server.url, requireAuth).send(
            new PutLogEventsCommand({
              logGroupName: "g",
              logStreamName: "s",
              logEvents: Array.from({ length: 1000 }, (_, i) => event(`message ${i} ünïcödé`))
            })
          )
        )
        expect("ok" in big).toBe(true)
        expect(calls.map((c) => c.op)).toEqual(["describeLogGroups", "putLogEvents"])
      }))

    it.scopedLive("a body altered after signing is an InvalidSignatureException; no signature at all is refused", () =>
      Effect.gen(function*() {
        const { api, calls } = stub()
        const server = yield* Emulator.serve(api, { requireAuth })
        const c = client(server.url, requireAuth)
        c.middlewareStack.add(
          (next) => (args) => {
            const req: unknown = args.request
            if (typeof req === "object" && req !== null && "body" in req) {
              Reflect.set(req, "body", JSON.stringify({ logGroupName: "tampered" }))
            }
            return next(args)
          },
          { step: "deserialize", name: "tamper" }
        )
        const tampered = yield* attempt(() => c.send(new CreateLogGroupCommand({ logGroupName: "original" })))
        expect("error" in tampered && tampered.error).toMatchObject({ name: "InvalidSignatureException" })
        const unsigned = yield* raw(server.url, T("DescribeLogGroups"), "{}")
        expect(unsigned.status).toBe(400)
        expect(unsigned.json).toMatchObject({ __type: "MissingAuthenticationTokenException" })
        expect(calls).toEqual([])
      }))

    it.scopedLive("a signed header named after an Object.prototype member is absent: InvalidSignatureException, and the server serves on", () =>
      Effect.gen(function*() {
        const { api, calls } = stub()
        const server = yield* Emulator.serve(api, { requireAuth })
        for (const name of ["constructor", "__proto__", "tostring", "hasownproperty", "valueof"]) {
          const res = yield* raw(server.url, T("DescribeLogGroups"), "{}", {
            "X-Amz-Date": "20260101T000000Z",
            Authorization:
              `AWS4-HMAC-SHA256 Credential=${requireAuth.accessKeyId}/20260101/us-east-1/logs/aws4_request, SignedHeaders=host;${name}, Signature=00`
          })
          expect(res.status).toBe(400)
          expect(res.json).toMatchObject({ __type: "InvalidSignatureException" })
        }
        const good = yield* attempt(() => client(server.url, requireAuth).send(new DescribeLogGroupsCommand({})))
        expect("ok" in good).toBe(true)
        expect(calls.map((c) => c.op)).toEqual(["describeLogGroups"])
      }))

    it.scopedLive("without requireAuth any credentials are accepted", () =>
      Effect.gen(function*() {
        const server = yield* Emulator.serve(stub().api)
        const any = yield* attempt(() =>
          client(server.url, { accessKeyId: "x", secretAccessKey: "y" }).send(new DescribeLogGroupsCommand({}))
        )
        expect("ok" in any).toBe(true)
        const unsigned = yield* raw(server.url, T("DescribeLogGroups"), "{}")
        expect(unsigned.status).toBe(200)
      }))
  })

  describe("HTTP faults and outages", () => {
    const put = new PutLogEventsCommand({ logGroupName: "g", logStreamName: "s", logEvents: [event("x")] })

    it.scopedLive("reset drops the connection without applying: the client sees a network error", () =>
      Effect.gen(function*() {
        const { api, calls } = stub()
        const server = yield* Emulator.serve(api, { httpFaults: { reset: 1 } })
        const result = yield* attempt(() => client(server.url).send(put))
        expect("error" in result).toBe(true)
        if ("error" in result) {
          expect(result.error).not.toHaveProperty("$metadata.httpStatusCode")
        }
        expect(calls).toEqual([])
        expect(yield* server.dropped).toEqual({ reset: 1, lostResponse: 0 })
        // Other operations are not affected.
        const other = yield* attempt(() => client(server.url).send(new DescribeLogGroupsCommand({})))
        expect("ok" in other).toBe(true)
      }))

    it.scopedLive("lost-response applies the batch, then drops the connection", () =>
      Effect.gen(function*() {
        const { api, calls } = stub()
        const server = yield* Emulator.serve(api, { httpFaults: { lostResponse: 1 } })
        const result = yield* attempt(() => client(server.url).send(put))
        expect("error" in result).toBe(true)
        expect(calls.map((c) => c.op)).toEqual(["putLogEvents"])
        yield* server.setHttpFaults({ lostResponse: 0 })
        const again = yield* attempt(() => client(server.url).send(put))
        expect("ok" in again).toBe(true)
        expect(yield* server.dropped).toEqual({ reset: 0, lostResponse: 1 })
      }))

    it.scopedLive("faults are drawn from the seed: the same seed drops the same requests", () =>
      Effect.gen(function*() {
        const pattern = (seed: number) =>
          Effect.scoped(Effect.gen(function*() {
            const server = yield* Emulator.serve(stub().api, { httpFaults: { reset: 0.5 }, seed })
            const c = client(server.url)
            const out: Array<boolean> = []
            for (let i = 0; i < 12; i++) out.push("ok" in (yield* attempt(() => c.send(put))))
            return out
          }))
        const a = yield* pattern(7)
        const b = yield* pattern(7)
        expect(a).toEqual(b)
        expect(a).toContain(true)
        expect(a).toContain(false)
      }))

    it.scopedLive("latency delays the answer to PutLogEvents", () =>
      Effect.gen(function*() {
        const server = yield* Emulator.serve(stub().api, { httpFaults: { latencyMillis: 150 } })
        const started = Date.now()
        const result = yield* attempt(() => client(server.url).send(put))
        expect("ok" in result).toBe(true)
        expect(Date.now() - started).toBeGreaterThanOrEqual(140)
      }))

    it.scopedLive("stop refuses connections; listen serves again on the same port", () =>
      Effect.gen(function*() {
        const { api, calls } = stub()
        const server = yield* Emulator.serve(api)
        const c = client(server.url)
        expect("ok" in (yield* attempt(() => c.send(put)))).toBe(true)
        yield* server.stop
        expect(yield* server.isListening).toBe(false)
        const down = yield* Effect.either(raw(server.url, T("DescribeLogGroups"), "{}"))
        expect(down._tag === "Left" && down.left).toMatchObject({ code: "ECONNREFUSED" })
        expect("error" in (yield* attempt(() => c.send(put)))).toBe(true)
        yield* server.listen
        expect(yield* server.isListening).toBe(true)
        expect("ok" in (yield* attempt(() => c.send(put)))).toBe(true)
        expect(calls.length).toBe(2)
      }))

    it.scopedLive("listening on a taken port fails with a typed ListenError", () =>
      Effect.gen(function*() {
        const first = yield* Emulator.serve(stub().api)
        const second = yield* Effect.either(Emulator.serve(stub().api, { port: first.port }))
        expect(second._tag).toBe("Left")
        if (second._tag === "Left") expect(second.left._tag).toBe("ListenError")
      }))
  })
})
