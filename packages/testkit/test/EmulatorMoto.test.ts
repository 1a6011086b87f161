/**
 * The same sequence of calls against moto_server (an independent implementation of CloudWatch Logs, in
 * Python) and against the emulator, each outcome checked against the AWS reference
 * (shared/reference/cloudwatch-logs.md and the API model). The emulator must match the reference at every
 * step; moto's departures are listed in docs/emulator.md and pinned here, so that the list stays true.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
  type GetLogEventsCommandOutput,
  PutLogEventsCommand,
  PutRetentionPolicyCommand
} from "@aws-sdk/client-cloudwatch-logs"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import { request } from "node:http"
import { createServer } from "node:net"
import * as Emulator from "../src/Emulator.js"

const MOTO = process.env["CWLOGS_MOTO_SERVER"] ?? "moto_server"

/** What a call came to, reduced to what the reference speaks of. */
type Outcome =
  | { readonly ok: true; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly error: string; readonly message: string; readonly status: number | undefined }

interface Step {
  readonly name: string
  readonly call: (c: CloudWatchLogsClient, url: string) => Promise<unknown>
  /** Undefined when the outcome matches the AWS reference; else what differs. */
  readonly reference: (o: Outcome) => string | undefined
}

const toRecord = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null ? Object.fromEntries(Object.entries(value)) : {}

const outcomeOf = (promise: Promise<unknown>): Promise<Outcome> =>
  promise.then(
    (body): Outcome => ({ ok: true, body: toRecord(body) }),
    (error: unknown): Outcome => {
      const e = toRecord(error)
      const metadata = toRecord(e["$metadata"])
      const status = metadata["httpStatusCode"]
      return {
        ok: false,
        error: String(e["name"] ?? e["code"] ?? "Error"),
        message: String(e["message"] ?? ""),
        status: typeof status === "number" ? status : undefined
      }
    }
  )

const cut = (s: string): string => (s.length > 160 ? `${s.slice(0, 160)}...` : s)

const show = (o: Outcome): string =>
  cut(
    o.ok
      ? `success ${JSON.stringify(o.body, (k, v) => (k === "$metadata" ? undefined : v))}`
      : `${o.error}: ${o.message}`
  )

const isError = (name: string, message?: string | RegExp) => (o: Outcome): string | undefined => {
  if (o.ok) return `expected ${name}, got ${show(o)}`
  if (o.error !== name) return `expected ${name}, got ${show(o)}`
  if (o.status !== undefined && o.status !== 400) return `expected HTTP 400, got ${o.status}`
  if (message === undefined) return undefined
  const matches = typeof message === "string" ? o.message === message : message.test(o.message)
  return matches ? undefined : `expected the message ${String(message)}, got "${o.message}"`
}

const isOk = (check?: (body: Record<string, unknown>) => string | undefined) => (o: Outcome): string | undefined => {
  if (!o.ok) return `expected success, got ${show(o)}`
  return check?.(o.body)
}

const G = "cmp-group"
const S = "cmp-stream"
const now = Date.now()
const HOUR = 3_600_000
const DAY = 24 * HOUR
const ev = (message: string, timestamp = now) => ({ timestamp, message })
const put =
  (logEvents: Array<{ timestamp: number; message: string }>, extra: { sequenceToken?: string } = {}) =>
  (c: CloudWatchLogsClient) =>
    c.send(new PutLogEventsCommand({ logGroupName: G, logStreamName: S, logEvents, ...extra }))

/** Always rejects, with the error the server answered (the operation does not exist). */
const rawUnknownOperation = (url: string): Promise<unknown> =>
  new Promise((_resolve, reject) => {
    const req = request(`${url}/`, {
      method: "POST",
      agent: false,
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Logs_20140328.NoSuchOperation",
        "Authorization":
          "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=00"
      }
    }, (res) => {
      let text = ""
      res.on("data", (b: Buffer) => (text += b.toString()))
      res.on("end", () => {
        const type = res.headers["x-amzn-errortype"]
        let parsed: Record<string, unknown> = {}
        try {
          parsed = toRecord(JSON.parse(text))
        } catch {
          parsed = {}
        }
        const name = typeof type === "string"
          ? type.split(":")[0]
          : String(parsed["__type"] ?? `HTTP ${res.statusCode}`)
        reject({
          name,
          message: String(parsed["message"] ?? parsed["Message"] ?? text),
          $metadata: { httpStatusCode: res.statusCode }
        })
      })
    })
    req.on("error", reject)
    req.end("{}")
  })

