import type { CloudWatchLogsApi as Api } from "@cwlogs/core"
import { Limits } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Either from "effect/Either"
import fc from "fast-check"
import { Model } from "../src/internal/model.js"

const HOUR = 3_600_000
const DAY = 24 * HOUR
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0)

// Events around a base time (so that most batches span less than 24 h), plus the exact edges.
const batch = fc
  .tuple(
    fc.constantFrom(-15 * DAY, -14 * DAY - HOUR, -2 * DAY, -DAY, -12 * HOUR, 0, HOUR),
    fc.array(
      fc.record({
        offset: fc.oneof(
          fc.integer({ min: 0, max: 25 * HOUR }),
          fc.constantFrom(-14 * DAY, -14 * DAY - 1, 2 * HOUR, 2 * HOUR + 1, -DAY, -DAY - 1, 0).map((o) => ({ o }))
        ),
        message: fc.string({ minLength: 1, maxLength: 20, unit: "grapheme" })
      }),
      { minLength: 1, maxLength: 40 }
    )
  )
  .map(([base, events]) =>
    events
      .map((e): Api.InputLogEvent => ({
        timestamp: NOW + (typeof e.offset === "number" ? base + e.offset : e.offset.o),
        message: e.message
      }))
      .sort((a, b) => a.timestamp - b.timestamp)
  )

const retention = fc.option(fc.constantFrom(...Limits.RETENTION_DAYS.filter((d) => d <= 30)), { nil: undefined })

describe("PutLogEvents, for any sorted batch", () => {
  it("every event is either stored or reported rejected for the right reason, never both, never lost", () => {
    let spanErrors = 0
    let stores = 0
    fc.assert(
      fc.property(
        batch,
        retention,
        fc.constantFrom("enforced" as const, "ignored" as const),
        (events, days, tokens) => {
          const m = new Model({
            sequenceTokens: tokens,
            limits: Limits.current,
            throttling: false,
            discard: false,
            accountId: "1",
            region: "r"
          })
          m.createLogGroup({ logGroupName: "g" }, NOW)
          m.createLogStream({ logGroupName: "g", logStreamName: "s" }, NOW)
          if (days !== undefined) m.putRetentionPolicy({ logGroupName: "g", retentionInDays: days }, NOW)
          const expiredBefore = days === undefined ? -Infinity : NOW - days * DAY
          const rejected = (e: Api.InputLogEvent) =>
            e.timestamp < NOW - 14 * DAY || e.timestamp < expiredBefore || e.timestamp > NOW + 2 * HOUR
          const kept = events.filter((e) => !rejected(e))
          const span = kept.length > 0 ? kept[kept.length - 1].timestamp - kept[0].timestamp : 0

          const result = m.putLogEvents({ logGroupName: "g", logStreamName: "s", logEvents: events }, NOW)
          if (span > DAY) spanErrors++
          else stores++
          if (span > DAY) {
            expect(Either.isLeft(result) && result.left._tag === "InvalidParameterException").toBe(true)
            expect(m.stats("g", "s").events).toBe(0)
            return
          }
          if (Either.isLeft(result)) throw new Error(result.left.message)
          const info = result.right.rejectedLogEventsInfo
          const oldEnd = Math.max(info?.tooOldLogEventEndIndex ?? 0, info?.expiredLogEventEndIndex ?? 0)
          const newStart = info?.tooNewLogEventStartIndex ?? events.length
          events.forEach((e, i) => {
            const reportedRejected = i < oldEnd || i >= newStart
            expect(reportedRejected).toBe(rejected(e))
            if (i < (info?.tooOldLogEventEndIndex ?? 0)) expect(e.timestamp).toBeLessThan(NOW - 14 * DAY)
            if (i < (info?.expiredLogEventEndIndex ?? 0)) expect(e.timestamp).toBeLessThan(expiredBefore)
            if (i >= newStart) expect(e.timestamp).toBeGreaterThan(NOW + 2 * HOUR)
          })
          const stored = m.visibleEvents("g", "s", NOW)
          expect(stored.map((e) => [e.timestamp, e.message])).toEqual(kept.map((e) => [e.timestamp, e.message]))
          expect(m.stats("g", "s").bytes).toBe(
            kept.reduce((sum, e) => sum + Buffer.byteLength(e.message, "utf8") + 26, 0)
          )
        }
      ),
      { numRuns: 500, seed: 20261123 }
    )
    // both paths are exercised
    expect(stores).toBeGreaterThan(100)
    expect(spanErrors).toBeGreaterThan(20)
  })
})
