/**
 * How the uploader retries, as one `Schedule` per class of error (see `CloudWatchLogsError.classify`).
 * A schedule receives the error as input, so a policy may look at it (`Schedule.whileInput`). Errors of
 * the class `fatal` are never retried, and `alreadyAccepted` is a success.
 *
 * Each upload runs one driver per class, so the classes have separate budgets: token errors never use up
 * the transient or throttling retries, nor the other way round. The transient, throttling and not-found
 * schedules bound the failures of their class over the whole upload (its puts and the calls that make a
 * missing group or stream), whatever other failures come between: a failure of one of these classes
 * restarts none of them (they did restart each other, so a service answering 5xx, throttled, 5xx, ...
 * for ever was retried for ever). Only a token error (or a DataAlreadyAccepted for a batch not ours), an
 * answer of a healthy service, restarts them, so a put that needs many attempts under token contention
 * does not die of the occasional server fault met on the way.
 *
 * So an upload always ends. With the defaults, against a service that only fails (any mix of server
 * faults, throttling and not-found answers): after at most 8 + 10 + 4 retries and about 3.5 minutes of
 * delays (27 s of transient ones at most, 182 s of throttled ones, 2 s of not-found ones; plus the rate
 * limiter's slowing down after throttling), with `RetriesExhausted` and every event of the batch. With
 * token errors among the failures, each restarts the others' budgets, and token errors are bounded by the
 * token schedule (3 minutes from the first), the resends at once after a wait by the same schedule with
 * its delays dropped (3 minutes from the first such resend): at most about 13 minutes in all.
 *
 * ## Token contention
 *
 * A token error is not a failure of the service: it carries the token the stream expects, and when several
 * writers share a stream with tokens enforced, one of them wins every round, so the stream makes progress.
 * A writer that keeps losing must de-synchronise from the others rather than give up, so the default token
 * schedule (`contention`) is:
 *
 * - the first retry at once, with the adopted token (the cheap win: alone on the stream, or after a single
 *   competing put, it succeeds);
 * - after that, "full jitter": a random delay in `0..min(cap, base * 2^k)` for the k-th loss in a row (N
 *   writers spread over a window that grows until it holds their puts, instead of colliding in lock-step);
 * - a token error answering a put sent after a wait is no step of the schedule: the uploader resends at
 *   once under the token that error carried (the one held was stale: others went on during the wait);
 *   those resends are bounded by the token schedule with its delays dropped (for `contention`, the budget
 *   from the first of them), so that waits of other classes and token errors cannot alternate for ever;
 * - bounded by elapsed time (`budget`, default 3 minutes from the first token error of the upload), not
 *   by a count: under contention a put may lose many rounds, and every lost round costs one call.
 *
 * Every delay is on the `Clock` (`TestClock` in tests); the jitter uses the `Random` service.
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
import { checked } from "./internal/config.js"
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
   * InvalidSequenceTokenException: resend with the adopted token (the default: `contention` with its
   * defaults: once at once, then full jitter from 50 ms capped at 2 s, for up to 3 minutes).
   */
  readonly token: RetrySchedule
  /**
   * ServiceUnavailable, network errors, OperationAborted, unknown server faults: exponential backoff with
   * jitter, capped (default: from 100 ms, capped at 10 s, 8 retries; each delay jittered to 80%..120%, the
   * capped ones too: 8 s to 12 s). Over the whole upload: throttling in between does not start it again.
   */
  readonly transient: RetrySchedule
  /**
   * ThrottlingException: a longer backoff with jitter (default: from 500 ms, capped at 30 s, 10 retries;
   * each delay jittered to 80%..120%, the capped ones too: 24 s to 36 s). Over the whole upload: server
   * faults in between do not start it again.
   */
  readonly throttled: RetrySchedule
  /**
   * ResourceNotFoundException, after the missing group or stream was created: resend (default: once at
   * once, then 3 more with a backoff from 200 ms, as a new stream may take a moment to be visible), over
   * the whole upload: other failures in between do not start it again, a token error does. PutRetentionPolicy on a group just
   * made is sent again under a schedule of its own like it (past it, a warning, and the events still sent).
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
  /** The largest delay before jitter (with jitter, a capped delay is 80%..120% of it). */
  readonly cap: Duration.DurationInput
  /** Retries at most. */
  readonly retries: number
  /** Randomise each delay between 80% and 120%, after the cap (default true). */
  readonly jitter?: boolean | undefined
}

/**
 * An exponential backoff, capped, jittered and bounded:
 * `exponential(base, factor)`, `union(spaced(cap))`, `jittered`, `intersect(recurs(retries))`. The cap
 * comes before the jitter, so capped delays are randomised too (not all exactly the cap, in lock-step).
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
 * Options of the token-contention schedule (`contention`).
 *
 * @since 0.1.0
 * @category models
 */
export interface ContentionOptions {
  /** Retries at once before the jittered backoff (default 1). */
  readonly immediate?: number | undefined
  /** The nominal first delay of the backoff (default 50 ms). */
  readonly base?: Duration.DurationInput | undefined
  /** The largest nominal delay (default 2 s). */
  readonly cap?: Duration.DurationInput | undefined
  /** Time allowed for token retries, from the first token error of an upload (default 3 minutes). */
  readonly budget?: Duration.DurationInput | undefined
}

/**
 * The defaults of `contention`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const contentionDefaults: {
  readonly immediate: number
  readonly base: Duration.Duration
  readonly cap: Duration.Duration
  readonly budget: Duration.Duration
} = internal.contentionDefaults

/**
 * The schedule for token contention: `immediate` retries at once, then each delay drawn uniformly from
 * `0..min(cap, base * 2^k)` ("full jitter"), for as long as `budget` allows (elapsed time since the
 * first retry, on the `Clock`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const contention: (options?: ContentionOptions) => RetrySchedule = internal.contention

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
 * A policy as configuration can give it: backoffs per class, and for token errors either the contention
 * schedule's `tokenRetryBudget` (time) and `tokenImmediateRetries`, or a count-bounded `token` backoff
 * (when `token` is set). Unset parts keep the defaults.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions {
  readonly tokenImmediateRetries?: number | undefined
  /** Time allowed for token retries of one upload (the contention schedule; default 3 minutes). */
  readonly tokenRetryBudget?: Duration.Duration | undefined
  readonly token?: BackoffConfig | undefined
  readonly transient?: BackoffConfig | undefined
  readonly throttled?: BackoffConfig | undefined
  /** Retries after creating a missing group or stream: the first at once, the rest on the default's backoff. */
  readonly notFoundRetries?: number | undefined
}

/**
 * A policy from configuration options (counts of retries are taken whole: 2.7 is 2, a negative one 0;
 * `layerConfig` refuses them instead).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromConfigOptions: (options: ConfigOptions) => RetryPolicyShape = internal.fromConfigOptions

/**
 * Provides a policy read from configuration (e.g.
 * `layerConfig({ transient: { base: Config.duration("BASE"), cap: Config.duration("CAP"), retries: Config.integer("N") } })`).
 * Counts of retries that are not whole numbers 0 or more, and a backoff factor under 1, fail with a
 * `ConfigError` naming them.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<ConfigOptions>
): Layer.Layer<RetryPolicy, ConfigError.ConfigError> =>
  Layer.effect(
    RetryPolicy,
    Effect.map(checked(Config.unwrap(config), internal.invalidConfigOptions), fromConfigOptions)
  )
