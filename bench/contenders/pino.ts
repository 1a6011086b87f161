/**
 * pino 10 + @serdnam/pino-cloudwatch-transport, set up as its README shows (`pino.transport` with the
 * target, a worker thread per transport). It has no endpoint option: the AWS SDK reads the endpoint
 * from `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, which is how a user points it at a local service. Its own
 * throttle sends at most one PutLogEvents per second per transport.
 *
 * @since 0.1.0
 */
import { once } from "node:events"
import { pino } from "pino"
import { CREDENTIALS, REGION, streamNames } from "../lib/names.js"
import type { Job } from "../lib/spec.js"
import { fromLogger, MESSAGE, payload } from "./drive.js"
import type { LoggerSession } from "./types.js"

/**
 * Its `interval` (default 1000 ms); lower values change nothing because of its 1 put/s throttle.
 *
 * @since 0.1.0
 * @category constants
 */
export const INTERVAL_MILLIS = 1000

const setup = async (job: Job): Promise<LoggerSession> => {
  process.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS = job.endpoint
  const transports = streamNames(job.logStreamName, job.streams).map((logStreamName) =>
    pino.transport({
      target: "@serdnam/pino-cloudwatch-transport",
      options: {
        logGroupName: job.logGroupName,
        logStreamName,
        awsRegion: REGION,
        awsAccessKeyId: CREDENTIALS.accessKeyId,
        awsSecretAccessKey: CREDENTIALS.secretAccessKey,
        interval: INTERVAL_MILLIS
      }
    })
  )
  await Promise.all(transports.map((transport) => once(transport, "ready")))
  const loggers = transports.map((transport) => pino(transport))
  return {
    log: (stream, i) => {
      loggers[stream].info(payload(i), MESSAGE)
    },
    close: async () => {
      // pino's worker threads are unref'd: keep this process alive until they say they are closed.
      const keepAlive = setInterval(() => undefined, 1000)
      try {
        await Promise.all(
          transports.map((transport) => {
            const closed = once(transport, "close")
            transport.end()
            return closed
          })
        )
      } finally {
        clearInterval(keepAlive)
      }
    },
    failures: () => 0,
    note: `interval ${INTERVAL_MILLIS} ms`
  }
}

/**
 * @since 0.1.0
 * @category contenders
 */
export const run = fromLogger(setup)
