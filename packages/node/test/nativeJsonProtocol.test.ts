import type { CloudWatchLogsApi } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import fc from "fast-check"
import { NativeJsonProtocol, putLogEventsBody } from "../src/internal/nativeJsonProtocol.js"
import { clientConfig } from "../src/internal/sdk.js"
import * as NodeCloudWatchLogs from "../src/NodeCloudWatchLogs.js"
import { awsOk, fakeServer, type SeenRequest } from "./support/servers.js"

const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: Redacted.make("secret-key-example") }

/** Two ports on `endpoint`: one writing PutLogEvents bodies natively, one with the SDK's serializer. */
const bothClients = (endpoint: string) =>
  Effect.all({
    native: NodeCloudWatchLogs.make({ endpoint, region: "us-east-1", credentials }),
    sdk: NodeCloudWatchLogs.make({ endpoint, region: "us-east-1", credentials, serializer: "sdk" })
  })

/** The same request written by the native serializer and by the SDK's, as the server received them. */
const bothWays = (request: CloudWatchLogsApi.PutLogEventsRequest) =>
  Effect.gen(function*() {
    const server = yield* fakeServer(() => awsOk({ nextSequenceToken: "next" }))
    const { native, sdk } = yield* bothClients(server.endpoint)
    yield* native.putLogEvents(request)
    yield* sdk.putLogEvents(request)
    const [a, b] = server.seen
    return { native: a, sdk: b, body: Buffer.from(putLogEventsBody(request)).toString("utf8") }
  })

const protocolHeaders = (seen: SeenRequest) => ({
  target: seen.headers["x-amz-target"],
  contentType: seen.headers["content-type"],
  contentLength: Number(seen.headers["content-length"]),
  bodyBytes: Buffer.byteLength(seen.body)
})

// Everything JSON must escape, every UTF-8 length, the characters JSON leaves alone but JavaScript does not.
const TRICKY = [
  "plain",
  "quote \" backslash \\ slash / done",
  "control \u0000 \u0001 \b \f \n \r \t \u001f \u007f end",
  "two bytes é, three € ✓, four 😀",
  "line separators \u2028 \u2029",
  "lone surrogates \ud800 x \udfff",
  "{\"looks\":\"like json\"}",
  "x".repeat(10_000)
]

