/**
 * A Lambda-style handler that flushes its logs before returning.
 *
 * A Lambda instance is frozen as soon as the handler returns: anything still buffered would wait, maybe
 * forever. So the handler ends with `CloudWatchLogs.flush`, which ships what is buffered and waits until
 * the service has it. The runtime (SDK client, logger) is built once per instance, outside the handler,
 * and reused by every invocation.
 *
 *   npx tsx examples/lambda.ts       (invokes the handler twice, as Lambda would)
 */
import { CloudWatchLogs, CloudWatchLogsApi } from "@cwlogs/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Backend from "./support/backend.js"

export const logGroupName = "examples-lambda"
export const logStreamName = "checkout"

export interface CheckoutEvent {
  readonly cartId: string
  readonly items: number
}

// The business logic, as an Effect.
const checkout = (event: CheckoutEvent) =>
  Effect.gen(function*() {
    yield* Effect.logInfo("checkout started")
    if (event.items === 0) {
      yield* Effect.logWarning("empty cart")
      return { statusCode: 400, body: "empty cart" }
    }
    yield* Effect.logInfo("checkout done")
    return { statusCode: 200, body: `ordered ${event.items} item(s)` }
  }).pipe(Effect.annotateLogs({ cartId: event.cartId }))

/**
 * Builds the handler over a port. In a real Lambda: `makeHandler(NodeCloudWatchLogs.layer())` at module
 * level, `export const handler = ...`. A long linger is fine: the flush does not wait for it.
 */
export const makeHandler = (api: Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi>) => {
  const runtime = ManagedRuntime.make(
    CloudWatchLogs.layerLogger({ logGroupName, logStreamName, lingerMillis: 60_000 }).pipe(Layer.provide(api))
  )
  const handler = (event: CheckoutEvent) =>
    runtime.runPromise(checkout(event).pipe(Effect.ensuring(CloudWatchLogs.flush)))
  return { handler, dispose: () => runtime.dispose() }
}

/** Two invocations, then the instance goes away. */
export const program: Effect.Effect<
  ReadonlyArray<{ readonly statusCode: number; readonly body: string }>,
  never,
  CloudWatchLogsApi.CloudWatchLogsApi
> = Effect.gen(function*() {
  const api = yield* Effect.context<CloudWatchLogsApi.CloudWatchLogsApi>()
  return yield* Effect.acquireUseRelease(
    Effect.sync(() => makeHandler(Layer.succeedContext(api))),
    ({ handler }) =>
      Effect.promise(async () => [
        await handler({ cartId: "c-1", items: 3 }),
        await handler({ cartId: "c-2", items: 0 })
      ]),
    ({ dispose }) => Effect.promise(dispose)
  )
})

if (Backend.isMain(import.meta.url)) {
  Backend.runExample(program, (responses) =>
    Effect.gen(function*() {
      const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
      const stored = yield* Backend.readStream(api, logGroupName, logStreamName)
      return [...responses.map((r) => `${r.statusCode} ${r.body}`), `${stored.length} log lines stored`].join("\n")
    }))
}
