/**
 * PutLogEvents bodies in reusable buffers: reused only once the service answered their request with
 * success on the first attempt, never while anything could still read them.
 */
import type { CloudWatchLogsApi } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import { Buffer } from "node:buffer"
import { bodyPool, makeBodyPool } from "../src/internal/bodyPool.js"
import * as NodeCloudWatchLogs from "../src/NodeCloudWatchLogs.js"
import { type Answer, awsError, awsOk, fakeServer, httpServer, type SeenRequest } from "./support/servers.js"

const small = () => makeBodyPool({ bufferBytes: 64, minLength: 8, maxIdle: 2 })

const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString("utf8")

describe("makeBodyPool", () => {
  it("writes the UTF-8 bytes of the JSON, short bodies in a buffer of their own", () => {
    const pool = small()
    expect(text(pool.encode("{}"))).toBe("{}")
    expect(pool.stats().allocated).toBe(0)
    const json = `{"message":"h\u00e9llo \u{1F600}"}`
    const body = pool.encode(json)
    expect(Buffer.from(body).equals(Buffer.from(json, "utf8"))).toBe(true)
    expect(pool.stats().allocated).toBe(1)
  })

  it("uses a buffer again only after its body is released", () => {
    const pool = small()
    const first = pool.encode("[\"aaaaaaaaaa\"]")
    const second = pool.encode("[\"bbbbbbbbbb\"]")
    expect(pool.stats()).toEqual({ allocated: 2, reused: 0, idle: 0 })
    expect(text(first)).toBe("[\"aaaaaaaaaa\"]")
    pool.release(first)
    const third = pool.encode("[\"cccccccccc\"]")
    expect(pool.stats()).toEqual({ allocated: 2, reused: 1, idle: 0 })
    // The released body shares the buffer now written again: why a body is released only when nothing
    // can read it any more.
    expect(text(first)).toBe("[\"cccccccccc\"]")
    expect(text(second)).toBe("[\"bbbbbbbbbb\"]")
    expect(text(third)).toBe("[\"cccccccccc\"]")
  })

  it("ignores a second release of the same body, and anything it did not hand out", () => {
    const pool = small()
    const body = pool.encode("[\"aaaaaaaaaa\"]")
    pool.release(body)
    pool.release(body)
    pool.release(Buffer.from("[\"zzzzzzzzzz\"]"))
    pool.release("a string")
    pool.release(undefined)
    expect(pool.stats().idle).toBe(1)
    const a = pool.encode("[\"1111111111\"]")
    const b = pool.encode("[\"2222222222\"]")
    expect(text(a)).toBe("[\"1111111111\"]")
    expect(text(b)).toBe("[\"2222222222\"]")
    expect(pool.stats()).toEqual({ allocated: 2, reused: 1, idle: 0 })
  })

  it("keeps at most maxIdle buffers", () => {
    const pool = small()
    const bodies = ["[\"a0000000\"]", "[\"b0000000\"]", "[\"c0000000\"]"].map(pool.encode)
    for (const body of bodies) pool.release(body)
    expect(pool.stats()).toEqual({ allocated: 3, reused: 0, idle: 2 })
  })

  it("a body longer than a buffer (at the limit and past it, in bytes) gets a buffer of its own", () => {
    const pool = small()
    const fits = "x".repeat(64)
    expect(text(pool.encode(fits))).toBe(fits)
    expect(pool.stats().allocated).toBe(1)
    // 32 UTF-16 units but 65 bytes: the encoding does not fit, the bytes are still exact.
    const multiByte = "\u00e9".repeat(32) + "x"
    expect(multiByte.length).toBeLessThanOrEqual(64)
    expect(Buffer.from(pool.encode(multiByte)).equals(Buffer.from(multiByte, "utf8"))).toBe(true)
    expect(text(pool.encode("y".repeat(65)))).toBe("y".repeat(65))
    expect(pool.stats().reused).toBe(0)
  })
})

/** A full-sized batch (~1 MiB of JSON) whose messages say which batch they belong to. */
const batch = (tag: number) =>
  Array.from(
    { length: 4_000 },
    (_, i) => ({ timestamp: 1_700_000_000_000 + i, message: `${tag}:${i}:`.padEnd(230, "m") })
  )

const api = (endpoint: string, options: NodeCloudWatchLogs.Options = {}) =>
  NodeCloudWatchLogs.make({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: Redacted.make("secret") },
    ...options
  })

const messagesOf = (request: SeenRequest): ReadonlyArray<string> => {
  const parsed: unknown = JSON.parse(request.body)
  if (typeof parsed !== "object" || parsed === null || !("logEvents" in parsed) || !Array.isArray(parsed.logEvents)) {
    throw new Error(`not a PutLogEvents body: ${request.body.slice(0, 80)}`)
  }
  return parsed.logEvents.map((e: unknown) =>
    typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" ? e.message : "?"
  )
}

