/**
 * Cuts the events of one destination into PutLogEvents batches: sorted by timestamp, at most
 * `maxBatchEvents` events, at most `maxBatchBytes` bytes (message UTF-8 bytes + 26 per event), at most
 * 24 hours between the first and the last event, never empty. A batch that is not full goes out after
 * `lingerMillis` (the shipping engine keeps that timer).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "./internal/batcher.js"
import { utf8Length } from "./internal/utf8.js"
import * as Limits from "./Limits.js"
import type { LogEvent } from "./LogEvent.js"

/**
 * The limits a batch is cut by.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchLimits {
  /** Events per batch. */
  readonly maxEvents: number
  /** Bytes per batch, as the service counts them. */
  readonly maxBytes: number
  /** Bytes the service adds per event. */
  readonly overheadBytes: number
  /** Largest span between the first and the last timestamp of a batch. */
  readonly maxSpanMillis: number
}

/**
 * An item the batcher carries: an event and the UTF-8 bytes of its message, computed once upstream
 * (`LogEvent.utf8Bytes`). Callers may extend it (e.g. to remember where an event came from).
 *
 * @since 0.1.0
 * @category models
 */
export interface Sized {
  readonly event: LogEvent
  readonly bytes: number
}

/**
 * A batch: items sorted by timestamp (equal timestamps keep their order) and its size as the service
 * counts it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Batch<A extends Sized = Sized> {
  readonly items: ReadonlyArray<A>
  readonly bytes: number
}

/**
 * A mutable accumulator for one destination. `add` returns the batches that became full (usually
 * none), `flush` everything pending. Not safe to share between fibers without a lock: the engine gives
 * each destination its own.
 *
 * @since 0.1.0
 * @category models
 */
export interface Accumulator<A extends Sized> {
  /** Events pending. */
  readonly size: number
  /** Bytes pending, as the service counts them. */
  readonly bytes: number
  readonly add: (item: A) => ReadonlyArray<Batch<A>>
  readonly addAll: (items: Iterable<A>) => ReadonlyArray<Batch<A>>
  readonly flush: () => ReadonlyArray<Batch<A>>
}

/**
 * A batch held column by column: the events (sorted, as given: not copied), the UTF-8 size of each
 * message, the tag of each event (`undefined` when none of the batch has one), and the batch's size as
 * the service counts it.
 *
 * @since 0.1.0
 * @category models
 */
export interface EventBatch<T = never> {
  readonly events: ReadonlyArray<LogEvent>
  readonly sizes: ReadonlyArray<number>
  readonly tags: ReadonlyArray<T | undefined> | undefined
  readonly bytes: number
}

/**
 * An accumulator like `Accumulator` that keeps events in columns: `add` allocates nothing per event
 * (the shipping engine's hot path). A tag (e.g. where an event came from) may ride along.
 *
 * @since 0.1.0
 * @category models
 */
export interface EventAccumulator<T = never> {
  /** Events pending. */
  readonly size: number
  /** Bytes pending, as the service counts them. */
  readonly bytes: number
  readonly add: (event: LogEvent, bytes: number, tag?: T) => ReadonlyArray<EventBatch<T>>
  readonly flush: () => ReadonlyArray<EventBatch<T>>
}

/**
 * Options of a batcher. Counts and bytes may only be lowered below the service's limits; values out of
 * range are refused (`invalidOptions`), not taken for the defaults.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatcherOptions {
  /** How long a batch that is not full may wait for more events (default 1000 ms; 0 or more). */
  readonly lingerMillis?: number | undefined
  /** Events per batch: a whole number, 1 or more, lowered to `Limits.maxBatchEvents`. */
  readonly maxBatchEvents?: number | undefined
  /** Bytes per batch: 30 or more (26 per event and one character), lowered to `Limits.maxBatchBytes`. */
  readonly maxBatchBytes?: number | undefined
}

/**
 * The batcher service.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatcherShape {
  readonly limits: BatchLimits
  readonly lingerMillis: number
  /** A fresh accumulator, for one destination. */
  readonly accumulator: <A extends Sized>() => Accumulator<A>
  /** A fresh column accumulator, for one destination. */
  readonly eventAccumulator: <T = never>() => EventAccumulator<T>
  /** All the batches of a finite list of events (valid events: see `BatchValidator`). */
  readonly batch: (events: Iterable<LogEvent>) => ReadonlyArray<ReadonlyArray<LogEvent>>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Batcher extends Context.Tag("@cwlogs/core/Batcher")<Batcher, BatcherShape>() {}

/**
 * The default linger time.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_LINGER_MILLIS = 1000

const clamp = (value: number | undefined, max: number): number =>
  value === undefined || !Number.isFinite(value) || value < 1 ? max : Math.min(Math.floor(value), max)

/**
 * The batch limits of a set of service limits, optionally lowered.
 *
 * @since 0.1.0
 * @category constructors
 */
export const batchLimits = (limits: Limits.LimitsShape, options: BatcherOptions = {}): BatchLimits => ({
  maxEvents: clamp(options.maxBatchEvents, limits.maxBatchEvents),
  maxBytes: clamp(options.maxBatchBytes, limits.maxBatchBytes),
  overheadBytes: limits.perEventOverheadBytes,
  maxSpanMillis: limits.maxBatchSpanMillis
})

/**
 * What is wrong with batcher options, if anything, in words: a `maxBatchEvents` that is not a whole
 * number of 1 or more (`Infinity` means the service's), a `maxBatchBytes` too small for one event of
 * one character (below 30), a `lingerMillis` below 0 or not a number. Values above the service's limits
 * are fine: they are lowered to them.
 *
 * @since 0.1.0
 * @category validation
 */
export const invalidOptions = (
  options: BatcherOptions,
  limits: Limits.LimitsShape = Limits.current
): string | undefined => internal.invalidOptions(options, limits.perEventOverheadBytes)

/**
 * A batcher for the given limits (pure: no effect needed). Throws on invalid options
 * (`invalidOptions`), with a message saying which.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake = (limits: Limits.LimitsShape, options: BatcherOptions = {}): BatcherShape => {
  const invalid = invalidOptions(options, limits)
  if (invalid !== undefined) throw new Error(`cwlogs: Batcher: ${invalid}`)
  const bl = batchLimits(limits, options)
  const lingerMillis = options.lingerMillis ?? DEFAULT_LINGER_MILLIS
  return {
    limits: bl,
    lingerMillis,
    accumulator: <A extends Sized>(): Accumulator<A> => new internal.Accumulator<A>(bl),
    eventAccumulator: <T = never>(): EventAccumulator<T> => new internal.EventAccumulator<T>(bl),
    batch: (events) => {
      const items: Array<Sized> = []
      for (const event of events) items.push({ event, bytes: utf8Length(event.message) })
      return internal.batchAll(items, bl).map((b) => b.items.map((i) => i.event))
    }
  }
}

/**
 * A batcher reading the `Limits` in force. Invalid options (`invalidOptions`) are a defect, with a
 * message saying which.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: BatcherOptions = {}): Effect.Effect<BatcherShape> =>
  // `unsafeMake` throws on invalid options: a defect here
  Effect.map(Limits.Limits, (limits) => unsafeMake(limits, options))

/**
 * A batcher layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: BatcherOptions = {}): Layer.Layer<Batcher> => Layer.effect(Batcher, make(options))

/**
 * The default batcher (1000 ms linger, the `Limits` in force).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDefault: Layer.Layer<Batcher> = layer()
