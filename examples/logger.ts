/**
 * An Effect app whose logs go to CloudWatch Logs.
 *
 * `CloudWatchLogs.layerLogger` adds a logger that ships every log line as one JSON event (level, message,
 * annotations, spans, fiber, cause) to a log stream. It never blocks the app: lines wait in a bounded
 * buffer and go out in batches. Closing the layer (the end of the program, or Ctrl-C / SIGTERM under
 * `NodeRuntime.runMain`) ships what is still buffered before the process exits.
 *
 *   npx tsx examples/logger.ts
 */
import { CloudWatchLogs, CloudWatchLogsApi } from "@cwlogs/core"
import * as Effect from "effect/Effect"
import * as Backend from "./support/backend.js"

export const logGroupName = "examples-orders"
export const logStreamName = "api-1"

// 1. The logger, as a layer. In a real app: `.pipe(Layer.provide(NodeCloudWatchLogs.layer()))`, which
//    takes region, credentials and endpoint from the usual AWS environment.
export const AppLogger = CloudWatchLogs.layerLogger({
  logGroupName,
  logStreamName,
  lingerMillis: 500 // a batch that is not full leaves after half a second
})

// 2. The app: plain Effect code that logs. Nothing in it knows about CloudWatch.
const handleOrder = (orderId: string, amount: number) =>
  Effect.gen(function*() {
    yield* Effect.logInfo("order received")
    if (amount > 100) yield* Effect.logWarning("large order, needs review")
    yield* Effect.sleep("5 millis") // the work
    yield* Effect.logInfo("order accepted")
  }).pipe(Effect.annotateLogs({ orderId, amount }), Effect.withLogSpan("handleOrder"))

export const app = Effect.forEach(
  [["o-1", 20], ["o-2", 250], ["o-3", 75]] as const,
  ([id, amount]) => handleOrder(id, amount),
  { discard: true }
)

// 3. Run the app with the logger. When `program` ends, the layer closes and the last lines are shipped.
export const program: Effect.Effect<void, never, CloudWatchLogsApi.CloudWatchLogsApi> = app.pipe(
  Effect.provide(AppLogger)
)

if (Backend.isMain(import.meta.url)) {
  Backend.runExample(program, () =>
    Effect.gen(function*() {
      const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
      const stored = yield* Backend.readStream(api, logGroupName, logStreamName)
      return [`${stored.length} log lines in ${logGroupName}/${logStreamName}:`, ...stored].join("\n")
    }))
}
