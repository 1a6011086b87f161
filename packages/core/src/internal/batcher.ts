/**
 * The pure batching rules: an accumulator per destination that takes events one at a time and hands
 * out batches that satisfy every PutLogEvents limit (count, bytes, 24 h span, chronological order).
 *
 * Work per event is O(1) amortised: one push, a few comparisons, and the size that was computed once
 * upstream. Sorting happens once per batch, only when the events did not arrive in order, and with no
 * comparison for integer timestamps (counting or radix sort).
 *
 * @internal
 */
import type { BatcherOptions, BatchLimits, Sized } from "../Batcher.js"
import type { LogEvent } from "../LogEvent.js"
import { invalidMaxBatchBytes } from "./validator.js"

/** @internal */
export interface BatchOf<A> {
  /** Sorted by timestamp (stable: equal timestamps keep their arrival order). */
  readonly items: ReadonlyArray<A>
  /** Bytes as the service counts them: UTF-8 message bytes + overhead per event. */
  readonly bytes: number
}

const NONE: ReadonlyArray<never> = []

/**
 * What is wrong with batch options, if anything: a `maxBatchBytes` too small for one event of one
 * character, a `maxBatchEvents` that is not a whole number of 1 or more (`Infinity`: the service's), a
 * `lingerMillis` below 0 or not a number. `undefined` means the default; values above the service's
 * limits are lowered to them.
 * @internal
 */
export const invalidOptions = (options: BatcherOptions, perEventOverheadBytes: number): string | undefined => {
  const problems: Array<string> = []
  const bytes = invalidMaxBatchBytes(options.maxBatchBytes, perEventOverheadBytes)
  if (bytes !== undefined) problems.push(bytes)
  const events = options.maxBatchEvents
  if (events !== undefined && !(Number.isInteger(events) && events >= 1) && events !== Infinity) {
    problems.push(`maxBatchEvents must be a whole number, 1 or more, got ${events}`)
  }
  const linger = options.lingerMillis
  if (linger !== undefined && !(linger >= 0)) problems.push(`lingerMillis must be 0 or more, got ${linger}`)
  return problems.length === 0 ? undefined : problems.join("; ")
}

/**
 * Counting sort applies when the timestamps are integers spread over at most this many milliseconds per
 * event (plus a small constant): a busy producer's batch spans about as many milliseconds as it has
 * events, so its sort is three linear passes with no comparison at all.
 */
const COUNTING_SPREAD = 4
const COUNTING_SLACK = 1024
/** The widest range the radix sort takes (offsets are unsigned 32-bit: ~49 days of milliseconds). */
const RADIX_MAX_RANGE = 2 ** 32
/** Bits per radix pass: 2,048 buckets stay in the L1 cache next to a batch's 10,000 indices. */
const RADIX_BITS = 11

/** Stable counting sort of integer offsets in [0, range): three linear passes. */
const countingOrder = (events: ReadonlyArray<LogEvent>, min: number, range: number): Int32Array => {
  const n = events.length
  // counts[k + 1] = how many events have offset k; after the prefix sum, counts[k] = where offset k starts.
  const counts = new Int32Array(range + 1)
  for (let i = 0; i < n; i++) counts[events[i].timestamp - min + 1]++
  for (let k = 1; k <= range; k++) counts[k] += counts[k - 1]
  const order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[counts[events[i].timestamp - min]++] = i
  return order
}

/** Stable least-significant-digit radix sort of integer offsets in [0, range), range ≤ 2^32. */
const radixOrder = (events: ReadonlyArray<LogEvent>, min: number, range: number): Int32Array => {
  const n = events.length
  const keys = new Uint32Array(n)
  for (let i = 0; i < n; i++) keys[i] = events[i].timestamp - min
  const bits = range <= 1 ? 1 : Math.ceil(Math.log2(range))
  const passes = Math.ceil(bits / RADIX_BITS)
  const width = Math.ceil(bits / passes)
  const mask = (1 << width) - 1
  const counts = new Int32Array(mask + 1)
  let order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  let next = new Int32Array(n)
  for (let pass = 0, shift = 0; pass < passes; pass++, shift += width) {
    counts.fill(0)
    for (let i = 0; i < n; i++) counts[(keys[i] >>> shift) & mask]++
    let start = 0
    for (let k = 0; k <= mask; k++) {
      const c = counts[k]
      counts[k] = start
      start += c
    }
    for (let i = 0; i < n; i++) {
      const o = order[i]
      next[counts[(keys[o] >>> shift) & mask]++] = o
    }
    const done = order
    order = next
    next = done
  }
  return order
}

