/**
 * How the demo ships (the library's sink and logger) and where to (the embedded emulator or a real
 * endpoint).
 *
 * @internal
 */
import { CloudWatchLogs, RetryPolicy, SequenceTokenStore, Uploader, UploadRateLimiter } from "@cwlogs/core"
import type { CloudWatchLogsApi, ShipReport } from "@cwlogs/core"
import type { Destination, LogEvent } from "@cwlogs/core"
import { Emulator } from "@cwlogs/testkit"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as NodeCloudWatchLogs from "../NodeCloudWatchLogs.js"
import type { Backend } from "./demoRun.js"

/** A producer's shipment failed; `report` is what was accounted for before. */
export class ShipFailure extends Data.TaggedError("ShipFailure")<{
  readonly message: string
  readonly report: ShipReport.ShipReport
}> {}

/** The backend could not be started. */
export class BackendError extends Data.TaggedError("BackendError")<{ readonly message: string }> {}

/**
 * The pipeline services shared by the producers of the process. `"independent"`: none, every producer's
 * sink has its own uploader and token store, as if each were a process of its own (they contend for the
 * stream's token); `"shared"`: one uploader and token store for all (puts to the stream go one at a time).
 */
export const pipeline = (
  mode: "independent" | "shared"
): Layer.Layer<never, never, CloudWatchLogsApi.CloudWatchLogsApi> =>
  mode === "independent"
    ? Layer.empty
    : Uploader.layer.pipe(
      Layer.provide(
        Layer.mergeAll(SequenceTokenStore.layerMemory, UploadRateLimiter.layer(), RetryPolicy.layerDefault)
      )
    )

/** Ships one producer's events to a destination through the library's sink. */
export const ship = (
  destination: Destination.Destination,
  events: Stream.Stream<LogEvent.LogEvent>
): Effect.Effect<ShipReport.ShipReport, ShipFailure, CloudWatchLogsApi.CloudWatchLogsApi> =>
  Stream.run(events, CloudWatchLogs.sink(destination)).pipe(
    Effect.mapError((error) => new ShipFailure({ message: error.message, report: error.report }))
  )

/** The app's Effect logs, shipped to a destination while the layer lives (drained when it closes). */
export const appLogger = (
  destination: Destination.Destination
): Layer.Layer<CloudWatchLogs.CloudWatchLogs, never, CloudWatchLogsApi.CloudWatchLogsApi> =>
  CloudWatchLogs.layerLogger({ ...destination, lingerMillis: 200 })

/** A started backend. */
export interface StartedBackend {
  readonly api: Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi>
  readonly target: string
  readonly faultsInjected: Effect.Effect<Readonly<Record<string, number>>>
  readonly sequenceTokens: "enforced" | "ignored" | "unknown"
  readonly readBackAttempts: number
}

/** Dummy credentials for the embedded emulator (it accepts any). */
export const EMULATOR_CREDENTIALS = {
  accessKeyId: "AKIDEMO",
  secretAccessKey: Redacted.make("demo-secret")
} as const

const isLoopback = (endpoint: string): boolean => {
  try {
    const host = new URL(endpoint).hostname
    return host === "localhost" || host === "[::1]" || host.startsWith("127.")
  } catch {
    return false
  }
}

const hasAwsCredentialsInEnv = (): boolean =>
  process.env["AWS_ACCESS_KEY_ID"] !== undefined || process.env["AWS_PROFILE"] !== undefined

/**
 * Starts the backend for the scope. A remote endpoint on loopback (a local emulator) gets dummy
 * credentials unless the AWS environment names some, and `us-east-1` unless a region is set.
 */
export const backend = (b: Backend, seed: number): Effect.Effect<StartedBackend, BackendError, Scope.Scope> =>
  Effect.gen(function*() {
    if (b._tag === "Remote") {
      return {
        api: NodeCloudWatchLogs.layer({
          ...(b.endpoint !== undefined ? { endpoint: b.endpoint } : {}),
          ...(b.region !== undefined
            ? { region: b.region }
            : b.endpoint !== undefined && process.env["AWS_REGION"] === undefined
            ? { region: "us-east-1" }
            : {}),
          ...(b.endpoint !== undefined && isLoopback(b.endpoint) && !hasAwsCredentialsInEnv()
            ? { credentials: EMULATOR_CREDENTIALS }
            : {})
        }),
        target: b.endpoint ?? `CloudWatch Logs in ${b.region ?? "the default region"}`,
        faultsInjected: Effect.succeed({}),
        sequenceTokens: "unknown" as const,
        readBackAttempts: 10
      }
    }
    const emulator = yield* Emulator.make({
      sequenceTokens: b.sequenceTokens,
      seed,
      ...(b.faults ? { faults: FAULTS } : {})
    }).pipe(
      Effect.mapError((e) => new BackendError({ message: `the embedded emulator could not listen: ${e.message}` }))
    )
    const faultsInjected = Effect.gen(function*() {
      const calls = yield* emulator.model.calls
      const counts: Record<string, number> = {}
      for (const call of calls) {
        const kind = INJECTED[call.outcome]
        if (call.operation === "PutLogEvents" && kind !== undefined) counts[kind] = (counts[kind] ?? 0) + 1
      }
      return counts
    })
    const server = emulator
    return {
      api: NodeCloudWatchLogs.layer({ endpoint: server.url, region: "us-east-1", credentials: EMULATOR_CREDENTIALS }),
      target: `embedded cwlogs-emulator at ${server.url} (tokens ${b.sequenceTokens}, faults ${
        b.faults ? "on" : "off"
      }, seed ${seed})`,
      faultsInjected,
      sequenceTokens: b.sequenceTokens,
      readBackAttempts: 0
    }
  })

/** Faults of the embedded emulator on PutLogEvents. */
export const FAULTS = {
  unavailable: 0.08,
  throttle: 0.06,
  reset: 0.03,
  lostResponse: 0.04,
  competingWriter: 0.1
} as const

const INJECTED: Readonly<Record<string, string>> = {
  ServiceUnavailableException: "ServiceUnavailable",
  ThrottlingException: "Throttling",
  ConnectionReset: "connection reset",
  LostResponse: "stored but answer lost"
}
