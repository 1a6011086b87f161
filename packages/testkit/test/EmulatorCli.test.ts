/**
 * `cwlogs-emulator`: the argument parser, and the binary itself (first line, SIGTERM, bad flags).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import { spawn } from "node:child_process"
import { request } from "node:http"
import { fileURLToPath } from "node:url"
import { parse } from "../src/internal/serverCli.js"

const BIN = fileURLToPath(new URL("../src/bin/emulator.ts", import.meta.url))
const ROOT = fileURLToPath(new URL("../../..", import.meta.url))

describe("cwlogs-emulator arguments", () => {
  it("defaults to no options", () => {
    expect(parse([])).toEqual(Either.right({ _tag: "Run", options: {} }))
  })

  it("reads every flag", () => {
    const parsed = parse([
      "--host",
      "0.0.0.0",
      "--port",
      "4567",
      "--sequence-tokens",
      "enforced",
      "--max-event-bytes",
      "262144",
      "--max-request-bytes",
      "2097152",
      "--faults",
      "unavailable=0.1,throttle=0.2,lost-response=0.01,reset=0.02,competing-writer=0.5,latency=20",
      "--seed",
      "42",
      "--throttling",
      "--discard",
      "--require-auth",
      "AKID:se:cret"
    ])
    expect(parsed).toEqual(Either.right({
      _tag: "Run",
      options: {
        host: "0.0.0.0",
        port: 4567,
        sequenceTokens: "enforced",
        maxEventBytes: 262_144,
        maxRequestBytes: 2_097_152,
        faults: {
          unavailable: 0.1,
          throttle: 0.2,
          lostResponse: 0.01,
          reset: 0.02,
          competingWriter: 0.5,
          latencyMillis: 20
        },
        seed: 42,
        throttling: true,
        discard: true,
        requireAuth: { accessKeyId: "AKID", secretAccessKey: "se:cret" }
      }
    }))
    expect(parse(["--help"])).toEqual(Either.right({ _tag: "Help" }))
  })

  it("bounds: port 65535 / 65536, probability 1 / 1.01, max-event-bytes 1048576 / 1048577", () => {
    expect(Either.isRight(parse(["--port", "65535"]))).toBe(true)
    expect(parse(["--port", "65536"])).toEqual(Either.left("--port must be between 0 and 65535, got 65536"))
    expect(Either.isRight(parse(["--faults", "reset=1"]))).toBe(true)
    expect(parse(["--faults", "reset=1.01"])).toEqual(
      Either.left("--faults: reset is a probability in [0, 1], got 1.01")
    )
    expect(Either.isRight(parse(["--max-event-bytes", "1048576"]))).toBe(true)
    expect(Either.isLeft(parse(["--max-event-bytes", "1048577"]))).toBe(true)
  })

  it("refuses bad input with a clear message", () => {
    expect(parse(["--sequence-tokens", "sometimes"])).toEqual(
      Either.left("--sequence-tokens must be \"enforced\" or \"ignored\", got \"sometimes\"")
    )
    expect(parse(["--port", "http"])).toEqual(Either.left("--port must be an integer, got \"http\""))
    expect(parse(["--faults", "explode=0.1"])).toEqual(
      Either.left(
        "--faults: unknown fault \"explode\" (known: unavailable, throttle, lost-response, reset, competing-writer, latency)"
      )
    )
    expect(parse(["--faults", "reset"])).toEqual(Either.left("--faults: \"reset\" is not NAME=VALUE"))
    expect(parse(["--require-auth", "nokey"])).toEqual(Either.left("--require-auth must be ACCESS_KEY:SECRET"))
    expect(Either.isLeft(parse(["--verbose"]))).toBe(true)
    expect(Either.isLeft(parse(["extra"]))).toBe(true)
  })
})

interface Exit {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The binary with `args`, once it says where it listens: its URL, its exit and what it wrote. */
const startBinary = async (args: ReadonlyArray<string>) => {
  const child = spawn(process.execPath, ["--import", "tsx", BIN, ...args], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()))
  const exited = new Promise<Exit>((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })))
  const firstLine = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString()
      const nl = stdout.indexOf("\n")
      if (nl >= 0) resolve(stdout.slice(0, nl))
    })
    child.on("exit", () => reject(new Error(`exited before listening: ${stderr}`)))
  })
  return { child, firstLine, url: firstLine.slice("listening on ".length), exited, stderr: () => stderr }
}

/** A DescribeLogGroups POST with extra headers: the status and body, or the error of a dropped request. */
const post = (url: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
    const req = request(`${url}/`, {
      method: "POST",
      agent: false,
      headers: {
        "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
        "Content-Type": "application/x-amz-json-1.1",
        ...headers
      },
      timeout: 5_000
    }, (res) => {
      let text = ""
      res.on("data", (b: Buffer) => (text += b.toString()))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on("timeout", () => req.destroy(new Error("timeout")))
    req.on("error", (e) => resolve({ error: e.message }))
    req.end("{}")
  })

describe("cwlogs-emulator binary", () => {
  it("prints its address first, serves, and stops cleanly on SIGTERM", async () => {
    const { child, exited, firstLine, url } = await startBinary(["--sequence-tokens", "enforced"])
    expect(firstLine).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/)
    const answer = await post(url)
    expect("body" in answer && JSON.parse(answer.body)).toEqual({ logGroups: [] })
    child.kill("SIGTERM")
    const exit = await exited
    expect(exit.code).toBe(0)
    expect(exit.stderr).toContain("SIGTERM, stopping")
  })

  it("with --require-auth, SignedHeaders=host;constructor is refused with an error answer and the server keeps serving", async () => {
    const { child, exited, stderr, url } = await startBinary(["--require-auth", "AKID:secret"])
    try {
      const bad = await post(url, {
        "X-Amz-Date": "20260101T000000Z",
        Authorization:
          "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/logs/aws4_request, SignedHeaders=host;constructor, Signature=00"
      })
      // a bad signature is a 400 InvalidSignatureException, never a dropped connection
      expect(bad).toMatchObject({ status: 400, body: expect.stringContaining("InvalidSignatureException") })
      const after = await post(url)
      expect(after).toMatchObject({ status: 400, body: expect.stringContaining("MissingAuthenticationTokenException") })
      expect(stderr()).not.toContain("TypeError")
    } finally {
      child.kill("SIGTERM")
      await exited
    }
  })

  it("exits with 2 and the usage on a bad flag", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", BIN, "--sequence-tokens", "maybe"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stderr = ""
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()))
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
    expect(code).toBe(2)
    expect(stderr).toContain("--sequence-tokens must be \"enforced\" or \"ignored\"")
    expect(stderr).toContain("Usage: cwlogs-emulator")
  })
})
