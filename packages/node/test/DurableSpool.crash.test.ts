/**
 * The durable spool's promise with a real kill: a child process writes through a spool shipping to the
 * emulator over HTTP, and is killed with SIGKILL (no finalizer, no drain) while it ships. The next run
 * on the same directory ships what it left. Every event the child had acknowledged is stored; only the
 * batches in flight at the kill may be stored twice (the segments' acknowledgements name the others).
 */
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Emulator from "../../testkit/src/Emulator.js"
import * as DurableSpool from "../src/DurableSpool.js"
import { SHIPPERS } from "../src/internal/spool.js"
import * as format from "../src/internal/spoolFormat.js"
import { emulatorApi } from "./support/apis.js"
import { CWLOGS, cwlogs, eventually, ROOT, start } from "./support/processes.js"

const FIXTURE = Path.join(ROOT, "packages/node/test/fixtures/spoolUntilKilled.ts")
const LOGGER_FIXTURE = Path.join(ROOT, "packages/node/test/fixtures/logUntilKilled.ts")
// segments of ~15,000 events, put 1,000 at a time: a segment takes many puts
const SEGMENT_BYTES = 256 * 1024
const MAX_BATCH_EVENTS = 1_000
// batches sent and not yet acknowledged at once: each segment being shipped has its sink, each sink its 4
// upload slots, held until the answer's acknowledgement is written (of them, the spool's 4 uploads at
// once on their way; the others' answers have come, and they are being acknowledged)
const MAX_IN_FLIGHT_EVENTS = SHIPPERS * 4 * MAX_BATCH_EVENTS

// a service slower than the writer, so that the kill finds events on disk and not yet shipped
const emulatorLayer = emulatorApi({ sequenceTokens: "ignored", faults: { latencyMillis: 100 } })

/** The last count a child printed after `prefix` (`acked 500`, `logged 1000`), 0 before any. */
const lastCount = (stdout: string, prefix: string): number => {
  const lines = stdout.trim().split("\n").filter((l) => l.startsWith(prefix))
  return lines.length === 0 ? 0 : Number(lines[lines.length - 1]!.slice(prefix.length))
}

/**
 * Starts a child and kills it (SIGKILL) once it has printed a count of at least `handed` after `prefix`
 * and the stream holds at least `stored` events: in the middle of its shipping. Answers its last count.
 */
const killMidShipment = (
  fixture: string,
  args: ReadonlyArray<string>,
  group: string,
  prefix: string,
  at: { readonly handed: number; readonly stored: number }
) =>
  Effect.gen(function*() {
    const run = yield* start(fixture, args)
    yield* eventually(
      Effect.map(
        TestCloudWatchLogs.events(group, "s"),
        (stored) => ({ stored: stored.length, handed: lastCount(run.stdout(), prefix) })
      ),
      ({ handed, stored }) => handed >= at.handed && stored >= at.stored
    )
    run.child.kill("SIGKILL")
    const killed = yield* run.exited
    expect(killed.signal).toBe("SIGKILL")
    return lastCount(killed.stdout, prefix)
  })

/** A stream of its own in the emulator, and a spool directory removed with the scope. */
const killSetUp = (name: string) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const group = `${name}-${process.pid}`
    yield* emulator.model.api.createLogGroup({ logGroupName: group })
    yield* emulator.model.api.createLogStream({ logGroupName: group, logStreamName: "s" })
    const directory = yield* Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), `cwlogs-${name}-`))),
      (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
    )
    return { url: emulator.url, group, directory }
  })

