/**
 * The producer loop shared by the callback-style peers (winston, pino, logtape): hand events over in
 * chunks, letting the event loop run between chunks as a real application does, at full speed or paced
 * at a rate; or, for the overhead workload, time the log calls themselves.
 *
 * @since 0.1.0
 */
import { setImmediate as yieldToLoop, setTimeout as sleep } from "node:timers/promises"
import { fields, MESSAGE } from "../lib/events.js"
import type { Job } from "../lib/spec.js"
import type { Hooks, LoggerSession, Outcome, Run, Setup } from "./types.js"

/**
 * Events handed over between two turns of the event loop.
 *
 * @since 0.1.0
 * @category constants
 */
export const CHUNK = 1000

/**
 * The structured payload of event `i` for a logger (the logger adds level, time, message).
 *
 * @since 0.1.0
 * @category constants
 */
export const payload = (i: number) => ({ seq: i, ...fields(i), app: "bench" })

export { MESSAGE }

const approxBytes = (i: number): number => Buffer.byteLength(JSON.stringify({ msg: MESSAGE, ...payload(i) }))

const flood = async (job: Job, session: LoggerSession): Promise<{ sent: number; bytes: number }> => {
  let sent = 0
  let bytes = 0
  for (let base = 0; base < job.events; base += CHUNK) {
    const end = Math.min(job.events, base + CHUNK)
    for (let s = 0; s < job.streams; s++) {
      for (let i = base; i < end; i++) session.log(s, i)
    }
    sent += (end - base) * job.streams
    bytes += approxBytes(base) * (end - base) * job.streams
    await yieldToLoop()
  }
  return { sent, bytes }
}

const paced = async (job: Job, session: LoggerSession): Promise<{ sent: number; bytes: number }> => {
  const begin = performance.now()
  let sent = 0
  let bytes = 0
  while (sent < job.events) {
    const due = Math.min(job.events, Math.floor(((performance.now() - begin) * job.rate) / 1000))
    for (; sent < due; sent++) {
      for (let s = 0; s < job.streams; s++) session.log(s, sent)
      bytes += approxBytes(sent) * job.streams
    }
    if (sent < job.events) await sleep(5)
  }
  return { sent: sent * job.streams, bytes }
}

/**
 * The overhead workload: every call is made the same way, but only the second half is timed, so the
 * figure is the steady-state cost once the JIT has warmed up (the first half is the warm-up).
 */
const timedCalls = async (
  job: Job,
  session: LoggerSession
): Promise<{ sent: number; bytes: number; nanos: number; timed: number }> => {
  let nanos = 0n
  let bytes = 0
  let timed = 0
  const warmUp = Math.floor(job.events / 2 / CHUNK) * CHUNK
  for (let base = 0; base < job.events; base += CHUNK) {
    const end = Math.min(job.events, base + CHUNK)
    const t0 = process.hrtime.bigint()
    for (let i = base; i < end; i++) session.log(0, i)
    if (base >= warmUp) {
      nanos += process.hrtime.bigint() - t0
      timed += end - base
    }
    bytes += approxBytes(base) * (end - base)
    await yieldToLoop()
  }
  return { sent: job.events, bytes, nanos: Number(nanos), timed }
}

/**
 * Turn a logger-style peer into a contender.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromLogger = (setup: Setup): Run => async (job: Job, hooks: Hooks): Promise<Outcome> => {
  const session = await setup(job)
  hooks.start()
  const begin = performance.now()
  const produced = job.workload === "overhead"
    ? await timedCalls(job, session)
    : job.rate > 0
    ? { ...(await paced(job, session)), nanos: undefined, timed: 0 }
    : { ...(await flood(job, session)), nanos: undefined, timed: 0 }
  let error: string | undefined
  try {
    await session.close()
  } catch (e) {
    error = e instanceof Error ? `${e.name}: ${e.message}` : String(e)
  }
  const elapsedSeconds = (performance.now() - begin) / 1000
  return {
    sent: produced.sent,
    bytes: produced.bytes,
    elapsedSeconds,
    ...(produced.nanos === undefined ? {} : { nanosPerCall: produced.nanos / produced.timed }),
    reportedFailed: session.failures(),
    ...(error === undefined ? {} : { error }),
    ...(session.note === undefined ? {} : { note: session.note })
  }
}
