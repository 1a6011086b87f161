/**
 * A log event as CloudWatch Logs receives it, and its size as the service counts it.
 *
 * @since 0.1.0
 */
import * as internal from "./internal/utf8.js"

/**
 * One log event: a timestamp in epoch milliseconds and a message of at least one character.
 *
 * @since 0.1.0
 * @category models
 */
export interface LogEvent {
  readonly timestamp: number
  readonly message: string
}

/**
 * Bytes that CloudWatch Logs adds to each event when it sizes a batch.
 *
 * @since 0.1.0
 * @category constants
 */
export const PER_EVENT_OVERHEAD_BYTES = 26

/**
 * Builds an event. The timestamp defaults to nothing: pass `Date.now()` or a Clock reading.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (timestamp: number, message: string): LogEvent => ({ timestamp, message })

/**
 * The UTF-8 length of a string, counted without allocating (lone surrogates count as U+FFFD, 3 bytes,
 * as the encoder would send them).
 *
 * @since 0.1.0
 * @category sizing
 */
export const utf8Bytes: (s: string) => number = internal.utf8Length

/**
 * The size of an event in a PutLogEvents batch: UTF-8 bytes of the message plus 26.
 *
 * @since 0.1.0
 * @category sizing
 */
export const size = (event: LogEvent): number => internal.utf8Length(event.message) + PER_EVENT_OVERHEAD_BYTES
