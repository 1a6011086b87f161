/**
 * `pnpm demo`: the main job on an embedded default. Several producers stream events into one shared log
 * stream through `CloudWatchLogs.sink` while the program's own `Effect.log` lines go through the
 * CloudWatch logger; then the stream is read back and every event is accounted for (sent, stored, lost,
 * duplicated, order), with the retries, the faults, the token errors adopted and the DescribeLogStreams
 * calls it took.
 *
 * With no endpoint and no region it runs against `cwlogs-emulator` embedded in the process (sequence
 * tokens enforced, a few faults: ServiceUnavailable, throttling, connection resets, answers lost after the
 * batch was stored, a competing writer on the same stream). With `endpoint` or `region` it runs the same
 * against that service with the usual AWS credentials.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import * as pure from "./internal/demo.js"
import * as internal from "./internal/demoRun.js"
import type * as shipping from "./internal/demoShipping.js"

/**
 * How to run the demo. Every field has a default.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Events sent in total, spread over the producers (default 100,000). */
  readonly events?: number | undefined
  /** Producers writing to the one shared stream at once (default 4). */
  readonly producers?: number | undefined
  /** Approximate size of each event's message in bytes (default 200). */
  readonly messageBytes?: number | undefined
  /** A CloudWatch Logs endpoint to use instead of the embedded emulator. */
  readonly endpoint?: string | undefined
  /** An AWS region to use instead of the embedded emulator (credentials from the usual AWS sources). */
  readonly region?: string | undefined
  /** Embedded emulator only: the token generation it plays (default `"enforced"`). */
  readonly sequenceTokens?: "enforced" | "ignored" | undefined
  /** Embedded emulator only: inject faults (default `true`). */
  readonly faults?: boolean | undefined
  /** Embedded emulator only: the seed of its faults (default 7). */
  readonly seed?: number | undefined
  /**
   * `shared` (default): one uploader and token store for every producer of the process (puts to the stream
   * go one at a time, the library's normal setup); `independent`: each producer has its own, like separate
   * processes sharing the stream (they contend for its sequence token).
   */
  readonly pipeline?: "independent" | "shared" | undefined
  /** Log group (default `cwlogs-demo`). */
  readonly logGroupName?: string | undefined
  /** The shared stream (default `shared-<epoch ms>`); the app's logs go to `<it>-app`. */
  readonly logStreamName?: string | undefined
  /** `live`: one line redrawn (a terminal); `lines`: a line a second; `off` (default: `live` on a TTY). */
  readonly progress?: "live" | "lines" | "off" | undefined
}

/**
 * What the demo found.
 *
 * @since 0.1.0
 * @category models
 */
export type Summary = pure.Summary

/**
 * What the read-back found in the shared stream.
 *
 * @since 0.1.0
 * @category models
 */
export type Analysis = pure.Analysis

/**
 * The demo ran, and something was lost (or duplicated where the service promises no duplicate). Carries
 * the summary.
 *
 * @since 0.1.0
 * @category errors
 */
export const DemoFailed = internal.DemoFailed

/**
 * @since 0.1.0
 * @category errors
 */
export type DemoFailed = internal.DemoFailed

/**
 * The embedded emulator could not be started.
 *
 * @since 0.1.0
 * @category errors
 */
export type BackendError = shipping.BackendError

/**
 * Default number of events.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_EVENTS = 100_000

/**
 * Default number of producers.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_PRODUCERS = 4

const resolve = (options: Options, now: number): internal.Options => {
  const stream = options.logStreamName ?? `shared-${now}`
  const remote = options.endpoint !== undefined || options.region !== undefined
  return {
    events: Math.max(0, Math.floor(options.events ?? DEFAULT_EVENTS)),
    producers: Math.max(1, Math.floor(options.producers ?? DEFAULT_PRODUCERS)),
    messageBytes: Math.max(1, Math.floor(options.messageBytes ?? 200)),
    logGroupName: options.logGroupName ?? "cwlogs-demo",
    logStreamName: stream,
    appStreamName: `${stream}-app`,
    backend: remote
      ? { _tag: "Remote", endpoint: options.endpoint, region: options.region }
      : { _tag: "Embedded", sequenceTokens: options.sequenceTokens ?? "enforced", faults: options.faults ?? true },
    seed: options.seed ?? 7,
    pipeline: options.pipeline ?? "shared",
    progress: options.progress ?? (process.stdout.isTTY ? "live" : "lines"),
    write: (text) => Effect.sync(() => void process.stdout.write(text))
  }
}

/**
 * Runs the demo and returns its summary; fails with `DemoFailed` (carrying the summary) when anything was
 * lost. Prints the progress as it goes, not the summary (see `formatSummary`).
 *
 * @since 0.1.0
 * @category running
 */
export const run = (options: Options = {}): Effect.Effect<Summary, DemoFailed | BackendError, Scope.Scope> =>
  Effect.flatMap(Effect.clockWith((clock) => clock.currentTimeMillis), (now) => {
    const resolved = resolve(options, now)
    return Effect.zipRight(
      Console.log(
        `cwlogs demo: ${resolved.producers} producers, ${
          pure.formatCount(resolved.events)
        } events into ${resolved.logGroupName}:${resolved.logStreamName}`
      ),
      internal.run(resolved)
    )
  })

/**
 * The printed summary. Its last line is `RESULT: OK: ...` or `RESULT: FAILED: ...`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatSummary: (summary: Summary) => string = pure.formatSummary

/**
 * The program of `pnpm demo`: runs, prints the summary, and fails when anything was lost (so that the
 * process exits with a non-zero status). Errors are printed here: run it with error reporting off.
 *
 * @since 0.1.0
 * @category running
 */
export const main = (options: Options = {}): Effect.Effect<void, DemoFailed | BackendError> =>
  Effect.scoped(run(options)).pipe(
    Effect.tap((summary) => Console.log(formatSummary(summary))),
    Effect.tapErrorCause((cause) => {
      const failure = Cause.failureOption(cause)
      return Option.isSome(failure) && failure.value._tag === "DemoFailed"
        ? Console.log(formatSummary(failure.value.summary))
        : Console.error(Cause.pretty(cause))
    }),
    Effect.asVoid
  )
