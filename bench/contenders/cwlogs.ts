/**
 * cwlogs: through `CloudWatchLogs.sink` and through the Effect logger. (Wired once the pipeline lands.)
 *
 * @since 0.1.0
 */
import type { Job } from "../lib/spec.js"
import type { Hooks, Outcome } from "./types.js"

const pending = async (job: Job, _hooks: Hooks): Promise<Outcome> => ({
  sent: 0,
  bytes: 0,
  elapsedSeconds: 0,
  error: `${job.contender}: CloudWatchLogs module not available yet`
})

/**
 * @since 0.1.0
 * @category contenders
 */
export const run = pending

/**
 * @since 0.1.0
 * @category contenders
 */
export const runLogger = pending

/**
 * @since 0.1.0
 * @category contenders
 */
export const runDefaultLogger = pending
