/**
 * The port over the real SDK and HTTP, to the servers tests run: the project's emulator (with the
 * model behind it, to inspect and to inject faults) and moto's server.
 */
import type { CloudWatchLogsApi } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
// The emulator is not re-exported by @cwlogs/testkit yet.
import * as Emulator from "../../../testkit/src/Emulator.js"
import * as NodeCloudWatchLogs from "../../src/NodeCloudWatchLogs.js"
import { motoServer, type ServerError } from "./servers.js"

const at = (endpoint: string, accessKeyId: string) =>
  NodeCloudWatchLogs.layer({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId, secretAccessKey: Redacted.make(`${accessKeyId.toLowerCase()}-secret`) }
  })

/** A fresh emulator for the layer's life, the port to it, its model and the emulator itself. */
export const emulatorApi = (
  options: Emulator.Options
): Layer.Layer<
  CloudWatchLogsApi.CloudWatchLogsApi | TestCloudWatchLogs.TestCloudWatchLogs | Emulator.Emulator,
  Emulator.ListenError
> =>
  Layer.unwrapScoped(Effect.map(Emulator.make(options), (server) =>
    Layer.mergeAll(
      at(server.url, "AKIDEMU"),
      Layer.succeed(TestCloudWatchLogs.TestCloudWatchLogs, server.model),
      Layer.succeed(Emulator.Emulator, server)
    )))

/** moto's server for the layer's life, and the port to it. */
export const motoApi: Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi, ServerError> = Layer.unwrapScoped(
  Effect.map(motoServer, (endpoint) => at(endpoint, "AKIDMOTO"))
)
