/**
 * The `cwlogs` commands: `ship` and `tail`, their options, help and error handling.
 *
 * @internal
 */
import { CloudWatchLogs, Limits } from "@cwlogs/core"
import * as Args from "@effect/cli/Args"
import type * as CliApp from "@effect/cli/CliApp"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Span from "@effect/cli/HelpDoc/Span"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as NodeCloudWatchLogs from "../../NodeCloudWatchLogs.js"
import { environmentEndpoint, isHttpUrl } from "../sdk.js"
import { CliError, describeServiceError, EXIT_FAILED, EXIT_OK, EXIT_USAGE } from "./errors.js"
import { ship } from "./ship.js"
import * as Tail from "./tail.js"

/**
 * The user asked to stop (first SIGINT or SIGTERM): inputs end, buffers drain, the summary is printed.
 *
 * @internal
 */
export class StopSignal extends Context.Tag("@cwlogs/node/Cli/StopSignal")<StopSignal, {
  readonly await: Effect.Effect<void>
  readonly isDone: Effect.Effect<boolean>
}>() {}

/** @internal */
export const VERSION = "0.1.0"

// ---------------------------------------------------------------------------------------------------------------
// options
// ---------------------------------------------------------------------------------------------------------------

const group = Options.text("group").pipe(Options.withAlias("g"), Options.withDescription("The log group."))
const endpoint = Options.text("endpoint").pipe(
  Options.optional,
  Options.withDescription(
    "The CloudWatch Logs endpoint (default: AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, AWS_ENDPOINT_URL, or AWS's own)."
  )
)
const region = Options.text("region").pipe(
  Options.optional,
  Options.withDescription("The AWS Region (default: AWS_REGION or the AWS config; us-east-1 with --endpoint).")
)
const follow = Options.boolean("follow").pipe(Options.withAlias("f"))

/** A value given empty (`--region ""`, `AWS_REGION=`) counts as not given. */
const given = (value: string | undefined): string | undefined => value === "" ? undefined : value

/** The client for `--endpoint` and `--region` (or the environment), and how to name it in messages. */
const connection = (endpointOpt: Option.Option<string>, regionOpt: Option.Option<string>) =>
  Effect.gen(function*() {
    const endpointValue = given(Option.getOrUndefined(endpointOpt))
    if (endpointValue !== undefined && !isHttpUrl(endpointValue)) {
      return yield* new CliError({
        message: `invalid --endpoint ${endpointValue}: an http or https URL, such as http://127.0.0.1:4566`,
        exitCode: EXIT_USAGE
      })
    }
    const environment = endpointValue === undefined ? environmentEndpoint(process.env) : undefined
    if (environment !== undefined && !isHttpUrl(environment.value)) {
      return yield* new CliError({
        message: `invalid ${environment.variable} ${environment.value}: an http or https URL, such as ` +
          `http://127.0.0.1:4566 (or pass --endpoint)`,
        exitCode: EXIT_USAGE
      })
    }
    const fromEnvironment = given(process.env.AWS_REGION) ?? given(process.env.AWS_DEFAULT_REGION)
    const regionValue = given(Option.getOrUndefined(regionOpt)) ??
      (endpointValue !== undefined ? fromEnvironment ?? "us-east-1" : fromEnvironment)
    // The SDK would take an empty AWS_REGION as the region itself (and fail on it as a host name).
    if (regionValue === undefined && process.env.AWS_REGION === "") {
      return yield* new CliError({
        message: "no AWS region: AWS_REGION is empty; set it or pass --region",
        exitCode: EXIT_FAILED
      })
    }
    return {
      layer: NodeCloudWatchLogs.layer({
        ...(endpointValue !== undefined ? { endpoint: endpointValue } : {}),
        ...(regionValue !== undefined ? { region: regionValue } : {})
      }),
      describe: endpointValue ?? environment?.value ??
        `CloudWatch Logs${regionValue !== undefined ? ` in ${regionValue}` : ""}`
    }
  })

