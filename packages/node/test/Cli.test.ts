/**
 * The `cwlogs` CLI as users run it: child processes (tsx) against the emulator, which enforces sequence
 * tokens (the harder generation: several ship processes on one stream must not lose or duplicate).
 */
import type { CloudWatchLogsApi } from "@cwlogs/core"
import { Emulator, TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { OPTION_NAMES } from "../src/internal/cli/commands.js"
import { childEnv, CWLOGS, cwlogs, eventually, ROOT, start } from "./support/processes.js"
import { freePort } from "./support/servers.js"

let n = 0
const unique = (prefix: string) => `${prefix}-${process.pid}-${n++}`

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-cli-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const oneLine = (stderr: string) => {
  const lines = stderr.trim().split("\n")
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(/^cwlogs: /)
  expect(stderr).not.toMatch(/\n\s+at /) // no stack trace
  return lines[0]
}

/** One `cwlogs ship` process per name, all at once into `group`/shared, each shipping `count` lines `name-i`. */
const shipConcurrently = (url: string, group: string, names: ReadonlyArray<string>, count: number) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const files = names.map((name) => {
      const file = Path.join(dir, `${name}.log`)
      Fs.writeFileSync(file, Array.from({ length: count }, (_, i) => `${name}-${i}`).join("\n"))
      return file
    })
    const runs = yield* Effect.forEach(
      files,
      (file) => start(CWLOGS, ["ship", "-g", group, "-s", "shared", "--create", "--endpoint", url, file]),
      { concurrency: "unbounded" }
    )
    return yield* Effect.forEach(runs, (r) => r.exited, { concurrency: "unbounded" })
  })

const stored = (group: string, stream: string) =>
  Effect.map(TestCloudWatchLogs.events(group, stream), (events) => events.map((e) => e.message))

