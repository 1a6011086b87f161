/**
 * `Cli.run` in process: exit statuses, and `stop` acting like SIGINT (the input ends, buffers drain).
 */
import { Emulator } from "@cwlogs/testkit"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Cli from "../src/Cli.js"
import { argumentProblem } from "../src/internal/cli/commands.js"
import "./support/servers.js"

const argv = (...args: ReadonlyArray<string>) => ["node", "cwlogs", ...args]

const awsEnv = Effect.acquireRelease(
  Effect.sync(() => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY }
    process.env.AWS_ACCESS_KEY_ID = "AKIDINPROCESS"
    process.env.AWS_SECRET_ACCESS_KEY = "in-process-secret"
    return saved
  }),
  (saved) =>
    Effect.sync(() => {
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID
      else process.env.AWS_ACCESS_KEY_ID = saved.id
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY
      else process.env.AWS_SECRET_ACCESS_KEY = saved.secret
    })
)

describe("cwlogs arguments checked before parsing", () => {
  it("names an option whose value is missing, and an option the command does not have", () => {
    expect(argumentProblem(["ship", "-g", "g", "-s", "s", "--retention"])).toBe("--retention needs a value")
    expect(argumentProblem(["tail", "-g"])).toBe("-g needs a value")
    expect(argumentProblem(["ship", "-g", "g", "-s", "s", "--folow", "/etc/hostname"])).toBe(
      "unknown option --folow of cwlogs ship (cwlogs ship --help lists them)"
    )
    // an option of the other command
    expect(argumentProblem(["tail", "-g", "g", "--spool", "d"])).toMatch(/^unknown option --spool of cwlogs tail/)
  })

  it("leaves valid lines alone: values, --name=value, short flags together, -, --, built-in options", () => {
    for (
      const args of [
        ["ship", "-g", "g", "-s", "s", "--retention", "7", "--follow", "app.log"],
        ["ship", "--group=g", "--stream=s", "-"],
        ["tail", "-g", "g", "--filter", "-x", "-f", "--raw"],
        ["tail", "-fg", "g"],
        ["ship", "-g", "g", "-s", "s", "--", "-odd-name.log"],
        ["--log-level", "warning", "ship", "-g", "g", "-s", "s", "--help"],
        ["--version"],
        ["frobnicate", "--x"]
      ]
    ) expect(argumentProblem(args)).toBeUndefined()
  })
})

describe("Cli.run", () => {
  it.scopedLive("answers 2 for bad arguments and 0 for --version", () =>
    Effect.gen(function*() {
      expect(yield* Cli.run(argv("ship", "-g", "g"))).toBe(2)
      expect(yield* Cli.run(argv("ship", "-g", "g", "-s", "s", "--retention", "4"))).toBe(2)
      expect(yield* Cli.run(argv("frobnicate"))).toBe(2)
      expect(yield* Cli.run(argv("ship", "-g", "g", "-s", "s", "--drain-timeout", "soon"))).toBe(2)
      expect(yield* Cli.run(argv("--version"))).toBe(0)
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scopedLive("stop ends a followed file: what was read is delivered, exit 0", () =>
    Effect.gen(function*() {
      yield* awsEnv
      const emulator = yield* Emulator.make()
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-run-"))),
        (d) => Effect.sync(() => Fs.rmSync(d, { recursive: true, force: true }))
      )
      const file = Path.join(dir, "f.log")
      Fs.writeFileSync(file, "a\nb\n")
      const stop = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        Cli.run(
          argv("ship", "-g", "run", "-s", "f", "--create", "--follow", "--endpoint", emulator.url, file),
          Deferred.await(stop)
        )
      )
      yield* emulator.model.events("run", "f").pipe(
        Effect.repeat({ until: (events) => events.length === 2, schedule: Schedule.spaced("50 millis") }),
        Effect.timeout("30 seconds")
      )
      Fs.appendFileSync(file, "c\n")
      yield* Deferred.succeed(stop, undefined)
      expect(yield* Fiber.join(fiber)).toBe(0)
      expect((yield* emulator.model.events("run", "f")).map((e) => e.message)).toEqual(["a", "b", "c"])
    }).pipe(Effect.provide(NodeContext.layer)))

  for (const mode of ["sink", "spool"] as const) {
    it.scopedLive(`${mode}: stop in an outage ends the run at --drain-timeout, exit 1, not delivered counted`, () =>
      Effect.gen(function*() {
        yield* awsEnv
        const emulator = yield* Emulator.make({ faults: { unavailable: 1 } })
        const dir = yield* Effect.acquireRelease(
          Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-run-"))),
          (d) => Effect.sync(() => Fs.rmSync(d, { recursive: true, force: true }))
        )
        const file = Path.join(dir, "f.log")
        Fs.writeFileSync(file, "a\nb\nc\n")
        const spool = mode === "spool" ? ["--spool", Path.join(dir, "spool")] : []
        const stop = yield* Deferred.make<void>()
        const fiber = yield* Effect.fork(Cli.run(
          argv(
            "ship",
            "-g",
            "g",
            "-s",
            "s",
            "--create",
            "--follow",
            ...spool,
            "--drain-timeout",
            "200",
            "--endpoint",
            emulator.url,
            file
          ),
          Deferred.await(stop)
        ))
        yield* emulator.model.callCount("PutLogEvents").pipe(
          Effect.repeat({ until: (n) => n >= 1, schedule: Schedule.spaced("50 millis") }),
          Effect.timeout("30 seconds")
        )
        yield* Deferred.succeed(stop, undefined)
        // before: the spool waited for the service for ever, the sink for its retry policy's end
        expect(yield* Fiber.join(fiber)).toBe(1)
        if (mode === "spool") {
          expect(Fs.readdirSync(Path.join(dir, "spool")).some((f) => f.endsWith(".seg"))).toBe(true)
        }
      }).pipe(Effect.provide(NodeContext.layer)))
  }
})
