/**
 * Under NodeRuntime.runMain, SIGTERM interrupts the main fiber; the scopes close and the shipping
 * buffers drain before the process exits. A real child process proves it: it buffers events (a long
 * linger keeps them from going out), says "ready", and gets SIGTERM.
 */
import { Emulator, TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { eventually, ROOT, start } from "./support/processes.js"

const FIXTURE = Path.join(ROOT, "packages/node/test/fixtures/drainOnSigterm.ts")

describe("SIGTERM under NodeRuntime.runMain", { timeout: 120_000 }, () => {
  layer(Emulator.layer({ sequenceTokens: "ignored" }), { timeout: "30 seconds", excludeTestServices: true })((it) => {
    for (const mode of ["sink", "logger", "spool"] as const) {
      it.scoped(`${mode}: everything buffered is delivered before exit`, () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          const group = `sigterm-${mode}-${process.pid}`
          yield* emulator.model.api.createLogGroup({ logGroupName: group })
          yield* emulator.model.api.createLogStream({ logGroupName: group, logStreamName: "s" })
          const spool = yield* Effect.acquireRelease(
            Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-sigterm-spool-"))),
            (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
          )
          const run = yield* start(FIXTURE, [mode, emulator.url, group, "s", "2000", spool])
          yield* eventually(Effect.sync(run.stdout), (out) => out.includes("ready"))
          // buffered, not sent: the linger is ten minutes
          expect(yield* TestCloudWatchLogs.events(group, "s")).toEqual([])
          run.child.kill("SIGTERM")
          const done = yield* run.exited
          expect(done.stderr).toBe("")
          const messages = (yield* TestCloudWatchLogs.events(group, "s")).map((e) => e.message)
          expect(messages).toHaveLength(2000)
          expect(messages.filter((m) => m.includes(`${mode} event`)).length).toBe(2000)
          expect(done.code).toBe(0) // runMain: interrupted by the signal, finalizers done
          // the spool shipped its segment within the drain and left nothing for a next run
          expect(Fs.readdirSync(spool).filter((f) => f.endsWith(".seg"))).toEqual([])
        }))
    }
  })
})
