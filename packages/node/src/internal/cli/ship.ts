/**
 * `cwlogs ship`: lines in, events out through `CloudWatchLogs.sink` (back-pressure: reading waits while
 * the buffer is full), or through a durable spool with `--spool DIR`; a progress line on a TTY, a summary
 * at the end.
 *
 * @internal
 */
import {
  CloudWatchLogs,
  CloudWatchLogsApi,
  type CloudWatchLogsError,
  Destination,
  Names,
  ShipReport
} from "@cwlogs/core"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Spool from "../spool.js"
import { CliError, describeServiceError, EXIT_FAILED, EXIT_USAGE } from "./errors.js"
import { type InputError, lines, toEvent } from "./input.js"

/** @internal */
export interface ShipOptions {
  readonly logGroupName: string
  readonly logStreamName: string
  readonly create: boolean
  readonly retentionInDays?: number | undefined
  readonly timestampPrefix: boolean
  readonly follow: boolean
  /** A path, or `-` for stdin. */
  readonly source: string
  /** A durable spool's directory: lines are on disk before they are read further (and survive a crash). */
  readonly spool?: string | undefined
  /** The spool's sizes (tests; the CLI keeps the defaults). */
  readonly spoolSizes?: Pick<Spool.SpoolOptions, "segmentBytes" | "maxSpoolBytes"> | undefined
  /** Where requests go, for messages. */
  readonly endpoint: string
  /**
   * After a stop, how long delivery may go on (default `CloudWatchLogs.DEFAULT_DRAIN_TIMEOUT_MILLIS`):
   * then what is not delivered is cut off (with `spool`, left on disk) and counted in the summary.
   */
  readonly drainTimeoutMillis?: number | undefined
  /** Completes when the user asks to stop (SIGINT/SIGTERM). */
  readonly stop: Effect.Effect<void>
  readonly stopped: Effect.Effect<boolean>
  /** Writes a progress line (only on a TTY). */
  readonly progress?: ((text: string) => Effect.Effect<void>) | undefined
  /** Writes the summary. */
  readonly summary: (text: string) => Effect.Effect<void>
}

/** @internal */
export interface Outcome {
  readonly read: number
  readonly skipped: number
  readonly report: ShipReport.ShipReport
  /** Events an earlier run left in the spool, delivered by this one (counted in the report too). */
  readonly recovered?: number | undefined
  readonly inputError?: InputError | undefined
  /** Bytes of a line the stop (or a read error) cut off: read in part, not shipped, not counted in `read`. */
  readonly partialLine?: number | undefined
  readonly failure?: string | undefined
  /** The drain's deadline passed after a stop: lines not delivered (with `--spool`, left in its directory). */
  readonly cutOff?: CutOff | undefined
}

/** @internal */
export interface CutOff {
  readonly deadlineMillis: number
  readonly notDelivered: number
  /** The spool's directory, where the lines not delivered wait for the next run. */
  readonly spool?: string | undefined
  /**
   * With the spool: lines read but not written to it (a write waiting for room in an outage when the
   * deadline passed), so not left in it either. Counted in `notDelivered`.
   */
  readonly notWritten?: number | undefined
}

/**
 * The summary of a run (several lines, for stderr).
 *
 * @internal
 */
