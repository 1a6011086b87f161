#!/usr/bin/env tsx
/**
 * `cwlogs-emulator`: CloudWatch Logs on loopback over the real wire protocol. See `--help`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
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

Effect.runPromise(main).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`cwlogs-emulator: ${String(error)}\n`)
    process.exitCode = 1
  }
)
