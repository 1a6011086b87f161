/**
 * The per-event rules checked before upload, so that one bad event never fails a whole batch:
 *
 * - timestamp not a finite, non-negative integer → `InvalidTimestamp`
 * - message not a string (untyped callers) → `InvalidMessage`; empty → `Empty`
 * - more than 14 days old → `TooOld`; older than the group's retention when known → `Expired`
 *   (the reason the service itself would give); more than 2 hours ahead → `TooNew`
 * - larger than `Limits.maxMessageBytes`, or than fits alone in a batch of `maxBatchBytes` when that is
 *   lowered (`maxBatchBytes` − `perEventOverheadBytes`): by policy `split` (default: parts of at most
 *   that many UTF-8 bytes, never inside a surrogate pair, same timestamp, in order, concatenating to the
 *   original), `truncate` (with a marker `…[truncated N bytes]`, within the limit; `Oversize` when even
 *   the marker does not fit) or `drop` (→ `Oversize`)
 *
 * Every input comes out exactly once: as one or more valid parts, or as a rejection with its reason.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Batcher from "./Batcher.js"
import * as internal from "./internal/validator.js"
import * as Limits from "./Limits.js"
import type { LogEvent } from "./LogEvent.js"
import type { RejectionReason } from "./ShipReport.js"

/**
 * What to do with an event larger than the service accepts.
 *
 * @since 0.1.0
 * @category models
 */
export type OversizePolicy = internal.OversizePolicy

/**
 * The rules in force: derived from `Limits` and the options.
 *
 * @since 0.1.0
 * @category models
 */
export type Rules = internal.Rules

/**
 * The outcome for one input: `Valid` (unchanged: the caller's event itself, not a copy), `Split` (parts in order), `Truncated` or `Rejected`
 * with its reason. `bytes` are UTF-8 message bytes, computed once.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = internal.Outcome

/**
 * A record the fast path (`checkValid`) writes a valid event and its UTF-8 size into: one per caller,
 * reused for every event, so that the common case allocates nothing.
 *
 * @since 0.1.0
 * @category models
 */
export type Scratch = internal.Scratch

/**
 * A fresh `Scratch`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeScratch: () => Scratch = internal.makeScratch

/**
 * Options of a validator.
 *
 * @since 0.1.0
 * @category models
 */
export interface ValidatorOptions {
  /** Default `"split"`: nothing is lost. */
  readonly oversize?: OversizePolicy | undefined
  /** The retention of the destination's group in days, when known: older events are `Expired`. */
  readonly retentionInDays?: number | undefined
  /**
   * The bytes per batch when lowered below the service's (the `Batcher`'s `maxBatchBytes`, lowered the
   * same way): a message that would not fit alone in such a batch is oversize too. At least 30 (26 bytes
   * per event, and one character): `make` refuses less.
   */
  readonly maxBatchBytes?: number | undefined
}

/**
 * A valid event (or part of one) ready for the batcher, with the index of the input it came from.
 *
 * @since 0.1.0
 * @category models
 */
export interface Prepared {
  readonly event: LogEvent
  /** UTF-8 bytes of the message. */
  readonly bytes: number
  /** Index of the input event. */
  readonly index: number
  /** Index of this part (0 unless split). */
  readonly part: number
  /** Parts of the input event (1 unless split). */
  readonly parts: number
}

/**
 * A rejected input, with its reason.
 *
 * @since 0.1.0
 * @category models
 */
export interface Rejected {
  readonly index: number
  readonly input: unknown
  readonly reason: RejectionReason
}

/**
 * The result of validating a list of inputs: every input index appears once in `rejected` or in
 * `valid` (with all its parts).
 *
 * @since 0.1.0
 * @category models
 */
export interface Validation {
  readonly valid: ReadonlyArray<Prepared>
  readonly rejected: ReadonlyArray<Rejected>
  /** Inputs cut into several parts. */
  readonly split: number
  /** Inputs shortened. */
  readonly truncated: number
}

/**
 * The validator service.
 *
 * @since 0.1.0
 * @category models
 */
