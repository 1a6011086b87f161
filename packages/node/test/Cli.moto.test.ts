/**
 * The `cwlogs` CLI against moto_server, a second, independent implementation of the service.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { cwlogs } from "./support/processes.js"
import { hasMoto, motoServer } from "./support/servers.js"

describe.runIf(hasMoto)("cwlogs CLI against moto_server", () => {
  it.scopedLive(
    "ship from stdin (creating the destination), tail it back, group and stream; exit 0",
    () =>
      Effect.gen(function*() {
        const endpoint = yield* motoServer
        const lines = Array.from({ length: 120 }, (_, i) => `moto line ${i}`)
        const shipped = yield* cwlogs(["ship", "-g", "moto/cli", "-s", "one", "--create", "--endpoint", endpoint], {
          stdin: lines.join("\n")
        })
        expect(shipped.code).toBe(0)
        expect(shipped.stderr).toContain("accepted  120")
        const tailed = yield* cwlogs(["tail", "-g", "moto/cli", "-s", "one", "--raw", "--endpoint", endpoint])
        expect(tailed.code).toBe(0)
        expect(tailed.stdout.trimEnd().split("\n")).toEqual(lines)
        const group = yield* cwlogs(["tail", "-g", "moto/cli", "--raw", "--endpoint", endpoint])
        expect(group.stdout.trimEnd().split("\n")).toEqual(lines)
        const missing = yield* cwlogs(["ship", "-g", "moto/absent", "-s", "x", "--endpoint", endpoint], { stdin: "x" })
        expect(missing.code).toBe(1)
        expect(missing.stderr.trim()).toBe("cwlogs: log group moto/absent does not exist (pass --create to create it)")
      }),
    120_000
  )
})