describe("DurableSpool, killed with SIGKILL while shipping", { timeout: 120_000 }, () => {
  layer(emulatorLayer, { timeout: "30 seconds", excludeTestServices: true })((it) => {
    it.scoped("the next run stores every acknowledged event; only the batches in flight twice", () =>
      Effect.gen(function*() {
        const { directory, group, url } = yield* killSetUp("spool-kill")
        // killed once it has acknowledged a good many events and some of them are stored: mid-shipping
        const acked = yield* killMidShipment(
          FIXTURE,
          [url, directory, group, "s", String(SEGMENT_BYTES), String(MAX_BATCH_EVENTS)],
          group,
          "acked ",
          { handed: 60_000, stored: 10_000 }
        )
        const before = (yield* TestCloudWatchLogs.events(group, "s")).length
        expect(before).toBeLessThan(acked) // the kill left events on disk only

        const report = yield* DurableSpool.recover({ directory })
        const stored = (yield* TestCloudWatchLogs.events(group, "s")).map((e) => e.message)
        const counts = new Map<string, number>()
        for (const m of stored) counts.set(m, (counts.get(m) ?? 0) + 1)
        const missing = Array.from({ length: acked }, (_, i) => `ev-${i}`).filter((m) => !counts.has(m))
        const duplicates = stored.length - counts.size
        expect(missing).toEqual([])
        // nothing stored that was not written (the child may have written one more chunk than it said)
        expect([...counts.keys()].every((m) => /^ev-\d+$/.test(m) && Number(m.slice(3)) < acked + 500)).toBe(true)
        // only the puts in flight at the kill may be stored twice: not the segments they were part of
        expect(duplicates).toBeLessThanOrEqual(MAX_IN_FLIGHT_EVENTS)
        // and the next run says so: each was marked sent before its put went out, the kill notwithstanding
        expect(report.possibleDuplicates).toBeGreaterThanOrEqual(duplicates)
        expect(report.possibleDuplicates).toBeLessThanOrEqual(MAX_IN_FLIGHT_EVENTS)
        expect(report.recovered).toBe(stored.length - before)
        expect(Fs.readdirSync(directory)).toEqual([])
      }))

    it.scoped("the durable logger: every line whose log call returned is delivered after a SIGKILL", () =>
      Effect.gen(function*() {
        const { directory, group, url } = yield* killSetUp("spool-logger-kill")
        const logged = yield* killMidShipment(LOGGER_FIXTURE, [url, directory, group, "s"], group, "logged ", {
          handed: 20_000,
          stored: 2_000
        })
        const report = yield* DurableSpool.recover({ directory })
        const messages = (yield* TestCloudWatchLogs.events(group, "s")).map((e) => JSON.parse(e.message).message)
        const seen = new Set(messages)
        const missing = Array.from({ length: logged }, (_, i) => `line ${i}`).filter((m) => !seen.has(m))
        expect(missing).toEqual([])
        expect(report.recovered).toBeGreaterThan(0)
        // only the segments being shipped at the kill go twice
        expect(messages.length - seen.size).toBeLessThanOrEqual(report.recovered)
      }))

    it.scoped("cwlogs ship --spool: lines read from a pipe survive a SIGKILL; the next run delivers them", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const group = `spool-cli-${process.pid}`
        const directory = yield* Effect.acquireRelease(
          Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-spool-cli-"))),
          (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
        )
        const args = ["ship", "-g", group, "-s", "piped", "--create", "--spool", directory, "--endpoint", emulator.url]
        const lines = Array.from({ length: 1_000 }, (_, i) => `piped line ${i}`)
        // every put waits 5 s: the lines are read, spooled and on their way when the kill comes
        yield* TestCloudWatchLogs.setFaults({ latencyMillis: 5_000 })
        const run = yield* start(CWLOGS, args)
        run.child.stdin?.write(lines.join("\n") + "\n")
        // every line is in the spool's files (read back as the next run will)
        const spooled = () =>
          Fs.readdirSync(directory).filter((f) => f.endsWith(".seg")).reduce(
            (n, f) => n + [...format.read(Fs.readFileSync(Path.join(directory, f))).entries].length,
            0
          )
        yield* eventually(Effect.sync(spooled), (events) => events === lines.length)
        run.child.kill("SIGKILL")
        yield* run.exited
        expect(yield* TestCloudWatchLogs.events(group, "piped")).toEqual([])
        yield* TestCloudWatchLogs.setFaults({ latencyMillis: 100 })
        const next = yield* cwlogs(args, { stdin: "" })
        expect(next.stderr).toContain("recovered 1000 events an earlier run left in the spool")
        expect(next.code).toBe(0)
        const stored = (yield* TestCloudWatchLogs.events(group, "piped")).map((e) => e.message)
        expect(stored).toEqual(lines)
      }))
  })
})
