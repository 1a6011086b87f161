/**
 * The durable spool at the edges of a run, against the emulator over HTTP (real time): a flush or a
 * `finish` in an uninterruptible region (`Effect.ensuring`, as examples/lambda.ts flushes) returns; writers
 * waiting for room there are answered when the shipping dies; flushes in progress when the spool closes
 * return once it is closed, and later ones at once; the close keeps to one `drainTimeoutMillis`, and what
 * it did not deliver waits on disk for the next run.
 */
import type { CloudWatchLogsApi, LogEvent } from "@cwlogs/core"
import { CloudWatchLogs } from "@cwlogs/core"
import { Emulator } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { throwingValidator } from "../../core/test/support/throwingValidator.js"
import * as DurableSpool from "../src/DurableSpool.js"
import * as NodeCloudWatchLogs from "../src/NodeCloudWatchLogs.js"

const where = { logGroupName: "app", logStreamName: "api-1" }

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-spool-exit-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/** The emulator with the stream made, and the port to it over HTTP, for the scope. */
const emulator = Effect.gen(function*() {
  const server = yield* Emulator.make()
  yield* server.model.api.createLogGroup({ logGroupName: where.logGroupName })
  yield* server.model.api.createLogStream(where)
  const api = yield* Layer.build(NodeCloudWatchLogs.layer({
    endpoint: server.url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXIT", secretAccessKey: Redacted.make("exit-secret") }
  }))
  return { server, api }
})

const stored = (server: Emulator.EmulatorShape) =>
  Effect.map(server.model.events(where.logGroupName, where.logStreamName), (events) => events.map((e) => e.message))

/** The messages of the durable logger's lines (structured JSON). */
const lines = (server: Emulator.EmulatorShape) =>
  Effect.map(stored(server), (messages) => messages.map((m): unknown => JSON.parse(m).message))

const events = (n: number, prefix = "e"): Array<LogEvent.LogEvent> =>
  Array.from({ length: n }, (_, i) => ({ timestamp: Date.now(), message: `${prefix}-${i}` }))

const loggerLayer = (directory: string, api: Context.Context<CloudWatchLogsApi.CloudWatchLogsApi>) =>
  DurableSpool.layerLogger({ ...where, directory, replace: true, lingerMillis: 60_000, drainTimeoutMillis: 1_000 })
    .pipe(Layer.orDie, Layer.provide(Layer.succeedContext(api)))

/**
 * What `fiber` ends with, failing with a message if it has not ended within `millis` (it is left
 * running: a fiber stuck in an uninterruptible region cannot be stopped).
 */
const joinWithin = <A, E>(fiber: Fiber.Fiber<A, E>, millis: number, what: string): Effect.Effect<A, E | string> =>
  Effect.flatMap(
    Effect.timeoutOption(Fiber.await(fiber), millis),
    Option.match({
      onNone: (): Effect.Effect<A, E | string> => Effect.fail(`${what} did not return within ${millis} ms`),
      onSome: (exit): Effect.Effect<A, E | string> => exit
    })
  )

