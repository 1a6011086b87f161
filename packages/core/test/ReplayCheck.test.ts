import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import type { OutputLogEvent } from "../src/CloudWatchLogsApi.js"
import * as ReplayCheck from "../src/internal/replayCheck.js"
import * as Limits from "../src/Limits.js"
import type { LogEvent } from "../src/LogEvent.js"

const T = Date.UTC(2026, 0, 15, 12, 0, 0)
const DAY = 86_400_000
const HOUR = 3_600_000

const ours: ReadonlyArray<LogEvent> = [
  { timestamp: T, message: "a" },
  { timestamp: T + 1, message: "b" },
  { timestamp: T + 1, message: "c" },
  { timestamp: T + 2, message: "d" }
]

const stored = (events: ReadonlyArray<LogEvent>, ingestionTime: number): Array<OutputLogEvent> =>
  events.map((e) => ({ ...e, ingestionTime }))

/** Events of several puts as GetLogEvents returns them: by timestamp, then in the order they were stored. */
const stream = (...puts: ReadonlyArray<ReadonlyArray<OutputLogEvent>>): Array<OutputLogEvent> =>
  puts.flat().map((e, seq) => ({ e, seq })).sort((x, y) => x.e.timestamp - y.e.timestamp || x.seq - y.seq).map((
    x
  ) => x.e)

const expect0 = (batch: ReadonlyArray<LogEvent> = ours, notBefore = T): ReplayCheck.Expectation => ({
  batch,
  notBefore,
  mayRejectLeading: 0,
  mayRejectTrailing: 0
})

const other = (n: number, at: number, ingestionTime: number) =>
  stored(Array.from({ length: n }, (_, i) => ({ timestamp: at + i, message: `other-${i}` })), ingestionTime)

describe("ReplayCheck.match", () => {
  it("the whole batch under one ingestion time: stored", () => {
    expect(ReplayCheck.match(expect0(), stored(ours, T + 5))).toEqual({
      _tag: "Stored",
      start: 0,
      end: 4,
      ingestionTime: T + 5,
      copies: 1
    })
  })

  it("nothing read, or only another writer's events: not stored", () => {
    expect(ReplayCheck.match(expect0(), [])).toEqual({ _tag: "NotStored" })
    expect(ReplayCheck.match(expect0(), other(5, T, T + 5))).toEqual({ _tag: "NotStored" })
  })

  it("another writer's events interleaved in time, under other ingestion times: still a match", () => {
    const events = stream(other(3, T, T + 4), stored(ours, T + 5), other(3, T + 1, T + 6))
    expect(events.map((e) => e.ingestionTime)).not.toEqual(events.map(() => T + 5))
    expect(ReplayCheck.match(expect0(), events)).toMatchObject({ _tag: "Stored", ingestionTime: T + 5 })
  })

  it("another writer's put in the same millisecond shares the group: still a match", () => {
    const events = stream(other(3, T, T + 5), stored(ours, T + 5))
    expect(ReplayCheck.match(expect0(), events)).toMatchObject({ _tag: "Stored", start: 0, end: 4 })
  })

  it("the batch split over two ingestion times is not one put of it: not stored", () => {
    const events = stream(stored(ours.slice(0, 2), T + 5), stored(ours.slice(2), T + 6))
    expect(ReplayCheck.match(expect0(), events)).toEqual({ _tag: "NotStored" })
  })

  it("one event missing, one message different, one event short of a repeat, or out of order: not stored", () => {
    expect(ReplayCheck.match(expect0(), stored(ours.slice(0, 3), T + 5))).toEqual({ _tag: "NotStored" })
    const changed = ours.map((e, i) => (i === 2 ? { ...e, message: "C" } : e))
    expect(ReplayCheck.match(expect0(), stored(changed, T + 5))).toEqual({ _tag: "NotStored" })
    const twice: ReadonlyArray<LogEvent> = [ours[0], ours[0]]
    expect(ReplayCheck.match(expect0(twice), stored([ours[0]], T + 5))).toEqual({ _tag: "NotStored" })
    expect(ReplayCheck.match(expect0(twice), stored(twice, T + 5))).toMatchObject({ _tag: "Stored", end: 2 })
    const swapped = [ours[0], ours[2], ours[1], ours[3]]
    expect(ReplayCheck.match(expect0(), stored(swapped, T + 5))).toEqual({ _tag: "NotStored" })
  })

  it("a timestamp one millisecond off: not stored", () => {
    const shifted = ours.map((e, i) => (i === 3 ? { ...e, timestamp: e.timestamp + 1 } : e))
    expect(ReplayCheck.match(expect0(), stored(shifted, T + 5))).toEqual({ _tag: "NotStored" })
  })

  it("an identical batch ingested before our put was sent (the same events uploaded earlier): not ours", () => {
    // at the limit: ingested exactly at notBefore is ours; one millisecond earlier is not
    expect(ReplayCheck.match(expect0(ours, T + 5), stored(ours, T + 5))).toMatchObject({ _tag: "Stored" })
    expect(ReplayCheck.match(expect0(ours, T + 5), stored(ours, T + 4))).toEqual({ _tag: "NotStored" })
    // the earlier copy and ours: ours is found
    const both = stream(stored(ours, T - 10 * 60_000), stored(ours, T + 7))
    expect(ReplayCheck.match(expect0(ours, T), both)).toMatchObject({ _tag: "Stored", ingestionTime: T + 7 })
  })

  it("events the service may have refused: the batch minus at most that many leading/trailing events", () => {
    const e: ReplayCheck.Expectation = { ...expect0(), mayRejectLeading: 1, mayRejectTrailing: 1 }
    expect(ReplayCheck.match(e, stored(ours.slice(1), T + 5))).toMatchObject({ start: 1, end: 4 })
    expect(ReplayCheck.match(e, stored(ours.slice(0, 3), T + 5))).toMatchObject({ start: 0, end: 3 })
    expect(ReplayCheck.match(e, stored(ours.slice(1, 3), T + 5))).toMatchObject({ start: 1, end: 3 })
    // one more than allowed: not stored
    expect(ReplayCheck.match(e, stored(ours.slice(2), T + 5))).toEqual({ _tag: "NotStored" })
    // the whole batch is preferred when it is there
    expect(ReplayCheck.match(e, stored(ours, T + 5))).toMatchObject({ start: 0, end: 4 })
    // a refused event never in the middle: the ends must hold
    const holed = [ours[0], ours[1], ours[3]]
    expect(ReplayCheck.match(e, stored(holed, T + 5))).toEqual({ _tag: "NotStored" })
  })

  it("copies: one per ingestion time holding the batch, and whole repeats within one", () => {
    const twice = stream(stored(ours, T + 5), other(2, T, T + 6), stored(ours, T + 7))
    expect(ReplayCheck.match(expect0(), twice)).toMatchObject({ _tag: "Stored", copies: 2 })
    // two of our puts in the same millisecond
    expect(ReplayCheck.match(expect0(), stream(stored(ours, T + 5), stored(ours, T + 5)))).toMatchObject({
      copies: 2
    })
    // one copy and a half: one
    expect(ReplayCheck.match(expect0(), stream(stored(ours, T + 5), stored(ours.slice(0, 2), T + 5))))
      .toMatchObject({ copies: 1 })
    // a copy ingested before notBefore is not counted
    expect(ReplayCheck.match(expect0(ours, T), stream(stored(ours, T - 1), stored(ours, T + 5)))).toMatchObject({
      copies: 1
    })
  })

  it("an empty batch is never stored", () => {
    expect(ReplayCheck.match(expect0([]), stored(ours, T + 5))).toEqual({ _tag: "NotStored" })
  })

  it("property: whatever the other writers put around it, a stored batch is found; an absent one is not", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 20 }), n: fc.integer({ min: 1, max: 4 }) }), {
          maxLength: 6
        }),
        fc.boolean(),
        (others, present) => {
          const puts = others.map((o, i) => other(o.n, T + o.at, T + 10 + i))
          const events = present ? stream(...puts, stored(ours, T + 100)) : stream(...puts)
          const verdict = ReplayCheck.match(expect0(), events)
          expect(verdict._tag).toBe(present ? "Stored" : "NotStored")
        }
      )
    )
  })
})

