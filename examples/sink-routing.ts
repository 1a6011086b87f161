/**
 * The sink with a routing function: one stream of events, shipped to several log streams by a field.
 *
 * `CloudWatchLogs.sink(route)` takes any element; `route` says where it goes and what event it becomes.
 * The sink back-pressures the stream (a slow service slows the producer, memory stays bounded) and ends
 * with a `ShipReport`: what was accepted or rejected (and why), per destination. Destinations may come
 * and go (a stream per day, per tenant, per job): what the sink holds for one (a buffer, a batch, a
 * fiber) is released once it has been idle for `destinationIdleMillis` (default 60 s), and made again
 * when events for it come; its counts stay in the report.
 *
 *   npx tsx examples/sink-routing.ts
 */
import { CloudWatchLogs, CloudWatchLogsApi, Destination, ShipReport } from "@cwlogs/core"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Backend from "./support/backend.js"

export const logGroupName = "examples-shop"

/** What the app produces: its own shape, not CloudWatch's. */
export interface AuditEvent {
  readonly service: "api" | "worker" | "billing"
  readonly at: number
  readonly action: string
  readonly userId: string
}

// One destination per service, built once. Missing groups and streams are created on first use.
const destinations = {
  api: Destination.make(logGroupName, "api", { retentionInDays: 7 }),
  worker: Destination.make(logGroupName, "worker", { retentionInDays: 7 }),
  billing: Destination.make(logGroupName, "billing", { retentionInDays: 7 })
}

// The router: where each element goes, and the event (timestamp + message) it becomes.
const route = (e: AuditEvent): CloudWatchLogs.Routed => ({
  destination: destinations[e.service],
  event: { timestamp: e.at, message: JSON.stringify({ action: e.action, userId: e.userId }) }
})

/** Some events, from any source: a queue, a file, an HTTP body... */
export const auditEvents = (count: number, now: number): Stream.Stream<AuditEvent> =>
  Stream.range(0, count - 1).pipe(
    Stream.map((i): AuditEvent => ({
      service: (["api", "worker", "billing"] as const)[i % 3],
      at: now + i,
      action: i % 3 === 2 ? "charge" : "update",
      userId: `u-${i % 17}`
    }))
  )

export const program = (
  count = 3000
): Effect.Effect<ShipReport.ShipReport, CloudWatchLogs.ShipError, CloudWatchLogsApi.CloudWatchLogsApi> =>
  Effect.flatMap(
    Effect.clockWith((clock) => clock.currentTimeMillis),
    (now) => auditEvents(count, now).pipe(Stream.run(CloudWatchLogs.sink(route, { lingerMillis: 200 })))
  )

if (Backend.isMain(import.meta.url)) {
  Backend.runExample(program(), (report) =>
    Effect.succeed(
      [
        `accepted ${report.accepted}, rejected ${ShipReport.rejectedTotal(report)}, retries ${report.retries}`,
        ...[...report.perDestination.values()].map((d) =>
          `  ${Destination.show(d.destination)}: ${d.accepted} accepted in ${d.batches} batch(es)`
        )
      ].join("\n")
    ))
}