export const renderSummary = (destination: string, outcome: Outcome, elapsedMillis: number): string => {
  const r = outcome.report
  const rejected = ShipReport.REASONS.filter((reason) => r.rejected[reason] > 0)
    .map((reason) => `${reason} ${r.rejected[reason]}`)
  const cutOff = outcome.cutOff
  const out = [
    `cwlogs ship → ${destination}: ${outcome.read} line${outcome.read === 1 ? "" : "s"} read in ${
      (elapsedMillis / 1000).toFixed(1)
    } s`,
    `  accepted  ${r.accepted}`,
    `  rejected  ${ShipReport.rejectedTotal(r)}${rejected.length > 0 ? ` (${rejected.join(", ")})` : ""}`
  ]
  if (cutOff !== undefined && cutOff.spool === undefined) {
    // the sink was cut off: its own report (retries, batches) went with it; what was stored is counted
    out.push(
      `  not delivered ${cutOff.notDelivered} (the drain's deadline of ${cutOff.deadlineMillis} ms passed after the stop; ` +
        "a put cut off may have stored some)"
    )
  } else {
    out.push(`  retries   ${r.retries}`, `  batches   ${r.batches} (${r.bytes} bytes)`)
  }
  if (cutOff?.spool !== undefined) {
    const notWritten = cutOff.notWritten ?? 0
    out.push(
      `  left      ${
        cutOff.notDelivered - notWritten
      } in ${cutOff.spool} for the next run (the drain's deadline of ${cutOff.deadlineMillis} ms passed after the stop)`
    )
    if (notWritten > 0) {
      out.push(
        `  not written ${notWritten} (the spool was full, waiting for the service, when the deadline passed; not delivered)`
      )
    }
  }
  if (outcome.recovered !== undefined && outcome.recovered > 0) {
    out.push(
      `  recovered ${outcome.recovered} event${outcome.recovered === 1 ? "" : "s"} an earlier run left in the spool`
    )
  }
  if (outcome.skipped > 0) out.push(`  skipped   ${outcome.skipped} empty line${outcome.skipped === 1 ? "" : "s"}`)
  if (r.split > 0) out.push(`  split     ${r.split} oversize line${r.split === 1 ? "" : "s"} into several events`)
  if (r.truncated > 0) out.push(`  truncated ${r.truncated} oversize line${r.truncated === 1 ? "" : "s"}`)
  if (r.possibleDuplicates > 0) {
    out.push(
      `  possibly duplicated ${r.possibleDuplicates} (copies at most: sent again after answers that may have been lost)`
    )
  }
  if (outcome.partialLine !== undefined) {
    out.push(`  not read  the line being read when it stopped (${outcome.partialLine} bytes of it, not shipped)`)
  }
  if (outcome.inputError !== undefined) {
    out.push(`  input     stopped: cannot read ${outcome.inputError.source}: ${outcome.inputError.message}`)
  }
  if (outcome.failure !== undefined) out.push(`  stopped   ${outcome.failure}`)
  return out.join("\n")
}

type Requirements = CloudWatchLogsApi.CloudWatchLogsApi | FileSystem.FileSystem

/** What a run shipped; `stopped`: it was cut off after a stop (the report is what was done by then). */
interface Shipped {
  readonly report: ShipReport.ShipReport
  readonly recovered: number | undefined
  /** Through the spool: the events written to disk. */
  readonly written?: number | undefined
  readonly stopped: boolean
}

/** What a cut-off left undone, in words. */
const cutOffLines = (cutOff: CutOff): string => {
  if (cutOff.spool === undefined) return `${cutOff.notDelivered} line(s) not delivered`
  const notWritten = cutOff.notWritten ?? 0
  const left = `${cutOff.notDelivered - notWritten} line(s) left in ${cutOff.spool} for the next run`
  return notWritten > 0 ? `${left}, ${notWritten} not written to it (it was full)` : left
}

/** Did every line that was read end up stored? */
const allAccepted = (outcome: Outcome): boolean =>
  outcome.inputError === undefined && outcome.failure === undefined && outcome.cutOff === undefined &&
  ShipReport.rejectedTotal(outcome.report) === 0

const validate = (options: ShipOptions): Effect.Effect<void, CliError> => {
  const group = Names.validateLogGroupName(options.logGroupName)
  if (Either.isLeft(group)) {
    return Effect.fail(new CliError({ message: `invalid --group: ${group.left.message}`, exitCode: EXIT_USAGE }))
  }
  const stream = Names.validateLogStreamName(options.logStreamName)
  if (Either.isLeft(stream)) {
    return Effect.fail(new CliError({ message: `invalid --stream: ${stream.left.message}`, exitCode: EXIT_USAGE }))
  }
  return Effect.void
}

const transient = (error: CloudWatchLogsError.CloudWatchLogsError): boolean =>
  error._tag === "ThrottlingException" || error._tag === "ServiceUnavailableException" ||
  (error._tag === "NetworkError" && error.reason !== "refused" && error.reason !== "dns")

/**
 * Checks, before reading anything, that the endpoint answers, the credentials work and (without
 * `--create`) that the group and stream exist. One DescribeLogStreams call, retried briefly on
 * transient errors.
 *
 * @internal
 */
export const preflight = (options: ShipOptions): Effect.Effect<void, CliError, CloudWatchLogsApi.CloudWatchLogsApi> =>
  Effect.gen(function*() {
    const api = yield* CloudWatchLogsApi.CloudWatchLogsApi
    const found = yield* api.describeLogStreams({
      logGroupName: options.logGroupName,
      logStreamNamePrefix: options.logStreamName,
      limit: 50
    }).pipe(
      Effect.retry({
        while: transient,
        schedule: Schedule.exponential("200 millis").pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(3)))
      }),
      Effect.map(Option.some),
      Effect.catchTag("ResourceNotFoundException", () => Effect.succeed(Option.none())),
      Effect.mapError((error) => describeServiceError(error, options))
    )
    if (options.create) return
    if (Option.isNone(found)) {
      return yield* new CliError({
        message: `log group ${options.logGroupName} does not exist (pass --create to create it)`,
        exitCode: EXIT_FAILED
      })
    }
    // DescribeLogStreams matches by prefix: look for the exact name
    if (!found.value.logStreams.some((s) => s.logStreamName === options.logStreamName)) {
      if (found.value.nextToken === undefined) {
        return yield* new CliError({
          message: `log stream ${options.logStreamName} does not exist in ${options.logGroupName} (pass --create)`,
          exitCode: EXIT_FAILED
        })
      }
    }
  })

