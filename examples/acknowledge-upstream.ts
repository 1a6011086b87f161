/**
 * At-least-once from a source with offsets (a Kafka partition, a Kinesis shard, a queue with
 * acknowledgements): commit an offset only once every record before it is stored in CloudWatch, as the
 * puts come back, not at the end of the run.
 *
 * `CloudWatchLogs.sink`'s `onStored` names the events the sink is done with: after each put the
 * service answered, and at once for those it refuses itself. They are the very objects the sink was
 * given, so a record can carry its offset through. Puts go out in parallel and come back in any order,
 * so the committed offset is the lowest one not yet done. A consumer that dies starts again from its
 * committed offset: what it sends twice is at most what was in flight, and nothing is skipped.
 *
 * Records that cannot be stored as they are are done with too, and committed past: those refused (an
 * empty message; too old, too new or past the group's retention), counted in the report by reason, and
 * those over the service's size limit, which the sink splits (the record is named once, when its last
 * part is stored) or truncates (`oversize`).
 *
 *   npx tsx examples/acknowledge-upstream.ts
 */
import type { LogEvent } from "@cwlogs/core"
import { CloudWatchLogs, CloudWatchLogsApi, Destination, ShipReport } from "@cwlogs/core"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Backend from "./support/backend.js"

export const destination = Destination.make("examples-orders", "from-partition-0")

/** A record of the source, shipped as it is: an event with its offset. */
export interface OffsetEvent extends LogEvent.LogEvent {
  readonly offset: number
}

const isOffsetEvent = (e: LogEvent.LogEvent): e is OffsetEvent => "offset" in e && typeof e.offset === "number"

/** The source: records by offset, and the offset committed (where a consumer starts again). */
export interface Partition {
  readonly records: ReadonlyArray<string>
  committed: number
}

/**
 * The committed offset as batches are stored out of order: the lowest offset not done yet. Only
 * offsets at or above it are kept, so this holds about what is in flight.
 */
export const committer = (partition: Partition) => {
  const done = new Set<number>()
  return (batch: CloudWatchLogs.StoredBatch): Effect.Effect<void> =>
    Effect.sync(() => {
      for (const event of batch.events) if (isOffsetEvent(event)) done.add(event.offset)
      while (done.delete(partition.committed)) partition.committed++
    })
}

/**
 * Consumes the partition from its committed offset to its end, committing as puts are answered.
 * Interrupted, the sink ships what it holds within `drainTimeoutMillis` (default 10 s), committing it too.
 */
export const consume = (
  partition: Partition,
  options: { readonly drainTimeoutMillis?: number } = {}
): Effect.Effect<ShipReport.ShipReport, CloudWatchLogs.ShipError, CloudWatchLogsApi.CloudWatchLogsApi> =>
  Effect.flatMap(
    Effect.clockWith((clock) => clock.currentTimeMillis),
    (now) =>
      Stream.range(partition.committed, partition.records.length - 1).pipe(
        Stream.map((offset): OffsetEvent => ({ timestamp: now, message: partition.records[offset], offset })),
        Stream.run(CloudWatchLogs.sink((_: OffsetEvent) => destination, {
          maxBatchEvents: 500,
          lingerMillis: 100,
          ...options,
          onStored: committer(partition)
        }))
      )
  )

/** A partition of `count` order records, nothing committed yet. */
export const partitionOf = (count: number): Partition => ({
  records: Array.from({ length: count }, (_, i) => JSON.stringify({ order: `o-${i}`, amount: (i * 37) % 500 })),
  committed: 0
})

export const program = (count = 5_000) =>
  Effect.gen(function*() {
    const partition = partitionOf(count)
    const report = yield* consume(partition)
    return { report, committed: partition.committed }
  })

if (Backend.isMain(import.meta.url)) {
  Backend.runExample(program(), ({ committed, report }) =>
    Effect.succeed(
      `accepted ${report.accepted} in ${report.batches} batches, rejected ${
        ShipReport.rejectedTotal(report)
      }; committed offset ${committed}`
    ))
}
