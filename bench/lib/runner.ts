/**
 * One contender on one workload: the child process, its deadline, the read-back, the row.
 *
 * @since 0.1.0
 */
import { ensureStreams, makeClient, percentile, readBack, streamNames } from "./aws.js"
import { CHILD_ARGS } from "./build.js"
import type { Emulator } from "./emulator.js"
import { CWLOGS_CONCURRENCY, type Plan } from "./plans.js"
import * as Processes from "./processes.js"
import type { Row } from "./report.js"
import { type Contender, decodeMeasurement, type Job, type Measurement } from "./spec.js"

/**
 * Run one contender on one workload in a child process against `emulator`, then read back what the
 * emulator stored: one row of the table.
 *
 * @since 0.1.0
 * @category running
 */
export const runOne = async (
  plan: Plan,
  contender: Contender,
  emulator: Emulator,
  runId: string,
  deadlineMillis: number,
  extraEnv: Readonly<Record<string, string>> = {}
): Promise<Row> => {
  const logGroupName = "bench"
  const logStreamName = `${plan.workload}-${contender}-${runId}`
  const job: Job = {
    workload: plan.workload,
    contender,
    endpoint: emulator.endpoint,
    logGroupName,
    logStreamName,
    events: plan.events,
    streams: plan.streams,
    rate: plan.rate,
    concurrency: contender === "raw-sdk-cN" || contender === "raw-sdk-native" ? CWLOGS_CONCURRENCY : 1,
    deadlineMillis
  }
  // The group and streams are made here: the child loads what its contender loads, nothing more.
  const setupClient = makeClient(emulator.endpoint)
  try {
    await ensureStreams(setupClient, logGroupName, streamNames(logStreamName, plan.streams))
  } finally {
    setupClient.destroy()
  }
  const finished = await Processes.run(
    process.execPath,
    [...(plan.nodeArgs ?? []), ...CHILD_ARGS, JSON.stringify(job)],
    deadlineMillis,
    { ...process.env, NODE_NO_WARNINGS: "1", AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...extraEnv }
  )
  let measurement: Measurement | undefined
  for (const candidate of [...finished.stdoutTail].reverse()) {
    const decoded = decodeMeasurement(candidate)
    if (decoded._tag === "Right") {
      measurement = decoded.right
      break
    }
  }
  const intended = plan.events * plan.streams
  let stored: number | undefined
  let storedBytes = 0
  let latencies: Array<number> = []
  const ships = contender !== "effect-default-logger"
  if (!emulator.discard && ships) {
    const client = makeClient(emulator.endpoint)
    try {
      stored = 0
      for (const name of streamNames(logStreamName, plan.streams)) {
        const got = await readBack(client, logGroupName, name, plan.latencies)
        stored += got.count
        storedBytes += got.bytes
        latencies = latencies.concat(got.latencies)
      }
    } catch (e) {
      stored = undefined
      process.stderr.write(`read-back failed for ${logStreamName}: ${String(e)}\n`)
    } finally {
      client.destroy()
    }
  }
  latencies.sort((a, b) => a - b)
  const status = finished.timedOut
    ? `timeout after ${Math.round(deadlineMillis / 1000)} s`
    : measurement === undefined
    ? `crashed (exit ${finished.code ?? finished.signal}): ${
      /heap out of memory/i.test(finished.stderrTail) ? "JavaScript heap out of memory" : lastLine(finished.stderrTail)
    }`
    : measurement.error !== undefined
    ? `error: ${measurement.error}`
    : "ok"
  const sent = measurement?.sent ?? intended
  const elapsed = measurement?.elapsedSeconds ?? Number.NaN
  const lost = stored === undefined || !ships ? undefined : Math.max(0, intended - stored)
  const bytes = storedBytes > 0 ? storedBytes : measurement?.bytes ?? 0
  return {
    workload: plan.workload,
    contender,
    events: intended,
    sent,
    stored,
    lost,
    duplicated: stored === undefined ? undefined : Math.max(0, stored - intended),
    elapsedSeconds: elapsed,
    eventsPerSecond: measurement === undefined ? Number.NaN : sent / elapsed,
    mibPerSecond: measurement === undefined ? Number.NaN : bytes / 1_048_576 / elapsed,
    cpuSeconds: measurement?.cpuSeconds ?? Number.NaN,
    peakRssBytes: measurement?.peakRssBytes ?? Number.NaN,
    ...(measurement?.nanosPerCall === undefined ? {} : { nanosPerCall: measurement.nanosPerCall }),
    ...(latencies.length === 0 ? {} : { p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) }),
    ...(measurement?.reportedFailed === undefined ? {} : { reportedFailed: measurement.reportedFailed }),
    status: status === "ok" && lost !== undefined && lost > 0 ? `lost ${lost}` : status,
    ...(measurement?.note === undefined ? {} : { note: measurement.note }),
    backend: emulator.backend
  }
}

const lastLine = (text: string): string =>
  text.trim().split("\n").filter((l) => l.trim().length > 0 && !/^\s*(at |\d+: 0x)/.test(l)).slice(-1)[0]?.slice(
    0,
    160
  ) ??
    ""
