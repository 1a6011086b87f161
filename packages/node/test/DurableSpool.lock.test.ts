/**
 * One spool per directory across processes: two processes opening and closing spools on one directory
 * as fast as they can never hold it at the same time. (The lock file used to be created empty and then
 * written: a process reading it in between took it for a lock left by a process that is gone; and two
 * that found a stale lock together each removed it and made their own.)
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { ROOT, start } from "./support/processes.js"

const LOCK_IN_TURNS = Path.join(ROOT, "packages/node/test/fixtures/lockInTurns.ts")

describe("DurableSpool: the directory's lock across processes", { timeout: 60_000 }, () => {
  for (const mode of ["live", "stale"] as const) {
    it.scopedLive(`two processes taking and giving the lock in turn never hold it together (${mode} locks)`, () =>
      Effect.gen(function*() {
        const directory = yield* Effect.acquireRelease(
          Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-lock-"))),
          (d) => Effect.sync(() => Fs.rmSync(d, { recursive: true, force: true }))
        )
        // both start at the same moment, after their start-up
        const startAt = String(Date.now() + 4_000)
        const runs = yield* Effect.forEach(
          [1, 2],
          () => start(LOCK_IN_TURNS, [directory, startAt, mode === "stale" ? "5000" : "2000", mode]),
          { concurrency: "unbounded" }
        )
        const done = yield* Effect.forEach(runs, (r) => r.exited, { concurrency: "unbounded" })
        let held = 0
        for (const d of done) {
          expect(d.code).toBe(0)
          const found = /held (\d+) together (\d+)/.exec(d.stdout)
          if (found === null) return yield* Effect.dieMessage(`no count in the child's output: ${d.stdout} ${d.stderr}`)
          held += Number(found[1])
          expect(Number(found[2])).toBe(0)
        }
        // they did take it in turns, many times
        expect(held).toBeGreaterThan(50)
      }))
  }
})
