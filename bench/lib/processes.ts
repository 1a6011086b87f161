/**
 * Child processes of the harness: every one is started in its own process group, remembered, and
 * killed (the whole group) when it is done, when its deadline passes, or when the harness exits for any
 * reason, so `pnpm bench` never leaves an emulator or a contender behind and never hangs.
 *
 * @since 0.1.0
 */
import { type ChildProcess, spawn } from "node:child_process"

const live = new Set<ChildProcess>()

const killGroup = (child: ChildProcess, signal: NodeJS.Signals): void => {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      child.kill(signal)
    } catch {
      // already gone
    }
  }
}

/**
 * Kill every live child now (synchronous: usable from `process.on("exit")`).
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const killAll = (): void => {
  for (const child of live) killGroup(child, "SIGKILL")
  live.clear()
}

let installed = false

/**
 * Make sure children die with the harness (exit, Ctrl-C, SIGTERM, an uncaught error).
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const installExitHandlers = (): void => {
  if (installed) return
  installed = true
  process.on("exit", killAll)
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      killAll()
      process.exit(130)
    })
  }
}

/**
 * Start a process in its own group, stdin closed, stdout and stderr piped.
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const start = (command: string, args: ReadonlyArray<string>, env?: NodeJS.ProcessEnv): ChildProcess => {
  const child = spawn(command, args, {
    cwd: process.cwd(),
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: env ?? process.env
  })
  live.add(child)
  child.once("exit", () => live.delete(child))
  return child
}

/**
 * Stop a child: SIGTERM to its group, SIGKILL after `graceMillis`; resolves when it has exited.
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const stop = (child: ChildProcess, graceMillis = 2000): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMillis)
    child.once("exit", () => {
      clearTimeout(timer)
      live.delete(child)
      resolve()
    })
    killGroup(child, "SIGTERM")
  })

/**
 * The outcome of running a child to completion.
 *
 * @since 0.1.0
 * @category models
 */
export interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly timedOut: boolean
  /** The last lines of stdout (the result line is the last one). */
  readonly stdoutTail: Array<string>
  readonly stderrTail: string
}

/**
 * Run a child until it exits or its deadline passes (then its whole group is killed). Only the last
 * lines of stdout and stderr are kept, so a chatty child (the default logger) costs no memory here.
 *
 * @since 0.1.0
 * @category lifecycle
 */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  deadlineMillis: number,
  env?: NodeJS.ProcessEnv
): Promise<Finished> =>
  new Promise((resolve) => {
    const child = start(command, args, env)
    const tail: Array<string> = []
    let partial = ""
    let stderr = ""
    let timedOut = false
    child.stdout?.setEncoding("utf8")
    child.stdout?.on("data", (chunk: string) => {
      const lines = (partial + chunk).split("\n")
      partial = lines.pop() ?? ""
      for (const l of lines) {
        if (l.startsWith("{")) {
          tail.push(l)
          if (tail.length > 5) tail.shift()
        }
      }
    })
    child.stderr?.setEncoding("utf8")
    child.stderr?.on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-4000)
    })
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(child, "SIGKILL")
    }, deadlineMillis)
    child.once("close", (code, signal) => {
      clearTimeout(timer)
      if (partial.startsWith("{")) tail.push(partial)
      resolve({ code, signal, timedOut, stdoutTail: tail, stderrTail: stderr })
    })
  })