const examples = (intro: string, lines: ReadonlyArray<readonly [string, string]>): HelpDoc.HelpDoc =>
  HelpDoc.blocks([
    HelpDoc.p(intro),
    HelpDoc.h2("EXAMPLES"),
    ...lines.flatMap(([command, what]) => [HelpDoc.p(Span.code(command)), HelpDoc.p(Span.weak(`  ${what}`))])
  ])

const stderrIsTTY = (): boolean => process.stderr.isTTY === true

// ---------------------------------------------------------------------------------------------------------------
// ship
// ---------------------------------------------------------------------------------------------------------------

const shipCommand = Command.make(
  "ship",
  {
    group,
    stream: Options.text("stream").pipe(Options.withAlias("s"), Options.withDescription("The log stream.")),
    create: Options.boolean("create").pipe(
      Options.withDescription("Create the log group and stream when they are missing.")
    ),
    retention: Options.integer("retention").pipe(
      Options.optional,
      Options.withDescription("Retention in days of a log group this command creates (1, 3, 5, 7, 14, 30, ...).")
    ),
    endpoint,
    region,
    timestampPrefix: Options.boolean("timestamp-prefix").pipe(
      Options.withDescription(
        "Read a leading ISO-8601 or epoch-milliseconds timestamp from each line (and strip it); lines without one get the current time."
      )
    ),
    follow: follow.pipe(
      Options.withDescription("Keep reading a growing file, like tail -f, until SIGINT or SIGTERM; then drain.")
    ),
    // text, not `Options.directory`: @effect/cli's existence check dies on a path it cannot look at
    // (under a file, in a directory it may not enter); the spool makes the directory and says what failed
    spool: Options.text("spool").pipe(
      Options.optional,
      Options.withDescription(
        "Write lines to a durable spool in this directory before reading on, and ship them from there: a crash or kill loses nothing read; the next run with the directory ships what this one left."
      )
    ),
    // text, not `Options.integer`: a bad value gets a message that names the option and what it takes
    drainTimeout: Options.text("drain-timeout").pipe(
      Options.optional,
      Options.withDescription(
        `After SIGINT or SIGTERM, how long delivery may go on, in milliseconds (default ${CloudWatchLogs.DEFAULT_DRAIN_TIMEOUT_MILLIS}); then what is not delivered is counted in the summary (with --spool, left in DIR), exit status 1.`
      )
    ),
    file: Args.text({ name: "FILE" }).pipe(
      Args.withDefault("-"),
      Args.withDescription("The file to ship, or - for stdin (the default).")
    )
  },
  (args) =>
    Effect.gen(function*() {
      const retention = Option.getOrUndefined(args.retention)
      if (retention !== undefined && !Limits.RETENTION_DAYS.includes(retention)) {
        return yield* new CliError({
          message: `invalid --retention ${retention}: one of ${Limits.RETENTION_DAYS.join(", ")}`,
          exitCode: EXIT_USAGE
        })
      }
      const drainTimeoutMillis = Option.getOrUndefined(args.drainTimeout)
      if (drainTimeoutMillis !== undefined && !/^\d+$/.test(drainTimeoutMillis)) {
        return yield* new CliError({
          message: `invalid --drain-timeout ${drainTimeoutMillis}: a whole number of milliseconds, 0 or more`,
          exitCode: EXIT_USAGE
        })
      }
      if (Option.isSome(args.spool) && args.spool.value === "") {
        return yield* new CliError({ message: "--spool needs a directory", exitCode: EXIT_USAGE })
      }
      if (args.follow && args.file === "-") {
        return yield* new CliError({
          message: "--follow needs a FILE (stdin is read to its end anyway)",
          exitCode: EXIT_USAGE
        })
      }
      const signal = yield* StopSignal
      const target = yield* connection(args.endpoint, args.region)
      yield* ship({
        logGroupName: args.group,
        logStreamName: args.stream,
        create: args.create,
        retentionInDays: retention,
        timestampPrefix: args.timestampPrefix,
        follow: args.follow,
        source: args.file,
        spool: Option.getOrUndefined(args.spool),
        drainTimeoutMillis: drainTimeoutMillis !== undefined ? Number(drainTimeoutMillis) : undefined,
        endpoint: target.describe,
        stop: signal.await,
        stopped: signal.isDone,
        progress: stderrIsTTY()
          ? (text) => Effect.sync(() => process.stderr.write(`\r\u001b[K${text}`))
          : undefined,
        summary: (text) => Console.error(text)
      }).pipe(Effect.provide(target.layer))
    })
).pipe(Command.withDescription(examples(
  "Ship every line of a file or of stdin to a log stream, one event per line, with back-pressure. " +
    "Prints a summary on stderr; the exit status is 0 only when every line was accepted " +
    "(1: lines not delivered or refused, 2: bad arguments, 3: endpoint unreachable or credentials refused). " +
    "Empty lines are skipped. Several ship processes may write to one stream at once.",
  [
    ["cwlogs ship --group orders --stream api-1 app.log", "ship a file"],
    ["my-app 2>&1 | cwlogs ship -g orders -s api-1 --create --retention 30", "ship stdin, creating the destination"],
    [
      "cwlogs ship -g orders -s api-1 --follow --timestamp-prefix app.log",
      "follow a growing file, keep its timestamps"
    ],
    [
      "cwlogs ship -g orders -s api-1 --follow --spool /var/spool/cwlogs app.log",
      "follow a file through a durable spool: nothing read is lost to a crash"
    ],
    ["cwlogs ship -g test -s local --create --endpoint http://127.0.0.1:4566 events.txt", "ship to a local emulator"]
  ]
)))

