import { describe, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as NodeCloudWatchLogs from "../src/NodeCloudWatchLogs.js"
import { portSuite } from "./support/portSuite.js"
import { hasMoto, motoServer } from "./support/servers.js"

const MotoApi = Layer.unwrapScoped(
  Effect.map(motoServer, (endpoint) =>
    NodeCloudWatchLogs.layer({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDMOTO", secretAccessKey: Redacted.make("moto-secret") }
    }))
)

describe.runIf(hasMoto)("NodeCloudWatchLogs against moto_server", () => {
  layer(MotoApi, { timeout: "40 seconds", excludeTestServices: true })((it) => {
    portSuite(it, { strict: false })
  })
})
