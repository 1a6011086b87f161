/**
 * The limit: a bare loop over `@aws-sdk/client-cloudwatch-logs` sending pre-built full batches (cut at
 * 10,000 events or 1,048,576 bytes with 26 bytes per event), `concurrency` requests in flight, no
 * validation, no retry beyond the SDK's own. Building the batches is not timed.
 *
 * `raw-sdk-native` is the same loop on a client configured as cwlogs configures its own
 * (`NodeCloudWatchLogs.makeClient`: PutLogEvents bodies written by `JSON.stringify`, the SDK's
 * logger middleware removed): the floor under cwlogs' pipeline, so that what the pipeline itself costs
 * shows apart from what the client costs.
 *
 * @since 0.1.0
 */
import { type CloudWatchLogsClient, type InputLogEvent, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs"
import { CREDENTIALS, makeClient, REGION, streamNames } from "../lib/aws.js"
import { line } from "../lib/events.js"
import type { Job } from "../lib/spec.js"
import type { Hooks, Outcome } from "./types.js"

const MAX_EVENTS = 10_000
const MAX_BYTES = 1_048_576
const OVERHEAD = 26

interface Batch {
  readonly logStreamName: string
  readonly logEvents: Array<InputLogEvent>
}

const build = (job: Job): { batches: Array<Batch>; bytes: number } => {
  const batches: Array<Batch> = []
  let bytes = 0
  const now = Date.now()
  for (const logStreamName of streamNames(job.logStreamName, job.streams)) {
    let current: Array<InputLogEvent> = []
    let size = 0
    for (let i = 0; i < job.events; i++) {
      const message = line(i, now)
      const weight = Buffer.byteLength(message) + OVERHEAD
      bytes += weight - OVERHEAD
      if (current.length === MAX_EVENTS || size + weight > MAX_BYTES) {
        batches.push({ logStreamName, logEvents: current })
        current = []
        size = 0
      }
      current.push({ timestamp: now, message })
      size += weight
    }
    if (current.length > 0) batches.push({ logStreamName, logEvents: current })
  }
  return { batches, bytes }
}

/**
 * A client built as `@cwlogs/node` builds its own (`NodeCloudWatchLogs.makeClient`). Loaded only for
 * `raw-sdk-native`: the plain loops do not load cwlogs nor Effect.
 */
const tunedClient = async (endpoint: string): Promise<CloudWatchLogsClient> => {
  const [{ NodeCloudWatchLogs }, Redacted] = await Promise.all([import("@cwlogs/node"), import("effect/Redacted")])
  return NodeCloudWatchLogs.makeClient({
    endpoint,
    region: REGION,
    credentials: {
      accessKeyId: CREDENTIALS.accessKeyId,
      secretAccessKey: Redacted.make(CREDENTIALS.secretAccessKey)
    }
  })
}

/**
 * @since 0.1.0
 * @category contenders
 */
export const run = async (job: Job, hooks: Hooks): Promise<Outcome> => {
  const client = job.contender === "raw-sdk-native" ? await tunedClient(job.endpoint) : makeClient(job.endpoint)
  const { batches, bytes } = build(job)
  let sent = 0
  let failed = 0
  let firstError: string | undefined
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < batches.length) {
      const batch = batches[next++]
      try {
        await client.send(
          new PutLogEventsCommand({
            logGroupName: job.logGroupName,
            logStreamName: batch.logStreamName,
            logEvents: batch.logEvents
          })
        )
      } catch (e) {
        failed += batch.logEvents.length
        firstError ??= e instanceof Error ? `${e.name}: ${e.message}` : String(e)
      }
      sent += batch.logEvents.length
    }
  }
  hooks.start()
  const begin = performance.now()
  await Promise.all(Array.from({ length: Math.max(1, job.concurrency) }, worker))
  const elapsedSeconds = (performance.now() - begin) / 1000
  client.destroy()
  return {
    sent,
    bytes,
    elapsedSeconds,
    reportedFailed: failed,
    ...(firstError === undefined ? {} : { error: firstError }),
    note: `concurrency ${job.concurrency}, ${batches.length} batches`
  }
}