const STEPS: ReadonlyArray<Step> = [
  { name: "CreateLogGroup", call: (c) => c.send(new CreateLogGroupCommand({ logGroupName: G })), reference: isOk() },
  {
    name: "CreateLogGroup again",
    call: (c) => c.send(new CreateLogGroupCommand({ logGroupName: G })),
    reference: isError("ResourceAlreadyExistsException")
  },
  {
    name: "CreateLogGroup with an invalid name",
    call: (c) => c.send(new CreateLogGroupCommand({ logGroupName: "bad name" })),
    reference: isError("InvalidParameterException")
  },
  {
    name: "CreateLogStream",
    call: (c) => c.send(new CreateLogStreamCommand({ logGroupName: G, logStreamName: S })),
    reference: isOk()
  },
  {
    name: "CreateLogStream in a missing group",
    call: (c) => c.send(new CreateLogStreamCommand({ logGroupName: "missing", logStreamName: S })),
    reference: isError("ResourceNotFoundException", "The specified log group does not exist.")
  },
  {
    name: "PutLogEvents to a missing stream",
    call: (c) => c.send(new PutLogEventsCommand({ logGroupName: G, logStreamName: "missing", logEvents: [ev("x")] })),
    reference: isError("ResourceNotFoundException", "The specified log stream does not exist.")
  },
  {
    name: "PutLogEvents with no events",
    call: put([]),
    reference: isError("InvalidParameterException")
  },
  {
    name: "PutLogEvents with 10,001 events",
    call: put(Array.from({ length: 10_001 }, () => ev("x"))),
    reference: isError("InvalidParameterException")
  },
  {
    name: "PutLogEvents with an empty message",
    call: put([ev("")]),
    reference: isError("InvalidParameterException")
  },
  {
    name: "PutLogEvents out of chronological order",
    call: put([ev("b", now), ev("a", now - 1000)]),
    reference: isError(
      "InvalidParameterException",
      "Log events in a single PutLogEvents request must be in chronological order."
    )
  },
  {
    name: "PutLogEvents spanning more than 24 hours",
    call: put([ev("a", now - DAY - 60_000), ev("b", now)]),
    reference: isError(
      "InvalidParameterException",
      "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
    )
  },
  {
    name: "PutLogEvents of 1,048,577 bytes",
    call: put([ev("x".repeat(524_262)), ev("y".repeat(524_263))]),
    reference: isError("InvalidParameterException", "Upload too large: 1048577 bytes exceeds limit of 1048576")
  },
  {
    name: "PutLogEvents of exactly 1,048,576 bytes",
    call: put([ev("x".repeat(524_262)), ev("y".repeat(524_262))]),
    reference: isOk((b) => (b["rejectedLogEventsInfo"] === undefined ? undefined : "expected no rejected events"))
  },
  {
    name: "PutLogEvents with too old and too new events (the rest stored)",
    call: put([ev("old", now - 15 * DAY), ev("ok-1", now - 1000), ev("ok-2", now), ev("new", now + 3 * HOUR)]),
    reference: isOk((b) => {
      const info = JSON.stringify(b["rejectedLogEventsInfo"])
      return info === JSON.stringify({ tooNewLogEventStartIndex: 3, tooOldLogEventEndIndex: 1 }) ||
          info === JSON.stringify({ tooOldLogEventEndIndex: 1, tooNewLogEventStartIndex: 3 })
        ? undefined
        : `expected rejectedLogEventsInfo {tooOldLogEventEndIndex: 1, tooNewLogEventStartIndex: 3}, got ${info}`
    })
  },
  {
    name: "PutLogEvents with a wrong sequence token (ignored today)",
    call: put([ev("token")], { sequenceToken: "49999999999999999999999999999999999999999999999999999999" }),
    reference: isOk((b) => (typeof b["nextSequenceToken"] === "string" ? undefined : "expected a nextSequenceToken"))
  },
  {
    name: "GetLogEvents reads what was stored, by timestamp, page by page",
    call: async (c) => {
      // Pages hold at most 1 MB of events: read forward until the token comes back unchanged.
      const messages: Array<string> = []
      let token: string | undefined = undefined
      for (let page = 0; page < 20; page++) {
        const got: GetLogEventsCommandOutput = await c.send(
          new GetLogEventsCommand({ logGroupName: G, logStreamName: S, startFromHead: true, nextToken: token })
        )
        for (const e of got.events ?? []) messages.push((e.message ?? "").slice(0, 5))
        if (got.nextForwardToken === undefined || got.nextForwardToken === token) break
        token = got.nextForwardToken
      }
      return { messages }
    },
    reference: isOk((b) => {
      const expected = ["ok-1", "xxxxx", "yyyyy", "ok-2", "token"]
      const got = JSON.stringify(b["messages"])
      return got === JSON.stringify(expected) ? undefined : cut(`expected ${JSON.stringify(expected)}, got ${got}`)
    })
  },
  {
    name: "DescribeLogStreams ordered by LastEventTime with a prefix",
    call: (c) =>
      c.send(new DescribeLogStreamsCommand({ logGroupName: G, orderBy: "LastEventTime", logStreamNamePrefix: "cmp" })),
    reference: isError("InvalidParameterException")
  },
  {
    name: "DescribeLogGroups with limit 51",
    call: (c) => c.send(new DescribeLogGroupsCommand({ limit: 51 })),
    reference: isError("InvalidParameterException")
  },
  {
    name: "PutRetentionPolicy of 2 days",
    call: (c) => c.send(new PutRetentionPolicyCommand({ logGroupName: G, retentionInDays: 2 })),
    reference: isError("InvalidParameterException")
  },
  {
    name: "DeleteLogGroup of a missing group",
    call: (c) => c.send(new DeleteLogGroupCommand({ logGroupName: "missing" })),
    reference: isError("ResourceNotFoundException", "The specified log group does not exist.")
  },
  {
    name: "an unknown operation",
    call: (_c, url) => rawUnknownOperation(url),
    reference: isError("UnknownOperationException")
  }
]

