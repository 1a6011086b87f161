import { describe, layer } from "@effect/vitest"
import { motoApi } from "./support/apis.js"
import { portSuite } from "./support/portSuite.js"
import { hasMoto } from "./support/servers.js"

const MotoApi = motoApi

describe.runIf(hasMoto)("NodeCloudWatchLogs against moto_server", () => {
  layer(MotoApi, { timeout: "40 seconds", excludeTestServices: true })((it) => {
    portSuite(it, { strict: false })
  })
})
