import { ShipReport } from "@cwlogs/core"
import * as DurableSpool from "@cwlogs/node/DurableSpool"
import { Emulator, TestCloudWatchLogs } from "@cwlogs/testkit"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as AcknowledgeUpstream from "../acknowledge-upstream.js"
import * as DurableSpoolExample from "../durable-spool.js"
import * as Lambda from "../lambda.js"
import * as Logger from "../logger.js"
import * as PlainNode from "../plain-node.js"
import * as SharedStream from "../shared-stream.js"
import * as SinkRouting from "../sink-routing.js"
import * as Backend from "../support/backend.js"
import * as Testing from "../testing.js"

process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true"

/** A fresh emulator for the test's scope, and the port to it over HTTP (the real AWS SDK). */
const emulator = (options: Emulator.Options = {}) =>
  Effect.map(Effect.orDie(Emulator.make(options)), (e) => ({ model: e.model, api: Backend.atEndpoint(e.url) }))

const messages = (e: { readonly model: Emulator.EmulatorShape["model"] }, group: string, stream: string) =>
  Effect.map(e.model.events(group, stream), (events) => events.map((x) => x.message))

describe("examples/logger.ts", () => {
  it.scopedLive("ships every log line of the app as JSON, the last ones when the layer closes", () =>
    Effect.gen(function*() {
      const e = yield* emulator()
      yield* Effect.provide(Logger.program, e.api)
      const lines = (yield* messages(e, Logger.logGroupName, Logger.logStreamName)).map((m) => JSON.parse(m))
      expect(lines.map((l) => l.message)).toEqual([
        "order received",
        "order accepted",
        "order received",
        "large order, needs review",
        "order accepted",
        "order received",
        "order accepted"
      ])
      expect(lines[3]).toMatchObject({ level: "WARN", annotations: { orderId: "o-2", amount: 250 } })
      expect(lines[0].spans).toHaveProperty("handleOrder")
    }))
})

describe("examples/sink-routing.ts", () => {
  it.scopedLive("routes each event to its service's stream and reports per destination", () =>
    Effect.gen(function*() {
      const e = yield* emulator()
      const report = yield* Effect.provide(SinkRouting.program(900), e.api)
      expect(report.accepted).toBe(900)
      expect(ShipReport.rejectedTotal(report)).toBe(0)
      expect(report.perDestination.size).toBe(3)
      for (const stream of ["api", "worker", "billing"]) {
        const stored = yield* messages(e, SinkRouting.logGroupName, stream)
        expect(stored).toHaveLength(300)
      }
      const billing = (yield* messages(e, SinkRouting.logGroupName, "billing")).map((m) => JSON.parse(m))
      expect(billing.every((b) => b.action === "charge")).toBe(true)
      // the groups the sink created carry the destination's retention
      const groups = yield* e.model.api.describeLogGroups({ logGroupNamePrefix: SinkRouting.logGroupName })
      expect(groups.logGroups[0]?.retentionInDays).toBe(7)
    }))
})

describe("examples/shared-stream.ts", () => {
  it.scopedLive("several producers share one stream with tokens enforced, through faults and a competing writer", () =>
    Effect.gen(function*() {
      const e = yield* emulator({
        sequenceTokens: "enforced",
        faults: { unavailable: 0.1, throttle: 0.05, competingWriter: 0.2 },
        seed: 5
      })
      const report = yield* Effect.provide(SharedStream.program(4, 1500), e.api)
      expect(report.accepted).toBe(6000)
      const stored = yield* messages(e, SharedStream.destination.logGroupName, SharedStream.destination.logStreamName)
      const ours = stored.filter((m) => m.startsWith("{")).map((m) => JSON.parse(m))
      // every event once: none lost, none duplicated
      expect(ours).toHaveLength(6000)
      expect(new Set(ours.map((o) => `${o.producer}/${o.seq}`)).size).toBe(6000)
      // the competing writer's events are there too, between ours
      expect(stored.length).toBeGreaterThan(6000)
      // tokens were enforced and adopted
      const calls = yield* e.model.calls
      expect(calls.some((c) => c.outcome === "InvalidSequenceTokenException")).toBe(true)
    }))
})

