/**
 * A plain Node app, with no Effect code in its business logic, that logs and ships to CloudWatch Logs.
 *
 * The app talks to a small `logging` object of ordinary functions. Behind it, one `ManagedRuntime` holds
 * the CloudWatch logger and the SDK client for the life of the process: `info`/`warn` hand a line over
 * and return at once, `ship` sends a batch of records with back-pressure and resolves with the report,
 * `close` ships what is left and releases everything (call it on shutdown).
 *
 *   npx tsx examples/plain-node.ts
 */
import { CloudWatchLogs, CloudWatchLogsApi, Destination, ShipReport } from "@cwlogs/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Stream from "effect/Stream"
import * as Backend from "./support/backend.js"

export const logGroupName = "examples-plain-node"
export const appStream = "app"
export const recordsStream = "records"

// ---- the bridge: written once, used from ordinary code ----------------------------------------------

export interface Logging {
  readonly info: (message: string, fields?: Record<string, unknown>) => void
  readonly warn: (message: string, fields?: Record<string, unknown>) => void
  /** Ships records (one event each) and resolves when the service has them all. */
  readonly ship: (records: ReadonlyArray<Record<string, unknown>>) => Promise<ShipReport.ShipReport>
  /** Ships what is buffered and releases the client. */
  readonly close: () => Promise<void>
}

/**
 * In a real app: `await makeLogging(NodeCloudWatchLogs.layer())` at start-up. It resolves once the logger
 * and the client are up, so that the first lines keep their order.
 */
export const makeLogging = async (api: Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi>): Promise<Logging> => {
  const runtime = ManagedRuntime.make(
    CloudWatchLogs.layerLogger({ logGroupName, logStreamName: appStream, lingerMillis: 500, replace: true }).pipe(
      Layer.provideMerge(api)
    )
  )
  await runtime.runtime()
  const log = (effect: Effect.Effect<void>, fields: Record<string, unknown> | undefined) => {
    runtime.runFork(fields === undefined ? effect : Effect.annotateLogs(effect, fields))
  }
  return {
    info: (message, fields) => log(Effect.logInfo(message), fields),
    warn: (message, fields) => log(Effect.logWarning(message), fields),
    ship: (records) =>
      runtime.runPromise(
        Stream.fromIterable(records).pipe(
          Stream.map((record) => ({ timestamp: Date.now(), message: JSON.stringify(record) })),
          Stream.run(CloudWatchLogs.sink(Destination.make(logGroupName, recordsStream), { lingerMillis: 200 }))
        )
      ),
    close: () => runtime.dispose()
  }
}

// ---- the app: no Effect below this line ----------------------------------------------------------

interface Order {
  readonly id: string
  readonly total: number
}

const processOrders = async (orders: ReadonlyArray<Order>, logging: Logging): Promise<number> => {
  logging.info("batch started", { orders: orders.length })
  let accepted = 0
  for (const order of orders) {
    if (order.total <= 0) {
      logging.warn("order rejected", { id: order.id, total: order.total })
      continue
    }
    accepted++
  }
  const report = await logging.ship(orders.map((o) => ({ type: "order", ...o })))
  logging.info("batch done", { accepted, shipped: report.accepted })
  return accepted
}

export const main = async (api: Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi>): Promise<number> => {
  const logging = await makeLogging(api)
  try {
    return await processOrders(
      [{ id: "a", total: 12 }, { id: "b", total: 0 }, { id: "c", total: 40 }],
      logging
    )
  } finally {
    await logging.close() // the last log lines leave here
  }
}

/** `main`, as an Effect over the port (for `runExample` and the tests). */
export const program: Effect.Effect<number, never, CloudWatchLogsApi.CloudWatchLogsApi> = Effect.flatMap(
  Effect.context<CloudWatchLogsApi.CloudWatchLogsApi>(),
  (context) => Effect.promise(() => main(Layer.succeedContext(context)))
)

if (Backend.isMain(import.meta.url)) {
  Backend.runExample(program, (accepted) =>
    Effect.gen(function*() {
      const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
      const app = yield* Backend.readStream(api, logGroupName, appStream)
      const records = yield* Backend.readStream(api, logGroupName, recordsStream)
      return [`${accepted} orders accepted`, `${records.length} records shipped`, "app logs:", ...app].join("\n")
    }))
}