/**
 * Ships the lines; fails with a `CliError` unless every line read was accepted (the summary is written
 * first).
 *
 * @internal
 */
export const ship = (
  options: ShipOptions
): Effect.Effect<Outcome, CliError, Requirements> =>
  Effect.gen(function*() {
    yield* validate(options)
    if (options.source !== "-") {
      const fs = yield* FileSystem.FileSystem
      const info = yield* fs.stat(options.source).pipe(
        Effect.mapError((e) =>
          new CliError({
            message: `cannot read ${options.source}: ${
              e._tag === "SystemError" && e.reason === "NotFound" ? "no such file" : e.message
            }`,
            exitCode: EXIT_USAGE
          })
        )
      )
      if (info.type === "Directory") {
        return yield* new CliError({ message: `cannot read ${options.source}: is a directory`, exitCode: EXIT_USAGE })
      }
    }
    yield* preflight(options)
    const started = yield* Clock.currentTimeMillis
    const read = yield* Ref.make(0)
    const skipped = yield* Ref.make(0)
    const inputError = yield* Ref.make<InputError | undefined>(undefined)
    const partialLine = yield* Ref.make<number | undefined>(undefined)
    const destination = Destination.make(options.logGroupName, options.logStreamName, {
      createGroup: options.create,
      createStream: options.create,
      ...(options.retentionInDays !== undefined ? { retentionInDays: options.retentionInDays } : {})
    })

    const events = lines(options.source, {
      ...options,
      onPartialLine: (text) => Ref.set(partialLine, new TextEncoder().encode(text).length)
    }).pipe(
      Stream.mapChunksEffect((chunk) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          // empty lines are skipped, and so are lines that are only a timestamp (`--timestamp-prefix`)
          const kept = Chunk.filter(
            Chunk.map(chunk, (line) => toEvent(line, now, options.timestampPrefix)),
            (event) => event.message.length > 0
          )
          yield* Ref.update(read, (n) => n + chunk.length)
          yield* Ref.update(skipped, (n) => n + chunk.length - kept.length)
          return kept
        })
      ),
      // an unreadable input ends the stream: what was read is still delivered and reported
      Stream.catchAll((error) => Stream.execute(Ref.set(inputError, error)))
    )

    const progress = options.progress
    const showProgress = progress === undefined ? Effect.void : Effect.gen(function*() {
      yield* progress(`read ${yield* Ref.get(read)} lines`)
    }).pipe(Effect.repeat(Schedule.spaced("500 millis")), Effect.asVoid)

    const drainMillis = options.drainTimeoutMillis ?? CloudWatchLogs.DEFAULT_DRAIN_TIMEOUT_MILLIS
    /** Completes `drainMillis` after the stop: a sink still shipping then is cut off. */
    const deadline = Effect.zipRight(options.stop, Effect.sleep(Duration.millis(drainMillis)))

    /**
     * Through the sink, which gets until the deadline to end; then it is interrupted, and its close stops at
     * once (its drain's time was the deadline). Its report goes with it: what it was done with is counted
     * as it goes (`onStored`).
     */
    const viaSink: Effect.Effect<Shipped, CloudWatchLogs.ShipError, Requirements> = Effect.gen(
      function*() {
        const tally = yield* Ref.make(ShipReport.empty)
        const onStored = (batch: CloudWatchLogs.StoredBatch) =>
          Ref.update(tally, (report) => ShipReport.add(report, batch.destination, Spool.countsOf(batch)))
        const finished = yield* Stream.run(
          events,
          CloudWatchLogs.sink(destination, { drainTimeoutMillis: 0, onStored })
        )
          .pipe(Effect.map(Option.some), Effect.raceFirst(Effect.as(deadline, Option.none())))
        return Option.isSome(finished)
          ? { report: finished.value, recovered: undefined, stopped: false }
          : { report: yield* Ref.get(tally), recovered: undefined, stopped: true }
      }
    )

    /**
     * Through the spool. Once the input has ended, `finish` ships everything (in an outage, when the
     * service is back), unless the stop comes first. Then the input ends at its line's end, and a write
     * waiting for room (the spool full in an outage) gets until the deadline; then the spool is closed,
     * which ships for what is left of the deadline and leaves the rest on disk (a write still waiting is
     * answered then, its lines not written), and its report is read after the close.
     */
    const viaSpool = (
      directory: string
    ): Effect.Effect<Shipped, CloudWatchLogs.ShipError | CliError, Requirements> =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const stoppedAt = yield* Ref.make<number | undefined>(undefined)
        const drainBudget = Effect.gen(function*() {
          const since = yield* Ref.get(stoppedAt)
          return since === undefined ? drainMillis : since + drainMillis - (yield* Clock.currentTimeMillis)
        })
        const [spool, finished] = yield* Effect.gen(function*() {
          const spool = yield* Scope.extend(
            Spool.make({ ...options.spoolSizes, directory, drainTimeoutMillis: drainMillis, drainBudget }),
            scope
          )
          const reading = yield* Effect.fork(Stream.runForEachChunk(
            events,
            (chunk) => spool.write(Chunk.toReadonlyArray(chunk).map((event) => ({ destination, event })))
          ))
          const finished = yield* Effect.raceFirst(
            Effect.zipRight(Fiber.join(reading), Effect.map(spool.finish, Option.some)),
            Effect.as(options.stop, Option.none())
          )
          if (Option.isNone(finished)) {
            yield* Ref.set(stoppedAt, yield* Clock.currentTimeMillis)
            const ended = yield* Effect.raceFirst(
              Effect.as(Fiber.await(reading), true),
              Effect.as(Effect.sleep(Duration.millis(drainMillis)), false)
            )
            // a fatal failure met by a write is the run's, as without the stop
            yield* ended ? Fiber.join(reading) : Fiber.interrupt(reading)
          }
          return [spool, finished] as const
        }).pipe(Effect.onExit((exit) => Scope.close(scope, exit)))
        const report = Option.getOrElse(finished, () => spool.report())
        return {
          report,
          recovered: report.recovered,
          written: spool.report().written,
          stopped: Option.isNone(finished)
        }
      }).pipe(
        Effect.catchTag(
          "SpoolError",
          (error) =>
            new CliError({ message: error.message, exitCode: error.reason === "Locked" ? EXIT_USAGE : EXIT_FAILED })
        )
      )

    const spoolDirectory = options.spool
    const run = (spoolDirectory === undefined ? viaSink : viaSpool(spoolDirectory)).pipe(
      Effect.map((shipped) => ({ ...shipped, failure: undefined })),
      Effect.catchTag("ShipError", (error) =>
        Effect.succeed({
          report: error.report,
          recovered: undefined,
          written: undefined,
          stopped: false,
          failure: `${
            error.cause.cause._tag === "UploadDefect"
              ? error.cause.cause.message
              : describeServiceError(error.cause.cause, options).message
          } (${error.undelivered.reduce((n, u) => n + u.events.length, 0)} events not delivered)`
        }))
    )
    const result = yield* Effect.scoped(Effect.zipRight(Effect.forkScoped(showProgress), run))
    const linesRead = yield* Ref.get(read)
    const linesSkipped = yield* Ref.get(skipped)
    const notDelivered = linesRead - linesSkipped + (result.recovered ?? 0) - ShipReport.total(result.report)
    const notWritten = result.written === undefined ? 0 : Math.max(0, linesRead - linesSkipped - result.written)
    const outcome: Outcome = {
      read: linesRead,
      skipped: linesSkipped,
      report: result.report,
      recovered: result.recovered,
      inputError: yield* Ref.get(inputError),
      partialLine: yield* Ref.get(partialLine),
      failure: result.failure,
      cutOff: result.stopped && notDelivered > 0
        ? {
          deadlineMillis: drainMillis,
          notDelivered,
          spool: options.spool,
          ...(notWritten > 0 ? { notWritten } : {})
        }
        : undefined
    }
    const elapsed = (yield* Clock.currentTimeMillis) - started
    if (progress !== undefined) yield* progress("")
    yield* options.summary(renderSummary(Destination.show(destination), outcome, elapsed))
    if (!allAccepted(outcome)) {
      const notAccepted = outcome.read - outcome.skipped + (outcome.recovered ?? 0) - outcome.report.accepted
      return yield* new CliError({
        message: outcome.failure !== undefined
          ? `delivery stopped: ${outcome.failure}`
          : outcome.cutOff !== undefined
          ? `the drain's deadline of ${outcome.cutOff.deadlineMillis} ms passed after the stop: ${
            cutOffLines(outcome.cutOff)
          }`
          : outcome.inputError !== undefined
          ? `cannot read ${outcome.inputError.source}: ${outcome.inputError.message}`
          : `${Math.max(notAccepted, ShipReport.rejectedTotal(outcome.report))} line(s) not accepted`,
        exitCode: EXIT_FAILED
      })
    }
    return outcome
  })