/**
 * Steps where moto_server (as installed on this image) departs from the reference; see docs/emulator.md.
 */
const MOTO_DIFFERENCES: ReadonlyArray<string> = [
  "CreateLogGroup with an invalid name",
  "PutLogEvents with no events",
  "PutLogEvents with 10,001 events",
  "PutLogEvents with an empty message",
  "PutLogEvents spanning more than 24 hours",
  "PutLogEvents of 1,048,577 bytes",
  "PutLogEvents with too old and too new events (the rest stored)",
  "GetLogEvents reads what was stored, by timestamp, page by page",
  "PutRetentionPolicy of 2 days",
  "an unknown operation"
]

const runSteps = (url: string): Effect.Effect<ReadonlyArray<{ readonly step: string; readonly diff: string }>> =>
  Effect.promise(async () => {
    const client = new CloudWatchLogsClient({
      endpoint: url,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
      maxAttempts: 1
    })
    const diffs: Array<{ step: string; diff: string }> = []
    for (const step of STEPS) {
      const outcome = await outcomeOf(step.call(client, url))
      const diff = step.reference(outcome)
      if (diff !== undefined) diffs.push({ step: step.name, diff })
    }
    client.destroy()
    return diffs
  })

const freePort = (): Effect.Effect<number> =>
  Effect.async<number>((resume) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resume(Effect.succeed(port)))
    })
  })

const ping = (url: string): Promise<boolean> =>
  new Promise((resolve) => {
    const req = request(`${url}/`, { method: "GET", agent: false, timeout: 1000 }, (res) => {
      res.resume()
      resolve(true)
    })
    req.on("error", () => resolve(false))
    req.on("timeout", () => {
      req.destroy()
      resolve(false)
    })
    req.end()
  })

/** moto_server on a free port, killed when the scope closes. */
const moto = Effect.gen(function*() {
  const port = yield* freePort()
  const child = yield* Effect.acquireRelease(
    Effect.sync(() => spawn(MOTO, ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] })),
    (child) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGTERM")
      })
  )
  let stderr = ""
  let spawnError: Error | undefined = undefined
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()))
  child.on("error", (e) => (spawnError = e))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    if (spawnError !== undefined || child.exitCode !== null) break
    if (yield* Effect.promise(() => ping(url))) return url
    yield* Effect.sleep("200 millis")
  }
  return yield* Effect.die(
    new Error(
      `moto_server did not start (${MOTO}; install it with pip install 'moto[server]'): ${
        String(spawnError ?? "")
      } ${stderr}`
    )
  )
})

describe("the emulator and moto_server against the AWS reference", () => {
  it.scopedLive("the emulator matches the reference at every step", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const diffs = yield* runSteps(emulator.url)
      for (const d of diffs) process.stdout.write(`emulator differs: ${d.step}: ${d.diff}\n`)
      expect(diffs).toEqual([])
    }))

  it.scopedLive(
    "moto_server departs from the reference only where docs/emulator.md says",
    () =>
      Effect.gen(function*() {
        const url = yield* moto
        const diffs = yield* runSteps(url)
        for (const d of diffs) process.stdout.write(`moto differs: ${d.step}: ${d.diff}\n`)
        expect(diffs.map((d) => d.step)).toEqual(MOTO_DIFFERENCES)
      }),
    120_000
  )
})
