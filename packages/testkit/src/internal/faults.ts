/**
 * Fault injection for the in-memory CloudWatch Logs: seeded probabilities per call, forced faults for the
 * next N calls, and an outage switch. Pure decisions; the caller applies them.
 *
 * @internal
 */
import * as Random from "./random.js"

/** @internal */
export type OperationName =
  | "PutLogEvents"
  | "CreateLogGroup"
  | "CreateLogStream"
  | "DeleteLogGroup"
  | "DeleteLogStream"
  | "DescribeLogGroups"
  | "DescribeLogStreams"
  | "PutRetentionPolicy"
  | "DeleteRetentionPolicy"
  | "GetLogEvents"
  | "FilterLogEvents"

/** @internal */
export type FaultKind = "unavailable" | "throttle" | "lostResponse" | "reset" | "competingWriter"

/** @internal */
export type Failure = "unavailable" | "throttle" | "lostResponse" | "reset"

/** @internal */
export interface FaultOptions {
  readonly unavailable?: number | undefined
  readonly throttle?: number | undefined
  readonly lostResponse?: number | undefined
  readonly reset?: number | undefined
  readonly competingWriter?: number | undefined
  readonly latencyMillis?: number | undefined
  readonly latencyJitterMillis?: number | undefined
  readonly operations?: ReadonlyArray<OperationName> | undefined
}

/** @internal */
export interface Decision {
  readonly refused: boolean
  readonly failure: Failure | undefined
  readonly competingWriter: boolean
  readonly latencyMillis: number
}

interface Forced {
  readonly kind: FaultKind
  readonly operation: OperationName
  remaining: number
}

const NONE: Decision = { refused: false, failure: undefined, competingWriter: false, latencyMillis: 0 }
const REFUSED: Decision = { refused: true, failure: undefined, competingWriter: false, latencyMillis: 0 }
const DEFAULT_OPERATIONS: ReadonlyArray<OperationName> = ["PutLogEvents"]

const probability = (p: number | undefined): number =>
  p === undefined || !Number.isFinite(p) || p <= 0 ? 0 : p >= 1 ? 1 : p

/** @internal */
export class Faults {
  private random: Random.Random
  private options: FaultOptions
  private operations: ReadonlySet<OperationName>
  private forced: Array<Forced> = []
  private outage = false

  constructor(private readonly initial: FaultOptions, private readonly seed: number) {
    this.random = Random.make(seed)
    this.options = initial
    this.operations = new Set(initial.operations ?? DEFAULT_OPERATIONS)
  }

  setOptions(options: FaultOptions): void {
    this.options = options
    this.operations = new Set(options.operations ?? DEFAULT_OPERATIONS)
  }

  current(): FaultOptions {
    return this.options
  }

  failNext(n: number, kind: FaultKind, operation: OperationName): void {
    if (n > 0) this.forced.push({ kind, operation, remaining: Math.floor(n) })
  }

  setOutage(outage: boolean): void {
    this.outage = outage
  }

  isOutage(): boolean {
    return this.outage
  }

  reset(): void {
    this.random = Random.make(this.seed)
    this.setOptions(this.initial)
    this.forced = []
    this.outage = false
  }

  /** Decides the fate of one call. Draws exactly three numbers per call of a faulted operation. */
  decide(operation: OperationName): Decision {
    if (this.outage) {
      // a refused call draws its three numbers too: an outage does not shift the seeded sequence
      if (this.operations.has(operation)) { for (let i = 0; i < 3; i++) this.random.next() }
      return REFUSED
    }
    let forced: FaultKind | undefined
    for (let i = 0; i < this.forced.length; i++) {
      const f = this.forced[i]
      if (f.operation === operation) {
        forced = f.kind
        f.remaining--
        if (f.remaining <= 0) this.forced.splice(i, 1)
        break
      }
    }
    if (!this.operations.has(operation)) {
      return forced === undefined ? NONE : fromForced(forced, 0)
    }
    const o = this.options
    const r1 = this.random.next()
    const r2 = this.random.next()
    const r3 = this.random.next()
    let failure: Failure | undefined
    let edge = probability(o.unavailable)
    if (r1 < edge) failure = "unavailable"
    else if (r1 < (edge += probability(o.throttle))) failure = "throttle"
    else if (r1 < (edge += probability(o.lostResponse))) failure = "lostResponse"
    else if (r1 < (edge += probability(o.reset))) failure = "reset"
    const competingWriter = r2 < probability(o.competingWriter)
    const base = o.latencyMillis !== undefined && o.latencyMillis > 0 ? o.latencyMillis : 0
    const jitter = o.latencyJitterMillis !== undefined && o.latencyJitterMillis > 0
      ? Math.floor(r3 * (o.latencyJitterMillis + 1))
      : 0
    const latencyMillis = base + jitter
    if (forced !== undefined) {
      const decision = fromForced(forced, latencyMillis)
      return forced === "competingWriter" ? { ...decision, failure } : decision
    }
    if (failure === undefined && !competingWriter && latencyMillis === 0) return NONE
    return { refused: false, failure, competingWriter, latencyMillis }
  }
}

const fromForced = (kind: FaultKind, latencyMillis: number): Decision =>
  kind === "competingWriter"
    ? { refused: false, failure: undefined, competingWriter: true, latencyMillis }
    : { refused: false, failure: kind, competingWriter: false, latencyMillis }
