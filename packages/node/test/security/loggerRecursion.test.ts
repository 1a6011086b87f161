/**
 * The shipping logger cannot recurse into itself: log lines written while shipping (by the library, by
 * the port's implementation, as an AWS SDK logger would) never enter the shipping logger, so a failing
 * upload path that logs does not feed itself, and the program terminates.
 */
import { CloudWatchLogs, CloudWatchLogsApi, CloudWatchLogsError, RetryPolicy } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as TestClock from "effect/TestClock"

const G = "app"
const S = "logs"

/** The in-memory service behind a port that logs every call, as a verbose SDK would; `fail` makes puts fail. */
const loggingApi = (fail: boolean) =>
  Layer.effect(
    CloudWatchLogsApi.CloudWatchLogsApi,
    Effect.gen(function*() {
      const model = yield* TestCloudWatchLogs.TestCloudWatchLogs
      const api = model.api
      const putLogEvents: CloudWatchLogsApi.CloudWatchLogsApiShape["putLogEvents"] = (request) =>
        Effect.gen(function*() {
          yield* Effect.logInfo(`port: PutLogEvents of ${request.logEvents.length} events`)
          if (fail) {
            yield* Effect.logError("port: PutLogEvents failed, the service is unavailable")
            return yield* new CloudWatchLogsError.ServiceUnavailableException({ message: "down", httpStatus: 503 })
          }
          return yield* api.putLogEvents(request)
        })
      return { ...api, putLogEvents }
    })
  ).pipe(Layer.provideMerge(TestCloudWatchLogs.layer()))

const Retries = RetryPolicy.layer({
  transient: RetryPolicy.backoff({ base: "100 millis", cap: "1 second", retries: 5, jitter: false })
})

/** Runs `program` with the shipping logger installed, while a ticker advances the TestClock. */
const withTicker = <A, E, R>(program: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const ticker = yield* Effect.fork(
      Effect.forever(Effect.zipRight(TestClock.adjust("100 millis"), Effect.yieldNow()))
    )
    const result = yield* Effect.fork(program).pipe(Effect.flatMap(Fiber.join))
    yield* Fiber.interrupt(ticker)
    return result
  })

describe("the shipping logger does not recurse", () => {
  it.effect("lines logged by the port while shipping are not shipped: one app line, one put, one event", () =>
    withTicker(
      Effect.gen(function*() {
        const stored = yield* Ref.make<ReadonlyArray<string>>([])
        const puts = yield* Ref.make(0)
        yield* Effect.scoped(
          Effect.gen(function*() {
            const model = yield* TestCloudWatchLogs.TestCloudWatchLogs
            // the destination exists, so that the only put is the one of the application's line
            yield* model.api.createLogGroup({ logGroupName: G })
            yield* model.api.createLogStream({ logGroupName: G, logStreamName: S })
            yield* Effect.logInfo("the application says hello")
            yield* Effect.sleep("30 seconds")
            yield* Ref.set(stored, (yield* model.events(G, S)).map((e) => e.message))
            yield* Ref.set(puts, yield* model.callCount("PutLogEvents"))
          }).pipe(
            Effect.provide(
              CloudWatchLogs.layerLogger({ logGroupName: G, logStreamName: S, lingerMillis: 200 }).pipe(
                Layer.provideMerge(loggingApi(false)),
                Layer.provideMerge(Retries)
              )
            )
          )
        )
        const messages = yield* Ref.get(stored)
        expect(messages).toHaveLength(1)
        expect(messages[0]).toContain("the application says hello")
        expect(messages.join("\n")).not.toContain("port:")
        expect(yield* Ref.get(puts)).toBe(1)
      })
    ))

  it.effect("a failing upload path that logs: bounded calls, nothing of its own in any batch, and it terminates", () =>
    withTicker(
      Effect.gen(function*() {
        const sent = yield* Ref.make<ReadonlyArray<string>>([])
        const report = yield* Ref.make<CloudWatchLogs.LoggerReport | undefined>(undefined)
        const recorder = Layer.effect(
          CloudWatchLogsApi.CloudWatchLogsApi,
          Effect.gen(function*() {
            const inner = yield* CloudWatchLogsApi.CloudWatchLogsApi
            return {
              ...inner,
              putLogEvents: (request: CloudWatchLogsApi.PutLogEventsRequest) =>
                Ref.update(sent, (all) => [...all, ...request.logEvents.map((e) => e.message)]).pipe(
                  Effect.zipRight(inner.putLogEvents(request))
                )
            }
          })
        ).pipe(Layer.provide(loggingApi(true)))
        yield* Effect.scoped(
          Effect.gen(function*() {
            yield* Effect.logInfo("first application line")
            yield* Effect.logWarning("second application line")
            yield* Effect.sleep("60 seconds")
            yield* Ref.set(report, yield* CloudWatchLogs.report)
          }).pipe(
            Effect.provide(
              CloudWatchLogs.layerLogger({
                logGroupName: G,
                logStreamName: S,
                lingerMillis: 200,
                drainTimeoutMillis: 2_000
              }).pipe(Layer.provide(recorder), Layer.provideMerge(Retries))
            )
          )
        )
        const messages = yield* Ref.get(sent)
        // only the two application lines were ever sent, once per attempt (1 + 5 retries), never more
        expect(messages.length).toBeGreaterThan(0)
        expect(messages.length).toBeLessThanOrEqual(2 * 6)
        for (const m of messages) expect(m).toMatch(/application line/)
        expect(messages.join("\n")).not.toMatch(/port:|cwlogs:/)
        const r = yield* Ref.get(report)
        expect(r?.accepted).toBe(0)
        expect((r?.accepted ?? 0) + (r?.rejected.Failed ?? 0) + (r?.dropped ?? 0)).toBeLessThanOrEqual(2)
      })
    ))
})