// ---------------------------------------------------------------------------------------------------------------
// tail
// ---------------------------------------------------------------------------------------------------------------

const tailCommand = Command.make(
  "tail",
  {
    group,
    stream: Options.text("stream").pipe(
      Options.withAlias("s"),
      Options.optional,
      Options.withDescription("Only this log stream (default: every stream of the group).")
    ),
    follow: follow.pipe(Options.withDescription("Keep printing new events until SIGINT or SIGTERM.")),
    filter: Options.text("filter").pipe(
      Options.optional,
      Options.withDescription("A CloudWatch Logs filter pattern (a term: only events containing it).")
    ),
    raw: Options.boolean("raw").pipe(Options.withDescription("Print the messages only, without time or stream.")),
    endpoint,
    region
  },
  (args) =>
    Effect.gen(function*() {
      const signal = yield* StopSignal
      const target = yield* connection(args.endpoint, args.region)
      const logStreamName = Option.getOrUndefined(args.stream)
      yield* Tail.events({
        logGroupName: args.group,
        logStreamName,
        filterPattern: Option.getOrUndefined(args.filter),
        follow: args.follow,
        stopped: signal.isDone
      }).pipe(
        Stream.interruptWhen(signal.await),
        Stream.runForEach((event) =>
          Console.log(Tail.format(event, { raw: args.raw, showStream: logStreamName === undefined }))
        ),
        Effect.mapError((error) =>
          error._tag === "ResourceNotFoundException"
            ? new CliError({
              message: logStreamName !== undefined
                ? `log group ${args.group} or stream ${logStreamName} does not exist`
                : `log group ${args.group} does not exist`,
              exitCode: EXIT_FAILED
            })
            : describeServiceError(error, { endpoint: target.describe })
        ),
        Effect.provide(target.layer)
      )
    })
).pipe(Command.withDescription(examples("Print the events of a log group, or of one of its streams, oldest first.", [
  ["cwlogs tail --group orders", "every event of the group"],
  ["cwlogs tail -g orders -s api-1 --follow", "one stream, then new events as they arrive"],
  ["cwlogs tail -g orders --filter ERROR --raw", "only messages containing ERROR, without decoration"]
])))

// ---------------------------------------------------------------------------------------------------------------
// the program
// ---------------------------------------------------------------------------------------------------------------

/** @internal */
export const command = Command.make("cwlogs").pipe(
  Command.withDescription("Ship lines to Amazon CloudWatch Logs, and read them back."),
  Command.withSubcommands([shipCommand, tailCommand])
)

