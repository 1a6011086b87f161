/**
 * LogTape + @logtape/cloudwatch-logs, set up as its docs show: `configure` with the sink, JSON Lines
 * formatting, a client of the user's own (the documented way to set an endpoint), `dispose()` to flush.
 *
 * @since 0.1.0
 */
import { getCloudWatchLogsSink } from "@logtape/cloudwatch-logs"
import { configure, dispose, getLogger, jsonLinesFormatter, type Sink } from "@logtape/logtape"
import { makeClient, streamNames } from "../lib/aws.js"
import type { Job } from "../lib/spec.js"
import { fromLogger, MESSAGE, payload } from "./drive.js"
import type { LoggerSession } from "./types.js"

/**
 * Events per PutLogEvents. It flushes on size only once a batch is already over 1,048,576 bytes (it adds
 * the event, then compares), and the service refuses such a batch: every size-triggered flush is lost.
 * Its JSON Lines are ~270 bytes here, so 3,000 events (~900 KB) is the largest batch that never reaches
 * the size trigger: the fastest setting that loses nothing.
 *
 * @since 0.1.0
 * @category constants
 */
export const BATCH_SIZE = 3000

/**
 * @since 0.1.0
 * @category constants
 */
export const FLUSH_INTERVAL_MILLIS = 1000

const setup = async (job: Job): Promise<LoggerSession> => {
  const names = streamNames(job.logStreamName, job.streams)
  let failures = 0
  const sinks: Record<string, Sink> = {
    meta: (record) => {
      if (record.level === "error" || record.level === "fatal") failures++
    }
  }
  names.forEach((logStreamName, n) => {
    sinks[`cw${n}`] = getCloudWatchLogsSink({
      client: makeClient(job.endpoint),
      logGroupName: job.logGroupName,
      logStreamName,
      batchSize: BATCH_SIZE,
      flushInterval: FLUSH_INTERVAL_MILLIS,
      formatter: jsonLinesFormatter
    })
  })
  await configure({
    sinks,
    loggers: [
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["meta"] },
      ...names.map((_, n) => ({ category: ["bench", `s${n}`], lowestLevel: "info" as const, sinks: [`cw${n}`] }))
    ]
  })
  const loggers = names.map((_, n) => getLogger(["bench", `s${n}`]))
  return {
    log: (stream, i) => {
      loggers[stream].info(MESSAGE, payload(i))
    },
    close: () => dispose(),
    failures: () => failures,
    note: `batchSize ${BATCH_SIZE}, flushInterval ${FLUSH_INTERVAL_MILLIS} ms`
  }
}

/**
 * @since 0.1.0
 * @category contenders
 */
export const run = fromLogger(setup)
