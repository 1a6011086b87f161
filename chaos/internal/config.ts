/**
 * The suite's sizes, full and quick, and the producer's configuration (shared by the harness and the
 * producer process).
 */

/** Where one producer writes and how much. */
export interface ProducerConfig {
  readonly id: string
  readonly endpoint: string
  readonly destinations: ReadonlyArray<{ readonly logGroupName: string; readonly logStreamName: string }>
  /** Events per destination; `null`: without end, until SIGTERM. */
  readonly eventsPerDestination: number | null
  /** Events per second per destination. */
  readonly ratePerSecond: number
  /** Events handed over per pull of the source (per pause of the logger). */
  readonly chunk: number
  /** Ship with `CloudWatchLogs.sink` (default) or log with `CloudWatchLogs.layerLogger` in place. */
  readonly mode?: "sink" | "logger" | undefined
  /**
   * Sink mode: ship through a durable spool in this directory (a directory of its own per destination
   * under it), printing `HANDED <n>` as events are taken (on disk): a SIGKILL leaves no result line.
   */
  readonly spool?: string | undefined
}

/** The sizes of a run. */
export interface Sizes {
  readonly sharedProducers: number
  readonly sharedEvents: number
  readonly sharedRate: number
  readonly manyStreams: number
  readonly manyProcesses: number
  readonly manyEventsPerStream: number
  readonly sigtermProducers: number
  readonly sigtermAfterSeconds: number
  readonly outageProducers: number
  readonly outageEvents: number
  readonly outageSeconds: number
}

/** The full run (~10 minutes on two cores). */
export const full: Sizes = {
  sharedProducers: 8,
  sharedEvents: 25_000,
  sharedRate: 2_500,
  manyStreams: 100,
  manyProcesses: 4,
  manyEventsPerStream: 250,
  sigtermProducers: 4,
  sigtermAfterSeconds: 4,
  outageProducers: 4,
  outageEvents: 20_000,
  outageSeconds: 5
}

/** `--quick` (under three minutes). */
export const quick: Sizes = {
  sharedProducers: 8,
  sharedEvents: 4_000,
  sharedRate: 1_000,
  manyStreams: 100,
  manyProcesses: 4,
  manyEventsPerStream: 40,
  sigtermProducers: 2,
  sigtermAfterSeconds: 3,
  outageProducers: 2,
  outageEvents: 8_000,
  outageSeconds: 5
}

/** The faults of the shared-stream scenarios (the emulator's `--faults`). */
export const FAULTS = "unavailable=0.10,throttle=0.05,reset=0.02,lost-response=0.01,competing-writer=0.02,latency=20"

/** Latency jitter between the producers and the emulator (each direction, 0..N ms, order kept). */
export const JITTER_MILLIS = 30

/** Reads the producer's configuration from its JSON argument. */
export const parseProducerConfig = (json: string): ProducerConfig | undefined => {
  let u: unknown
  try {
    u = JSON.parse(json)
  } catch {
    return undefined
  }
  if (typeof u !== "object" || u === null) return undefined
  if (!("id" in u) || typeof u.id !== "string") return undefined
  if (!("endpoint" in u) || typeof u.endpoint !== "string") return undefined
  if (
    !("eventsPerDestination" in u) || (u.eventsPerDestination !== null && typeof u.eventsPerDestination !== "number")
  ) {
    return undefined
  }
  if (!("ratePerSecond" in u) || typeof u.ratePerSecond !== "number" || !(u.ratePerSecond > 0)) return undefined
  if (!("chunk" in u) || typeof u.chunk !== "number" || !(u.chunk >= 1)) return undefined
  if (!("destinations" in u) || !Array.isArray(u.destinations)) return undefined
  const destinations: Array<{ logGroupName: string; logStreamName: string }> = []
  for (const d of u.destinations) {
    if (typeof d !== "object" || d === null) return undefined
    if (!("logGroupName" in d) || typeof d.logGroupName !== "string") return undefined
    if (!("logStreamName" in d) || typeof d.logStreamName !== "string") return undefined
    destinations.push({ logGroupName: d.logGroupName, logStreamName: d.logStreamName })
  }
  const mode = "mode" in u && u.mode === "logger" ? "logger" as const : "sink" as const
  return {
    mode,
    id: u.id,
    endpoint: u.endpoint,
    destinations,
    eventsPerDestination: u.eventsPerDestination,
    ratePerSecond: u.ratePerSecond,
    chunk: u.chunk,
    ...("spool" in u && typeof u.spool === "string" ? { spool: u.spool } : {})
  }
}

/** The key of a destination in a producer's result. */
export const destinationKey = (d: { readonly logGroupName: string; readonly logStreamName: string }): string =>
  `${d.logGroupName}:${d.logStreamName}`
