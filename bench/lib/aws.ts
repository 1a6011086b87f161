/**
 * The AWS SDK pieces every process of the harness shares: a client pointed at the emulator with dummy
 * credentials, set-up of groups and streams, and read-back of what the emulator stored.
 *
 * @since 0.1.0
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  GetLogEventsCommand,
  type GetLogEventsCommandOutput
} from "@aws-sdk/client-cloudwatch-logs"
import { CREDENTIALS, REGION } from "./names.js"

export { CREDENTIALS, REGION, streamNames } from "./names.js"

/**
 * A client as a user would build one against a local endpoint.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeClient = (endpoint: string, maxAttempts?: number): CloudWatchLogsClient =>
  new CloudWatchLogsClient({
    endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    ...(maxAttempts === undefined ? {} : { maxAttempts })
  })

const isAlreadyExists = (error: unknown): boolean =>
  error instanceof Error && error.name === "ResourceAlreadyExistsException"

/**
 * Create a group and its streams, ignoring "already exists".
 *
 * @since 0.1.0
 * @category setup
 */
export const ensureStreams = async (
  client: CloudWatchLogsClient,
  logGroupName: string,
  logStreamNames: ReadonlyArray<string>
): Promise<void> => {
  await client.send(new CreateLogGroupCommand({ logGroupName })).catch((error: unknown) => {
    if (!isAlreadyExists(error)) throw error
  })
  for (const logStreamName of logStreamNames) {
    await client.send(new CreateLogStreamCommand({ logGroupName, logStreamName })).catch((error: unknown) => {
      if (!isAlreadyExists(error)) throw error
    })
  }
}

/**
 * What read-back found in one stream.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stored {
  readonly count: number
  readonly bytes: number
  /** ingestionTime − timestamp of each event, when `withLatencies`. */
  readonly latencies: Array<number>
}

/**
 * Read a whole stream back with GetLogEvents, from its head, until the forward token stops moving.
 *
 * @since 0.1.0
 * @category read-back
 */
export const readBack = async (
  client: CloudWatchLogsClient,
  logGroupName: string,
  logStreamName: string,
  withLatencies: boolean
): Promise<Stored> => {
  let count = 0
  let bytes = 0
  const latencies: Array<number> = []
  let nextToken: string | undefined = undefined
  for (let page = 0; page < 100_000; page++) {
    const out: GetLogEventsCommandOutput = await client.send(
      new GetLogEventsCommand({
        logGroupName,
        logStreamName,
        startFromHead: true,
        limit: 10_000,
        ...(nextToken === undefined ? {} : { nextToken })
      })
    )
    const events = out.events ?? []
    for (const event of events) {
      count++
      bytes += Buffer.byteLength(event.message ?? "")
      if (withLatencies && event.ingestionTime !== undefined && event.timestamp !== undefined) {
        latencies.push(event.ingestionTime - event.timestamp)
      }
    }
    if (events.length === 0 || out.nextForwardToken === undefined || out.nextForwardToken === nextToken) break
    nextToken = out.nextForwardToken
  }
  return { count, bytes, latencies }
}

/**
 * The p-th percentile (0..100) of a sample, nearest-rank.
 *
 * @since 0.1.0
 * @category statistics
 */
export const percentile = (sorted: ReadonlyArray<number>, p: number): number => {
  if (sorted.length === 0) return Number.NaN
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1]
}
