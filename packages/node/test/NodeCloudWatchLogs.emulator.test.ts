/**
 * The adapter against the project's HTTP emulator (the in-memory model behind the JSON 1.1 wire
 * protocol), in both generations of the API: the same port suite as against moto, then the token
 * protocol and the faults that only the emulator can play.
 */
import { CloudWatchLogs, CloudWatchLogsApi, CloudWatchLogsError, Destination, Metrics } from "@cwlogs/core"
import { TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, layer } from "@effect/vitest"
// The emulator is not re-exported by @cwlogs/testkit yet.
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Mailbox from "effect/Mailbox"
import * as Metric from "effect/Metric"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as Emulator from "../../testkit/src/Emulator.js"
import { emulatorApi } from "./support/apis.js"
import { portSuite, unique, withStream } from "./support/portSuite.js"
import "./support/servers.js"

const emulatorLayer = (sequenceTokens: "enforced" | "ignored") => emulatorApi({ sequenceTokens })

const event = (message: string) => ({ timestamp: Date.now(), message })

describe("NodeCloudWatchLogs against the emulator, tokens enforced (legacy)", () => {
  layer(emulatorLayer("enforced"), { timeout: "30 seconds", excludeTestServices: true })((it) => {
    portSuite(it, { strict: true })

    it.effect("a put without the expected token fails with InvalidSequenceTokenException carrying it", () =>
      Effect.gen(function*() {
        const { cw, logGroupName, logStreamName } = yield* withStream("token")
        const first = yield* cw.putLogEvents({ logGroupName, logStreamName, logEvents: [event("one")] })
        expect(first.nextSequenceToken).toBeDefined()
        const wrong = yield* Effect.flip(cw.putLogEvents({ logGroupName, logStreamName, logEvents: [event("two")] }))
        expect(wrong._tag).toBe("InvalidSequenceTokenException")
        if (wrong._tag !== "InvalidSequenceTokenException") return
        expect(CloudWatchLogsError.classify(wrong)).toBe("token")
        expect(wrong.expectedSequenceToken).toBe(first.nextSequenceToken)
        const retried = yield* cw.putLogEvents({
          logGroupName,
          logStreamName,
          logEvents: [event("two")],
          sequenceToken: CloudWatchLogsError.expectedSequenceToken(wrong)
        })
        expect(retried.nextSequenceToken).not.toBe(first.nextSequenceToken)
        const stored = yield* TestCloudWatchLogs.events(logGroupName, logStreamName)
        expect(stored.map((e) => e.message)).toEqual(["one", "two"])
      }))

    it.effect("replaying an accepted batch is DataAlreadyAcceptedException: stored once, classified a success", () =>
      Effect.gen(function*() {
        const { cw, logGroupName, logStreamName } = yield* withStream("replay")
        const first = yield* cw.putLogEvents({ logGroupName, logStreamName, logEvents: [event("a")] })
        const batch = { logGroupName, logStreamName, logEvents: [event("b")], sequenceToken: first.nextSequenceToken }
        const second = yield* cw.putLogEvents(batch)
        const replay = yield* Effect.flip(cw.putLogEvents(batch))
        expect(replay._tag).toBe("DataAlreadyAcceptedException")
        expect(CloudWatchLogsError.classify(replay)).toBe("alreadyAccepted")
        if (replay._tag === "DataAlreadyAcceptedException") {
          expect(CloudWatchLogsError.expectedSequenceToken(replay)).toBe(second.nextSequenceToken)
        }
        const stored = yield* TestCloudWatchLogs.events(logGroupName, logStreamName)
        expect(stored.map((e) => e.message)).toEqual(["a", "b"])
      }))

    it.effect("DescribeLogStreams shows the token to use as uploadSequenceToken", () =>
      Effect.gen(function*() {
        const { cw, logGroupName, logStreamName } = yield* withStream("describe-token")
        const put = yield* cw.putLogEvents({ logGroupName, logStreamName, logEvents: [event("x")] })
        const described = yield* cw.describeLogStreams({ logGroupName, logStreamNamePrefix: logStreamName })
        expect(described.logStreams.map((s) => s.uploadSequenceToken)).toEqual([put.nextSequenceToken])
      }))

    it.effect("injected faults arrive typed: 5xx, throttling", () =>
      Effect.gen(function*() {
        const { cw, logGroupName, logStreamName } = yield* withStream("faults")
        yield* TestCloudWatchLogs.failNext(1, "unavailable")
        const unavailable = yield* Effect.flip(
          cw.putLogEvents({ logGroupName, logStreamName, logEvents: [event("u")] })
        )
        expect(unavailable._tag).toBe("ServiceUnavailableException")
        expect(CloudWatchLogsError.classify(unavailable)).toBe("transient")
        yield* TestCloudWatchLogs.failNext(1, "throttle")
        const throttled = yield* Effect.flip(cw.putLogEvents({ logGroupName, logStreamName, logEvents: [event("t")] }))
        expect(throttled._tag).toBe("ThrottlingException")
        expect(CloudWatchLogsError.classify(throttled)).toBe("throttled")
        expect(yield* TestCloudWatchLogs.events(logGroupName, logStreamName)).toEqual([])
      }))

    it.effect("a lost response is a NetworkError; the replay with the same token is DataAlreadyAccepted", () =>
      Effect.gen(function*() {
        const { cw, logGroupName, logStreamName } = yield* withStream("lost")
        const server = yield* Emulator.Emulator
        const batch = { logGroupName, logStreamName, logEvents: [event("once")] }
        yield* server.setHttpFaults({ lostResponse: 1 })
        const lost = yield* Effect.flip(cw.putLogEvents(batch)).pipe(
          Effect.ensuring(server.setHttpFaults({ lostResponse: 0 }))
        )
        expect(lost._tag).toBe("NetworkError")
        expect(CloudWatchLogsError.classify(lost)).toBe("transient")
        const replay = yield* Effect.flip(cw.putLogEvents(batch))
        expect(replay._tag).toBe("DataAlreadyAcceptedException")
        const stored = yield* TestCloudWatchLogs.events(logGroupName, logStreamName)
        expect(stored.map((e) => e.message)).toEqual(["once"])
      }))

    it.effect("the model's lost-response fault drops the connection after storing: NetworkError, then DataAlreadyAccepted", () =>
      Effect.gen(function*() {
        const { cw, logGroupName, logStreamName } = yield* withStream("model-lost")
        const batch = { logGroupName, logStreamName, logEvents: [event("applied")] }
        yield* TestCloudWatchLogs.failNext(1, "lostResponse")
        const lost = yield* Effect.flip(cw.putLogEvents(batch))
        expect(lost._tag).toBe("NetworkError")
        const replay = yield* Effect.flip(cw.putLogEvents(batch))
        expect(replay._tag).toBe("DataAlreadyAcceptedException")
        const stored = yield* TestCloudWatchLogs.events(logGroupName, logStreamName)
        expect(stored.map((e) => e.message)).toEqual(["applied"])
      }))

    it.effect("a reset connection is NetworkError reset and stores nothing", () =>
      Effect.gen(function*() {
        const { cw, logGroupName, logStreamName } = yield* withStream("reset")
        const server = yield* Emulator.Emulator
        yield* server.setHttpFaults({ reset: 1 })
        const reset = yield* Effect.flip(cw.putLogEvents({ logGroupName, logStreamName, logEvents: [event("r")] }))
          .pipe(
            Effect.ensuring(server.setHttpFaults({ reset: 0 }))
          )
        expect(reset._tag === "NetworkError" && reset.reason).toBe("reset")
        expect(yield* TestCloudWatchLogs.events(logGroupName, logStreamName)).toEqual([])
      }))

    it.effect("a routed sink over the SDK releases idle streams and comes back to them under their tokens", () =>
      Effect.gen(function*() {
        const logGroupName = unique("idle")
        const streams = ["a", "b"].map((s) => Destination.make(logGroupName, s))
        const stored = (d: Destination.Destination) =>
          Effect.map(TestCloudWatchLogs.events(logGroupName, d.logStreamName), (es) => es.map((e) => e.message))
        /** Polls (live clock) until `done`, at most 10 s: the assertions never depend on how fast. */
        const until = <R>(done: Effect.Effect<boolean, never, R>) =>
          Effect.repeat(done, { until: (ok) => ok, schedule: Schedule.spaced("20 millis") }).pipe(
            Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("not reached in 10 s") })
          )
        const held = Effect.map(Metric.value(Metrics.destinationsHeld), (v) => v.value)
        const base = yield* held
        const input = yield* Mailbox.make<CloudWatchLogs.Routed>()
        const fiber = yield* Mailbox.toStream(input).pipe(
          Stream.run(
            CloudWatchLogs.sink((r: CloudWatchLogs.Routed) => r, { lingerMillis: 50, destinationIdleMillis: 200 })
          ),
          Effect.fork
        )
        const offer = (round: number) =>
          input.offerAll(streams.map((d) => ({ destination: d, event: event(`${d.logStreamName}${round}`) })))
        yield* offer(1)
        yield* until(Effect.map(stored(streams[1]), (m) => m.length === 1))
        yield* until(Effect.map(held, (n) => n === base)) // both released
        yield* offer(2) // new lanes, a fresh uploader state: the stream's token comes from the store
        yield* until(Effect.map(stored(streams[1]), (m) => m.length === 2))
        yield* input.end
        const report = yield* Fiber.join(fiber)
        expect(yield* stored(streams[0])).toEqual(["a1", "a2"])
        expect(yield* stored(streams[1])).toEqual(["b1", "b2"])
        expect(report.accepted).toBe(4)
        expect(report.perDestination.get(Destination.key(streams[0]))?.accepted).toBe(2)
        expect(report.rejected.Failed).toBe(0)
      }))
  })
})