describe("DurableSpool at the edges of a run", { timeout: 30_000 }, () => {
  for (const how of ["Effect.ensuring", "Effect.uninterruptible"] as const) {
    it.scopedLive(`the durable logger's flush in ${how} returns, healthy service`, () =>
      Effect.gen(function*() {
        const { api, server } = yield* emulator
        const directory = yield* tempDir
        const context = yield* Layer.build(loggerLayer(directory, api))
        const handler = Effect.log("checkout done")
        const invocation = how === "Effect.ensuring"
          ? Effect.ensuring(handler, CloudWatchLogs.flush) // examples/lambda.ts
          : Effect.zipRight(handler, Effect.uninterruptible(CloudWatchLogs.flush))
        const fiber = yield* Effect.forkDaemon(Effect.provide(invocation, context))
        yield* joinWithin(fiber, 5_000, "the invocation")
        expect(yield* lines(server)).toEqual(["checkout done"])
      }))
  }

  it.scopedLive("finish in an uninterruptible region returns with the report", () =>
    Effect.gen(function*() {
      const { api, server } = yield* emulator
      const directory = yield* tempDir
      const spool = yield* DurableSpool.make({ directory }).pipe(Effect.provide(api))
      const input = events(10)
      yield* spool.write(input.map((event) => ({ destination: where, event })))
      const fiber = yield* Effect.forkDaemon(Effect.uninterruptible(spool.finish))
      const report = yield* joinWithin(fiber, 5_000, "finish")
      expect(report.accepted).toBe(10)
      expect(yield* stored(server)).toEqual(input.map((e) => e.message))
    }))

  it.scopedLive(
    "writers waiting for room in an uninterruptible region are answered when the shipping dies; every answered write is on disk",
    () =>
      Effect.gen(function*() {
        const { api, server } = yield* emulator
        const directory = yield* tempDir
        const input = events(3_000)
        const batches = Array.from({ length: 30 }, (_, i) => input.slice(i * 100, (i + 1) * 100))
        let answered = 0
        const exit = yield* Effect.scoped(Effect.gen(function*() {
          // small segments and a small spool, a slow service: the writer soon waits for room, and it is
          // waiting when the shipment reaches the event the validator throws on
          yield* server.model.setFaults({ latencyMillis: 200 })
          const spool = yield* DurableSpool.make({ directory, segmentBytes: 1_000, maxSpoolBytes: 5_000 }).pipe(
            Effect.provide(api),
            Effect.provide(throwingValidator((message) => message === "e-500"))
          )
          const writer = yield* Effect.forkDaemon(Effect.uninterruptible(Effect.forEach(
            batches,
            (batch) =>
              Effect.tap(
                spool.write(batch.map((event) => ({ destination: where, event }))),
                () => Effect.sync(() => answered++)
              ),
            { discard: true }
          )))
          return yield* Effect.exit(joinWithin(writer, 10_000, "the writer"))
        }))
        // the write in progress is answered with the defect, not left waiting
        if (Exit.isSuccess(exit)) return yield* Effect.dieMessage("expected the writer to fail")
        expect(Cause.failureOption(exit.cause)).toEqual(Option.none())
        const defect = Cause.dieOption(exit.cause)
        expect(Option.isSome(defect) && defect.value instanceof RangeError).toBe(true)
        expect(answered).toBeGreaterThan(0)
        expect(answered).toBeLessThan(batches.length)
        // every event of every answered write is delivered by this run or the next
        yield* server.model.setFaults({})
        yield* DurableSpool.recover({ directory }).pipe(Effect.provide(api))
        const all = new Set(yield* stored(server))
        expect(batches.slice(0, answered).flat().filter((e) => !all.has(e.message))).toEqual([])
      })
  )

  it.scopedLive("a flush in progress when the spool closes returns once it is closed, with the report as it stands", () =>
    Effect.gen(function*() {
      const { api, server } = yield* emulator
      const directory = yield* tempDir
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(loggerLayer(directory, api), scope)
      yield* Effect.provide(Effect.log("warm-up"), context)
      expect((yield* Effect.provide(CloudWatchLogs.flush, context)).accepted).toBe(1)
      // the service fails every put (retried, and not given up on for seconds): nothing more is shipped
      yield* server.model.setFaults({ unavailable: 1 })
      yield* Effect.provide(Effect.log("last words"), context)
      const flushing = yield* Effect.forkDaemon(Effect.provide(CloudWatchLogs.flush, context))
      yield* Effect.sleep(200)
      yield* Scope.close(scope, Exit.void) // its drain: 1 s
      const report = yield* joinWithin(flushing, 3_000, "the flush in progress")
      expect(report.accepted).toBe(1)
      // the line not shipped is on disk: the next run ships it
      yield* server.model.setFaults({})
      const next = yield* DurableSpool.recover({ directory }).pipe(Effect.provide(api))
      expect(next).toMatchObject({ recovered: 1, accepted: 1 })
      expect(yield* lines(server)).toEqual(["warm-up", "last words"])
    }))

  it.scopedLive("after the close, a write is refused (Closed) and writes nothing; finish returns the report", () =>
    Effect.gen(function*() {
      const { api, server } = yield* emulator
      const directory = yield* tempDir
      const scope = yield* Scope.make()
      const spool = yield* DurableSpool.make({ directory }).pipe(Effect.provide(api), Scope.extend(scope))
      yield* spool.write(events(3).map((event) => ({ destination: where, event })))
      yield* Scope.close(scope, Exit.void)
      const files = Fs.readdirSync(directory).sort()
      const refused = yield* Effect.flip(spool.write(events(2, "late").map((event) => ({ destination: where, event }))))
      expect(refused._tag === "SpoolError" && refused.reason).toBe("Closed")
      // nothing opened in a directory whose lock is released (another process may hold it now)
      expect(Fs.readdirSync(directory).sort()).toEqual(files)
      const finished = yield* joinWithin(yield* Effect.forkDaemon(spool.finish), 1_000, "finish after the close")
      expect(finished.accepted).toBe(3)
      expect(yield* stored(server)).toHaveLength(3)
    }))

  it.scopedLive("a flush after the close, through a handle kept from before, returns at once", () =>
    Effect.gen(function*() {
      const { api, server } = yield* emulator
      const directory = yield* tempDir
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(loggerLayer(directory, api), scope)
      const handle = yield* Effect.provide(CloudWatchLogs.CloudWatchLogs, context)
      yield* server.model.setFaults({ unavailable: 1 })
      yield* Effect.provide(Effect.log("last words"), context)
      yield* Scope.close(scope, Exit.void)
      const flushing = yield* Effect.forkDaemon(handle.flush)
      const report = yield* joinWithin(flushing, 1_000, "the flush after the close")
      expect(report.accepted).toBe(0)
      yield* server.model.setFaults({})
      const next = yield* DurableSpool.recover({ directory }).pipe(Effect.provide(api))
      expect(next).toMatchObject({ recovered: 1, accepted: 1 })
    }))

  it.scopedLive(
    "the close keeps to one drainTimeoutMillis under a failing service; what it did not deliver waits for the next run",
    () =>
      Effect.gen(function*() {
        const { api, server } = yield* emulator
        const directory = yield* tempDir
        const input = events(2_000)
        const scope = yield* Scope.make()
        const spool = yield* DurableSpool.make({ directory, segmentMillis: 600_000, drainTimeoutMillis: 2_000 }).pipe(
          Effect.provide(api),
          Scope.extend(scope)
        )
        yield* spool.write(input.map((event) => ({ destination: where, event })))
        // every put fails, and is retried for longer than the deadline
        yield* server.model.setFaults({ unavailable: 1 })
        const [took] = yield* Effect.timed(Scope.close(scope, Exit.void))
        expect(Duration.toMillis(took)).toBeLessThan(2_000 * 1.5)
        yield* server.model.setFaults({})
        const next = yield* DurableSpool.recover({ directory }).pipe(Effect.provide(api))
        expect(next.recovered).toBe(2_000)
        expect(new Set(yield* stored(server))).toEqual(new Set(input.map((e) => e.message)))
        expect(Fs.readdirSync(directory).filter((name) => name.endsWith(".seg"))).toEqual([])
      })
  )
})