describe("NodeCloudWatchLogs: PutLogEvents bodies written natively", () => {
  it.scopedLive("send the SDK's bytes for every member: token, entity, escapes, every UTF-8 length", () =>
    Effect.gen(function*() {
      const { body, native, sdk } = yield* bothWays({
        logGroupName: "/app/group",
        logStreamName: "stream \"quoted\"",
        sequenceToken: "49590302510234569184702458929548739862783410290612341234",
        logEvents: TRICKY.map((message, i) => ({ timestamp: 1_800_000_000_000 + i, message })),
        entity: { keyAttributes: { Type: "Service", Name: "orders" }, attributes: { "PlatformType": "K8s" } }
      })
      expect(native.operation).toBe("PutLogEvents")
      expect(body).toBe(sdk.body)
      expect(native.body).toBe(sdk.body)
      expect(protocolHeaders(native)).toEqual(protocolHeaders(sdk))
      expect(protocolHeaders(native).contentLength).toBe(protocolHeaders(native).bodyBytes)
      expect(JSON.parse(native.body).logEvents[5].message).toBe("lone surrogates \ud800 x \udfff")
    }))

  it.scopedLive("write exactly what the SDK writes for any messages and names (property)", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer(() => awsOk({}))
      const { native, sdk } = yield* bothClients(server.endpoint)
      const request = fc.record({
        logStreamName: fc.string({ minLength: 1, maxLength: 20 }),
        logEvents: fc.array(
          fc.record({
            timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
            message: fc.oneof(
              fc.string({ unit: "binary", minLength: 1 }),
              fc.string({ unit: "grapheme", minLength: 1 })
            )
          }),
          { minLength: 0, maxLength: 30 }
        )
      })
      const samples = fc.sample(request, { numRuns: 60, seed: 20261123 })
      for (const r of samples) {
        const seen = server.seen.length
        yield* native.putLogEvents({ logGroupName: "g", ...r })
        yield* sdk.putLogEvents({ logGroupName: "g", ...r })
        const expected = server.seen[seen + 1].body
        expect(Buffer.from(putLogEventsBody({ logGroupName: "g", ...r })).toString("utf8")).toBe(expected)
        expect(server.seen[seen].body).toBe(expected)
      }
    }))

  it.scopedLive("of large batches (written into the reused buffers) are still the SDK's bytes (property)", () =>
    Effect.gen(function*() {
      const event = fc.record({
        timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
        message: fc.oneof(
          fc.constantFrom(...TRICKY),
          fc.string({ unit: "binary", minLength: 1, maxLength: 300 }),
          fc.string({ unit: "grapheme", minLength: 1, maxLength: 300 })
        ),
        level: fc.constant("ignored")
      })
      // From under the pool's 64 KiB threshold to a full batch's worth; with and without a token.
      for (const [k, size] of [100, 400, 1_000, 3_000].entries()) {
        const logEvents = fc.sample(event, { numRuns: size, seed: 20261123 + k })
        const { body, native, sdk } = yield* bothWays({
          logGroupName: "g",
          logStreamName: "s",
          logEvents,
          ...(k % 2 === 0 ? { sequenceToken: "4959030251023456918470245892954873986278341029061234" } : {})
        })
        expect(body).toBe(sdk.body)
        expect(native.body).toBe(sdk.body)
        expect(JSON.parse(native.body).logEvents.length).toBe(size)
      }
    }))

  it.scopedLive("write only the members of an event, whatever else the objects carry", () =>
    Effect.gen(function*() {
      const event = { timestamp: 1, message: "m", level: "info", nested: { secret: "no" } }
      const { body, native, sdk } = yield* bothWays({ logGroupName: "g", logStreamName: "s", logEvents: [event] })
      expect(JSON.parse(body).logEvents).toEqual([{ timestamp: 1, message: "m" }])
      expect(body).toBe(sdk.body)
      expect(native.body).toBe(sdk.body)
    }))

  it("are the default; `serializer: \"sdk\"` keeps the SDK's serializer", () => {
    expect(clientConfig({}).protocol).toBe(NativeJsonProtocol)
    expect(clientConfig({ serializer: "native" }).protocol).toBe(NativeJsonProtocol)
    expect(clientConfig({ serializer: "sdk" }).protocol).toBeUndefined()
  })

  it.scopedLive("leave every other operation to the SDK's serializer", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer(() => awsOk({ logStreams: [] }))
      const native = yield* NodeCloudWatchLogs.make({ endpoint: server.endpoint, region: "us-east-1", credentials })
      yield* native.describeLogStreams({ logGroupName: "g", logStreamNamePrefix: "p\u2028" })
      expect(server.seen[0].operation).toBe("DescribeLogStreams")
      expect(JSON.parse(server.seen[0].body)).toEqual({ logGroupName: "g", logStreamNamePrefix: "p\u2028" })
    }))
})

describe("NodeCloudWatchLogs.makeClient", () => {
  it.scopedLive("is the client `layer` builds: native bodies, no logger middleware, bodies recycled", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer(() => awsOk({}))
      const client = yield* Effect.acquireRelease(
        Effect.sync(() =>
          NodeCloudWatchLogs.makeClient({ endpoint: server.endpoint, region: "us-east-1", credentials })
        ),
        (c) => Effect.sync(() => c.destroy())
      )
      const names = client.middlewareStack.identify().join("\n")
      expect(names).not.toContain("loggerMiddleware")
      expect(names).toContain("cwlogsBodyRecycling")
      expect(client.config.protocol).toBeInstanceOf(NativeJsonProtocol)
      const input = { logGroupName: "g", logStreamName: "s", logEvents: [{ timestamp: 5, message: "q\"\u2028" }] }
      yield* NodeCloudWatchLogs.fromClient(client).putLogEvents(input)
      expect(server.seen[0].body).toBe(Buffer.from(putLogEventsBody(input)).toString("utf8"))
      const sdk = NodeCloudWatchLogs.makeClient({ serializer: "sdk", region: "us-east-1", credentials })
      expect(sdk.config.protocol).not.toBeInstanceOf(NativeJsonProtocol)
      sdk.destroy()
    }))
})