describe("NodeCloudWatchLogs against the emulator, tokens ignored (today's AWS)", () => {
  layer(emulatorLayer("ignored"), { timeout: "30 seconds", excludeTestServices: true })((it) => {
    portSuite(it, { strict: true })

    it.effect("any token is accepted, and a replay is stored again (a duplicate)", () =>
      Effect.gen(function*() {
        const { cw, logGroupName, logStreamName } = yield* withStream("ignored")
        const batch = { logGroupName, logStreamName, logEvents: [event("dup")], sequenceToken: "nonsense" }
        yield* cw.putLogEvents(batch)
        yield* cw.putLogEvents(batch)
        const stored = yield* TestCloudWatchLogs.events(logGroupName, logStreamName)
        expect(stored.map((e) => e.message)).toEqual(["dup", "dup"])
      }))

    it.effect("an outage (server stopped) is NetworkError refused; it answers again once listening", () =>
      Effect.gen(function*() {
        const cw = yield* CloudWatchLogsApi.CloudWatchLogsApi
        const server = yield* Emulator.Emulator
        yield* server.stop
        const [first, second] = yield* Effect.all([
          Effect.flip(cw.describeLogGroups({})),
          Effect.flip(cw.describeLogGroups({}))
        ]).pipe(Effect.ensuring(Effect.orDie(server.listen)))
        // a kept-alive socket dropped by the stop is seen as a reset; a new connection is refused
        expect(first._tag === "NetworkError" && ["reset", "refused"].includes(first.reason)).toBe(true)
        expect(second._tag === "NetworkError" && second.reason).toBe("refused")
        const logGroupName = unique("after-outage")
        yield* cw.createLogGroup({ logGroupName })
        const found = yield* cw.describeLogGroups({ logGroupNamePrefix: logGroupName })
        expect(found.logGroups).toHaveLength(1)
      }))
  })
})