describe("cwlogs CLI", { timeout: 120_000 }, () => {
  layer(Emulator.layer({ sequenceTokens: "enforced" }), { timeout: "30 seconds", excludeTestServices: true })(
    (it) => {
      const endpoint = Effect.map(Emulator.Emulator, (e) => e.url)

      it.scoped("ship a file (creating the destination), read it back with tail; exit 0", () =>
        Effect.gen(function*() {
          const url = yield* endpoint
          const dir = yield* tempDir
          const group = unique("cli/file")
          const lines = Array.from({ length: 300 }, (_, i) => `line ${i} ünïcødé 😀${i % 100 === 0 ? " needle" : ""}`)
          const file = Path.join(dir, "app.log")
          Fs.writeFileSync(file, lines.join("\n") + "\n\n")
          const shipped = yield* cwlogs(["ship", "-g", group, "-s", "s1", "--create", "--endpoint", url, file])
          expect(shipped.code).toBe(0)
          expect(shipped.stderr).toContain("accepted  300")
          expect(shipped.stderr).toContain("skipped   1 empty line")
          expect(yield* stored(group, "s1")).toEqual(lines)
          const tailed = yield* cwlogs(["tail", "-g", group, "-s", "s1", "--raw", "--endpoint", url])
          expect(tailed.code).toBe(0)
          expect(tailed.stdout.trimEnd().split("\n")).toEqual(lines)
          const grouped = yield* cwlogs(["tail", "-g", group, "--filter", "needle", "--endpoint", url])
          expect(grouped.code).toBe(0)
          expect(grouped.stdout.trimEnd().split("\n").map((l) => l.split(" ").slice(1, 4).join(" "))).toEqual([
            "s1 line 0",
            "s1 line 100",
            "s1 line 200"
          ])
        }))

      it.scoped("tail into a reader that is slow to read: every line arrives before the process exits", () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          const group = unique("cli/slow-reader")
          yield* emulator.model.api.createLogGroup({ logGroupName: group })
          yield* emulator.model.api.createLogStream({ logGroupName: group, logStreamName: "s" })
          const now = Date.now()
          const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i} of a pipe larger than its buffer`)
          let token: string | undefined = undefined
          for (let i = 0; i < lines.length; i += 10_000) {
            const answer: CloudWatchLogsApi.PutLogEventsResponse = yield* emulator.model.api.putLogEvents({
              logGroupName: group,
              logStreamName: "s",
              logEvents: lines.slice(i, i + 10_000).map((message) => ({ timestamp: now, message })),
              sequenceToken: token
            })
            token = answer.nextSequenceToken
          }
          // ~900 KB of output through a 64 KB pipe whose reader waits: the CLI must flush before exiting
          const out = yield* Effect.async<{ readonly code: number | null; readonly stdout: string }>((resume) => {
            const child = ChildProcess.spawn(
              process.execPath,
              ["--import", "tsx", CWLOGS, "tail", "-g", group, "-s", "s", "--raw", "--endpoint", emulator.url],
              { cwd: ROOT, env: childEnv(), stdio: ["ignore", "pipe", "ignore"] }
            )
            let stdout = ""
            // "close" comes after the exit and after the pipe was read to its end
            child.once("close", (code) => resume(Effect.succeed({ code, stdout })))
            child.stdout.pause()
            const timer = setTimeout(() => {
              child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
              child.stdout.resume()
            }, 1_500)
            return Effect.sync(() => {
              clearTimeout(timer)
              child.kill("SIGKILL")
            })
          })
          expect(out.code).toBe(0)
          expect(out.stdout.trimEnd().split("\n")).toEqual(lines)
        }))

      it.scoped("ship stdin with --timestamp-prefix: timestamps read and stripped; an old line is rejected, exit 1", () =>
        Effect.gen(function*() {
          const url = yield* endpoint
          const group = unique("cli/stdin")
          const t1 = Date.now() - 60_000
          const t2 = new Date(Date.now() - 30_000).toISOString()
          // a line that is only a timestamp is skipped, as an empty one is
          const input = `${t1} first\n${t2} second\nno stamp\n2020-01-01T00:00:00Z far too old\n${t2}\n`
          const shipped = yield* cwlogs(
            ["ship", "-g", group, "-s", "in", "--create", "--timestamp-prefix", "--endpoint", url],
            { stdin: input }
          )
          expect(shipped.code).toBe(1)
          expect(shipped.stderr).toContain("accepted  3")
          expect(shipped.stderr).toContain("TooOld 1")
          expect(shipped.stderr).toContain("skipped   1")
          expect(shipped.stderr.trim().split("\n").at(-1)).toBe("cwlogs: 1 line(s) not accepted")
          const events = yield* TestCloudWatchLogs.events(group, "in")
          expect(events.map((e) => e.message)).toEqual(["first", "second", "no stamp"])
          expect(events[0].timestamp).toBe(t1)
          expect(events[1].timestamp).toBe(Date.parse(t2))
        }))

      it.scoped("two ship processes into one stream, tokens enforced: every line stored once", () =>
        Effect.gen(function*() {
          const url = yield* endpoint
          const group = unique("cli/concurrent")
          const results = yield* shipConcurrently(url, group, ["a", "b"], 3000)
          expect(results.map((r) => [r.code, r.stderr.includes("accepted  3000")])).toEqual([[0, true], [0, true]])
          const messages = yield* stored(group, "shared")
          expect(messages).toHaveLength(6000)
          expect(new Set(messages).size).toBe(6000)
        }))

      it.scoped("--follow ships what is appended; SIGTERM drains and exits 0 with the summary", () =>
        Effect.gen(function*() {
          const url = yield* endpoint
          const dir = yield* tempDir
          const group = unique("cli/follow")
          const file = Path.join(dir, "growing.log")
          Fs.writeFileSync(file, "before 1\nbefore 2\n")
          const run = yield* start(CWLOGS, [
            "ship",
            "-g",
            group,
            "-s",
            "f",
            "--create",
            "--follow",
            "--endpoint",
            url,
            file
          ])
          yield* eventually(stored(group, "f"), (m) => m.length >= 2)
          Fs.appendFileSync(file, Array.from({ length: 500 }, (_, i) => `after ${i}`).join("\n") + "\n")
          run.child.kill("SIGTERM")
          const done = yield* run.exited
          expect(done.code).toBe(0)
          expect(done.stderr).toContain("accepted  502")
          const messages = yield* stored(group, "f")
          expect(messages).toHaveLength(502)
          expect(messages.at(-1)).toBe("after 499")
        }))

      it.scoped("a second SIGTERM stops at once, without the drain: exit 130, saying what was not delivered", () =>
        Effect.gen(function*() {
          const url = yield* endpoint
          const dir = yield* tempDir
          const group = unique("cli/twice")
          const file = Path.join(dir, "slow.log")
          Fs.writeFileSync(file, "one\ntwo\n")
          // the destination exists; then every answer is a minute late: the drain would wait its 10 s
          const created = yield* cwlogs(["ship", "-g", group, "-s", "s", "--create", "--endpoint", url], {
            stdin: "x\n"
          })
          expect(created.code).toBe(0)
          yield* Effect.acquireRelease(
            TestCloudWatchLogs.setFaults({ latencyMillis: 60_000 }),
            () => TestCloudWatchLogs.setFaults({})
          )
          const puts = yield* TestCloudWatchLogs.callCount("PutLogEvents")
          const run = yield* start(CWLOGS, ["ship", "-g", group, "-s", "s", "--follow", "--endpoint", url, file])
          // started, read, its put on its way (seen by the service, whose answer is a minute late): however
          // slow the machine, its signal handlers are in place by then
          yield* eventually(TestCloudWatchLogs.callCount("PutLogEvents"), (n) => n > puts)
          run.child.kill("SIGTERM")
          yield* Effect.sleep("300 millis")
          run.child.kill("SIGTERM")
          const done = yield* run.exited
          expect(done.code).toBe(130)
          expect(done.stderr).toContain("cwlogs: stopped at once; lines still buffered were not delivered")
          expect(done.stderr).not.toContain("accepted")
        }))

      it.scoped("tail --follow prints what arrives, until SIGTERM; exit 0", () =>
        Effect.gen(function*() {
          const url = yield* endpoint
          const group = unique("cli/tail-follow")
          const first = yield* cwlogs(["ship", "-g", group, "-s", "t", "--create", "--endpoint", url], {
            stdin: "old 1\nold 2\n"
          })
          expect(first.code).toBe(0)
          const tail = yield* start(CWLOGS, ["tail", "-g", group, "-s", "t", "--follow", "--raw", "--endpoint", url])
          yield* eventually(Effect.sync(tail.stdout), (out) => out.includes("old 2"))
          const second = yield* cwlogs(["ship", "-g", group, "-s", "t", "--endpoint", url], { stdin: "new 1\n" })
          expect(second.code).toBe(0)
          yield* eventually(Effect.sync(tail.stdout), (out) => out.includes("new 1"))
          tail.child.kill("SIGTERM")
          const done = yield* tail.exited
          expect(done.code).toBe(0)
          expect(done.stdout).toBe("old 1\nold 2\nnew 1\n")
        }))

      it.scoped("a missing destination without --create: one line, exit 1, nothing read", () =>
        Effect.gen(function*() {
          const url = yield* endpoint
          const result = yield* cwlogs(["ship", "-g", unique("cli/absent"), "-s", "s", "--endpoint", url], {
            stdin: "x\n"
          })
          expect(result.code).toBe(1)
          expect(oneLine(result.stderr)).toMatch(/does not exist \(pass --create to create it\)$/)
          const tail = yield* cwlogs(["tail", "-g", unique("cli/absent"), "--endpoint", url])
          expect(tail.code).toBe(1)
          expect(oneLine(tail.stderr)).toMatch(/^cwlogs: log group .* does not exist$/)
        }))

      it.scoped("an unreachable endpoint: one line, exit 3", () =>
        Effect.gen(function*() {
          const port = yield* freePort
          const result = yield* cwlogs(["ship", "-g", "g", "-s", "s", "--endpoint", `http://127.0.0.1:${port}`], {
            stdin: "x\n"
          })
          expect(result.code).toBe(3)
          expect(oneLine(result.stderr)).toBe(`cwlogs: cannot reach http://127.0.0.1:${port}: connection refused`)
          const tail = yield* cwlogs(["tail", "-g", "g", "--endpoint", `http://127.0.0.1:${port}`])
          expect(tail.code).toBe(3)
          expect(oneLine(tail.stderr)).toMatch(/connection refused$/)
        }))

      it.scoped("missing credentials: one line naming what to set, exit 3", () =>
        Effect.gen(function*() {
          const url = yield* endpoint
          const env = childEnv({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, HOME: "/nonexistent" })
          delete env.AWS_ACCESS_KEY_ID
          delete env.AWS_SECRET_ACCESS_KEY
          const result = yield* cwlogs(["ship", "-g", "g", "-s", "s", "--endpoint", url], { env, stdin: "x\n" })
          expect(result.code).toBe(3)
          expect(oneLine(result.stderr)).toMatch(/^cwlogs: no AWS credentials found: set AWS_ACCESS_KEY_ID/)
        }))

      it.scoped("bad arguments exit 2 with a clear one-line message", () =>
        Effect.gen(function*() {
          const url = yield* endpoint
          const noStream = yield* cwlogs(["ship", "-g", "g", "--endpoint", url])
          expect(noStream.code).toBe(2)
          expect(noStream.stderr).toContain("--stream")
          const retention = yield* cwlogs(["ship", "-g", "g", "-s", "s", "--retention", "8", "--endpoint", url])
          expect(retention.code).toBe(2)
          expect(oneLine(retention.stderr)).toMatch(/^cwlogs: invalid --retention 8: one of 1, 3, 5, 7/)
          const drain = yield* cwlogs(["ship", "-g", "g", "-s", "s", "--drain-timeout", "10s", "--endpoint", url])
          expect(drain.code).toBe(2)
          expect(oneLine(drain.stderr)).toBe(
            "cwlogs: invalid --drain-timeout 10s: a whole number of milliseconds, 0 or more"
          )
          const badName = yield* cwlogs(["ship", "-g", "bad name", "-s", "s", "--endpoint", url])
          expect(badName.code).toBe(2)
          expect(oneLine(badName.stderr)).toMatch(/^cwlogs: invalid --group: /)
          const badStream = yield* cwlogs(["ship", "-g", "g", "-s", "a:b", "--endpoint", url])
          expect(badStream.code).toBe(2)
          expect(oneLine(badStream.stderr)).toMatch(/^cwlogs: invalid --stream: /)
          const noFile = yield* cwlogs(["ship", "-g", "g", "-s", "s", "--endpoint", url, "/nonexistent/app.log"])
          expect(noFile.code).toBe(2)
          expect(oneLine(noFile.stderr)).toBe("cwlogs: cannot read /nonexistent/app.log: no such file")
          // before: "cannot read --retention: no such file, and no such option of cwlogs ship"
          const noValue = yield* cwlogs(["ship", "-g", "g", "-s", "s", "--endpoint", url, "--retention"])
          expect(noValue.code).toBe(2)
          expect(oneLine(noValue.stderr)).toBe("cwlogs: --retention needs a value")
          // before: "Received unknown argument: '/etc/hostname'" (--folow was taken for FILE)
          const typo = yield* cwlogs(["ship", "-g", "g", "-s", "s", "--endpoint", url, "--folow", "/etc/hostname"])
          expect(typo.code).toBe(2)
          expect(oneLine(typo.stderr)).toBe(
            "cwlogs: unknown option --folow of cwlogs ship (cwlogs ship --help lists them)"
          )
          // an endpoint without a scheme, or with a port out of range, is no URL
          for (const bad of ["127.0.0.1:4566", "http://127.0.0.1:99999"]) {
            const badEndpoint = yield* cwlogs(["ship", "-g", "g", "-s", "s", "--endpoint", bad], { stdin: "x\n" })
            expect(badEndpoint.code).toBe(2)
            expect(oneLine(badEndpoint.stderr)).toBe(
              `cwlogs: invalid --endpoint ${bad}: an http or https URL, such as http://127.0.0.1:4566`
            )
          }
          // the same from the environment, naming the variable; --endpoint wins over it
          const badEnvironment = yield* cwlogs(["ship", "-g", "g", "-s", "s"], {
            env: childEnv({ AWS_ENDPOINT_URL: "127.0.0.1:4566" }),
            stdin: "x\n"
          })
          expect(badEnvironment.code).toBe(2)
          expect(oneLine(badEnvironment.stderr)).toBe(
            "cwlogs: invalid AWS_ENDPOINT_URL 127.0.0.1:4566: an http or https URL, such as http://127.0.0.1:4566 " +
              "(or pass --endpoint)"
          )
        }))

      it.scoped("an empty AWS_REGION counts as none: the endpoint's default, or one line naming what to set", () =>
        Effect.gen(function*() {
          const url = yield* endpoint
          const group = unique("cli/region")
          const withEndpoint = yield* cwlogs(["ship", "-g", group, "-s", "s", "--create", "--endpoint", url], {
            env: childEnv({ AWS_REGION: "" }),
            stdin: "x\n"
          })
          expect(withEndpoint.code).toBe(0)
          expect(yield* stored(group, "s")).toEqual(["x"])
          const without = yield* cwlogs(["ship", "-g", group, "-s", "s"], {
            env: childEnv({ AWS_REGION: "" }),
            stdin: "x\n"
          })
          expect(without.code).toBe(1)
          expect(oneLine(without.stderr)).toBe("cwlogs: no AWS region: AWS_REGION is empty; set it or pass --region")
        }))

      it.scoped("--spool where no directory can be made: one line saying why, exit 1, nothing read", () =>
        Effect.gen(function*() {
          const url = yield* endpoint
          const dir = yield* tempDir
          const file = Path.join(dir, "a-file")
          Fs.writeFileSync(file, "")
          const result = yield* cwlogs(
            [
              "ship",
              "-g",
              unique("cli/spool"),
              "-s",
              "s",
              "--create",
              "--endpoint",
              url,
              "--spool",
              Path.join(file, "sub")
            ],
            { stdin: "x\n" }
          )
          expect(result.code).toBe(1)
          expect(oneLine(result.stderr)).toMatch(
            /^cwlogs: durable spool in .*a-file\/sub: creating the directory failed .*ENOTDIR/
          )
        }))

      it.scoped("--help exits 0 and shows examples", () =>
        Effect.gen(function*() {
          const help = yield* cwlogs(["ship", "--help"])
          expect(help.code).toBe(0)
          expect(help.stdout).toContain("EXAMPLES")
          expect(help.stdout).toContain("cwlogs ship --group orders --stream api-1 app.log")
          const tailHelp = yield* cwlogs(["tail", "--help"])
          expect(tailHelp.code).toBe(0)
          expect(tailHelp.stdout).toContain("--follow")
          // the options the arguments are checked against are those the help lists
          for (const [name, out] of [["ship", help.stdout], ["tail", tailHelp.stdout]] as const) {
            const usage = out.split("\n").find((line) => line.startsWith(`$ ${name} `)) ?? ""
            const listed = new Set(usage.match(/(?<=[\s([])--?[a-z][a-z-]*(?=[\s,)\]])/g) ?? [])
            const known = [...OPTION_NAMES[name].values, ...OPTION_NAMES[name].flags]
            const builtIn = ["--help", "-h", "--version", "--wizard", "--completions", "--log-level"]
            expect([...listed].filter((option) => !known.includes(option) && !builtIn.includes(option))).toEqual([])
            expect(known.filter((option) => !listed.has(option))).toEqual([])
          }
        }))
    }
  )
})

