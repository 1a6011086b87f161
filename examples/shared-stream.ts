/**
 * Several producers on one log stream, against a service that enforces sequence tokens (the legacy
 * generation of the API, still played by older emulators and look-alikes).
 *
 * Nothing to configure: the uploader finds out that tokens are enforced, sends one put at a time per
 * stream with the token the last answer gave, adopts the expected token from InvalidSequenceToken errors
 * (another writer moved it), treats DataAlreadyAccepted (a replay of a stored batch) as a success, and
 * calls DescribeLogStreams only when an error carries no token. Against today's AWS, which ignores tokens,
 * the same code sends puts in parallel and makes no token call.
 *
 * Producers in one process share one `Uploader` (and its token store): provide `Uploader.layer` once,
 * above the sinks. Producers in separate processes each have their own and contend for the token; that
 * works too, with more token errors.
 *
 *   npx tsx examples/shared-stream.ts      (an embedded emulator with tokens enforced)
 */
import {
  CloudWatchLogs,
  CloudWatchLogsApi,
  Destination,
  RetryPolicy,
  SequenceTokenStore,
  ShipReport,
  Uploader,
  UploadRateLimiter
} from "@cwlogs/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as Backend from "./support/backend.js"

export const destination = Destination.make("examples-payments", "shared")

/** The pipeline shared by every producer of this process. */
export const SharedPipeline = Uploader.layer.pipe(
  Layer.provide(Layer.mergeAll(SequenceTokenStore.layerMemory, UploadRateLimiter.layer(), RetryPolicy.layerDefault))
)

/** One producer: its own stream of events, its own sink, the shared stream as destination. */
const producer = (name: string, count: number, now: number) =>
  Stream.range(1, count).pipe(
    Stream.map((i) => ({ timestamp: now + i, message: JSON.stringify({ producer: name, seq: i }) })),
    Stream.run(CloudWatchLogs.sink(destination, { lingerMillis: 100, maxBatchEvents: 500 }))
  )

/** `producers` producers of `perProducer` events each, at once; the reports, added up. */
export const program = (
  producers = 4,
  perProducer = 2000
): Effect.Effect<ShipReport.ShipReport, CloudWatchLogs.ShipError, CloudWatchLogsApi.CloudWatchLogsApi> =>
  Effect.gen(function*() {
    const now = yield* Effect.clockWith((clock) => clock.currentTimeMillis)
    const reports = yield* Effect.all(
      Array.from({ length: producers }, (_, p) => producer(`p${p}`, perProducer, now)),
      { concurrency: "unbounded" }
    )
    return reports.reduce(ShipReport.combine, ShipReport.empty)
  }).pipe(Effect.provide(SharedPipeline))

if (Backend.isMain(import.meta.url)) {
  Backend.runExample(
    program(),
    (report) =>
      Effect.gen(function*() {
        const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
        const stored = yield* Backend.readStream(api, destination.logGroupName, destination.logStreamName)
        return `accepted ${report.accepted}, retries ${report.retries}; the stream holds ${stored.length} events`
      }),
    { sequenceTokens: "enforced" }
  )
}
