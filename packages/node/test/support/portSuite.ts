/**
 * The behaviour every `CloudWatchLogsApi` over the wire must show, whatever the server (moto, the
 * emulator): run with `portSuite(it)` inside `layer(...)` of a layer providing the port.
 */
import { CloudWatchLogsApi } from "@cwlogs/core"
import { expect, type Vitest } from "@effect/vitest"
import * as Effect from "effect/Effect"

type It = Vitest.MethodsNonLive<CloudWatchLogsApi.CloudWatchLogsApi, true>

let counter = 0
export const unique = (prefix: string): string =>
  `${prefix}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`

const api = CloudWatchLogsApi.CloudWatchLogsApi

export const withStream = (prefix: string): Effect.Effect<
  {
    readonly cw: CloudWatchLogsApi.CloudWatchLogsApiShape
    readonly logGroupName: string
    readonly logStreamName: string
  },
  CloudWatchLogsApi.CreateLogGroupError | CloudWatchLogsApi.CreateLogStreamError,
  CloudWatchLogsApi.CloudWatchLogsApi
> =>
  Effect.gen(function*() {
    const cw = yield* api
    const logGroupName = unique(`${prefix}-group`)
    const logStreamName = unique(`${prefix}-stream`)
    yield* cw.createLogGroup({ logGroupName })
    yield* cw.createLogStream({ logGroupName, logStreamName })
    return { cw, logGroupName, logStreamName }
  })

export interface SuiteOptions {
  /** The server enforces every validation rule (the emulator does; moto is lax on names and retention). */
  readonly strict: boolean
}

