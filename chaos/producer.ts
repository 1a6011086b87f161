/**
 * One producer process of the chaos suite. Its configuration is a JSON argument (see
 * `internal/config.ts`). Two ways to ship, as users do:
 *
 * - `sink`: for each destination, a paced source of identifiable events runs into `CloudWatchLogs.sink`;
 * - `logger`: the program logs each event with `Effect.logInfo`, and `CloudWatchLogs.layerLogger` (in
 *   place of the default logger) ships the lines to the first destination;
 * - `sink` with `spool`: the same source into `DurableSpool.sink`, printing `HANDED <n>` as it goes.
 *
 * Both go through the AWS SDK adapter to the emulator. Protocol on stdout: `READY` once shipping started,
 * then last `RESULT <json>` (also after SIGTERM: the runtime interrupts the program, the library drains,
 * and the result says how many events had been handed to the library; all of those must be stored).
 *
 * "Handed" is counted conservatively. For the sink, on the next pull: the sink asks for more only once it
 * has taken the previous chunk, so an event is counted only after the library has it. For the logger,
 * after `Effect.logInfo` returned (the logger offers synchronously).
 */
import { CloudWatchLogs, type CloudWatchLogsApi, RetryPolicy, ShipReport } from "@cwlogs/core"
import { NodeCloudWatchLogs } from "@cwlogs/node"
import * as DurableSpool from "@cwlogs/node/DurableSpool"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Sink from "effect/Sink"
import * as Stream from "effect/Stream"
import * as Path from "node:path"
import { destinationKey, parseProducerConfig, type ProducerConfig } from "./internal/config.js"
import * as Messages from "./internal/messages.js"

type Target = ProducerConfig["destinations"][number]

/** Sleeps until event `emitted` is due at the configured rate. */
const pace = (config: ProducerConfig, start: number, emitted: number) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const due = start + (emitted / config.ratePerSecond) * 1000
    if (due > now) yield* Effect.sleep(Duration.millis(due - now))
  })

/** A paced source of the producer's events for one destination; `handed` is updated on every pull. */
const source = (
  config: ProducerConfig,
  handed: Ref.Ref<number>
): Stream.Stream<{ timestamp: number; message: string }> => {
  const limit = config.eventsPerDestination ?? Number.POSITIVE_INFINITY
  let emitted = 0
  let start = -1
  const pull = Effect.gen(function*() {
    yield* Ref.set(handed, emitted)
    // through a spool, what was taken is on disk: said as it happens, since a SIGKILL prints no result
    if (config.spool !== undefined && emitted > 0) yield* Console.log(`HANDED ${emitted}`)
    if (emitted >= limit) return yield* Effect.fail(Option.none())
    if (start < 0) start = yield* Clock.currentTimeMillis
    yield* pace(config, start, emitted)
    const timestamp = yield* Clock.currentTimeMillis
    const n = Math.min(config.chunk, limit - emitted)
    const events = Array.from(
      { length: n },
      (_, i) => ({ timestamp, message: Messages.format(config.id, emitted + i) })
    )
    emitted += n
    return Chunk.unsafeFromArray(events)
  })
  return Stream.repeatEffectChunkOption(pull)
}

/**
 * Ships with the sink (through a durable spool in a directory of its own with `config.spool`); the
 * report (or the failure) is kept for the result.
 */
const viaSink = (
  config: ProducerConfig,
  destination: Target,
  index: number,
  handed: Ref.Ref<number>,
  report: Ref.Ref<ShipReport.ShipReport>,
  failure: Ref.Ref<string | undefined>,
  recovered: Ref.Ref<number>
) =>
  source(config, handed).pipe(
    Stream.run(
      config.spool === undefined
        ? CloudWatchLogs.sink(destination)
        : DurableSpool.sink(destination, { directory: Path.join(config.spool, String(index)) }).pipe(
          Sink.mapEffect((r) => Effect.as(Ref.update(recovered, (n) => n + r.recovered), r))
        )
    ),
    Effect.tap((r) => Ref.update(report, (total) => ShipReport.combine(total, r))),
    Effect.catchAll((e) =>
      (e._tag === "ShipError" ? Ref.update(report, (total) => ShipReport.combine(total, e.report)) : Effect.void).pipe(
        Effect.zipRight(Ref.set(failure, `${e._tag}: ${e.message}`))
      )
    )
  )

