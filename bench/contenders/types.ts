/**
 * What every contender gives the child runner.
 *
 * @since 0.1.0
 */
import type { Job } from "../lib/spec.js"

/**
 * The part of a measurement a contender fills in; the runner adds CPU and memory.
 *
 * @since 0.1.0
 * @category models
 */
export interface Outcome {
  readonly sent: number
  readonly bytes: number
  /** From the first hand-over to the contender's acknowledgement of the last event. */
  readonly elapsedSeconds: number
  readonly nanosPerCall?: number
  readonly reportedFailed?: number
  readonly error?: string
  readonly note?: string
}

/**
 * Hooks the runner passes in: `start` marks the beginning of the measured part (after set-up).
 *
 * @since 0.1.0
 * @category models
 */
export interface Hooks {
  readonly start: () => void
}

/**
 * A contender: runs one job in this process.
 *
 * @since 0.1.0
 * @category models
 */
export type Run = (job: Job, hooks: Hooks) => Promise<Outcome>

/**
 * A logger-style peer: set up, a synchronous log call, and its own flush/close.
 *
 * @since 0.1.0
 * @category models
 */
export interface LoggerSession {
  /** Hand event `i` over to the logger of stream number `stream`. */
  readonly log: (stream: number, i: number) => void
  /** The peer's own flush/close; resolves when it says everything is acknowledged. */
  readonly close: () => Promise<void>
  /** Failures the peer reported through its error hook. */
  readonly failures: () => number
  readonly note?: string
}

/**
 * @since 0.1.0
 * @category models
 */
export type Setup = (job: Job) => Promise<LoggerSession>
