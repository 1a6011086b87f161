/**
 * One producer process of the chaos suite. Its configuration is a JSON argument (see
 * `internal/config.ts`). For each destination, a paced source of identifiable events runs into
 * `CloudWatchLogs.sink`, through the AWS SDK adapter, to the emulator.
 *
 * Protocol on stdout: `READY` once shipping started, then last `RESULT <json>` (also after SIGTERM: the
 * runtime interrupts the program, the library drains, and the result says how many events each
 * destination's sink had taken from the source; all of those must be stored).
 *
 * "Taken" is counted on the next pull: the sink asks for more only once it has taken the previous chunk,
 * so an event is counted only after the library has it.
 */
import { CloudWatchLogs, ShipReport } from "@cwlogs/core"
import { NodeCloudWatchLogs } from "@cwlogs/node"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { destinationKey, parseProducerConfig, type ProducerConfig } from "./internal/config.js"
import * as Messages from "./internal/messages.js"

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
    if (emitted >= limit) return yield* Effect.fail(Option.none())
    const now = yield* Clock.currentTimeMillis
    if (start < 0) start = now
    const due = start + (emitted / config.ratePerSecond) * 1000
    if (due > now) yield* Effect.sleep(Duration.millis(due - now))
    const timestamp = yield* Clock.currentTimeMillis
    const n = Math.min(config.chunk, limit - emitted)
    const events = Array.from({ length: n }, (_, i) => ({
      timestamp,
      message: Messages.format(config.id, emitted + i)
    }))
    emitted += n
    return Chunk.unsafeFromArray(events)
  })
  return Stream.repeatEffectChunkOption(pull)
}

const main = (config: ProducerConfig) =>
  Effect.gen(function*() {
    const counters = yield* Effect.forEach(config.destinations, (d) =>
      Ref.make(0).pipe(Effect.map((handed) => ({ destination: d, handed }))))
    const report = yield* Ref.make(ShipReport.empty)
    const failure = yield* Ref.make<string | undefined>(undefined)
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        const handed: Record<string, number> = {}
        for (const c of counters) {
          handed[destinationKey(c.destination)] = yield* Ref.get(c.handed)
        }
        const r = yield* Ref.get(report)
        const f = yield* Ref.get(failure)
        const result = {
          id: config.id,
          handed,
          accepted: r.accepted,
          rejected: ShipReport.rejectedTotal(r),
          retries: r.retries,
          possibleDuplicates: r.possibleDuplicates,
          ...(f !== undefined ? { failure: f } : {})
        }
        yield* Console.log(`RESULT ${JSON.stringify(result)}`)
      })
    )
    yield* Console.log("READY")
    yield* Effect.forEach(
      counters,
      ({ destination, handed }) =>
        source(config, handed).pipe(
          Stream.run(CloudWatchLogs.sink(destination)),
          Effect.tap((r) =>
            Ref.update(report, (total) => ShipReport.add(total, destination, r))
          ),
          Effect.catchAll((e) =>
            Ref.update(report, (total) => ShipReport.add(total, destination, e.report)).pipe(
              Effect.zipRight(Ref.set(failure, `${e._tag}: ${e.message}`))
            )
          )
        ),
      { concurrency: "unbounded", discard: true }
    )
  }).pipe(Effect.scoped)

const parsed = parseProducerConfig(process.argv[2] ?? "")
if (parsed === undefined) {
  process.stderr.write("usage: producer.ts <json configuration> (see chaos/internal/config.ts)\n")
  process.exit(2)
}

const ApiLive = NodeCloudWatchLogs.layer({
  endpoint: parsed.endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "chaos", secretAccessKey: Redacted.make("chaos-secret") }
})

NodeRuntime.runMain(main(parsed).pipe(Effect.provide(ApiLive)))