/** Logs each event, paced; the shipping logger in place ships them. Then flushes and keeps the report. */
const viaLogger = (
  config: ProducerConfig,
  handed: Ref.Ref<number>,
  report: Ref.Ref<ShipReport.ShipReport>,
  dropped: Ref.Ref<number>
) =>
  Effect.gen(function*() {
    const limit = config.eventsPerDestination ?? Number.POSITIVE_INFINITY
    const start = yield* Clock.currentTimeMillis
    let emitted = 0
    while (emitted < limit) {
      yield* pace(config, start, emitted)
      const n = Math.min(config.chunk, limit - emitted)
      for (let i = 0; i < n; i++) {
        yield* Effect.logInfo(Messages.format(config.id, emitted))
        emitted++
        yield* Ref.set(handed, emitted)
      }
      const so = yield* CloudWatchLogs.report
      yield* Ref.set(dropped, so.dropped)
    }
    const final = yield* CloudWatchLogs.flush
    yield* Ref.set(report, final)
    yield* Ref.set(dropped, final.dropped)
  })

const main = (config: ProducerConfig) =>
  Effect.gen(function*() {
    const counters = yield* Effect.forEach(
      config.destinations,
      (d) => Ref.make(0).pipe(Effect.map((handed) => ({ destination: d, handed })))
    )
    const report = yield* Ref.make(ShipReport.empty)
    const failure = yield* Ref.make<string | undefined>(undefined)
    const dropped = yield* Ref.make(0)
    const recovered = yield* Ref.make(0)
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        const handed: Record<string, number> = {}
        for (const c of counters) handed[destinationKey(c.destination)] = yield* Ref.get(c.handed)
        const r = yield* Ref.get(report)
        const f = yield* Ref.get(failure)
        const d = yield* Ref.get(dropped)
        const back = yield* Ref.get(recovered)
        const result = {
          id: config.id,
          handed,
          accepted: r.accepted,
          rejected: ShipReport.rejectedTotal(r),
          retries: r.retries,
          possibleDuplicates: r.possibleDuplicates,
          ...(d > 0 ? { dropped: d } : {}),
          ...(back > 0 ? { recovered: back } : {}),
          ...(f !== undefined ? { failure: f } : {})
        }
        yield* Console.log(`RESULT ${JSON.stringify(result)}`)
      })
    )
    yield* Console.log("READY")
    const first = counters[0]
    if (config.mode === "logger" && first !== undefined) {
      yield* viaLogger(config, first.handed, report, dropped).pipe(
        Effect.provide(
          CloudWatchLogs.layerLogger({
            logGroupName: first.destination.logGroupName,
            logStreamName: first.destination.logStreamName,
            replace: true
          })
        )
      )
      return
    }
    yield* Effect.forEach(
      counters,
      ({ destination, handed }, i) => viaSink(config, destination, i, handed, report, failure, recovered),
      { concurrency: "unbounded", discard: true }
    )
  }).pipe(Effect.scoped)

const parsed = parseProducerConfig(process.argv[2] ?? "")
if (parsed === undefined) {
  process.stderr.write("usage: producer.ts <json configuration> (see chaos/internal/config.ts)\n")
  process.exit(2)
}

const ApiLive: Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi> = NodeCloudWatchLogs.layer({
  endpoint: parsed.endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "chaos", secretAccessKey: Redacted.make("chaos-secret") }
})

/**
 * For experiments only: `CHAOS_TOKEN_RETRIES=N` replaces the token retry schedule's bound (the suite runs
 * with the library's defaults).
 */
const tokenRetries = Number(process.env["CHAOS_TOKEN_RETRIES"] ?? "")
const Policy: Layer.Layer<RetryPolicy.RetryPolicy> = Number.isInteger(tokenRetries) && tokenRetries > 0
  ? RetryPolicy.layer({
    token: RetryPolicy.immediateThen(
      3,
      RetryPolicy.backoff({ base: "50 millis", cap: "2 seconds", retries: tokenRetries })
    )
  })
  : RetryPolicy.layerDefault

NodeRuntime.runMain(main(parsed).pipe(Effect.provide(Layer.merge(ApiLive, Policy))))
