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
 * Events per PutLogEvents. Its maximum (10,000) overflows the 1 MiB batch limit with 200-byte lines
 * (it checks the size only after adding an event), so the fastest setting that loses nothing is lower.
 *
 * @since 0.1.0
 * @category constants
 */
export const BATCH_SIZE = 4000

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
