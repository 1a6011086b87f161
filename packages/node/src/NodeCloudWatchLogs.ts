/**
 * The `CloudWatchLogsApi` port over the AWS SDK for JavaScript v3 (`@aws-sdk/client-cloudwatch-logs`).
 *
 * Region, credentials and endpoint come from the usual AWS sources (`AWS_REGION`, the SDK's default
 * credential chain, `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` / `AWS_ENDPOINT_URL`) unless given as options.
 * The SDK's own retries are off (`maxAttempts: 1`): the library's Schedules own retrying. Every failure
 * is one of the core's typed errors; interrupting a call aborts its HTTP request.
 *
 * @since 0.1.0
 */
import type { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs"
import { CloudWatchLogsApi } from "@cwlogs/core"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as internal from "./internal/sdk.js"

/**
 * Options of the adapter. Everything is optional: what is not given comes from the AWS environment.
 *
 * - `credentials`: static credentials, the secret as `Redacted` (never printed or logged).
 * - `maxAttempts`: the SDK's own attempts (default 1: the library's Schedules retry).
 * - `connectionTimeout` (default 5 s) and `requestTimeout` (default 30 s): a call that exceeds them fails
 *   with `NetworkError { reason: "timeout" }`. An infinite one means none; zero or less is refused (a
 *   defect from `layer`/`make`, a `ConfigError` from `layerConfig`), as are a `maxAttempts` below 1 and
 *   an `endpoint` that is not an `http://` or `https://` URL (`localhost:4566`); an empty one is none.
 * - `serializer`: how PutLogEvents bodies are written. `"native"` (the default): by `JSON.stringify`,
 *   the same JSON at a fraction of the CPU; `"sdk"`: by the SDK's own schema serializer. Every other
 *   operation always uses the SDK's.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly region?: string | undefined
  readonly endpoint?: string | undefined
  readonly credentials?:
    | {
      readonly accessKeyId: string
      readonly secretAccessKey: Redacted.Redacted<string>
      readonly sessionToken?: Redacted.Redacted<string> | undefined
    }
    | undefined
  /** A profile of `~/.aws/config` to read credentials and region from. */
  readonly profile?: string | undefined
  readonly maxAttempts?: number | undefined
  readonly connectionTimeout?: Duration.DurationInput | undefined
  readonly requestTimeout?: Duration.DurationInput | undefined
  readonly serializer?: "native" | "sdk" | undefined
}

/**
 * The default connection timeout (5 seconds).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_CONNECTION_TIMEOUT: Duration.Duration = internal.DEFAULT_CONNECTION_TIMEOUT

/**
 * The default request timeout (30 seconds).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_REQUEST_TIMEOUT: Duration.Duration = internal.DEFAULT_REQUEST_TIMEOUT

/**
 * The port over a new SDK client, destroyed when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<CloudWatchLogsApi.CloudWatchLogsApiShape, never, Scope.Scope> =
  internal.make

/**
 * A new SDK client built as `layer` builds its own: PutLogEvents bodies written by `JSON.stringify`
 * (unless `serializer: "sdk"`) and no logger middleware. For an application that shares one client
 * between cwlogs (`layerClient`) and its own calls. The caller owns it: `client.destroy()` when done.
 *
 * @example
 * ```ts
 * const client = NodeCloudWatchLogs.makeClient({ region: "eu-west-1" })
 * const Api = NodeCloudWatchLogs.layerClient(client)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeClient = (options: Options = {}): CloudWatchLogsClient => internal.newClient(options)

/**
 * The port over a client the caller owns (and destroys). Errors are classified the same way.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromClient = (client: CloudWatchLogsClient): CloudWatchLogsApi.CloudWatchLogsApiShape =>
  internal.fromClient(client)

/**
 * `CloudWatchLogsApi` over a new SDK client for the options; the client lives as long as the layer.
 *
 * @example
 * ```ts
 * const Live = NodeCloudWatchLogs.layer()                                   // all from the AWS environment
 * const Local = NodeCloudWatchLogs.layer({ endpoint: "http://127.0.0.1:4566", region: "us-east-1" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi> =>
  Layer.scoped(CloudWatchLogsApi.CloudWatchLogsApi, internal.make(options))

/**
 * `CloudWatchLogsApi` with options read from `Config` (use `Config.redacted` for the secret).
 *
 * @example
 * ```ts
 * NodeCloudWatchLogs.layerConfig({
 *   region: Config.string("LOGS_REGION"),
 *   credentials: Config.all({
 *     accessKeyId: Config.string("LOGS_KEY_ID"),
 *     secretAccessKey: Config.redacted("LOGS_SECRET")
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<Options>
): Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi, ConfigError.ConfigError> =>
  Layer.scoped(
    CloudWatchLogsApi.CloudWatchLogsApi,
    Effect.flatMap(
      Config.mapOrFail(Config.unwrap(config), (options) => {
        const invalid = internal.invalidOptions(options)
        return invalid === undefined ? Either.right(options) : Either.left(ConfigError.InvalidData([], invalid))
      }),
      internal.make
    )
  )

/**
 * `CloudWatchLogsApi` over a client the caller made and owns: it is not destroyed with the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerClient = (client: CloudWatchLogsClient): Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi> =>
  Layer.succeed(CloudWatchLogsApi.CloudWatchLogsApi, internal.fromClient(client))
