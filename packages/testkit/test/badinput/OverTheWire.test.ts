/**
 * Bad input over the wire, through the AWS SDK adapter of `@cwlogs/node`: wrong credentials (the emulator
 * with `requireAuth`), an endpoint that is down, a response that is not JSON. Each ends in a typed error
 * with a clear message that carries every event not delivered; nothing is counted as sent that was not,
 * and the process goes on (the next shipment, with the problem gone, is stored).
 *
 * The adapter lives in `@cwlogs/node`, which depends on this package; it is imported by path here.
 */
import { CloudWatchLogs, Destination, Limits, LogEvent, RetryPolicy, ShipReport } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { createServer, type Server } from "node:http"
import * as NodeCloudWatchLogs from "../../../node/src/NodeCloudWatchLogs.js"
import * as Emulator from "../../src/Emulator.js"

const G = "orders"
const S = "api-1"
const dest = Destination.make(G, S)

const events = (n: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => LogEvent.make(Date.now() - 1000 + i, `${prefix}-${i}`))

/** Few, fast retries: these tests are about where a failure ends, not about the backoff. */
const FastRetries = RetryPolicy.layer({
  transient: RetryPolicy.backoff({ base: "5 millis", cap: "20 millis", retries: 2 }),
  throttled: RetryPolicy.backoff({ base: "5 millis", cap: "20 millis", retries: 2 })
})

const adapter = (endpoint: string, accessKeyId = "AKIDGOOD", secret = "good-secret") =>
  NodeCloudWatchLogs.layer({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId, secretAccessKey: Redacted.make(secret) },
    connectionTimeout: "2 seconds",
    requestTimeout: "5 seconds"
  })

const ship = (endpoint: string, input: ReadonlyArray<LogEvent.LogEvent>, accessKeyId?: string, secret?: string) =>
  Stream.fromIterable(input).pipe(
    Stream.run(CloudWatchLogs.sink(dest)),
    Effect.either,
    Effect.provide(Layer.merge(adapter(endpoint, accessKeyId, secret), FastRetries))
  )

const undeliveredMessages = (error: CloudWatchLogs.ShipError) =>
  error.undelivered.flatMap((u) => u.events.map((e) => e.message))