/**
 * The order (indices) that sorts events by timestamp, stably, with no comparison when the timestamps are
 * integers: a counting sort when they are dense (within a few ms per event), a radix sort when they are
 * within 2^32 ms of each other (always, after validation: 14 days back to 2 hours ahead); else (fractional
 * timestamps, custom limits) a comparator sort.
 */
const sortedOrder = (events: ReadonlyArray<LogEvent>): ArrayLike<number> => {
  const n = events.length
  let min = Infinity
  let max = -Infinity
  let integers = true
  for (let i = 0; i < n; i++) {
    const t = events[i].timestamp
    if (t < min) min = t
    if (t > max) max = t
    if (t !== Math.floor(t)) integers = false
  }
  const range = max - min + 1
  if (integers && range <= n * COUNTING_SPREAD + COUNTING_SLACK) return countingOrder(events, min, range)
  if (integers && range <= RADIX_MAX_RANGE) return radixOrder(events, min, range)
  const order = new Array<number>(n)
  for (let i = 0; i < n; i++) order[i] = i
  return order.sort((a, b) => events[a].timestamp - events[b].timestamp || a - b)
}

const permute = <A>(xs: ReadonlyArray<A>, order: ArrayLike<number>): Array<A> => {
  const out = new Array<A>(xs.length)
  for (let i = 0; i < xs.length; i++) out[i] = xs[order[i]]
  return out
}

/**
 * Sorts items by timestamp, stably (see `sortedOrder`).
 * @internal
 */
export const sortByTimestamp = <A extends Sized>(items: Array<A>): Array<A> =>
  permute(items, sortedOrder(items.map((item) => item.event)))

/**
 * Cuts sorted items into runs of at most `maxSpanMillis` between the first and the last timestamp.
 * @internal
 */
export const splitBySpan = <A extends Sized>(
  sorted: Array<A>,
  limits: BatchLimits,
  totalBytes?: number
): Array<BatchOf<A>> => {
  const n = sorted.length
  if (n === 0) return []
  const first = sorted[0].event.timestamp
  const last = sorted[n - 1].event.timestamp
  if (last - first <= limits.maxSpanMillis) {
    if (totalBytes !== undefined) return [{ items: sorted, bytes: totalBytes }]
    let bytes = 0
    for (let i = 0; i < n; i++) bytes += sorted[i].bytes + limits.overheadBytes
    return [{ items: sorted, bytes }]
  }
  const out: Array<BatchOf<A>> = []
  let start = 0
  let startTs = first
  let bytes = 0
  for (let i = 0; i < n; i++) {
    const item = sorted[i]
    if (item.event.timestamp - startTs > limits.maxSpanMillis) {
      out.push({ items: sorted.slice(start, i), bytes })
      start = i
      startTs = item.event.timestamp
      bytes = 0
    }
    bytes += item.bytes + limits.overheadBytes
  }
  out.push({ items: sorted.slice(start), bytes })
  return out
}

/**
 * A mutable accumulator for one destination. `add` returns the batches that became full (usually
 * none); `flush` returns everything pending. Every batch it returns is non-empty, sorted, within
 * `maxEvents`, `maxBytes` and `maxSpanMillis`, except an item heavier than a whole batch, which comes
 * out alone (validate events first: the validator splits, truncates or drops such events).
 * @internal
 */
export class Accumulator<A extends Sized> {
  private items: Array<A> = []
  private pendingBytes = 0
  private sorted = true
  private lastTimestamp = -Infinity

  constructor(readonly limits: BatchLimits) {}

  /** Events pending. */
  get size(): number {
    return this.items.length
  }

  /** Bytes pending, as the service counts them. */
  get bytes(): number {
    return this.pendingBytes
  }

  readonly add = (item: A): ReadonlyArray<BatchOf<A>> => {
    const limits = this.limits
    const weight = item.bytes + limits.overheadBytes
    let out: ReadonlyArray<BatchOf<A>> = NONE
    if (this.items.length > 0 && this.pendingBytes + weight > limits.maxBytes) {
      out = this.flush()
    }
    this.items.push(item)
    this.pendingBytes += weight
    const ts = item.event.timestamp
    if (ts < this.lastTimestamp) this.sorted = false
    this.lastTimestamp = ts
    if (this.items.length >= limits.maxEvents || this.pendingBytes + limits.overheadBytes + 1 > limits.maxBytes) {
      const full = this.flush()
      out = out.length === 0 ? full : out.concat(full)
    }
    return out
  }

  /** Adds many items, returning every batch that became full. */
  readonly addAll = (items: Iterable<A>): ReadonlyArray<BatchOf<A>> => {
    let out: Array<BatchOf<A>> | undefined
    for (const item of items) {
      const full = this.add(item)
      if (full.length > 0) {
        if (out === undefined) out = []
        for (const b of full) out.push(b)
      }
    }
    return out ?? NONE
  }

