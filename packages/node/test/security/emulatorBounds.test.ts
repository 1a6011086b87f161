/**
 * Security of the emulator: it binds loopback unless told otherwise, and it bounds the size of a
 * request (a body over the bound is refused with 413, before it is buffered, and the server stays up).
 */
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs"
import { Emulator, TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import { request } from "node:http"
import { networkInterfaces } from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { inspect } from "node:util"

interface Answer {
  readonly status: number
  readonly text: string
}

/** A raw POST with node:http; `chunked` sends the body without a Content-Length. */
const post = (url: string, body: Buffer, chunked: boolean): Effect.Effect<Answer | { readonly closed: string }> =>
  Effect.async((resume) => {
    const headers: Record<string, string | number> = {
      "Content-Type": "application/x-amz-json-1.1",
      "X-Amz-Target": "Logs_20140328.DescribeLogGroups"
    }
    if (!chunked) headers["Content-Length"] = body.length
    const req = request(`${url}/`, { method: "POST", headers }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on(
        "end",
        () => resume(Effect.succeed({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }))
      )
      res.on("error", (e) => resume(Effect.succeed({ closed: e.message })))
    })
    req.on("error", (e) => resume(Effect.succeed({ closed: e.message })))
    if (chunked) {
      // in pieces, as a client that streams its body would
      const piece = 256 * 1024
      for (let i = 0; i < body.length; i += piece) req.write(body.subarray(i, i + piece))
      req.end()
    } else {
      req.end(body)
    }
  })

/** An address of this machine that is not loopback, if it has one. */
const externalAddress = (): string | undefined => {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === "IPv4" && !a.internal) return a.address
  }
  return undefined
}

/** A TCP connection attempt: "connected" or the error code. */
const connect = (host: string, port: number): Effect.Effect<string> =>
  Effect.async((resume) => {
    import("node:net").then((net) => {
      const socket = net.connect({ host, port })
      socket.setTimeout(2_000)
      socket.on("connect", () => {
        socket.destroy()
        resume(Effect.succeed("connected"))
      })
      socket.on("timeout", () => {
        socket.destroy()
        resume(Effect.succeed("timeout"))
      })
      socket.on("error", (e: NodeJS.ErrnoException) => resume(Effect.succeed(e.code ?? e.message)))
    }, (e: unknown) => resume(Effect.succeed(String(e))))
  })

const describeGroups = (url: string) =>
  Effect.promise(() => {
    const client = new CloudWatchLogsClient({
      endpoint: url,
      region: "us-east-1",
      credentials: { accessKeyId: "AKID", secretAccessKey: "secret" },
      maxAttempts: 1
    })
    return client.send(new DescribeLogGroupsCommand({})).finally(() => client.destroy())
  })

const ROOT = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../../../..")

/**
 * Starts `cwlogs-emulator` with `args` in its own process group (killed with the scope); answers its first
 * line, and a way to stop it and read all it printed (stdout and stderr).
 */
const emulatorBinary = (args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, ["--import", "tsx", "packages/testkit/src/bin/emulator.ts", ...args], {
        cwd: ROOT,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"]
      })
      const output = { text: "" }
      child.stdout?.setEncoding("utf8").on("data", (s: string) => (output.text += s))
      child.stderr?.setEncoding("utf8").on("data", (s: string) => (output.text += s))
      return { child, output }
    }),
    ({ child }) => Effect.sync(() => terminate(child))
  ).pipe(
    Effect.flatMap(({ child, output }) =>
      Effect.async<string>((resume) => {
        const check = () => {
          const newline = output.text.indexOf("\n")
          if (newline >= 0) resume(Effect.succeed(output.text.slice(0, newline)))
        }
        child.stdout?.on("data", check)
        child.on("exit", (code) => resume(Effect.succeed(`exited with ${code}: ${output.text}`)))
      }).pipe(
        Effect.map((first) => ({
          first,
          /** Stops the emulator (SIGTERM) and answers everything it printed. */
          stop: Effect.async<string>((resume) => {
            if (child.exitCode !== null) return resume(Effect.succeed(output.text))
            child.once("close", () => resume(Effect.succeed(output.text)))
            terminate(child)
          })
        }))
      )
    ),
    Effect.timeout("60 seconds")
  )

const terminate = (child: ReturnType<typeof spawn>) => {
  if (child.pid !== undefined && child.exitCode === null) {
    try {
      process.kill(-child.pid, "SIGTERM")
    } catch {
      child.kill("SIGTERM")
    }
  }
}

