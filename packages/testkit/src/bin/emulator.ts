#!/usr/bin/env node
/**
 * `cwlogs-emulator`: CloudWatch Logs on loopback over the real wire protocol. See `--help`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { spawn } from "node:child_process"
import { totalmem } from "node:os"
import { getHeapStatistics } from "node:v8"
import * as Emulator from "../Emulator.js"
import { parse, USAGE } from "../internal/serverCli.js"

/** Waits for SIGINT or SIGTERM; the handlers are removed when this ends or is interrupted. */
const awaitSignal = Effect.async<NodeJS.Signals>((resume) => {
  const onSignal = (signal: NodeJS.Signals) => resume(Effect.succeed(signal))
  process.once("SIGINT", onSignal)
  process.once("SIGTERM", onSignal)
  return Effect.sync(() => {
    process.off("SIGINT", onSignal)
    process.off("SIGTERM", onSignal)
  })
})

const main = Effect.gen(function*() {
  const parsed = parse(process.argv.slice(2))
  if (Either.isLeft(parsed)) {
    process.stderr.write(`cwlogs-emulator: ${parsed.left}\n\n${USAGE}`)
    return 2
  }
  if (parsed.right._tag === "Help") {
    process.stdout.write(USAGE)
    return 0
  }
  const options = parsed.right.options
  return yield* Effect.scoped(
    Effect.gen(function*() {
      const emulator = yield* Emulator.make(options)
      process.stdout.write(`listening on ${emulator.url}\n`)
      const mode = [
        `sequence tokens ${options.sequenceTokens ?? "ignored"}`,
        options.discard === true ? "discard" : undefined,
        options.requireAuth !== undefined ? "SigV4 required" : undefined,
        options.faults !== undefined ? `faults ${JSON.stringify(options.faults)}` : undefined
      ].filter((s) => s !== undefined).join(", ")
      process.stderr.write(`cwlogs-emulator: ${mode}\n`)
      const signal = yield* awaitSignal
      process.stderr.write(`cwlogs-emulator: ${signal}, stopping\n`)
      return 0
    })
  ).pipe(
    Effect.catchTag("ListenError", (error) =>
      Effect.sync(() => {
        process.stderr.write(`cwlogs-emulator: cannot listen on ${error.host}:${error.port}: ${error.message}\n`)
        return 1
      }))
  )
})

/**
 * The model keeps events on the V8 heap, whose default limit (about 4 GiB) would stop it at 2 to 3 GiB of
 * events. Unless told otherwise (`--max-old-space-size` in NODE_OPTIONS or the node flags, or --discard),
 * the emulator runs itself again in a child with a heap of three quarters of the machine's memory; the
 * parent only forwards signals and the exit code.
 */
const HEAP_FLAG = "--max-old-space-size"
const wantedHeapMiB = Math.floor((totalmem() / (1024 * 1024)) * 0.75)
const heapSet = process.execArgv.some((a) => a.startsWith(HEAP_FLAG)) ||
  (process.env["NODE_OPTIONS"] ?? "").includes(HEAP_FLAG)
const relaunch = !heapSet && !process.argv.includes("--discard") && !process.argv.includes("--help") &&
  process.env["CWLOGS_EMULATOR_CHILD"] === undefined &&
  getHeapStatistics().heap_size_limit / (1024 * 1024) < wantedHeapMiB

if (relaunch) {
  const child = spawn(
    process.execPath,
    [...process.execArgv, `${HEAP_FLAG}=${wantedHeapMiB}`, ...process.argv.slice(1)],
    { stdio: "inherit", env: { ...process.env, CWLOGS_EMULATOR_CHILD: "1" } }
  )
  const forward = (signal: NodeJS.Signals) => child.kill(signal)
  process.on("SIGINT", forward)
  process.on("SIGTERM", forward)
  child.on("exit", (code, signal) => {
    process.exitCode = code ?? (signal !== null ? 1 : 0)
    process.off("SIGINT", forward)
    process.off("SIGTERM", forward)
  })
} else {
  run()
}

function run(): void {
  Effect.runPromise(main).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      process.stderr.write(`cwlogs-emulator: ${String(error)}\n`)
      process.exitCode = 1
    }
  )
}
