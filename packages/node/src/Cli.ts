/**
 * The `cwlogs` command line: `cwlogs ship` sends lines of a file or of stdin to a log stream through
 * `CloudWatchLogs.sink`, `cwlogs tail` prints the events of a group. Run it with `pnpm cwlogs ...` or
 * the package's `cwlogs` bin. `cwlogs <command> --help` shows the options and examples.
 *
 * Exit status: 0 when everything asked was done (for `ship`: every line accepted), 1 when lines were
 * not delivered or a request was refused, 2 for bad arguments, 3 when the endpoint could not be reached
 * or the credentials were refused or the service was unavailable, 130 when stopped by a second signal.
 * The first SIGINT or SIGTERM ends the input and drains what is buffered, within `--drain-timeout`
 * (default 10 s; what it cuts off is counted as not delivered, exit 1); a second one stops at once,
 * without the drain (lines still buffered are not delivered; with `--spool` they are on disk).
 *
 * @since 0.1.0
 */
import type * as CliApp from "@effect/cli/CliApp"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Runtime from "@effect/platform/Runtime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as internal from "./internal/cli/commands.js"

/**
 * The version the CLI reports.
 *
 * @since 0.1.0
 * @category constants
 */
export const VERSION: string = internal.VERSION

/**
 * Runs the CLI on `process.argv`-shaped arguments (the first two are skipped) and answers its exit
 * status. `stop`, when it completes, acts as a SIGINT would (inputs end, buffers drain).
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  argv: ReadonlyArray<string>,
  stop: Effect.Effect<void> = Effect.never
): Effect.Effect<number, never, CliApp.CliApp.Environment> =>
  Effect.gen(function*() {
    const stopped = yield* Deferred.make<void>()
    yield* Effect.forkScoped(Effect.zipRight(stop, Deferred.succeed(stopped, undefined)))
    return yield* internal.run(argv).pipe(
      Effect.provideService(internal.StopSignal, {
        await: Deferred.await(stopped),
        isDone: Deferred.isDone(stopped)
      })
    )
  }).pipe(Effect.scoped)

/**
 * Exits once everything written to stdout and stderr has been handed over: `process.exit` right after a
 * large write to a pipe can cut the output short (seen: `cwlogs tail` printing 278 of 300 lines). The
 * exit code is set first, so the process ends with it even if a stream never answers.
 */
const exitAfterFlush = (code: number): void => {
  process.exitCode = code
  let pending = 2
  const done = () => {
    pending--
    if (pending === 0) process.exit(code)
  }
  process.stdout.write("", done)
  process.stderr.write("", done)
}

/**
 * Runs the CLI as the process's main program: Node's file system, path and terminal, the first
 * SIGINT/SIGTERM as a request to stop gracefully, a second one to stop at once, and the exit status.
 *
 * @since 0.1.0
 * @category running
 */
export const runMain = (argv: ReadonlyArray<string> = process.argv): void => {
  const stop = Deferred.unsafeMake<void>(FiberId.none)
  const main = Runtime.makeRunMain(({ fiber }) => {
    let signals = 0
    const onSignal = () => {
      signals++
      if (signals === 1) {
        Deferred.unsafeDone(stop, Exit.void)
        return
      }
      // Asked twice: stop now, not after the drain's deadline (an interruption would still run it).
      // What is buffered is not delivered: said on stderr, and in the exit status.
      process.stderr.write("\ncwlogs: stopped at once; lines still buffered were not delivered\n")
      exitAfterFlush(130)
    }
    process.on("SIGINT", onSignal)
    process.on("SIGTERM", onSignal)
    fiber.addObserver((exit) => {
      process.removeListener("SIGINT", onSignal)
      process.removeListener("SIGTERM", onSignal)
      const code = Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : signals > 0 ? 130 : 1
      exitAfterFlush(code)
    })
  })
  main(run(argv, Deferred.await(stop)).pipe(Effect.provide(NodeContext.layer)), {
    disableErrorReporting: true,
    disablePrettyLogger: true
  })
}
