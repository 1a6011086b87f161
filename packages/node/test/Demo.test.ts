import { Emulator } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawn, spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../../", import.meta.url))
const bin = fileURLToPath(new URL("../src/bin/demo.ts", import.meta.url))

const demo = (args: ReadonlyArray<string>) =>
  spawnSync(process.execPath, ["--import", "tsx", bin, ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 90_000,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" }
  })

/** The same, without blocking this process (which may be serving the endpoint the demo talks to). */
const demoAsync = (args: ReadonlyArray<string>) =>
  Effect.async<{ readonly status: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = spawn(process.execPath, ["--import", "tsx", bin, ...args], {
      cwd: root,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" }
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += String(chunk)))
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    child.on("close", (status) => resume(Effect.succeed({ status, stdout, stderr })))
    return Effect.sync(() => child.kill("SIGKILL"))
  })

const number = (text: string) => Number(text.replace(/,/g, ""))

describe("pnpm demo", () => {
  it("ships through faults and a competing writer, reads back, loses nothing and exits 0", () => {
    const run = demo(["--events", "2000", "--producers", "3", "--progress", "lines", "--seed", "11"])
    expect(run.stderr).toBe("")
    expect(run.status).toBe(0)
    const out = run.stdout
    expect(out).toContain("cwlogs demo: 3 producers, 2,000 events")
    // the periodic progress lines, and the last one with everything stored
    expect(out).toMatch(/handed 2,000\/2,000 {2}stored 2,000 \(100%\)/)
    const total = /total\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)/.exec(out)
    expect(total).not.toBeNull()
    const [sent, stored, lost, duplicates, outOfOrder] = (total ?? []).slice(1).map((s) => number(s ?? ""))
    expect({ sent, lost, outOfOrder, unique: stored - duplicates }).toEqual({
      sent: 2000,
      lost: 0,
      outOfOrder: 0,
      unique: 2000
    })
    // a duplicate is allowed only where the report flagged a possible one (a lost answer, see the summary)
    const flagged = number(/([\d,]+) possible duplicates/.exec(out)?.[1] ?? "0")
    expect(duplicates).toBeLessThanOrEqual(flagged)
    for (const p of [0, 1, 2]) expect(out).toMatch(new RegExp(`p${p}\\s+(667|666)\\s+[\\d,]+\\s+0\\s+[\\d,]+\\s+0`))
    expect(out).toMatch(/Token errors adopted: \d+/)
    expect(out).toMatch(/DescribeLogStreams calls: \d+/)
    expect(out).toMatch(/Ship report: 2,000 accepted, 0 rejected/)
    expect(out).toContain("sequence tokens enforced")
    expect(out.trimEnd().split("\n").at(-1)).toMatch(/^RESULT: OK: 2,000 events sent, 2,000 stored, 0 lost, /)
  })

  it("plays the tokens-ignored generation too", () => {
    const run = demo(["--events", "1500", "--producers", "2", "--sequence-tokens", "ignored", "--progress", "off"])
    expect(run.status).toBe(0)
    expect(run.stdout).toContain("sequence tokens ignored")
    expect(run.stdout).toMatch(/RESULT: OK: 1,500 events sent/)
  })

  it.scopedLive("against an endpoint that refuses its credentials, reports every event lost and exits 1", () =>
    Effect.gen(function*() {
      const endpoint = yield* Effect.orDie(
        Emulator.make({ requireAuth: { accessKeyId: "AKIDREAL", secretAccessKey: "not-the-demo-one" } })
      )
      const run = yield* demoAsync(["--endpoint", endpoint.url, "--events", "300", "--progress", "off"])
      expect(run.status).toBe(1)
      expect(run.stdout).toMatch(/total\s+300\s+0\s+300\s+0\s+0/)
      expect(run.stdout).toContain("UnrecognizedClientException")
      expect(run.stdout.trimEnd().split("\n").at(-1)).toMatch(/^RESULT: FAILED: 300 events lost/)
    }))

  it("refuses a bad flag with a usage text and status 2", () => {
    const run = demo(["--events", "many"])
    expect(run.status).toBe(2)
    expect(run.stderr).toContain("--events must be an integer")
    expect(run.stderr).toContain("usage: pnpm demo")
  })

  it("prints its usage with --help", () => {
    const run = demo(["--help"])
    expect(run.status).toBe(0)
    expect(run.stdout).toContain("--sequence-tokens")
  })
})