describe("cwlogs CLI under faults", { timeout: 120_000 }, () => {
  layer(
    Emulator.layer({
      sequenceTokens: "enforced",
      faults: { unavailable: 0.1, throttle: 0.05, lostResponse: 0.1, reset: 0.1 },
      seed: 7
    }),
    { timeout: "30 seconds", excludeTestServices: true }
  )((it) => {
    it.scoped("two ships into one stream through 5xx, throttling, resets and lost answers: nothing lost", () =>
      Effect.gen(function*() {
        const url = (yield* Emulator.Emulator).url
        const group = unique("cli/faults")
        const results = yield* shipConcurrently(url, group, ["p", "q"], 25_000)
        for (const r of results) {
          expect(r.code).toBe(0)
          expect(r.stderr).toContain("accepted  25000")
        }
        const reportedCopies = results.reduce(
          (n, r) => n + Number(/possibly duplicated (\d+)/.exec(r.stderr)?.[1] ?? 0),
          0
        )
        const messages = yield* stored(group, "shared")
        const distinct = new Set(messages)
        expect(distinct.size).toBe(50_000)
        expect(messages.length - distinct.size).toBeLessThanOrEqual(reportedCopies)
        expect(results.some((r) => !r.stderr.includes("retries   0"))).toBe(true)
      }))
  })
})
