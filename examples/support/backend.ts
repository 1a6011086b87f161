/**
 * Where the examples ship to when you run them with `npx tsx examples/<name>.ts`:
 *
 * - `CWLOGS_ENDPOINT=http://127.0.0.1:4566` (e.g. `pnpm emulator`, or any CloudWatch Logs look-alike): that
 *   endpoint, region `AWS_REGION` or `us-east-1`, your AWS credentials or dummy ones;
 * - otherwise: a `cwlogs-emulator` started inside the process for the run.
 *
 * In your own code you would write `NodeCloudWatchLogs.layer()` (region, credentials and endpoint from the
 * usual AWS environment) and be done: this file only exists so that every example runs anywhere.
 */
import { CloudWatchLogsApi } from "@cwlogs/core"
import { NodeCloudWatchLogs } from "@cwlogs/node"
import { Emulator } from "@cwlogs/testkit"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { pathToFileURL } from "node:url"

/** Credentials for an emulator (it accepts any): never real ones in code. */
export const dummyCredentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: Redacted.make("example-secret") }

/** The port to CloudWatch Logs at an endpoint (an emulator, a look-alike, or AWS itself). */
export const atEndpoint = (endpoint: string): Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi> =>
  NodeCloudWatchLogs.layer({
    endpoint,
    region: process.env["AWS_REGION"] ?? "us-east-1",
    ...(process.env["AWS_ACCESS_KEY_ID"] === undefined ? { credentials: dummyCredentials } : {})
  })

/**
 * The port for a run: `CWLOGS_ENDPOINT`, else an embedded emulator (playing the token generation asked
 * for) that lives as long as the layer.
 */
export const layer = (
  options: { readonly sequenceTokens?: "enforced" | "ignored" } = {}
): Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi> => {
  const endpoint = process.env["CWLOGS_ENDPOINT"]
  if (endpoint !== undefined && endpoint !== "") return atEndpoint(endpoint)
  return Layer.unwrapScoped(
    Effect.map(
      Effect.orDie(Emulator.make({ sequenceTokens: options.sequenceTokens ?? "ignored" })),
      (emulator) => atEndpoint(emulator.url)
    )
  )
}

/** Whether the module at `url` is the script node was started with. */
export const isMain = (url: string): boolean =>
  process.argv[1] !== undefined && url === pathToFileURL(process.argv[1]).href

/**
 * Runs an example's program against `layer()` and prints what `show` says about it, under
 * `NodeRuntime.runMain` (Ctrl-C closes the scopes, so buffered logs are drained before exit).
 */
export const runExample = <A, E>(
  program: Effect.Effect<A, E, CloudWatchLogsApi.CloudWatchLogsApi>,
  show: (a: A) => Effect.Effect<string, unknown, CloudWatchLogsApi.CloudWatchLogsApi>,
  options: { readonly sequenceTokens?: "enforced" | "ignored" } = {}
): void =>
  NodeRuntime.runMain(
    Effect.flatMap(program, (a) => Effect.flatMap(show(a), Console.log)).pipe(Effect.provide(layer(options)))
  )

/** Every message of a stream, from its head (follows the pages). */
export const readStream = (
  api: CloudWatchLogsApi.CloudWatchLogsApiShape,
  logGroupName: string,
  logStreamName: string
): Effect.Effect<ReadonlyArray<string>, CloudWatchLogsApi.ReadError> =>
  Effect.map(
    CloudWatchLogsApi.readAll(api, { logGroupName, logStreamName }),
    (events) => events.map((e) => e.message)
  )
