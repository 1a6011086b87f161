import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as fc from "fast-check"
import * as Batcher from "../src/Batcher.js"
import * as Limits from "../src/Limits.js"
import * as LogEvent from "../src/LogEvent.js"

const HOUR = 60 * 60 * 1000
const DAY = 24 * HOUR
const T0 = 1_800_000_000_000

const batcher = Batcher.unsafeMake(Limits.current)

/** An event whose size in a batch (message + 26) is exactly `weight`. */
const weighing = (timestamp: number, weight: number): LogEvent.LogEvent =>
  LogEvent.make(timestamp, "x".repeat(weight - 26))

const sizes = (batches: ReadonlyArray<ReadonlyArray<LogEvent.LogEvent>>) => batches.map((b) => b.length)
const bytesOf = (batch: ReadonlyArray<LogEvent.LogEvent>) => batch.reduce((n, e) => n + LogEvent.size(e), 0)

describe("Batcher", () => {
  it("never emits an empty batch", () => {
    expect(batcher.batch([])).toEqual([])
    const acc = batcher.accumulator()
    expect(acc.flush()).toEqual([])
  })

  it("puts 10,000 events in one batch and the 10,001st in the next", () => {
    const events = Array.from({ length: 10_001 }, (_, i) => LogEvent.make(T0 + i, "m"))
    expect(sizes(batcher.batch(events.slice(0, 10_000)))).toEqual([10_000])
    expect(sizes(batcher.batch(events))).toEqual([10_000, 1])
  })

  it("hands out a full batch as soon as the 10,000th event arrives", () => {
    const acc = batcher.accumulator<Batcher.Sized>()
    for (let i = 0; i < 9_999; i++) expect(acc.add({ event: LogEvent.make(T0, "m"), bytes: 1 })).toEqual([])
    const out = acc.add({ event: LogEvent.make(T0, "m"), bytes: 1 })
    expect(out.map((b) => b.items.length)).toEqual([10_000])
    expect(acc.size).toBe(0)
  })

  it("fills a batch to exactly 1,048,576 bytes counting 26 per event, and not one byte more", () => {
    // 4 events of 262,144 bytes each = 1,048,576 exactly.
    const exact = Array.from({ length: 4 }, (_, i) => weighing(T0 + i, 262_144))
    const out = batcher.batch(exact)
    expect(sizes(out)).toEqual([4])
    expect(bytesOf(out[0])).toBe(1_048_576)
    const over = [...exact.slice(0, 3), weighing(T0 + 3, 262_145)]
    const out2 = batcher.batch(over)
    expect(sizes(out2)).toEqual([3, 1])
    for (const b of out2) expect(bytesOf(b)).toBeLessThanOrEqual(1_048_576)
  })

  it("counts multi-byte characters as UTF-8 bytes", () => {
    // "é" is 2 bytes: two events of 262,131 "é" weigh 2 * (524,262 + 26) = 1,048,576 bytes.
    const msg = "é".repeat((524_288 - 26) / 2)
    expect(LogEvent.size(LogEvent.make(T0, msg))).toBe(524_288)
    expect(sizes(batcher.batch([LogEvent.make(T0, msg), LogEvent.make(T0, msg)]))).toEqual([2])
    expect(sizes(batcher.batch([LogEvent.make(T0, msg), LogEvent.make(T0, msg + "é")]))).toEqual([1, 1])
  })

  it("reports the batch bytes as the service counts them", () => {
    const acc = batcher.accumulator<Batcher.Sized>()
    acc.add({ event: LogEvent.make(T0, "héllo"), bytes: LogEvent.utf8Bytes("héllo") })
    acc.add({ event: LogEvent.make(T0, "a"), bytes: 1 })
    expect(acc.bytes).toBe(6 + 26 + 1 + 26)
    expect(acc.flush().map((b) => b.bytes)).toEqual([6 + 26 + 1 + 26])
  })

  it("sorts by timestamp, keeping the order of equal timestamps", () => {
    const events = [
      LogEvent.make(T0 + 2, "c"),
      LogEvent.make(T0, "a1"),
      LogEvent.make(T0 + 1, "b"),
      LogEvent.make(T0, "a2")
    ]
    expect(batcher.batch(events)).toEqual([[events[1], events[3], events[2], events[0]]])
  })

  it("allows a span of exactly 24 hours and cuts at 24 hours + 1 ms", () => {
    const exact = [LogEvent.make(T0 + DAY, "b"), LogEvent.make(T0, "a")]
    expect(sizes(batcher.batch(exact))).toEqual([2])
    const over = [LogEvent.make(T0 + DAY + 1, "b"), LogEvent.make(T0, "a"), LogEvent.make(T0 + DAY, "c")]
    const out = batcher.batch(over)
    expect(out.map((b) => b.map((e) => e.message))).toEqual([["a", "c"], ["b"]])
  })

  it("splits events across several days into runs of at most 24 hours", () => {
    const events = Array.from({ length: 100 }, (_, i) => LogEvent.make(T0 + ((i * 37) % 100) * HOUR, `e${i}`))
    const out = batcher.batch(events)
    expect(out.reduce((n, b) => n + b.length, 0)).toBe(100)
    for (const b of out) {
      expect(b[b.length - 1].timestamp - b[0].timestamp).toBeLessThanOrEqual(DAY)
    }
  })

  it("emits an event heavier than a batch alone rather than merging it", () => {
    const huge = weighing(T0, 1_048_577)
    const out = batcher.batch([LogEvent.make(T0, "a"), huge, LogEvent.make(T0, "b")])
    expect(sizes(out)).toEqual([1, 1, 1])
  })

  it("lowers, never raises, the limits by option", () => {
    const small = Batcher.unsafeMake(Limits.current, { maxBatchEvents: 3, maxBatchBytes: 10_000_000 })
    expect(small.limits.maxEvents).toBe(3)
    expect(small.limits.maxBytes).toBe(1_048_576)
    expect(small.lingerMillis).toBe(Batcher.DEFAULT_LINGER_MILLIS)
    const events = Array.from({ length: 7 }, (_, i) => LogEvent.make(T0 + i, "m"))
    expect(sizes(small.batch(events))).toEqual([3, 3, 1])
  })

  it.effect("refuses options out of range, at and just past each limit, rather than take them for the defaults", () =>
    Effect.gen(function*() {
      const refused: ReadonlyArray<[Batcher.BatcherOptions, string]> = [
        [{ maxBatchEvents: 0 }, "maxBatchEvents must be a whole number, 1 or more, got 0"],
        [{ maxBatchEvents: 2.5 }, "maxBatchEvents"],
        [{ maxBatchEvents: Number.NaN }, "maxBatchEvents"],
        [{ maxBatchBytes: 29 }, "maxBatchBytes must be at least 30"],
        [{ maxBatchBytes: 0 }, "maxBatchBytes must be at least 30"],
        [{ lingerMillis: -1 }, "lingerMillis must be 0 or more, got -1"],
        [{ lingerMillis: Number.NaN }, "lingerMillis must be 0 or more"]
      ]
      for (const [options, message] of refused) {
        expect(Batcher.invalidOptions(options)).toContain(message)
        expect(() => Batcher.unsafeMake(Limits.current, options)).toThrow(message)
        const exit = yield* Effect.exit(Batcher.make(options))
        expect(exit._tag === "Failure" && Cause.isDie(exit.cause) && Cause.pretty(exit.cause)).toContain(message)
      }
      // at the limits: taken as they are
      const least = yield* Batcher.make({ maxBatchEvents: 1, maxBatchBytes: 30, lingerMillis: 0 })
      expect(least.limits).toMatchObject({ maxEvents: 1, maxBytes: 30 })
      expect(least.lingerMillis).toBe(0)
      expect(Batcher.invalidOptions({ maxBatchEvents: Infinity })).toBeUndefined()
      expect((yield* Batcher.make({ maxBatchEvents: Infinity })).limits.maxEvents).toBe(10_000)
    }))

  it.effect("reads the Limits in force", () =>
    Effect.gen(function*() {
      const b = yield* Batcher.make({ lingerMillis: 50 }).pipe(
        Effect.provide(Limits.layer({ ...Limits.current, maxBatchEvents: 2 }))
      )
      expect(b.limits.maxEvents).toBe(2)
      expect(b.lingerMillis).toBe(50)
      const fromLayer = yield* Effect.provide(Batcher.Batcher, Batcher.layerDefault)
      expect(fromLayer.limits.maxEvents).toBe(10_000)
    }))

  it("always produces valid batches that account for every event (property)", () => {
    const event = fc.record({
      timestamp: fc.integer({ min: T0 - 3 * DAY, max: T0 + 3 * DAY }),
      message: fc.oneof(
        fc.string({ minLength: 1, maxLength: 50, unit: "grapheme" }),
        fc.integer({ min: 1, max: 300_000 }).map((n) => "y".repeat(n))
      )
    })
    const limits = Batcher.unsafeMake(Limits.current, { maxBatchEvents: 7 })
    fc.assert(
      fc.property(fc.array(event, { maxLength: 60 }), (events) => {
        const out = limits.batch(events)
        let count = 0
        for (const b of out) {
          expect(b.length).toBeGreaterThan(0)
          expect(b.length).toBeLessThanOrEqual(7)
          expect(bytesOf(b)).toBeLessThanOrEqual(1_048_576)
          for (let i = 1; i < b.length; i++) expect(b[i].timestamp).toBeGreaterThanOrEqual(b[i - 1].timestamp)
          expect(b[b.length - 1].timestamp - b[0].timestamp).toBeLessThanOrEqual(DAY)
          count += b.length
        }
        expect(count).toBe(events.length)
        const seen = new Set(out.flat())
        for (const e of events) expect(seen.has(e)).toBe(true)
      }),
      { numRuns: 200 }
    )
  })

  describe("EventAccumulator (columns: nothing allocated per event)", () => {
    const columns = Batcher.unsafeMake(Limits.current, { maxBatchEvents: 7 })
    const anyEvent = fc.record({
      timestamp: fc.oneof(
        fc.integer({ min: T0 - 3 * DAY, max: T0 + 3 * DAY }),
        fc.integer({ min: T0 - 10, max: T0 + 10 })
      ),
      message: fc.oneof(
        fc.string({ minLength: 1, maxLength: 50, unit: "grapheme" }),
        fc.integer({ min: 1, max: 300_000 }).map((n) => "y".repeat(n))
      )
    })

    it("cuts exactly the batches the item accumulator cuts, and tags follow their events (property)", () => {
      fc.assert(
        fc.property(fc.array(fc.tuple(anyEvent, fc.boolean()), { maxLength: 60 }), (inputs) => {
          const items = columns.accumulator<Batcher.Sized & { readonly tag: number | undefined }>()
          const cols = columns.eventAccumulator<number>()
          const expected: Array<Batcher.Batch<Batcher.Sized & { readonly tag: number | undefined }>> = []
          const actual: Array<Batcher.EventBatch<number>> = []
          inputs.forEach(([event, tagged], i) => {
            const bytes = LogEvent.utf8Bytes(event.message)
            const tag = tagged ? i : undefined
            expected.push(...items.add({ event, bytes, tag }))
            actual.push(...(tag === undefined ? cols.add(event, bytes) : cols.add(event, bytes, tag)))
            expect(cols.size).toBe(items.size)
            expect(cols.bytes).toBe(items.bytes)
          })
          expected.push(...items.flush())
          actual.push(...cols.flush())
          expect(actual.length).toBe(expected.length)
          actual.forEach((b, k) => {
            const e = expected[k]
            expect(b.bytes).toBe(e.bytes)
            expect(b.events).toEqual(e.items.map((i) => i.event))
            for (let j = 0; j < b.events.length; j++) expect(b.events[j]).toBe(e.items[j].event)
            expect(b.sizes).toEqual(e.items.map((i) => i.bytes))
            const tags = e.items.map((i) => i.tag)
            if (b.tags === undefined) expect(tags.every((t) => t === undefined)).toBe(true)
            else expect([...b.tags]).toEqual(tags)
          })
        }),
        { numRuns: 300 }
      )
    })

    it("sorts stably whichever sort applies: dense (counting), sparse (radix), fractional or over 2^32 ms apart (comparator) (property)", () => {
      const wide = Batcher.unsafeMake({ ...Limits.current, maxBatchSpanMillis: Number.MAX_SAFE_INTEGER })
      const timestamps = fc.oneof(
        // dense: the counting sort
        fc.array(fc.integer({ min: T0 - 50, max: T0 + 50 }), { maxLength: 400 }),
        // sparse integers: the radix sort
        fc.array(fc.integer({ min: T0 - 3 * DAY, max: T0 + 3 * DAY }), { maxLength: 400 }),
        // fractional, or more than 2^32 ms apart: the comparator
        fc.array(fc.double({ min: T0 - 10, max: T0 + 10, noNaN: true }), { maxLength: 100 }),
        fc.array(fc.constantFrom(0, 1, Number.MAX_SAFE_INTEGER - 1), { maxLength: 100 })
      )
      fc.assert(
        fc.property(timestamps, (ts) => {
          const acc = wide.eventAccumulator<number>()
          ts.forEach((t, i) => acc.add(LogEvent.make(t, `m${i}`), i + 1, i))
          const batches = acc.flush()
          const expected = ts.map((t, i) => [t, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[1])
          // events, sizes and tags all move together
          expect(batches.flatMap((b) => b.tags ?? [])).toEqual(expected)
          expect(batches.flatMap((b) => b.events.map((e) => e.message))).toEqual(expected.map((i) => `m${i}`))
          expect(batches.flatMap((b) => b.sizes)).toEqual(expected.map((i) => i + 1))
        }),
        { numRuns: 300 }
      )
    })

    it("sorts stably by the comparator when timestamps are fractional or more than 2^32 ms apart", () => {
      for (const [a, b] of [[T0 + 0.5, T0 + 0.25], [Number.MAX_SAFE_INTEGER, 0]]) {
        const acc = batcher.eventAccumulator<string>()
        const wide = { ...Limits.current, maxBatchSpanMillis: Number.MAX_SAFE_INTEGER }
        const one = Batcher.unsafeMake(wide).eventAccumulator<string>()
        for (const target of [acc, one]) {
          target.add(LogEvent.make(a, "first"), 5, "1")
          target.add(LogEvent.make(b, "second"), 6, "2")
          target.add(LogEvent.make(a, "third"), 5, "3")
        }
        const [batch] = one.flush()
        expect(batch.events.map((e) => e.message)).toEqual(["second", "first", "third"])
        expect(batch.sizes).toEqual([6, 5, 5])
        expect(batch.tags).toEqual(["2", "1", "3"])
        expect(acc.flush().flatMap((x) => x.events.map((e) => e.message)).sort()).toEqual(["first", "second", "third"])
      }
    })

    it("hands out the batch as soon as the 10,000th event arrives, and cuts at 1,048,576 bytes", () => {
      const acc = batcher.eventAccumulator()
      for (let i = 0; i < 9_999; i++) expect(acc.add(LogEvent.make(T0, "m"), 1)).toEqual([])
      expect(acc.add(LogEvent.make(T0, "m"), 1).map((b) => b.events.length)).toEqual([10_000])
      const heavy = batcher.eventAccumulator()
      expect(heavy.add(weighing(T0, 1_048_576 - 27), 1_048_576 - 27 - 26)).toEqual([])
      expect(heavy.add(weighing(T0, 27), 1).map((b) => b.bytes)).toEqual([1_048_576])
      expect(heavy.add(weighing(T0, 28), 2)).toEqual([])
      expect(heavy.add(weighing(T0, 1_048_576 - 27), 1_048_576 - 27 - 26).map((b) => b.bytes)).toEqual([28])
    })
  })
})
