/**
 * The service under the benchmarks, in a process of its own: `cwlogs-emulator` (tokens ignored, with
 * `--discard` and latency faults where a workload needs them), or moto's server when the emulator is not
 * there (no discard, no faults: the table says so).
 *
 * @since 0.1.0
 */
import type { ChildProcess } from "node:child_process"
import { existsSync } from "node:fs"
import { createServer } from "node:net"
import * as Processes from "./processes.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface EmulatorOptions {
  /** Drop event payloads once counted (volume workloads). */
  readonly discard: boolean
  /** Milliseconds added to every PutLogEvents. */
  readonly putLatencyMillis: number
  /** Force one backend. */
  readonly backend: "cwlogs" | "moto" | "auto"
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Emulator {
  readonly endpoint: string
  readonly backend: "cwlogs" | "moto"
  /** The options it really honours (moto honours neither discard nor latency). */
  readonly discard: boolean
  readonly putLatencyMillis: number
  readonly stop: () => Promise<void>
}

/**
 * @since 0.1.0
 * @category constants
 */
export const EMULATOR_ENTRY = "packages/testkit/src/bin/emulator.ts"

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const firstLine = (child: ChildProcess, pattern: RegExp, timeoutMillis: number): Promise<RegExpMatchArray> =>
  new Promise((resolve, reject) => {
    let buffer = ""
    let stderr = ""
    const timer = setTimeout(
      () => reject(new Error(`emulator did not start within ${timeoutMillis} ms: ${stderr.slice(-500)}`)),
      timeoutMillis
    )
    child.stderr?.setEncoding("utf8")
    child.stderr?.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-2000)
      const match = stderr.match(pattern)
      if (match !== null) {
        clearTimeout(timer)
        resolve(match)
      }
    })
    child.stdout?.setEncoding("utf8")
    child.stdout?.on("data", (chunk: string) => {
      buffer = (buffer + chunk).slice(-2000)
      const match = buffer.match(pattern)
      if (match !== null) {
        clearTimeout(timer)
        resolve(match)
      }
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`emulator exited (code ${code}) before listening: ${stderr.slice(-500)}`))
    })
  })

/**
 * Whether `cwlogs-emulator` is present in this checkout.
 *
 * @since 0.1.0
 * @category constructors
 */
export const cwlogsEmulatorAvailable = (): boolean => existsSync(EMULATOR_ENTRY)

/**
 * Start a fresh emulator and wait until it listens.
 *
 * @since 0.1.0
 * @category constructors
 */
export const startEmulator = async (options: EmulatorOptions): Promise<Emulator> => {
  const backend = options.backend === "auto" ? (cwlogsEmulatorAvailable() ? "cwlogs" : "moto") : options.backend
  if (backend === "cwlogs") {
    const args = ["--import", "tsx", EMULATOR_ENTRY, "--port", "0", "--sequence-tokens", "ignored", "--seed", "1"]
    if (options.discard) args.push("--discard")
    if (options.putLatencyMillis > 0) args.push("--faults", `latency=${options.putLatencyMillis}`)
    const child = Processes.start(process.execPath, args)
    const match = await firstLine(child, /listening on (http:\/\/[^\s]+)/, 30_000)
    // keep draining its output so it never blocks on a full pipe
    child.stdout?.resume()
    child.stderr?.resume()
    return {
      endpoint: match[1],
      backend,
      discard: options.discard,
      putLatencyMillis: options.putLatencyMillis,
      stop: () => Processes.stop(child)
    }
  }
  const port = await freePort()
  const child = Processes.start("moto_server", ["-H", "127.0.0.1", "-p", String(port)])
  await firstLine(child, /Running on|Serving|Listening/i, 30_000)
  child.stdout?.resume()
  child.stderr?.resume()
  return {
    endpoint: `http://127.0.0.1:${port}`,
    backend,
    discard: false,
    putLatencyMillis: 0,
    stop: () => Processes.stop(child)
  }
}