export const portSuite = (it: It, options: SuiteOptions): void => {
  it.effect("creates a group, finds it by prefix, refuses to create it twice", () =>
    Effect.gen(function*() {
      const cw = yield* api
      const logGroupName = unique("cw/create")
      yield* cw.createLogGroup({ logGroupName })
      const found = yield* cw.describeLogGroups({ logGroupNamePrefix: logGroupName })
      expect(found.logGroups.map((g) => g.logGroupName)).toEqual([logGroupName])
      expect(found.logGroups[0].creationTime).toBeGreaterThan(0)
      const again = yield* Effect.flip(cw.createLogGroup({ logGroupName }))
      expect(again._tag).toBe("ResourceAlreadyExistsException")
    }))

  it.effect("an empty prefix match gives an empty list, not an error", () =>
    Effect.gen(function*() {
      const cw = yield* api
      const found = yield* cw.describeLogGroups({ logGroupNamePrefix: unique("nothing-here") })
      expect(found.logGroups).toEqual([])
    }))

  it.effect("creating a stream in a missing group is ResourceNotFound; twice is AlreadyExists", () =>
    Effect.gen(function*() {
      const cw = yield* api
      const missing = yield* Effect.flip(
        cw.createLogStream({ logGroupName: unique("missing"), logStreamName: "s" })
      )
      expect(missing._tag).toBe("ResourceNotFoundException")
      const { logGroupName, logStreamName } = yield* withStream("twice")
      const again = yield* Effect.flip(cw.createLogStream({ logGroupName, logStreamName }))
      expect(again._tag).toBe("ResourceAlreadyExistsException")
    }))

  it.effect("puts events and reads them back with GetLogEvents and FilterLogEvents", () =>
    Effect.gen(function*() {
      const { cw, logGroupName, logStreamName } = yield* withStream("put")
      const now = Date.now()
      const logEvents = [
        { timestamp: now - 2, message: "first line" },
        { timestamp: now - 1, message: "second ünïcødé 😀" },
        { timestamp: now, message: "third needle" }
      ]
      const put = yield* cw.putLogEvents({ logGroupName, logStreamName, logEvents })
      expect(put.rejectedLogEventsInfo?.tooNewLogEventStartIndex).toBeUndefined()
      const got = yield* cw.getLogEvents({ logGroupName, logStreamName, startFromHead: true })
      expect(got.events.map((e) => [e.timestamp, e.message])).toEqual(logEvents.map((e) => [e.timestamp, e.message]))
      const filtered = yield* cw.filterLogEvents({ logGroupName, filterPattern: "needle" })
      expect(filtered.events.map((e) => e.message)).toEqual(["third needle"])
      expect(filtered.events[0].logStreamName).toBe(logStreamName)
      const byStream = yield* cw.filterLogEvents({ logGroupName, logStreamNames: [logStreamName] })
      expect(byStream.events).toHaveLength(3)
    }))

  it.effect("putting to a missing stream or group is ResourceNotFound", () =>
    Effect.gen(function*() {
      const { cw, logGroupName } = yield* withStream("missing-stream")
      const noStream = yield* Effect.flip(
        cw.putLogEvents({ logGroupName, logStreamName: "nope", logEvents: [{ timestamp: Date.now(), message: "x" }] })
      )
      expect(noStream._tag).toBe("ResourceNotFoundException")
      const noGroup = yield* Effect.flip(
        cw.putLogEvents({
          logGroupName: unique("nogroup"),
          logStreamName: "nope",
          logEvents: [{ timestamp: Date.now(), message: "x" }]
        })
      )
      expect(noGroup._tag).toBe("ResourceNotFoundException")
      const read = yield* Effect.flip(cw.getLogEvents({ logGroupName, logStreamName: "nope" }))
      expect(read._tag).toBe("ResourceNotFoundException")
    }))

  it.effect("describes streams by prefix, with paging", () =>
    Effect.gen(function*() {
      const cw = yield* api
      const logGroupName = unique("paging")
      yield* cw.createLogGroup({ logGroupName })
      const names = ["a-1", "a-2", "a-3", "b-1"]
      yield* Effect.forEach(names, (logStreamName) => cw.createLogStream({ logGroupName, logStreamName }))
      const seen: Array<string> = []
      let nextToken: string | undefined = undefined
      let pages = 0
      do {
        const page: CloudWatchLogsApi.DescribeLogStreamsResponse = yield* cw.describeLogStreams({
          logGroupName,
          logStreamNamePrefix: "a-",
          limit: 1,
          nextToken
        })
        seen.push(...page.logStreams.map((s) => s.logStreamName))
        nextToken = page.nextToken
        pages++
      } while (nextToken !== undefined && pages < 10)
      expect(seen.sort()).toEqual(["a-1", "a-2", "a-3"])
      expect(pages).toBeGreaterThanOrEqual(3)
    }))

  it.effect("sets and removes a retention policy", () =>
    Effect.gen(function*() {
      const cw = yield* api
      const logGroupName = unique("retention")
      yield* cw.createLogGroup({ logGroupName })
      yield* cw.putRetentionPolicy({ logGroupName, retentionInDays: 7 })
      const withPolicy = yield* cw.describeLogGroups({ logGroupNamePrefix: logGroupName })
      expect(withPolicy.logGroups[0].retentionInDays).toBe(7)
      yield* cw.deleteRetentionPolicy({ logGroupName })
      const without = yield* cw.describeLogGroups({ logGroupNamePrefix: logGroupName })
      expect(without.logGroups[0].retentionInDays).toBeUndefined()
      const missing = yield* Effect.flip(cw.putRetentionPolicy({ logGroupName: unique("nogroup"), retentionInDays: 7 }))
      expect(missing._tag).toBe("ResourceNotFoundException")
    }))

  it.effect("deletes streams and groups; deleting again is ResourceNotFound", () =>
    Effect.gen(function*() {
      const { cw, logGroupName, logStreamName } = yield* withStream("delete")
      yield* cw.deleteLogStream({ logGroupName, logStreamName })
      const streams = yield* cw.describeLogStreams({ logGroupName })
      expect(streams.logStreams).toEqual([])
      const again = yield* Effect.flip(cw.deleteLogStream({ logGroupName, logStreamName }))
      expect(again._tag).toBe("ResourceNotFoundException")
      yield* cw.deleteLogGroup({ logGroupName })
      const gone = yield* Effect.flip(cw.deleteLogGroup({ logGroupName }))
      expect(gone._tag).toBe("ResourceNotFoundException")
    }))

  it.effect("a group name of 512 characters is accepted, 513 is InvalidParameter naming the rule", () =>
    Effect.gen(function*() {
      const cw = yield* api
      const base = unique("long")
      yield* cw.createLogGroup({ logGroupName: base + "x".repeat(512 - base.length) })
      const bad = yield* Effect.flip(cw.createLogGroup({ logGroupName: base + "x".repeat(513 - base.length) }))
      expect(bad._tag).toBe("InvalidParameterException")
      expect(bad._tag === "InvalidParameterException" && bad.rule).toBe("InvalidLogGroupName")
      expect(bad._tag === "InvalidParameterException" && bad.httpStatus).toBe(400)
    }))

  it.effect("a batch out of chronological order is InvalidParameter NotChronological; nothing is stored", () =>
    Effect.gen(function*() {
      const { cw, logGroupName, logStreamName } = yield* withStream("order")
      const now = Date.now()
      const bad = yield* Effect.flip(cw.putLogEvents({
        logGroupName,
        logStreamName,
        logEvents: [{ timestamp: now, message: "later" }, { timestamp: now - 1, message: "earlier" }]
      }))
      expect(bad._tag === "InvalidParameterException" && bad.rule).toBe("NotChronological")
      const got = yield* cw.getLogEvents({ logGroupName, logStreamName, startFromHead: true })
      expect(got.events).toEqual([])
    }))

  if (options.strict) {
    it.effect("retention: 1 and 3653 days are accepted, 0, 2, 8 and 3654 are InvalidParameter InvalidRetention", () =>
      Effect.gen(function*() {
        const cw = yield* api
        const logGroupName = unique("retention")
        yield* cw.createLogGroup({ logGroupName })
        yield* cw.putRetentionPolicy({ logGroupName, retentionInDays: 1 })
        yield* cw.putRetentionPolicy({ logGroupName, retentionInDays: 3653 })
        for (const retentionInDays of [0, 2, 8, 3654]) {
          const bad = yield* Effect.flip(cw.putRetentionPolicy({ logGroupName, retentionInDays }))
          expect(bad._tag).toBe("InvalidParameterException")
        }
      }))

    it.effect("a group name with a forbidden character is InvalidParameter", () =>
      Effect.gen(function*() {
        const cw = yield* api
        const bad = yield* Effect.flip(cw.createLogGroup({ logGroupName: "bad name:*" }))
        expect(bad._tag === "InvalidParameterException" && bad.rule).toBe("InvalidLogGroupName")
      }))

    it.effect("an empty batch is InvalidParameter", () =>
      Effect.gen(function*() {
        const { cw, logGroupName, logStreamName } = yield* withStream("empty")
        const bad = yield* Effect.flip(cw.putLogEvents({ logGroupName, logStreamName, logEvents: [] }))
        expect(bad._tag).toBe("InvalidParameterException")
      }))
  }
}
