/**
 * Real processes for the suite: the `cwlogs-emulator` binary and the producers, each started with
 * `@effect/platform`'s Command in a Scope (closing the scope kills what is still running).
 */
import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as Chunk from "effect/Chunk"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { fileURLToPath } from "node:url"

/** The repository's root directory. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url))

/** A process of the suite did not behave (did not start, exited badly, printed no result). */
export class ProcessError extends Data.TaggedError("ProcessError")<{
  readonly message: string
  readonly output?: string | undefined
}> {}

/** A TypeScript entry point run with Node and tsx, from the repository's root. */
const tsx = (script: string, args: ReadonlyArray<string>): Command.Command =>
  Command.make(process.execPath, "--import", "tsx", script, ...args).pipe(
    Command.workingDirectory(ROOT),
    Command.env({ NODE_OPTIONS: "" })
  )

/** Keeps the last lines of a stream of text (for diagnoses), forked into the scope. */
const keepTail = (
  stream: Stream.Stream<Uint8Array, unknown>,
  onLine: (line: string) => Effect.Effect<void>,
  max = 40
) =>
  Effect.gen(function*() {
    const tail = yield* Ref.make(Chunk.empty<string>())
    const reader = yield* stream.pipe(
      Stream.decodeText(),
      Stream.splitLines,
      Stream.runForEach((line) =>
        Ref.update(tail, (t) => Chunk.takeRight(Chunk.append(t, line), max)).pipe(Effect.zipRight(onLine(line)))
      ),
      Effect.ignore,
      Effect.forkScoped
    )
    const text = Ref.get(tail).pipe(Effect.map((t) => Chunk.toReadonlyArray(t).join("\n")))
    return {
      /** The last lines. */
      text,
      /** Waits until the stream ended (the process closed it), at most 10 s. */
      ended: Fiber.await(reader).pipe(Effect.timeout(Duration.seconds(10)), Effect.ignore)
    }
  })

/** Options of `cwlogs-emulator`. */
export interface EmulatorOptions {
  readonly sequenceTokens: "enforced" | "ignored"
  /** `unavailable=P,throttle=P,lost-response=P,reset=P,latency=MS`, or nothing for no faults. */
  readonly faults?: string | undefined
  readonly seed?: number | undefined
}

/** A running emulator. */
export interface RunningEmulator {
  readonly endpoint: string
  readonly output: Effect.Effect<string>
}

/** Starts `cwlogs-emulator --port 0` and waits for its `listening on http://HOST:PORT` line. */
export const emulator = (
  options: EmulatorOptions
): Effect.Effect<RunningEmulator, ProcessError, CommandExecutor.CommandExecutor | Scope.Scope> =>
  Effect.gen(function*() {
    const args = ["--port", "0", "--sequence-tokens", options.sequenceTokens]
    if (options.faults !== undefined && options.faults !== "") args.push("--faults", options.faults)
    if (options.seed !== undefined) args.push("--seed", String(options.seed))
    const proc = yield* Command.start(tsx("packages/testkit/src/bin/emulator.ts", args)).pipe(
      Effect.mapError((e) => new ProcessError({ message: `cannot start the emulator: ${e.message}` }))
    )
    const listening = yield* Deferred.make<string>()
    const stdout = yield* keepTail(proc.stdout, (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line)
      return match !== null && match[1] !== undefined
        ? Deferred.succeed(listening, match[1]).pipe(Effect.asVoid)
        : Effect.void
    })
    const stderr = yield* keepTail(proc.stderr, () => Effect.void)
    const output = Effect.zipWith(stdout.text, stderr.text, (o, e) => `${o}\n${e}`)
    const endpoint = yield* Deferred.await(listening).pipe(
      Effect.timeoutFail({
        duration: Duration.seconds(60),
        onTimeout: () => new ProcessError({ message: "the emulator did not say where it listens within 60 s" })
      }),
      Effect.tapError(() => output.pipe(Effect.flatMap((o) => Effect.logError(o))))
    )
    return { endpoint, output }
  })

/** What a producer prints last: `RESULT <json>`. */
export interface ProducerResult {
  readonly id: string
  /** Events handed to the library (per destination key `group:stream`). */
  readonly handed: Readonly<Record<string, number>>
  readonly accepted: number
  readonly rejected: number
  readonly retries: number
  readonly possibleDuplicates: number
  /** Lines the shipping logger's overflow policy dropped (logger mode). */
  readonly dropped?: number | undefined
  /** A failure message, when the library failed. */
  readonly failure?: string | undefined
  /** Through a durable spool: events an earlier run left, shipped by this one. */
  readonly recovered?: number | undefined
}

/** A running producer. */
export interface RunningProducer {
  readonly id: string
  /** Sends a signal (SIGTERM by default). */
  readonly kill: (signal?: CommandExecutor.Signal) => Effect.Effect<void>
  /** Resolves once the producer printed `READY`. */
  readonly ready: Effect.Effect<void>
  /** The last `HANDED <n>` it printed (through a spool: events on disk), 0 before any. */
  readonly handed: Effect.Effect<number>
  /** Waits for the exit, then reads the result line. */
  readonly result: Effect.Effect<{ readonly exitCode: number; readonly result: ProducerResult }, ProcessError>
}

const isProducerResult = (u: unknown): u is ProducerResult =>
  typeof u === "object" && u !== null && "id" in u && "handed" in u && "accepted" in u && "possibleDuplicates" in u

/** Starts `chaos/producer.ts` with its configuration (JSON). */
export const producer = (
  id: string,
  config: unknown
): Effect.Effect<RunningProducer, ProcessError, CommandExecutor.CommandExecutor | Scope.Scope> =>
  Effect.gen(function*() {
    const proc = yield* Command.start(tsx("chaos/producer.ts", [JSON.stringify(config)])).pipe(
      Effect.mapError((e) => new ProcessError({ message: `cannot start producer ${id}: ${e.message}` }))
    )
    const ready = yield* Deferred.make<void>()
    const resultLine = yield* Ref.make<string | undefined>(undefined)
    const handed = yield* Ref.make(0)
    const stdout = yield* keepTail(proc.stdout, (line) =>
      line === "READY"
        ? Deferred.succeed(ready, undefined).pipe(Effect.asVoid)
        : line.startsWith("RESULT ")
        ? Ref.set(resultLine, line.slice("RESULT ".length))
        : line.startsWith("HANDED ")
        ? Ref.set(handed, Number(line.slice("HANDED ".length)))
        : Effect.void)
    const stderr = yield* keepTail(proc.stderr, () => Effect.void)
    const output = Effect.zipWith(stdout.text, stderr.text, (o, e) => `--- stdout\n${o}\n--- stderr\n${e}`)
    const result = Effect.gen(function*() {
      const exitCode = yield* proc.exitCode.pipe(
        Effect.mapError((e) => new ProcessError({ message: `producer ${id}: ${e.message}` }))
      )
      // the output fiber may still be reading the last lines
      yield* stdout.ended
      const line = yield* Ref.get(resultLine)
      const parsed: unknown = line === undefined ? undefined : yield* Effect.try(() => JSON.parse(line)).pipe(
        Effect.orElseSucceed(() => undefined)
      )
      if (!isProducerResult(parsed)) {
        return yield* new ProcessError({
          message: `producer ${id} exited with code ${exitCode} and no result`,
          output: yield* output
        })
      }
      return { exitCode: Number(exitCode), result: parsed }
    })
    return {
      id,
      kill: (signal) => proc.kill(signal).pipe(Effect.ignore),
      ready: Deferred.await(ready),
      handed: Ref.get(handed),
      result
    }
  })