export interface BatchValidatorShape {
  readonly rules: Rules
  /** Checks one input at `now` (epoch ms): pure. */
  readonly check: (input: unknown, now: number) => Outcome
  /**
   * The common path, allocation-free: when the input is valid and goes on unchanged, writes the event
   * (the caller's own object, not a copy) and its UTF-8 size into `into` and answers `true`; otherwise
   * answers `false`, and `check` gives the outcome.
   */
  readonly checkValid: (input: unknown, now: number, into: Scratch) => boolean
  /** Checks inputs at the current time of the `Clock`. */
  readonly validate: (inputs: ReadonlyArray<unknown>) => Effect.Effect<Validation>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class BatchValidator extends Context.Tag("@cwlogs/core/BatchValidator")<BatchValidator, BatchValidatorShape>() {}

/**
 * The rules for a set of limits and options. The largest message is `Limits.maxMessageBytes`, or less
 * with a lowered `maxBatchBytes`: what fits alone in such a batch.
 *
 * @since 0.1.0
 * @category constructors
 */
export const rules = (limits: Limits.LimitsShape, options: ValidatorOptions = {}): Rules => ({
  maxMessageBytes: Math.min(
    Limits.maxMessageBytes(limits),
    Batcher.batchLimits(limits, { maxBatchBytes: options.maxBatchBytes }).maxBytes - limits.perEventOverheadBytes
  ),
  maxEventAgeMillis: limits.maxEventAgeMillis,
  maxEventFutureMillis: limits.maxEventFutureMillis,
  oversize: options.oversize ?? "split",
  retentionInDays: options.retentionInDays
})

/**
 * Checks one input at `now` (epoch ms) against the rules.
 *
 * @since 0.1.0
 * @category validation
 */
export const check: (input: unknown, now: number, rules: Rules) => Outcome = internal.check

/**
 * The allocation-free common path of `check`: `true` (and the event and its size written into `into`)
 * when the input is valid as it is; `false` when `check` must be asked for the outcome.
 *
 * @since 0.1.0
 * @category validation
 */
export const checkValid: (input: unknown, now: number, rules: Rules, into: Scratch) => boolean = internal.checkValid

/**
 * The marker appended to a truncated message (`…[truncated N bytes]`).
 *
 * @since 0.1.0
 * @category validation
 */
export const truncationMarker: (removedBytes: number) => string = internal.truncationMarker

/**
 * Checks a list of inputs at `now` (epoch ms).
 *
 * @since 0.1.0
 * @category validation
 */
export const validateAt = (inputs: ReadonlyArray<unknown>, now: number, r: Rules): Validation => {
  const valid: Array<Prepared> = []
  const rejected: Array<Rejected> = []
  let split = 0
  let truncated = 0
  for (let index = 0; index < inputs.length; index++) {
    const input = inputs[index]
    const outcome = internal.check(input, now, r)
    switch (outcome._tag) {
      case "Valid":
        valid.push({ event: outcome.event, bytes: outcome.bytes, index, part: 0, parts: 1 })
        break
      case "Truncated":
        truncated++
        valid.push({ event: outcome.event, bytes: outcome.bytes, index, part: 0, parts: 1 })
        break
      case "Split": {
        split++
        const parts = outcome.parts.length
        for (let part = 0; part < parts; part++) {
          valid.push({ event: outcome.parts[part], bytes: outcome.bytes[part], index, part, parts })
        }
        break
      }
      case "Rejected":
        rejected.push({ index, input, reason: outcome.reason })
        break
    }
  }
  return { valid, rejected, split, truncated }
}

/**
 * A validator for the given limits (pure: no effect needed). The options are not checked: with a
 * `maxBatchBytes` below 30 most events are oversize (`make` refuses it).
 *
 * @since 0.1.0
 * @category constructors
 */
export const unsafeMake = (limits: Limits.LimitsShape, options: ValidatorOptions = {}): BatchValidatorShape => {
  const r = rules(limits, options)
  return {
    rules: r,
    check: (input, now) => internal.check(input, now, r),
    checkValid: (input, now, into) => internal.checkValid(input, now, r, into),
    validate: (inputs) => Effect.map(Clock.currentTimeMillis, (now) => validateAt(inputs, now, r))
  }
}

/**
 * A validator reading the `Limits` in force. Invalid options (a `maxBatchBytes` below 30) are a defect,
 * with a message saying which.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: ValidatorOptions = {}): Effect.Effect<BatchValidatorShape> =>
  Effect.flatMap(Limits.Limits, (limits) => {
    const invalid = internal.invalidMaxBatchBytes(options.maxBatchBytes, limits.perEventOverheadBytes)
    return invalid === undefined
      ? Effect.succeed(unsafeMake(limits, options))
      : Effect.dieMessage(`cwlogs: BatchValidator: ${invalid}`)
  })

/**
 * A validator layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: ValidatorOptions = {}): Layer.Layer<BatchValidator> =>
  Layer.effect(BatchValidator, make(options))

/**
 * The default validator (`split`, the `Limits` in force).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDefault: Layer.Layer<BatchValidator> = layer()
