import { CloudWatchLogsClient, CreateLogGroupCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs"
import { CloudWatchLogsApi, CloudWatchLogsError } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { request } from "node:http"
import * as Emulator from "../src/Emulator.js"

// A tiny stub of the port: records the calls, answers from a script.
const stub = () => {
  const calls: Array<{ readonly op: string; readonly request: unknown }> = []
  const groups = new Set<string>()
  const api: CloudWatchLogsApi.CloudWatchLogsApiShape = {
    putLogEvents: (r) =>
      Effect.suspend(() => {
        calls.push({ op: "putLogEvents", request: r })
        if (!groups.has(r.logGroupName)) {
          return Effect.fail(
            new CloudWatchLogsError.ResourceNotFoundException({ message: "The specified log group does not exist." })
          )
        }
        if (r.sequenceToken === "bad") {
          return Effect.fail(
            new CloudWatchLogsError.InvalidSequenceTokenException({
              message: "The given sequenceToken is invalid. The next expected sequenceToken is: 42",
              expectedSequenceToken: "42"
            })
          )
        }
        return Effect.succeed({ nextSequenceToken: "43" })
      }),
    createLogGroup: (r) =>
      Effect.suspend(() => {
        calls.push({ op: "createLogGroup", request: r })
        if (groups.has(r.logGroupName)) {
          return Effect.fail(
            new CloudWatchLogsError.ResourceAlreadyExistsException({
              message: "The specified log group already exists"
            })
          )
        }
        groups.add(r.logGroupName)
        return Effect.void
      }),
    createLogStream: () => Effect.void,
    deleteLogGroup: () => Effect.void,
    deleteLogStream: () => Effect.void,
    describeLogGroups: () => Effect.succeed({ logGroups: [] }),
    describeLogStreams: () => Effect.succeed({ logStreams: [] }),
    putRetentionPolicy: () => Effect.void,
    deleteRetentionPolicy: () => Effect.void,
    getLogEvents: () => Effect.succeed({ events: [] }),
    filterLogEvents: () => Effect.succeed({ events: [] })
  }
  return { api, calls }
}

const client = (url: string, credentials = { accessKeyId: "AKID", secretAccessKey: "secret" }) =>
  new CloudWatchLogsClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 })

describe("Emulator wire", () => {
  it.scoped("smoke: the SDK creates a group and puts events", () =>
    Effect.gen(function*() {
      const { api, calls } = stub()
      const server = yield* Emulator.serve(api)
      const c = client(server.url)
      yield* Effect.promise(() => c.send(new CreateLogGroupCommand({ logGroupName: "g" })))
      const out = yield* Effect.promise(() =>
        c.send(
          new PutLogEventsCommand({
            logGroupName: "g",
            logStreamName: "s",
            logEvents: [{ timestamp: 1, message: "hi" }]
          })
        )
      )
      expect(out.nextSequenceToken).toBe("43")
      expect(calls.map((c) => c.op)).toEqual(["createLogGroup", "putLogEvents"])
      const err = yield* Effect.promise(() =>
        c.send(new CreateLogGroupCommand({ logGroupName: "g" })).then(() => undefined, (e: unknown) => e)
      )
      expect(err).toMatchObject({ name: "ResourceAlreadyExistsException" })
      void request
    }))
})
