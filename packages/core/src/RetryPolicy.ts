/**
 * How the uploader retries, as one `Schedule` per class of error (see `CloudWatchLogsError.classify`).
 * A schedule receives the error as input, so a policy may look at it (`Schedule.whileInput`). Errors of
 * the class `fatal` are never retried, and `alreadyAccepted` is a success.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Schedule from "effect/Schedule"
import type { CloudWatchLogsError } from "./CloudWatchLogsError.js"
import * as internal from "./internal/retryPolicy.js"

/**
 * A schedule of retries for errors of one class.
 *
 * @since 0.1.0
 * @category models
 */
export type RetrySchedule = Schedule.Schedule<unknown, CloudWatchLogsError>

/**
 * The schedules, one per class of error.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryPolicyShape {
  /**
   * InvalidSequenceTokenException: resend with the adopted token, the first times at once, then with a
   * backoff (the default: 3 at once, then 7 more with a backoff from 50 ms capped at 2 s).
   */
  readonly token: RetrySchedule
  /**
   * ServiceUnavailable, network errors, OperationAborted, unknown server faults: exponential backoff with
   * jitter, capped (default: from 100 ms, capped at 10 s, 8 retries).
   */
  readonly transient: RetrySchedule
  /** ThrottlingException: a longer backoff with jitter (default: from 500 ms, capped at 30 s, 10 retries). */
  readonly throttled: RetrySchedule
  /**
   * ResourceNotFoundException, after the missing group or stream was created: resend (default: once at
   * once, then 3 more with a backoff from 200 ms, as a new stream may take a moment to be visible).
   */
  readonly notFound: RetrySchedule
}

/**
 * The retry policy.
 *
 * @since 0.1.0
 * @category tags
 */
export class RetryPolicy extends Context.Tag("@cwlogs/core/RetryPolicy")<RetryPolicy, RetryPolicyShape>() {}

/**
 * Options of an exponential backoff.
 *
 * @since 0.1.0
 * @category models
 */
export interface BackoffOptions {
  /** The first delay. */
  readonly base: Duration.DurationInput
  /** Growth of the delay per retry (default 2). */
  readonly factor?: number | undefined
  /** The largest delay. */
  readonly cap: Duration.DurationInput
  /** Retries at most. */
  readonly retries: number
  /** Randomise each delay between 80% and 120% (default true). */
  readonly jitter?: boolean | undefined
}

/**
 * An exponential backoff, jittered, capped and bounded:
 * `exponential(base, factor)`, `jittered`, `union(spaced(cap))`, `intersect(recurs(retries))`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const backoff: (options: BackoffOptions) => RetrySchedule = internal.backoff

/**
 * `immediate` retries at once, then the schedule `then`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const immediateThen: (immediate: number, then: RetrySchedule) => RetrySchedule = internal.immediateThen

/**
 * The default policy.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults: RetryPolicyShape = internal.defaults

/**
 * No retry at all (every error fails the upload at once, except DataAlreadyAccepted, a success).
 *
 * @since 0.1.0
 * @category constructors
 */
export const none: RetryPolicyShape = internal.none

/**
 * A policy from the defaults, with some schedules replaced.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Partial<RetryPolicyShape> = {}): RetryPolicyShape => ({ ...defaults, ...options })

/**
 * Provides a policy (the defaults, with some schedules replaced).
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Partial<RetryPolicyShape> = {}): Layer.Layer<RetryPolicy> =>
  Layer.succeed(RetryPolicy, make(options))

/**
 * Provides the default policy.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerDefault: Layer.Layer<RetryPolicy> = Layer.succeed(RetryPolicy, defaults)

/**
 * A backoff as configuration can give it.
 *
 * @since 0.1.0
 * @category models
 */
export interface BackoffConfig {
  readonly base: Duration.Duration
  readonly cap: Duration.Duration
  readonly retries: number
  readonly factor?: number | undefined
  readonly jitter?: boolean | undefined
}

/**
 * A policy as configuration can give it: backoffs per class, and the retries at once of token errors
 * before their backoff. Unset parts keep the defaults.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions {
  readonly tokenImmediateRetries?: number | undefined
  readonly token?: BackoffConfig | undefined
  readonly transient?: BackoffConfig | undefined
  readonly throttled?: BackoffConfig | undefined
  readonly notFoundRetries?: number | undefined
}

/**
 * A policy from configuration options.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromConfigOptions: (options: ConfigOptions) => RetryPolicyShape = internal.fromConfigOptions

/**
 * Provides a policy read from configuration (e.g.
 * `layerConfig({ transient: { base: Config.duration("BASE"), cap: Config.duration("CAP"), retries: Config.integer("N") } })`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<ConfigOptions>
): Layer.Layer<RetryPolicy, ConfigError.ConfigError> =>
  Layer.effect(RetryPolicy, Effect.map(Config.unwrap(config), fromConfigOptions))