describe("examples/testing.ts", () => {
  for (const [name, test] of Object.entries(Testing.tests)) {
    it.effect(name, () => test)
  }
})

describe("examples/lambda.ts", () => {
  it.scopedLive("each invocation's logs are stored when the handler returns, before the instance goes", () =>
    Effect.gen(function*() {
      const e = yield* emulator()
      const { dispose, handler } = Lambda.makeHandler(e.api)
      yield* Effect.addFinalizer(() => Effect.promise(dispose))
      const first = yield* Effect.promise(() => handler({ cartId: "c-1", items: 2 }))
      expect(first.statusCode).toBe(200)
      // no waiting: the linger time is a minute, the flush shipped before the handler returned
      const afterFirst = (yield* messages(e, Lambda.logGroupName, Lambda.logStreamName)).map((m) => JSON.parse(m))
      expect(afterFirst.map((l) => l.message)).toEqual(["checkout started", "checkout done"])
      const second = yield* Effect.promise(() => handler({ cartId: "c-2", items: 0 }))
      expect(second.statusCode).toBe(400)
      const afterSecond = yield* messages(e, Lambda.logGroupName, Lambda.logStreamName)
      expect(afterSecond).toHaveLength(4)
    }))
})

describe("examples/plain-node.ts", () => {
  it.scopedLive("a plain async app logs and ships through a ManagedRuntime; close ships the rest", () =>
    Effect.gen(function*() {
      const e = yield* emulator()
      const accepted = yield* Effect.promise(() => PlainNode.main(e.api))
      expect(accepted).toBe(2)
      const records = (yield* messages(e, PlainNode.logGroupName, PlainNode.recordsStream)).map((m) => JSON.parse(m))
      expect(records.map((r) => r.id)).toEqual(["a", "b", "c"])
      const app = (yield* messages(e, PlainNode.logGroupName, PlainNode.appStream)).map((m) => JSON.parse(m))
      expect(app.map((l) => l.message)).toEqual(["batch started", "order rejected", "batch done"])
      expect(app[2]).toMatchObject({ annotations: { accepted: 2, shipped: 3 } })
    }))
})

describe("examples/support/backend.ts", () => {
  it.scopedLive("runs an example against CWLOGS_ENDPOINT when it is set", () =>
    Effect.gen(function*() {
      const running = yield* Effect.orDie(Emulator.make())
      yield* Effect.acquireRelease(
        Effect.sync(() => {
          process.env["CWLOGS_ENDPOINT"] = running.url
        }),
        () => Effect.sync(() => delete process.env["CWLOGS_ENDPOINT"])
      )
      yield* Effect.provide(Logger.program, Backend.layer())
      const stored = yield* running.model.events(Logger.logGroupName, Logger.logStreamName)
      expect(stored).toHaveLength(7)
    }))
})

