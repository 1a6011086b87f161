import { CloudWatchLogsError } from "@cwlogs/core"
import type { CloudWatchLogsApi } from "@cwlogs/core"
import { ShipReport } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Demo from "../src/internal/demo.js"

describe("demo events", () => {
  it("name their producer and sequence number and parse back", () => {
    const message = Demo.eventMessage(3, 1234, 200)
    expect(Demo.parseEventMessage(message)).toEqual({ producer: 3, seq: 1234 })
    expect(JSON.parse(message)).toMatchObject({ producer: 3, seq: 1234 })
  })

  it("are about the size asked for, and never less than the head", () => {
    expect(Demo.eventMessage(0, 0, 200).length).toBe(200)
    expect(Demo.eventMessage(12, 99999, 200).length).toBe(200)
    const tiny = Demo.eventMessage(1, 2, 1)
    expect(Demo.parseEventMessage(tiny)).toEqual({ producer: 1, seq: 2 })
    expect(() => JSON.parse(tiny)).not.toThrow()
  })

  it("do not parse other messages", () => {
    expect(Demo.parseEventMessage("competing-writer 42")).toBeUndefined()
    expect(Demo.parseEventMessage("{\"level\":\"INFO\",\"message\":\"hello\"}")).toBeUndefined()
  })
})

describe("analyze", () => {
  const messages = (pairs: ReadonlyArray<readonly [number, number]>) =>
    pairs.map(([p, s]) => Demo.eventMessage(p, s, 60))

  it("finds nothing wrong in a complete, ordered read-back", () => {
    const stored = messages([[0, 0], [1, 0], [0, 1], [1, 1], [0, 2]])
    const a = Demo.analyze([3, 2], stored)
    expect(a).toMatchObject({ sent: 5, stored: 5, lost: 0, duplicates: 0, orderViolations: 0, foreign: 0 })
    expect(a.perProducer.map((t) => t.stored)).toEqual([3, 2])
  })

  it("counts a missing event as lost, for its producer", () => {
    const a = Demo.analyze([3, 2], messages([[0, 0], [0, 2], [1, 0], [1, 1]]))
    expect(a.lost).toBe(1)
    expect(a.perProducer[0]).toMatchObject({ lost: 1, stored: 2 })
    expect(a.perProducer[1]).toMatchObject({ lost: 0, stored: 2 })
  })

  it("counts every extra copy as a duplicate", () => {
    const a = Demo.analyze([2], messages([[0, 0], [0, 1], [0, 1], [0, 1]]))
    expect(a).toMatchObject({ stored: 4, lost: 0, duplicates: 2 })
  })

  it("counts an event stored after a later one of its producer as out of order", () => {
    const a = Demo.analyze([3], messages([[0, 1], [0, 0], [0, 2]]))
    expect(a).toMatchObject({ lost: 0, duplicates: 0, orderViolations: 1 })
  })

  it("keeps other writers' events and unknown sequence numbers apart", () => {
    const stored = [...messages([[0, 0], [0, 5], [7, 0]]), "competing-writer 1"]
    const a = Demo.analyze([1], stored)
    expect(a).toMatchObject({ stored: 1, lost: 0, foreign: 1, unexpected: 2 })
  })

  it("reports everything lost when nothing was stored, and nothing for no producer", () => {
    expect(Demo.analyze([4, 4], [])).toMatchObject({ sent: 8, stored: 0, lost: 8 })
    expect(Demo.analyze([], [])).toMatchObject({ sent: 0, lost: 0 })
  })
})

describe("instrument", () => {
  const failing = (error: CloudWatchLogsApi.PutLogEventsError) => Effect.fail(error)
  const api = (
    put: CloudWatchLogsApi.CloudWatchLogsApiShape["putLogEvents"]
  ): CloudWatchLogsApi.CloudWatchLogsApiShape => ({
    putLogEvents: put,
    createLogGroup: () => Effect.void,
    createLogStream: () => Effect.void,
    deleteLogGroup: () => Effect.void,
    deleteLogStream: () => Effect.void,
    describeLogGroups: () => Effect.succeed({ logGroups: [] }),
    describeLogStreams: () => Effect.succeed({ logStreams: [] }),
    putRetentionPolicy: () => Effect.void,
    deleteRetentionPolicy: () => Effect.void,
    getLogEvents: () => Effect.succeed({ events: [] }),
    filterLogEvents: () => Effect.succeed({ events: [] })
  })
  const request = (n: number) => ({
    logGroupName: "g",
    logStreamName: "s",
    logEvents: Array.from({ length: n }, (_, i) => ({ timestamp: i, message: "m" }))
  })

  it.effect("counts calls, errors and the events each put stored", () =>
    Effect.gen(function*() {
      const stats = Demo.makeCallStats()
      let call = 0
      const wrapped = Demo.instrument(
        api(() => {
          call++
          if (call === 1) return failing(new CloudWatchLogsError.ThrottlingException({ message: "Rate exceeded" }))
          if (call === 2) {
            return failing(
              new CloudWatchLogsError.DataAlreadyAcceptedException({ message: "already", expectedSequenceToken: "1" })
            )
          }
          return Effect.succeed({ rejectedLogEventsInfo: { tooOldLogEventEndIndex: 1, tooNewLogEventStartIndex: 9 } })
        }),
        stats
      )
      const first = yield* Effect.exit(wrapped.putLogEvents(request(10)))
      expect(Exit.isFailure(first)).toBe(true)
      yield* Effect.exit(wrapped.putLogEvents(request(10)))
      yield* wrapped.putLogEvents(request(10))
      yield* wrapped.describeLogStreams({ logGroupName: "g" })
      expect(Demo.countOf(stats.calls, "PutLogEvents")).toBe(3)
      expect(Demo.countOf(stats.calls, "DescribeLogStreams")).toBe(1)
      expect(Demo.countOf(stats.errors, "ThrottlingException")).toBe(1)
      expect(Demo.countOf(stats.errors, "DataAlreadyAcceptedException")).toBe(1)
      // the replay stored its 10 events once; the last put stored 10 - 1 too old - 1 too new
      expect(Demo.countOf(stats.eventsPut, "s")).toBe(18)
    }))
})

