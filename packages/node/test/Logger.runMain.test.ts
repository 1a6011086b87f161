/**
 * `replace: true` under `NodeRuntime.runMain`: runMain puts its pretty logger in the default logger's
 * place before the program starts, so the shipping logger must take that one's place too, or every line
 * goes out twice (to CloudWatch Logs, and to the console, which on Lambda or ECS is CloudWatch Logs again).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { ROOT, start } from "./support/processes.js"

const FIXTURE = Path.join(ROOT, "packages/node/test/fixtures/replaceUnderRunMain.ts")

describe("the shipping logger under NodeRuntime.runMain", () => {
  it.scopedLive("replace: true ships the line and leaves the console quiet", () =>
    Effect.gen(function*() {
      const run = yield* start(FIXTURE, ["core"])
      const done = yield* run.exited
      expect(done.stderr).toContain("stored: 1")
      expect(done.code).toBe(0)
      expect(done.stdout).not.toContain("only-in-cloudwatch")
    }), 30_000)

  it.scopedLive("the durable logger's replace: true does the same", () =>
    Effect.gen(function*() {
      const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-replace-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(directory, { recursive: true, force: true })))
      const run = yield* start(FIXTURE, ["durable", directory])
      const done = yield* run.exited
      expect(done.stderr).toContain("stored: 1")
      expect(done.code).toBe(0)
      expect(done.stdout).not.toContain("only-in-cloudwatch")
    }), 30_000)
})
