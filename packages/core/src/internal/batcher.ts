/**
 * The pure batching rules: an accumulator per destination that takes events one at a time and hands
 * out batches that satisfy every PutLogEvents limit (count, bytes, 24 h span, chronological order).
 *
 * Work per event is O(1) amortised: one push, a few comparisons, and the size that was computed once
 * upstream. Sorting happens once per batch, and only when the events did not arrive in order.
 *
 * @internal
 */
import type { LogEvent } from "../LogEvent.js"

/** @internal */
export interface BatchLimits {
  readonly maxEvents: number
  readonly maxBytes: number
  readonly overheadBytes: number
  readonly maxSpanMillis: number
}

/**
 * Anything the accumulator can carry: an event and the UTF-8 bytes of its message, computed once.
 * @internal
 */
export interface Sized {
  readonly event: LogEvent
  readonly bytes: number
}

/** @internal */
export interface BatchOf<A> {
  /** Sorted by timestamp (stable: equal timestamps keep their arrival order). */
  readonly items: ReadonlyArray<A>
  /** Bytes as the service counts them: UTF-8 message bytes + overhead per event. */
  readonly bytes: number
}

const NONE: ReadonlyArray<never> = []

const byTimestamp = (a: Sized, b: Sized): number => a.event.timestamp - b.event.timestamp

/**
 * Cuts sorted items into runs of at most `maxSpanMillis` between the first and the last timestamp.
 * @internal
 */
export const splitBySpan = <A extends Sized>(
  sorted: Array<A>,
  limits: BatchLimits
): Array<BatchOf<A>> => {
  const n = sorted.length
  if (n === 0) return []
  const first = sorted[0].event.timestamp
  const last = sorted[n - 1].event.timestamp
  if (last - first <= limits.maxSpanMillis) {
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
    const items = this.items
    if (items.length === 0) return NONE
    if (!this.sorted) items.sort(byTimestamp)
    this.items = []
    this.pendingBytes = 0
    this.sorted = true
    this.lastTimestamp = -Infinity
    return splitBySpan(items, this.limits)
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