describe("ReplayCheck.storedForSure", () => {
  const at = (...offsets: ReadonlyArray<number>) => offsets.map((o, i) => ({ timestamp: T + o, message: `${i}` }))

  it("leaves out only what was past a limit at every moment the put may have been taken", () => {
    // put taken between T and T + 1 h, 1 s of skew: old for sure before T - 1 s - 14 d, new after T + 1 h + 1 s + 2 h
    const batch = at(-14 * DAY - 1_001, -14 * DAY, 0, 3 * HOUR, 3 * HOUR + 1_001)
    expect(ReplayCheck.storedForSure(batch, Limits.current, undefined, T, T + HOUR, 1_000)).toEqual({
      start: 1,
      end: 4
    })
    // with a 3-day retention, older events are expired for sure
    expect(ReplayCheck.storedForSure(at(-3 * DAY - 1_001, 0), Limits.current, 3, T, T, 1_000)).toEqual({
      start: 1,
      end: 2
    })
  })
})

describe("ReplayCheck.rejectable", () => {
  const limits = Limits.current
  const at = (...offsets: ReadonlyArray<number>) => offsets.map((o, i) => ({ timestamp: T + o, message: `${i}` }))

  it("events well within the limits: none", () => {
    expect(ReplayCheck.rejectable(at(-HOUR, 0, HOUR), limits, undefined, T, T, 0)).toEqual({ leading: 0, trailing: 0 })
  })

  it("too old at the limit and one past it; skew widens the doubt", () => {
    const batch = at(-14 * DAY - 1, -14 * DAY, 0)
    expect(ReplayCheck.rejectable(batch, limits, undefined, T, T, 0)).toEqual({ leading: 1, trailing: 0 })
    expect(ReplayCheck.rejectable(batch, limits, undefined, T, T, 1)).toEqual({ leading: 2, trailing: 0 })
  })

  it("too new at the limit and one past it", () => {
    const batch = at(0, 2 * HOUR, 2 * HOUR + 1)
    expect(ReplayCheck.rejectable(batch, limits, undefined, T, T, 0)).toEqual({ leading: 0, trailing: 1 })
    expect(ReplayCheck.rejectable(batch, limits, undefined, T, T, 1)).toEqual({ leading: 0, trailing: 2 })
  })

  it("a retention shorter than the age limit: older events may be expired", () => {
    const batch = at(-3 * DAY - 1, -3 * DAY, 0)
    expect(ReplayCheck.rejectable(batch, limits, 3, T, T, 0)).toEqual({ leading: 1, trailing: 0 })
    expect(ReplayCheck.rejectable(batch, limits, undefined, T, T, 0)).toEqual({ leading: 0, trailing: 0 })
  })

  it("never more than the batch", () => {
    expect(ReplayCheck.rejectable(at(-20 * DAY, -20 * DAY), limits, undefined, T, T, 0)).toEqual({
      leading: 2,
      trailing: 0
    })
  })
})

describe("ReplayCheck.timeRange", () => {
  it("[first timestamp, last timestamp + 1)", () => {
    expect(ReplayCheck.timeRange(ours)).toEqual({ startTime: T, endTime: T + 3 })
  })
})
