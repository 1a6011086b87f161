/**
 * winston + winston-cloudwatch, set up as its README shows, pointed at the emulator through `awsOptions`.
 * One logger with one transport per stream. `uploadRate` is its only speed knob (default 2000 ms).
 *
 * @since 0.1.0
 */
import * as winston from "winston"
import WinstonCloudWatch from "winston-cloudwatch"
import { CREDENTIALS, REGION, streamNames } from "../lib/names.js"
import type { Job } from "../lib/spec.js"
import { fromLogger, MESSAGE, payload } from "./drive.js"
import type { LoggerSession } from "./types.js"

/**
 * The fastest honest setting: one submit timer tick every 100 ms (it never overlaps two puts per stream).
 *
 * @since 0.1.0
 * @category constants
 */
export const UPLOAD_RATE_MILLIS = 100

const setup = async (job: Job): Promise<LoggerSession> => {
  let failures = 0
  const transports = streamNames(job.logStreamName, job.streams).map((logStreamName) =>
    new WinstonCloudWatch({
      logGroupName: job.logGroupName,
      logStreamName,
      awsOptions: { endpoint: job.endpoint, region: REGION, credentials: CREDENTIALS },
      jsonMessage: true,
      uploadRate: UPLOAD_RATE_MILLIS,
      errorHandler: () => {
        failures++
      }
    })
  )
  const loggers = transports.map((transport) =>
    winston.createLogger({ level: "info", format: winston.format.json(), transports: [transport] })
  )
  return {
    log: (stream, i) => {
      loggers[stream].info(MESSAGE, payload(i))
    },
    close: () =>
      Promise.all(
        transports.map((transport) =>
          new Promise<void>((resolve, reject) => {
            // kthxbye gives up after 10 s by default; give it until the job's deadline instead.
            Object.assign(transport, { flushTimeout: Date.now() + job.deadlineMillis })
            transport.kthxbye((error) => (error ? reject(error) : resolve()))
          })
        )
      ).then(() => undefined),
    failures: () => failures,
    note: `uploadRate ${UPLOAD_RATE_MILLIS} ms`
  }
}

/**
 * @since 0.1.0
 * @category contenders
 */
export const run = fromLogger(setup)
