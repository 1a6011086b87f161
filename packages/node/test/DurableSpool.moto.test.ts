/**
 * The durable spool over the real SDK against moto's server, an implementation of the API that is not
 * ours: a routed spool makes the groups and streams it needs (on ResourceNotFound), and a run after a
 * crash ships what the crash left. Read back with GetLogEvents.
 */
import { CloudWatchLogsApi } from "@cwlogs/core"
import { describe, expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as DurableSpool from "../src/DurableSpool.js"
import { motoApi } from "./support/apis.js"
import { unique } from "./support/portSuite.js"
import { hasMoto } from "./support/servers.js"

const MotoApi = motoApi

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-spool-moto-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const storedIn = (logGroupName: string, logStreamName: string) =>
  Effect.flatMap(
    CloudWatchLogsApi.CloudWatchLogsApi,
    (api) =>
      Effect.map(CloudWatchLogsApi.readAll(api, { logGroupName, logStreamName }), (es) => es.map((e) => e.message))
  )

describe.runIf(hasMoto)("DurableSpool against moto_server", () => {
  layer(MotoApi, { timeout: "40 seconds", excludeTestServices: true })((it) => {
    it.scoped("a routed spool creates what it needs and ships every event; a crash's leftovers go next run", () =>
      Effect.gen(function*() {
        const group = unique("spool-moto")
        const streams = ["a", "b", "c"]
        const now = Date.now()
        const input = Array.from({ length: 3_000 }, (_, i) => ({
          destination: { logGroupName: group, logStreamName: streams[i % 3]! },
          event: { timestamp: now + i, message: `moto ${i} é😀` }
        }))
        const directory = yield* tempDir
        const report = yield* Stream.fromIterable(input).pipe(
          Stream.rechunk(250),
          Stream.run(DurableSpool.sink((r: (typeof input)[number]) => r, { directory, segmentBytes: 16 * 1024 }))
        )
        expect(report.accepted).toBe(3_000)
        for (const [k, stream] of streams.entries()) {
          const expected = input.filter((_, i) => i % 3 === k).map((r) => r.event.message)
          expect(yield* storedIn(group, stream)).toEqual(expected)
        }
        // a run killed right after its write (the directory copied then), and the next one
        const left = yield* tempDir
        yield* Effect.scoped(Effect.gen(function*() {
          const spool = yield* DurableSpool.make({ directory, segmentMillis: 60_000 })
          yield* spool.write([{
            destination: { logGroupName: group, logStreamName: "late" },
            event: { timestamp: now, message: "late" }
          }])
          Fs.cpSync(directory, left, { recursive: true })
        }))
        const recovered = yield* DurableSpool.recover({ directory: left })
        expect(recovered.recovered).toBe(1)
        // the first run's drain delivered it too (at close), the second one again: at least once
        expect(yield* storedIn(group, "late")).toEqual(["late", "late"])
      }))
  })
})