/** A local HTTP server that answers every request with the given status and body. */
const fakeEndpoint = (status: number, body: string, contentType = "text/html") =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Server; readonly url: string; readonly hits: () => number }>((resume) => {
      let hits = 0
      const server = createServer((req, res) => {
        hits++
        req.resume()
        req.on("end", () => {
          res.writeHead(status, { "Content-Type": contentType, "x-amzn-RequestId": "fake-request" })
          res.end(body)
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resume(Effect.succeed({ server, url: `http://127.0.0.1:${port}`, hits: () => hits }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

describe("bad input over the wire", () => {
  it.scopedLive("an unknown access key: UnrecognizedClientException, no retry, every event returned", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        requireAuth: { accessKeyId: "AKIDGOOD", secretAccessKey: "good-secret" }
      })
      const input = events(5, "a")
      const result = yield* ship(emulator.url, input, "AKIDWRONG", "good-secret")
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isRight(result)) return
      expect(result.left.cause.reason).toBe("Fatal")
      expect(result.left.cause.cause._tag).toBe("UnrecognizedClientException")
      expect(result.left.message).toMatch(/UnrecognizedClientException/)
      expect(undeliveredMessages(result.left)).toEqual(input.map((e) => e.message))
      expect(result.left.report.accepted).toBe(0)
      expect(result.left.report.retries).toBe(0)
      // the process goes on: with the right key the next shipment is stored
      const next = yield* ship(emulator.url, events(3, "b"))
      expect(Either.isRight(next) && next.right.accepted).toBe(3)
      const stored = yield* emulator.model.events(G, S)
      expect(stored.map((e) => e.message)).toEqual(["b-0", "b-1", "b-2"])
    }))

  it.scopedLive("a wrong secret: a signature error, typed and fatal, every event returned", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        requireAuth: { accessKeyId: "AKIDGOOD", secretAccessKey: "good-secret" }
      })
      const input = events(4, "a")
      const result = yield* ship(emulator.url, input, "AKIDGOOD", "wrong-secret")
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isRight(result)) return
      expect(result.left.cause.reason).toBe("Fatal")
      expect(["InvalidSignatureException", "UnrecognizedClientException"]).toContain(result.left.cause.cause._tag)
      expect(undeliveredMessages(result.left)).toEqual(input.map((e) => e.message))
      expect(yield* emulator.model.callCount("PutLogEvents")).toBe(0)
    }))

  it.scopedLive("an endpoint that is down: NetworkError (refused), retried, then every event returned", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      yield* emulator.stop
      const input = events(6, "a")
      const result = yield* ship(emulator.url, input)
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isRight(result)) return
      expect(result.left.cause.reason).toBe("RetriesExhausted")
      const cause = result.left.cause.cause
      expect(cause._tag).toBe("NetworkError")
      if (cause._tag === "NetworkError") expect(cause.reason).toBe("refused")
      expect(result.left.message).toMatch(/refused/i)
      expect(undeliveredMessages(result.left)).toEqual(input.map((e) => e.message))
      expect(result.left.report.accepted).toBe(0)
      // the endpoint comes back: the next shipment is stored
      yield* emulator.listen
      const next = yield* ship(emulator.url, events(2, "b"))
      expect(Either.isRight(next) && next.right.accepted).toBe(2)
    }))

  it.scopedLive("a 200 answer that is not JSON: MalformedResponseError, not retried, events returned", () =>
    Effect.gen(function*() {
      const fake = yield* fakeEndpoint(200, "<html><body>Welcome to the proxy</body></html>")
      const input = events(3, "a")
      const result = yield* ship(fake.url, input)
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isRight(result)) return
      expect(result.left.cause.cause._tag).toBe("MalformedResponseError")
      expect(result.left.cause.reason).toBe("Fatal")
      expect(undeliveredMessages(result.left)).toEqual(input.map((e) => e.message))
      expect(result.left.report.accepted).toBe(0)
      expect(result.left.report.rejected.Failed).toBe(3)
      expect(ShipReport.total(result.left.report)).toBe(3)
    }))

  it.scopedLive("a 502 answer that is not JSON (a proxy's error page): retried as transient, events returned", () =>
    Effect.gen(function*() {
      const fake = yield* fakeEndpoint(502, "<html><body>Bad Gateway</body></html>")
      const input = events(3, "a")
      const result = yield* ship(fake.url, input)
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isRight(result)) return
      expect(result.left.cause.reason).toBe("RetriesExhausted")
      expect(["MalformedResponseError", "UnknownServiceError", "ServiceUnavailableException"]).toContain(
        result.left.cause.cause._tag
      )
      expect(fake.hits()).toBeGreaterThan(1)
      expect(undeliveredMessages(result.left)).toEqual(input.map((e) => e.message))
    }))

  it.scopedLive("a JSON error with an unknown name: UnknownServiceError carrying the name, events returned", () =>
    Effect.gen(function*() {
      const fake = yield* fakeEndpoint(
        400,
        JSON.stringify({ __type: "com.example#WeirdException", message: "something odd" }),
        "application/x-amz-json-1.1"
      )
      const input = events(2, "a")
      const result = yield* ship(fake.url, input)
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isRight(result)) return
      const cause = result.left.cause.cause
      expect(cause._tag).toBe("UnknownServiceError")
      if (cause._tag === "UnknownServiceError") expect(cause.errorName).toBe("WeirdException")
      expect(undeliveredMessages(result.left)).toEqual(input.map((e) => e.message))
    }))
})

describe("bad input over the wire: escapes", () => {
  // A legal event of 1,048,550 control characters is 6 MiB of JSON (`\u0001` per byte): under the emulator's
  // default request bound (8 MiB), over the 4 MiB it once had. Whichever side of its bound the emulator is on,
  // the event is never lost silently: it is stored whole, or the shipment fails with a typed error that names
  // the bound and returns every event.
  it.scopedLive("a largest-size event of control characters (6.3 MiB of escaped JSON) is stored whole", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const max = Limits.maxMessageBytes(Limits.current)
      const control = "\u0001".repeat(max)
      const input = [LogEvent.make(Date.now(), control), LogEvent.make(Date.now(), "after")]
      const result = yield* ship(emulator.url, input)
      const stored = (yield* emulator.model.events(G, S)).map((e) => e.message)
      expect(Either.isRight(result) && result.right.accepted).toBe(2)
      expect(stored.map((m) => m.length)).toEqual([max, 5])
      expect(stored[0]).toBe(control)
    }))
})
