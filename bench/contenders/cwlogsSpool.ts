/**
 * cwlogs' durable spool (`@cwlogs/node/DurableSpool`), as its module docs show, over the same programs as
 * the `cwlogs-sink` and `cwlogs-logger` contenders. A module of its own: the spool loads `@effect/platform`
 * (~4.6 MiB of heap), which the other cwlogs contenders do not use and so must not load, since the
 * child's peak RSS is the contender's.
 *
 * @since 0.1.0
 */
import * as DurableSpool from "@cwlogs/node/DurableSpool"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Job } from "../lib/spec.js"
import { type Routed, runLoggerWith, runWith } from "./cwlogs.js"
import type { Hooks, Outcome } from "./types.js"

/**
 * Through `DurableSpool.sink` (`@cwlogs/node/DurableSpool`), defaults and `fsync` on: every chunk is
 * written and synced to a fresh directory before the sink takes the next, and shipped from there.
 *
 * @since 0.1.0
 * @category contenders
 */
export const runSpool = async (job: Job, hooks: Hooks): Promise<Outcome> => {
  const directory = mkdtempSync(join(tmpdir(), "cwlogs-bench-spool-"))
  try {
    return await runWith(
      {
        one: (destination) => DurableSpool.sink(destination, { directory }),
        routed: DurableSpool.sink((input: Routed) => input, { directory })
      },
      job,
      hooks
    )
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}

/**
 * `DurableSpool.layerLogger` (`@cwlogs/node/DurableSpool`) in place of the default logger, defaults: each
 * line written to the spool's segment before the log call returns, shipped from there.
 *
 * @since 0.1.0
 * @category contenders
 */
export const runSpoolLogger = async (job: Job, hooks: Hooks): Promise<Outcome> => {
  const directory = mkdtempSync(join(tmpdir(), "cwlogs-bench-spool-logger-"))
  try {
    return await runLoggerWith(
      DurableSpool.layerLogger({
        logGroupName: job.logGroupName,
        logStreamName: job.logStreamName,
        directory,
        replace: true
      }),
      job,
      hooks
    )
  } finally {
    rmSync(directory, { recursive: true, force: true })
  }
}