const put = (cw: CloudWatchLogsApi.CloudWatchLogsApiShape, tag: number) =>
  cw.putLogEvents({ logGroupName: "g", logStreamName: "s", logEvents: batch(tag) })

describe("PutLogEvents bodies over HTTP (the SDK client, a real server)", () => {
  it.scopedLive("sequential and concurrent full batches arrive intact while their buffers are reused", () =>
    Effect.gen(function*() {
      const server = yield* fakeServer(() => awsOk({}))
      const cw = yield* api(server.endpoint)
      const before = bodyPool.stats()
      for (let tag = 0; tag < 6; tag++) yield* put(cw, tag)
      yield* Effect.forEach([10, 11, 12, 13, 14, 15, 16, 17], (tag) => put(cw, tag), { concurrency: 4, discard: true })
      for (let tag = 20; tag < 24; tag++) yield* put(cw, tag)
      const after = bodyPool.stats()
      // Every body the server read is exactly its batch: no buffer was written while in use.
      const bodies = server.seen.filter((r) => r.operation === "PutLogEvents")
      expect(bodies.length).toBe(18)
      const tags = new Set<number>()
      for (const request of bodies) {
        const messages = messagesOf(request)
        const tag = Number(messages[0].split(":")[0])
        tags.add(tag)
        expect(messages).toEqual(batch(tag).map((e) => e.message))
      }
      expect(tags.size).toBe(18)
      // At most one buffer per request in flight (4), the rest reused.
      expect(after.allocated - before.allocated).toBeLessThanOrEqual(4)
      expect(after.reused - before.reused).toBeGreaterThanOrEqual(14)
    }))

  it.scopedLive("a body goes back to the pool when its answer arrives, not before", () =>
    Effect.gen(function*() {
      // The server reads the whole body, then answers at once, or (holding) only when told to.
      let holding = false
      const held: Array<() => void> = []
      const endpoint = yield* httpServer((req, res) => {
        const answer = () => {
          res.writeHead(200, { "content-type": "application/x-amz-json-1.1" })
          res.end("{}")
        }
        req.resume()
        req.on("end", () => holding ? held.push(answer) : answer())
      })
      const cw = yield* api(endpoint)
      yield* put(cw, 0) // one buffer idle, at least
      const before = bodyPool.stats()
      expect(before.idle).toBeGreaterThanOrEqual(1)
      holding = true
      const fiber = yield* Effect.fork(put(cw, 1))
      yield* Effect.sleep("5 millis").pipe(Effect.repeat({ until: () => held.length > 0 }))
      // The service has every byte but has not answered: the buffer is still the request's.
      expect(bodyPool.stats().idle).toBe(before.idle - 1)
      held[0]()
      yield* Fiber.join(fiber)
      expect(bodyPool.stats().idle).toBe(before.idle)
    }))

  it.scopedLive("a body whose request failed, or was retried by the SDK, is never reused", () =>
    Effect.gen(function*() {
      // Two buffers idle to begin with: two full batches at once through a server that accepts them.
      const accepting = yield* fakeServer(() => awsOk({}))
      yield* Effect.flatMap(api(accepting.endpoint), (cw) => Effect.all([put(cw, 0), put(cw, 0)], { concurrency: 2 }))
      let calls = 0
      const server = yield* fakeServer((): Answer => {
        calls++
        // the first answer of each pair fails: the SDK (maxAttempts 2) sends the same body again
        return calls % 2 === 1 ? awsError(503, "ServiceUnavailableException", "busy") : awsOk({})
      })
      const retrying = yield* api(server.endpoint, { maxAttempts: 2 })
      const before = bodyPool.stats()
      yield* put(retrying, 1)
      yield* put(retrying, 2)
      const afterRetries = bodyPool.stats()
      expect(afterRetries.allocated + afterRetries.reused - before.allocated - before.reused).toBe(2)
      // Each took a buffer (an idle one, if any) and neither came back.
      expect(before.idle).toBeGreaterThanOrEqual(2)
      expect(afterRetries.idle).toBe(before.idle - 2)
      const failing = yield* api(server.endpoint)
      calls = 0
      const error = yield* Effect.flip(put(failing, 3))
      expect(error._tag).toBe("ServiceUnavailableException")
      const afterFailure = bodyPool.stats()
      expect(afterFailure.idle).toBe(afterRetries.idle - 1)
      const bodies = server.seen.filter((r) => r.operation === "PutLogEvents").map(messagesOf)
      expect(bodies.length).toBe(5)
      expect(bodies[0]).toEqual(bodies[1])
      expect(bodies[2]).toEqual(bodies[3])
      expect(bodies[1]).toEqual(batch(1).map((e) => e.message))
      expect(bodies[3]).toEqual(batch(2).map((e) => e.message))
    }))
})