describe("emulator bounds", () => {
  it.scopedLive("the cwlogs-emulator binary listens on 127.0.0.1 unless told otherwise", () =>
    Effect.gen(function*() {
      const { first } = yield* emulatorBinary(["--port", "0"])
      expect(first).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/)
      const port = Number(/:(\d+)$/.exec(first)?.[1])
      expect(yield* connect("127.0.0.1", port)).toBe("connected")
      const external = externalAddress()
      if (external !== undefined) expect(yield* connect(external, port)).not.toBe("connected")
    }))

  it.scopedLive("the binary with --require-auth never prints its secret, nor answers with it", () =>
    Effect.gen(function*() {
      const secret = "EmulatorSECRETdoNotPrint5Gt7Yh"
      const emulator = yield* emulatorBinary(["--port", "0", "--require-auth", `AKIDEMU:${secret}`])
      const url = /(http:\/\/\S+)$/.exec(emulator.first)?.[1] ?? ""
      expect(url).not.toBe("")
      const answers: Array<string> = []
      for (
        const credentials of [{ accessKeyId: "AKIDEMU", secretAccessKey: "wrong" }, {
          accessKeyId: "AKIDNOPE",
          secretAccessKey: secret
        }]
      ) {
        const client = new CloudWatchLogsClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 })
        const failed = yield* Effect.promise(() =>
          client.send(new DescribeLogGroupsCommand({})).then(() => "no error", (e: unknown) => inspect(e, { depth: 5 }))
        )
        client.destroy()
        answers.push(failed)
      }
      expect(answers.join("\n")).toMatch(/InvalidSignatureException|UnrecognizedClientException/)
      const printed = yield* emulator.stop
      expect(printed).toContain("listening on")
      expect(answers.join("\n")).not.toContain(secret)
      expect(printed).not.toContain(secret)
    }))

  it.scopedLive("binds 127.0.0.1 by default and cannot be reached on another interface", () =>
    Effect.gen(function*() {
      const server = yield* Emulator.serve(TestCloudWatchLogs.unsafeMake().api)
      expect(server.host).toBe("127.0.0.1")
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      expect(yield* connect("127.0.0.1", server.port)).toBe("connected")
      const external = externalAddress()
      if (external !== undefined) {
        expect(yield* connect(external, server.port)).not.toBe("connected")
      }
    }))

  it.scopedLive("refuses a body over the bound with 413 (declared length), and stays up", () =>
    Effect.gen(function*() {
      const server = yield* Emulator.serve(TestCloudWatchLogs.unsafeMake().api, { maxRequestBytes: 64 * 1024 })
      const answer = yield* post(server.url, Buffer.alloc(64 * 1024 + 1, 0x20), false)
      // answered from the declared length, before the body is read
      expect(answer).toMatchObject({ status: 413 })
      expect("text" in answer && answer.text).toContain("exceeds the limit of 65536 bytes")
      const ok = yield* describeGroups(server.url)
      expect(ok.logGroups).toEqual([])
    }))

  it.scopedLive("accepts a body exactly at the bound (it is parsed, not refused for its size)", () =>
    Effect.gen(function*() {
      const server = yield* Emulator.serve(TestCloudWatchLogs.unsafeMake().api, { maxRequestBytes: 1024 })
      const json = Buffer.from(JSON.stringify({ logGroupNamePrefix: "a" }))
      const body = Buffer.concat([json, Buffer.alloc(1024 - json.length, 0x20)])
      expect(body.length).toBe(1024)
      const answer = yield* post(server.url, body, false)
      expect("status" in answer && answer.status).toBe(200)
    }))

  it.scopedLive("refuses an oversized body sent without a Content-Length (chunked), and stays up", () =>
    Effect.gen(function*() {
      const server = yield* Emulator.serve(TestCloudWatchLogs.unsafeMake().api)
      const answer = yield* post(server.url, Buffer.alloc(Emulator.DEFAULT_MAX_REQUEST_BYTES + 1, 0x20), true)
      // the server answers 413 as soon as the bound is passed and closes; a client still writing may see
      // the connection closed instead of the answer: either way the body was not taken
      if ("status" in answer) expect(answer.status).toBe(413)
      else expect(answer.closed).toMatch(/EPIPE|ECONNRESET|socket hang up/)
      const ok = yield* describeGroups(server.url)
      expect(ok.logGroups).toEqual([])
    }))
})