describe("display", () => {
  it("shows counts with separators and a percentage of what was stored", () => {
    const line = Demo.progressLine({
      elapsedMillis: 2000,
      handed: 12000,
      total: 20000,
      stored: 10000,
      putCalls: 7,
      errors: 2
    })
    expect(line).toContain("12,000/20,000")
    expect(line).toContain("stored 10,000 (50%)")
    expect(line).toContain("5,000 ev/s")
  })
})

describe("verdict", () => {
  const clean = Demo.analyze([2], [Demo.eventMessage(0, 0, 50), Demo.eventMessage(0, 1, 50)])
  const twice = Demo.analyze([2], [0, 1, 1].map((seq) => Demo.eventMessage(0, seq, 50)))
  const withDuplicates = (n: number): ShipReport.ShipReport => ({ ...ShipReport.empty, possibleDuplicates: n })

  it("is OK when everything was stored once", () => {
    expect(Demo.verdictOf(clean, ShipReport.empty, [])).toMatchObject({ ok: true })
  })

  it("fails on one lost event", () => {
    const lost = Demo.analyze([2], [Demo.eventMessage(0, 0, 50)])
    const v = Demo.verdictOf(lost, ShipReport.empty, [])
    expect(v.ok).toBe(false)
    expect(v.verdict).toContain("1 events lost")
  })

  it("allows as many duplicates as the report flagged as possible, and not one more", () => {
    expect(Demo.verdictOf(twice, withDuplicates(1), [])).toMatchObject({ ok: true })
    expect(Demo.verdictOf(twice, withDuplicates(1), []).verdict).toContain("1 duplicated (each flagged")
    expect(Demo.verdictOf(twice, withDuplicates(0), [])).toMatchObject({ ok: false })
  })

  it("fails when an app log line is missing, and ignores other writers' lines in the app stream", () => {
    expect(Demo.verdictOf(clean, ShipReport.empty, [], { logged: 3, stored: 2 }).verdict).toContain(
      "1 app log lines lost"
    )
    const appLines = Demo.countAppLines(["{\"level\":\"INFO\"}", "competing-writer 3", "{\"level\":\"ERROR\"}"])
    expect(appLines).toBe(2)
    expect(Demo.verdictOf(clean, ShipReport.empty, [], { logged: 2, stored: appLines }).ok).toBe(true)
  })

  it("fails when a producer failed, even if its events were stored", () => {
    expect(Demo.verdictOf(clean, ShipReport.empty, [{ producer: 0, message: "boom" }]).ok).toBe(false)
  })
})

describe("formatSummary", () => {
  it("prints the table, the calls, the token errors and ends with the result line", () => {
    const analysis = Demo.analyze([2, 1], [[0, 0], [1, 0], [0, 1]].map(([p, s]) => Demo.eventMessage(p, s, 50)))
    const text = Demo.formatSummary({
      target: "t",
      destination: "g:s",
      appDestination: "g:s-app",
      elapsedMillis: 1500,
      readBackMillis: 20,
      analysis,
      failures: [],
      report: { ...ShipReport.empty, accepted: 3, retries: 4 },
      appLogs: { logged: 5, stored: 5 },
      calls: { PutLogEvents: 9, DescribeLogStreams: 0 },
      errors: { InvalidSequenceTokenException: 2, DataAlreadyAcceptedException: 1, ThrottlingException: 3 },
      faultsInjected: { Throttling: 3 },
      sequenceTokens: "enforced",
      readError: undefined,
      ok: true,
      verdict: "OK: 3 events sent, 3 stored, 0 lost, 0 duplicated"
    })
    expect(text).toMatch(/total\s+3\s+3\s+0\s+0\s+0/)
    expect(text).toContain("Token errors adopted: 3 (InvalidSequenceToken 2, DataAlreadyAccepted 1)")
    expect(text).toContain("DescribeLogStreams calls: 0")
    expect(text).toContain("4 retries")
    expect(text).toContain("5 logged, 5 stored")
    expect(text.trimEnd().split("\n").at(-1)).toBe("RESULT: OK: 3 events sent, 3 stored, 0 lost, 0 duplicated")
  })
})
