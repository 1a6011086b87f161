/**
 * What a child must do, read from its command line with no library at all.
 *
 * The child's memory and CPU are what the benchmark measures. Anything the harness itself loads there is
 * counted against the contender: decoding the job with Effect's `Schema` loaded Effect and `Schema` into
 * the child of every peer (libraries that never load Effect), about 8 MB of heap at start, which V8
 * then multiplies in its heap growth. So this module imports nothing; `spec.ts` builds the parent's
 * schemas from the same lists.
 *
 * @since 0.1.0
 */

/**
 * The five workloads of the issue, and workload 3 twice more: with the heap capped (`memory-capped`: a
 * contender whose memory is bounded completes it, one that buffers without bound runs out of heap), and
 * inside an Effect application (`memory-in-effect-app`: every child loads Effect's runtime first, as the
 * applications cwlogs is written for have, so that each contender's figure is what it adds to one).
 *
 * @since 0.1.0
 * @category constants
 */
export const WORKLOADS = [
  "throughput",
  "overhead",
  "memory",
  "memory-capped",
  "memory-in-effect-app",
  "latency",
  "streams"
] as const

/**
 * @since 0.1.0
 * @category models
 */
export type Workload = typeof WORKLOADS[number]

/**
 * Workload 3 and its variants: peak RSS is their figure, and events are made as they are handed over.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isMemoryWorkload = (w: Workload): boolean =>
  w === "memory" || w === "memory-capped" || w === "memory-in-effect-app"

/**
 * Every contender the harness knows.
 *
 * @since 0.1.0
 * @category constants
 */
export const CONTENDERS = [
  "raw-sdk-c1",
  "raw-sdk-cN",
  "raw-sdk-native",
  "cwlogs-sink",
  "cwlogs-spool",
  "cwlogs-logger",
  "cwlogs-spool-logger",
  "effect-default-logger",
  "winston-cloudwatch",
  "pino-cloudwatch",
  "logtape-cloudwatch"
] as const

/**
 * @since 0.1.0
 * @category models
 */
export type Contender = typeof CONTENDERS[number]

/**
 * What a child must do.
 *
 * @since 0.1.0
 * @category models
 */
export interface Job {
  readonly workload: Workload
  readonly contender: Contender
  readonly endpoint: string
  readonly logGroupName: string
  /** One stream, or the prefix of `streams` streams named `<prefix>-<n>`. */
  readonly logStreamName: string
  /** Events per stream. */
  readonly events: number
  readonly streams: number
  /** Events per second (latency workload), 0 = as fast as the contender takes them. */
  readonly rate: number
  /** Requests in flight for the raw SDK loop. */
  readonly concurrency: number
  /** Milliseconds the child has before the parent kills it. */
  readonly deadlineMillis: number
}

const isOneOf = <A extends string>(values: ReadonlyArray<A>, u: unknown): u is A =>
  typeof u === "string" && values.some((v) => v === u)

const STRING_FIELDS = ["endpoint", "logGroupName", "logStreamName"] as const
const NUMBER_FIELDS = ["events", "streams", "rate", "concurrency", "deadlineMillis"] as const

/**
 * The job in a child's argument (JSON). Throws an `Error` naming every field that is missing or of the
 * wrong kind.
 *
 * @since 0.1.0
 * @category decoding
 */
export const parseJob = (text: string): Job => {
  const value: unknown = JSON.parse(text)
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`bench: a job is a JSON object, got ${text.slice(0, 80)}`)
  }
  const field = (name: string): unknown => Object.getOwnPropertyDescriptor(value, name)?.value
  const problems: Array<string> = []
  const workload = field("workload")
  if (!isOneOf(WORKLOADS, workload)) problems.push(`workload must be one of ${WORKLOADS.join(", ")}`)
  const contender = field("contender")
  if (!isOneOf(CONTENDERS, contender)) problems.push(`contender must be one of ${CONTENDERS.join(", ")}`)
  for (const name of STRING_FIELDS) {
    if (typeof field(name) !== "string") problems.push(`${name} must be a string`)
  }
  for (const name of NUMBER_FIELDS) {
    const n = field(name)
    if (typeof n !== "number" || !Number.isFinite(n)) problems.push(`${name} must be a finite number`)
  }
  if (problems.length > 0 || !isOneOf(WORKLOADS, workload) || !isOneOf(CONTENDERS, contender)) {
    throw new Error(`bench: invalid job: ${problems.join("; ")}`)
  }
  const str = (name: typeof STRING_FIELDS[number]): string => String(field(name))
  const num = (name: typeof NUMBER_FIELDS[number]): number => Number(field(name))
  return {
    workload,
    contender,
    endpoint: str("endpoint"),
    logGroupName: str("logGroupName"),
    logStreamName: str("logStreamName"),
    events: num("events"),
    streams: num("streams"),
    rate: num("rate"),
    concurrency: num("concurrency"),
    deadlineMillis: num("deadlineMillis")
  }
}