/**
 * The options of each command as typed (those that take a value, and flags), with @effect/cli's own
 * (`--help`, `--log-level`, ...). Kept beside the definitions above; `Cli.test.ts` checks it against `--help`.
 *
 * @internal
 */
export const OPTION_NAMES: Readonly<
  Record<"ship" | "tail", { readonly values: ReadonlyArray<string>; readonly flags: ReadonlyArray<string> }>
> = {
  ship: {
    values: ["--group", "-g", "--stream", "-s", "--retention", "--endpoint", "--region", "--spool", "--drain-timeout"],
    flags: ["--create", "--timestamp-prefix", "--follow", "-f"]
  },
  tail: {
    values: ["--group", "-g", "--stream", "-s", "--filter", "--endpoint", "--region"],
    flags: ["--follow", "-f", "--raw"]
  }
}
const BUILT_IN_VALUES = ["--completions", "--log-level"]
const BUILT_IN_FLAGS = ["--help", "-h", "--version", "--wizard"]

/**
 * What @effect/cli would misname, said plainly: an option whose value is missing (last on the line; it
 * said "cannot read --retention: no such file"), and an option no command has (it took `--folow` for
 * FILE, and named the next argument as unknown). `undefined` when neither; the rest is @effect/cli's.
 *
 * @internal
 */
export const argumentProblem = (args: ReadonlyArray<string>): string | undefined => {
  const name = args.find((arg) => arg === "ship" || arg === "tail")
  if (name !== "ship" && name !== "tail") return undefined
  const values = [...OPTION_NAMES[name].values, ...BUILT_IN_VALUES]
  const flags = [...OPTION_NAMES[name].flags, ...BUILT_IN_FLAGS]
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    // `--` ends the options; `-` is stdin; the command's name; `--name=value`
    if (arg === "--") return undefined
    if (arg === "-" || !arg.startsWith("-")) continue
    const option = arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg
    if (values.includes(option)) {
      if (option !== arg) continue
      if (i === args.length - 1) return `${arg} needs a value`
      i++
      continue
    }
    if (flags.includes(option)) continue
    // short flags together (`-fh`): each one known
    const letters = /^-[a-zA-Z]{2,}$/.test(arg) ? arg.slice(1).split("").map((c) => `-${c}`) : []
    if (letters.length > 0 && letters.every((l) => flags.includes(l) || values.includes(l))) {
      if (values.includes(letters[letters.length - 1])) i++
      continue
    }
    return `unknown option ${arg} of cwlogs ${name} (cwlogs ${name} --help lists them)`
  }
  return undefined
}

const cli = Command.run(command, { name: "cwlogs", version: VERSION })

/**
 * Runs the CLI on the arguments (`process.argv` shape: the first two are skipped) and answers the exit
 * status. Errors are printed as one line on stderr, never with a stack trace.
 *
 * @internal
 */
export const run = (
  argv: ReadonlyArray<string>
): Effect.Effect<number, never, StopSignal | CliApp.CliApp.Environment> =>
  Effect.suspend(() => {
    const problem = argumentProblem(argv.slice(2))
    return problem !== undefined ? new CliError({ message: problem, exitCode: EXIT_USAGE }) : cli(argv)
  }).pipe(
    // the library's own logs repeat what the summary says: off unless asked for with --log-level, and on
    // stderr, never mixed with the output of `tail`
    Logger.withMinimumLogLevel(LogLevel.None),
    Effect.provide(Logger.replace(Logger.defaultLogger, Logger.withConsoleError(Logger.logfmtLogger))),
    Effect.as(EXIT_OK),
    Effect.catchAll((error) =>
      ValidationError.isValidationError(error)
        ? Effect.succeed(ValidationError.isHelpRequested(error) ? EXIT_OK : EXIT_USAGE)
        : Effect.as(Console.error(`cwlogs: ${error.message}`), error.exitCode)
    ),
    Effect.catchAllDefect((defect) =>
      Effect.as(
        Console.error(`cwlogs: unexpected failure: ${defect instanceof Error ? defect.message : String(defect)}`),
        EXIT_FAILED
      )
    )
  )
