/**
 * Ingest benchmark of cwlogs-emulator: starts the emulator in a child process, sends pre-built full
 * PutLogEvents batches (1,048,576 bytes as CloudWatch counts them) over keep-alive node:http connections,
 * and reports the emulator's throughput and CPU time.
 *
 *   npx tsx packages/testkit/bench/ingest.ts [--seconds 10] [--concurrency 4] [--store] [--small] [--json]
 *
 * --store keeps the events (default: the emulator runs with --discard); --small sends 10,000 events of
 * ~79 bytes per batch instead of 1,024 events of 998 bytes. MiB/s counts batch bytes (message + 26 per
 * event); "per CPU-second" divides by the emulator's user+system CPU time (one core's worth).
 */
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { Agent, request } from "node:http"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "4" },
    store: { type: "boolean", default: false },
    small: { type: "boolean", default: false },
    json: { type: "boolean", default: false }
  }
})
const seconds = Number(values.seconds)
const concurrency = Number(values.concurrency)

const BIN = fileURLToPath(new URL("../src/bin/emulator.ts", import.meta.url))
const ROOT = fileURLToPath(new URL("../../..", import.meta.url))
const MiB = 1024 * 1024
const BATCH_BYTES = 1_048_576

/** Events whose sizes (UTF-8 message bytes + 26) add up to exactly 1,048,576. */
const buildEvents = (small: boolean, timestamp: number): Array<{ timestamp: number; message: string }> => {
  if (!small) {
    return Array.from({ length: 1024 }, (_, i) => ({
      timestamp,
      message: `${String(i).padStart(6, "0")} ${"x".repeat(998 - 7)}`
    }))
  }
  // 10,000 events: 1,048,576 − 260,000 = 788,576 message bytes → 78 or 79 bytes each.
  const total = BATCH_BYTES - 10_000 * 26
  const base = Math.floor(total / 10_000)
  const extra = total - base * 10_000
  return Array.from({ length: 10_000 }, (_, i) => ({
    timestamp,
    message: `${String(i).padStart(6, "0")} ${"y".repeat(base + (i < extra ? 1 : 0) - 7)}`
  }))
}

const batchSize = (events: ReadonlyArray<{ message: string }>): number =>
  events.reduce((n, e) => n + Buffer.byteLength(e.message) + 26, 0)

/** user+system CPU seconds of a process, from /proc (Linux). */
const cpuSeconds = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  const ticks = Number(fields[11]) + Number(fields[12])
  return ticks / 100
}

const rssMiB = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const match = /VmRSS:\s+(\d+) kB/.exec(status)
  return match !== null ? Number(match[1]) / 1024 : NaN
}

interface Answer {
  readonly status: number
  readonly body: string
}

const post = (agent: Agent, url: string, target: string, body: Buffer | string): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = request(`${url}/`, {
      method: "POST",
      agent,
      headers: {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": `Logs_20140328.${target}`,
        "Content-Length": Buffer.byteLength(body)
      }
    }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }))
    })
    req.on("error", reject)
    req.end(body)
  })

const main = async () => {
  // A large heap given here, so that the emulator does not relaunch itself (the CPU is read from this pid).
  const args = ["--import", "tsx", "--max-old-space-size=16384", BIN, ...(values.store ? [] : ["--discard"])]
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] })
  const url = await new Promise<string>((resolve, reject) => {
    let out = ""
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString()
      const match = /^listening on (\S+)\n/.exec(out)
      if (match !== null && match[1] !== undefined) resolve(match[1])
    })
    child.on("exit", (code) => reject(new Error(`emulator exited with ${code}`)))
  })
  const pid = child.pid ?? 0
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
  try {
    await post(agent, url, "CreateLogGroup", JSON.stringify({ logGroupName: "bench" }))
    for (let w = 0; w < concurrency; w++) {
      await post(agent, url, "CreateLogStream", JSON.stringify({ logGroupName: "bench", logStreamName: `w${w}` }))
    }
    const events = buildEvents(values.small, Date.now())
    const size = batchSize(events)
    if (size !== BATCH_BYTES) throw new Error(`batch is ${size} bytes, not ${BATCH_BYTES}`)
    const bodies = Array.from(
      { length: concurrency },
      (_, w) => Buffer.from(JSON.stringify({ logGroupName: "bench", logStreamName: `w${w}`, logEvents: events }))
    )
    const wireBytes = bodies[0]?.length ?? 0

    // Warm-up, then the measured run.
    for (let i = 0; i < 5; i++) await post(agent, url, "PutLogEvents", bodies[0] ?? "")
    const cpu0 = cpuSeconds(pid)
    const t0 = process.hrtime.bigint()
    const deadline = Date.now() + seconds * 1000
    let batches = 0
    let failures = 0
    await Promise.all(bodies.map(async (body) => {
      while (Date.now() < deadline) {
        const answer = await post(agent, url, "PutLogEvents", body)
        if (answer.status === 200) batches++
        else failures++
      }
    }))
    const elapsed = Number(process.hrtime.bigint() - t0) / 1e9
    const cpu = cpuSeconds(pid) - cpu0
    const rss = rssMiB(pid)
    const mib = (batches * BATCH_BYTES) / MiB
    const result = {
      mode: values.store ? "store" : "discard",
      shape: values.small ? "10000 events x ~79 B" : "1024 events x 998 B",
      concurrency,
      seconds: Number(elapsed.toFixed(2)),
      batches,
      failures,
      mibPerSecond: Number((mib / elapsed).toFixed(1)),
      emulatorCpuSeconds: Number(cpu.toFixed(2)),
      mibPerCpuSecond: Number((mib / cpu).toFixed(1)),
      wireMiBPerSecond: Number(((batches * wireBytes) / MiB / elapsed).toFixed(1)),
      emulatorRssMiB: Math.round(rss)
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`)
    } else {
      process.stdout.write(
        `cwlogs-emulator ingest (${result.mode}, ${result.shape}, ${concurrency} connections, ${result.seconds} s)\n` +
          `  ${batches} full batches (${failures} failed), ${mib.toFixed(0)} MiB\n` +
          `  ${result.mibPerSecond} MiB/s wall, ${result.mibPerCpuSecond} MiB per emulator CPU-second ` +
          `(${result.emulatorCpuSeconds} s CPU), ${result.wireMiBPerSecond} MiB/s on the wire, RSS ${result.emulatorRssMiB} MiB\n`
      )
    }
  } finally {
    agent.destroy()
    child.kill("SIGTERM")
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
