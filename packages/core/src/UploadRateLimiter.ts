/**
 * Limits the requests the uploader makes: per account and operation (the service's quotas, from
 * `Limits`), and optionally per stream (the legacy 5 PutLogEvents per second). One limiter is shared by
 * every fiber of the process. It slows down when the service throttles (AIMD: a ThrottlingException
 * halves the allowed rate, each success gives back a little of it) and is driven by the `Clock`'s
 * monotonic time (the Clock's nanoseconds: a wall clock set back does not hold it), so `TestClock` drives it
 * in tests. A request given up while it waits for its permit (interrupted) gives the
 * permit back: later requests do not wait for it.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Destination } from "./Destination.js"
import { checked } from "./internal/config.js"
import * as internal from "./internal/rateLimiter.js"
import type { OperationQuotas } from "./Limits.js"

/**
 * An operation the uploader calls, as named in the quotas.
 *
 * @since 0.1.0
 * @category models
 */
export type Operation = keyof OperationQuotas

/**
 * The limiter.
 *
 * @since 0.1.0
 * @category models
 */
export interface UploadRateLimiterShape {
  /** Runs `effect` once the account (and, for puts, the stream) allows one more request. */
  readonly withPermit: (
    destination: Destination,
    operation: Operation
  ) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** The service answered with a ThrottlingException: lower the allowed rate. */
  readonly throttled: (destination: Destination, operation: Operation) => Effect.Effect<void>
  /** A request succeeded: recover some of the allowed rate. */
  readonly succeeded: (destination: Destination, operation: Operation) => Effect.Effect<void>
  /** The rate (requests per second) allowed now for the account's `operation`; `Infinity` when unlimited. */
  readonly currentRate: (operation: Operation) => Effect.Effect<number>
  /** The rate allowed now for puts to this stream; `Infinity` when there is no per-stream limit. */
  readonly currentStreamRate: (destination: Destination) => Effect.Effect<number>
}

/**
 * The rate limiter.
 *
 * @since 0.1.0
 * @category tags
 */
export class UploadRateLimiter extends Context.Tag("@cwlogs/core/UploadRateLimiter")<
  UploadRateLimiter,
  UploadRateLimiterShape
>() {}

/**
 * Options of the limiter. Unset quotas come from `Limits`. Values out of their ranges (below) are refused:
 * a defect from `make`/`layer`, a `ConfigError` from `layerConfig`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Per-account requests per second, per operation, more than 0; `Infinity` for none (default: `Limits.quotas`). */
  readonly quotas?: Partial<OperationQuotas> | undefined
  /** Per-stream PutLogEvents per second; `null` for none (default: `Limits.perStreamPutsPerSecond`). */
  readonly perStreamPutsPerSecond?: number | null | undefined
  /** Requests that may start at once on a fresh account bucket, as seconds of its rate (default 1). */
  readonly burstSeconds?: number | undefined
  /** Factor applied to the allowed rate on throttling, in (0, 1) (default 0.5). */
  readonly decreaseFactor?: number | undefined
  /** Fraction of the quota given back per success, in (0, 1] (default 0.05). */
  readonly increaseFraction?: number | undefined
  /** The allowed rate never goes below this fraction of the quota, in [0, 1] (default 0.01, and at least 0.2/s). */
  readonly minFraction?: number | undefined
}

/**
 * Builds a limiter from explicit quotas.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (
  options: Options & { readonly quotas: OperationQuotas; readonly perStreamPutsPerSecond: number | null }
) => Effect.Effect<UploadRateLimiterShape> = internal.make

/**
 * A limiter that never waits (tests, or a service with no quotas). It still accepts the signals.
 *
 * @since 0.1.0
 * @category constructors
 */
export const unlimited: UploadRateLimiterShape = internal.unlimited

/**
 * The limiter, with quotas from `Limits` unless given.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<UploadRateLimiter> =>
  Layer.effect(
    UploadRateLimiter,
    internal.fromLimits(options)
  )

/**
 * A limiter that never waits.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerUnlimited: Layer.Layer<UploadRateLimiter> = Layer.succeed(UploadRateLimiter, unlimited)

/**
 * The limiter, with options read from configuration (e.g.
 * `layerConfig({ quotas: { putLogEvents: Config.number("CWLOGS_PUT_TPS") } })`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<UploadRateLimiter, ConfigError.ConfigError> =>
  Layer.effect(
    UploadRateLimiter,
    Effect.flatMap(checked(Config.unwrap(config), internal.invalidOptions), internal.fromLimits)
  )
