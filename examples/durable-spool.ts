/**
 * Logs that survive a crash: a durable spool between the producer and CloudWatch Logs.
 *
 * Each chunk of events is written to a segment file in `directory` (and synced to the disk) before the
 * stream goes on, and shipped from there by the spool's own fibers. Kill the process at any moment (kill
 * -9, the OOM killer, a lost machine): what was handed over is on disk, and the next run with the same
 * directory starts with it. A run reports the events it recovered.
 *
 *   npx tsx examples/durable-spool.ts [directory]      (an embedded emulator; CWLOGS_ENDPOINT for another)
 */
import type { CloudWatchLogs } from "@cwlogs/core"
import { CloudWatchLogsApi, Destination } from "@cwlogs/core"
import * as DurableSpool from "@cwlogs/node/DurableSpool"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Backend from "./support/backend.js"

export const destination = Destination.make("examples-billing", "invoices")

/** `count` invoice events, made as they are handed over, through a spool in `directory`. */
export const program = (
  directory: string,
  count = 20_000
): Effect.Effect<
  DurableSpool.SpoolReport,
  DurableSpool.SpoolError | CloudWatchLogs.ShipError,
  CloudWatchLogsApi.CloudWatchLogsApi
> =>
  Stream.range(1, count).pipe(
    Stream.mapEffect((i) =>
      Effect.map(Effect.clockWith((clock) => clock.currentTimeMillis), (now) => ({
        timestamp: now,
        message: JSON.stringify({ invoice: i, amount: (i * 37) % 1000, currency: "EUR" })
      }))
    ),
    Stream.run(DurableSpool.sink(destination, { directory }))
  )

if (Backend.isMain(import.meta.url)) {
  const directory = process.argv[2] ?? Path.join(Os.tmpdir(), "cwlogs-example-spool")
  Backend.runExample(
    program(directory),
    (report) =>
      Effect.gen(function*() {
        const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
        const stored = yield* Backend.readStream(api, destination.logGroupName, destination.logStreamName)
        return `spool ${directory}: accepted ${report.accepted} (${report.recovered} left by an earlier run); ` +
          `the stream holds ${stored.length} events`
      })
  )
}