  /** Everything pending, as sorted batches split by span; the accumulator is empty afterwards. */
  readonly flush = (): ReadonlyArray<BatchOf<A>> => {
    const pending = this.items
    if (pending.length === 0) return NONE
    const items = this.sorted ? pending : sortByTimestamp(pending)
    const bytes = this.pendingBytes
    this.items = []
    this.pendingBytes = 0
    this.sorted = true
    this.lastTimestamp = -Infinity
    // The bytes pending are the batch's bytes unless the span cuts it: no second pass over the items.
    return splitBySpan(items, this.limits, bytes)
  }
}

/**
 * Every batch for a finite list of sized items.
 * @internal
 */
export const batchAll = <A extends Sized>(items: Iterable<A>, limits: BatchLimits): Array<BatchOf<A>> => {
  const acc = new Accumulator<A>(limits)
  const out = [...acc.addAll(items)]
  for (const b of acc.flush()) out.push(b)
  return out
}

/**
 * A batch held column by column: the events as given, their message sizes, and an optional tag per
 * event (`undefined` when no event of the batch has one).
 * @internal
 */
export interface EventBatch<T> {
  readonly events: ReadonlyArray<LogEvent>
  readonly sizes: ReadonlyArray<number>
  readonly tags: ReadonlyArray<T | undefined> | undefined
  /** Bytes as the service counts them. */
  readonly bytes: number
}

/**
 * An accumulator that keeps its events in columns (events, sizes, tags): adding an event allocates
 * nothing, which is what the shipping engine's hot path needs. Same rules and guarantees as
 * `Accumulator`.
 * @internal
 */
export class EventAccumulator<T> {
  private events: Array<LogEvent> = []
  private sizes: Array<number> = []
  private tags: Array<T | undefined> | undefined = undefined
  private pendingBytes = 0
  private sorted = true
  private lastTimestamp = -Infinity

  constructor(readonly limits: BatchLimits) {}

  /** Events pending. */
  get size(): number {
    return this.events.length
  }

  /** Bytes pending, as the service counts them. */
  get bytes(): number {
    return this.pendingBytes
  }

  readonly add = (event: LogEvent, bytes: number, tag?: T): ReadonlyArray<EventBatch<T>> => {
    const limits = this.limits
    const weight = bytes + limits.overheadBytes
    let out: ReadonlyArray<EventBatch<T>> = NONE
    if (this.events.length > 0 && this.pendingBytes + weight > limits.maxBytes) {
      out = this.flush()
    }
    if (tag !== undefined && this.tags === undefined) {
      this.tags = new Array<T | undefined>(this.events.length).fill(undefined)
    }
    this.events.push(event)
    this.sizes.push(bytes)
    if (this.tags !== undefined) this.tags.push(tag)
    this.pendingBytes += weight
    const ts = event.timestamp
    if (ts < this.lastTimestamp) this.sorted = false
    this.lastTimestamp = ts
    if (this.events.length >= limits.maxEvents || this.pendingBytes + limits.overheadBytes + 1 > limits.maxBytes) {
      const full = this.flush()
      out = out.length === 0 ? full : out.concat(full)
    }
    return out
  }

  /** Everything pending, as sorted batches split by span; the accumulator is empty afterwards. */
  readonly flush = (): ReadonlyArray<EventBatch<T>> => {
    let events = this.events
    if (events.length === 0) return NONE
    let sizes = this.sizes
    let tags = this.tags
    const bytes = this.pendingBytes
    if (!this.sorted) {
      const order = sortedOrder(events)
      events = permute(events, order)
      sizes = permute(sizes, order)
      if (tags !== undefined) tags = permute(tags, order)
    }
    this.events = []
    this.sizes = []
    this.tags = undefined
    this.pendingBytes = 0
    this.sorted = true
    this.lastTimestamp = -Infinity
    const n = events.length
    const limits = this.limits
    if (events[n - 1].timestamp - events[0].timestamp <= limits.maxSpanMillis) {
      return [{ events, sizes, tags, bytes }]
    }
    const out: Array<EventBatch<T>> = []
    let start = 0
    let startTs = events[0].timestamp
    let runBytes = 0
    const cut = (end: number) =>
      out.push({
        events: events.slice(start, end),
        sizes: sizes.slice(start, end),
        tags: tags === undefined ? undefined : tags.slice(start, end),
        bytes: runBytes
      })
    for (let i = 0; i < n; i++) {
      const ts = events[i].timestamp
      if (ts - startTs > limits.maxSpanMillis) {
        cut(i)
        start = i
        startTs = ts
        runBytes = 0
      }
      runBytes += sizes[i] + limits.overheadBytes
    }
    cut(n)
    return out
  }
}