describe("examples/durable-spool.ts", () => {
  it.scopedLive("ships through a spool; a run after a crash ships what the crash left too", () =>
    Effect.gen(function*() {
      const e = yield* emulator()
      const directory = yield* Effect.acquireRelease(
        Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-example-spool-"))),
        (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
      )
      const first = yield* Effect.provide(DurableSpoolExample.program(directory, 5_000), e.api)
      expect(first).toMatchObject({ accepted: 5_000, recovered: 0 })
      // what a crash right after a write leaves: a segment nobody shipped
      yield* Effect.scoped(Effect.gen(function*() {
        const spool = yield* DurableSpool.make({ directory, segmentMillis: 60_000, drainTimeoutMillis: 0 })
        yield* spool.write([{
          destination: DurableSpoolExample.destination,
          event: { timestamp: Date.now(), message: "left" }
        }])
        Fs.cpSync(directory, `${directory}-crashed`, { recursive: true })
      })).pipe(Effect.provide(TestCloudWatchLogs.layer()))
      const second = yield* Effect.provide(DurableSpoolExample.program(`${directory}-crashed`, 10), e.api)
      Fs.rmSync(`${directory}-crashed`, { recursive: true, force: true })
      expect(second).toMatchObject({ accepted: 11, recovered: 1 })
      const stored = yield* messages(
        e,
        DurableSpoolExample.destination.logGroupName,
        DurableSpoolExample.destination.logStreamName
      )
      expect(stored).toHaveLength(5_011)
      expect(stored.filter((m) => m === "left")).toHaveLength(1)
    }))
})

describe("examples/acknowledge-upstream.ts", () => {
  const stored = (e: { readonly model: Emulator.EmulatorShape["model"] }) =>
    messages(e, AcknowledgeUpstream.destination.logGroupName, AcknowledgeUpstream.destination.logStreamName)

  it.scopedLive("commits the offset as batches are stored, up to the end of the partition", () =>
    Effect.gen(function*() {
      const e = yield* emulator()
      const { committed, report } = yield* Effect.provide(AcknowledgeUpstream.program(5_000), e.api)
      expect(report.accepted).toBe(5_000)
      expect(committed).toBe(5_000)
      // puts go out in parallel: the stream holds every record once, not necessarily in offset order
      expect([...yield* stored(e)].sort()).toEqual([...AcknowledgeUpstream.partitionOf(5_000).records].sort())
    }))

  it.scopedLive("commits past the records it cannot store as they are: refused, split", () =>
    Effect.gen(function*() {
      const e = yield* emulator()
      const good = AcknowledgeUpstream.partitionOf(3_000).records
      // an empty record (refused), one over the 1 MB event limit (split in two), in the middle
      const partition = {
        records: [...good.slice(0, 1_500), "", "r".repeat(1_100_000), ...good.slice(1_500)],
        committed: 0
      }
      const report = yield* Effect.provide(AcknowledgeUpstream.consume(partition), e.api)
      expect(report.rejected.Empty).toBe(1)
      expect(report.split).toBe(1)
      expect(report.accepted).toBe(3_001)
      expect(partition.committed).toBe(3_002)
    }))

  it.scopedLive("a consumer stopped mid-way starts again from its commit: nothing skipped, only uncommitted twice", () =>
    Effect.gen(function*() {
      // every answer 50 ms late, so that the stop finds puts in flight
      const e = yield* emulator({ faults: { latencyMillis: 50 } })
      const partition = AcknowledgeUpstream.partitionOf(40_000)
      // stopped as by a crash: no drain, the puts in flight cut off
      const first = yield* Effect.fork(
        Effect.provide(AcknowledgeUpstream.consume(partition, { drainTimeoutMillis: 0 }), e.api)
      )
      while (partition.committed < 2_000) yield* Effect.sleep("10 millis")
      yield* Fiber.interrupt(first)
      const committedAtStop = partition.committed
      // the emulator finishes the puts that were cut off on the client's side: wait until it is done
      let storedAtStop = -1
      for (let i = 0; i < 50; i++) {
        yield* Effect.sleep("200 millis")
        const now = (yield* stored(e)).length
        if (now === storedAtStop) break
        storedAtStop = now
      }
      expect(committedAtStop).toBeLessThan(40_000)
      // the commit never runs ahead of what is stored
      expect(storedAtStop).toBeGreaterThanOrEqual(committedAtStop)

      yield* Effect.provide(AcknowledgeUpstream.consume(partition), e.api)
      expect(partition.committed).toBe(40_000)
      const all = yield* stored(e)
      const seen = new Set(all)
      expect(partition.records.every((r) => seen.has(r))).toBe(true)
      // sent twice: at most what was stored past the commit (in flight, or stored before a put still in flight)
      expect(all.length - seen.size).toBeLessThanOrEqual(storedAtStop - committedAtStop)
    }))
})
