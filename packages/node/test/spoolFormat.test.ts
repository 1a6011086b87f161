import type { Destination, ShipReport } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as format from "../src/internal/spoolFormat.js"

const orders: Destination.Destination = { logGroupName: "orders", logStreamName: "api-1" }
const billing: Destination.Destination = {
  logGroupName: "billing",
  logStreamName: "api/2",
  createGroup: false,
  retentionInDays: 30
}

const encodeAll = (inputs: ReadonlyArray<format.Input>) => {
  const rejected: Array<[string, ShipReport.RejectionReason]> = []
  const text = format.encode(format.encoder(), inputs, (d, reason) => rejected.push([d.logStreamName, reason]))
  return { text, rejected }
}

describe("the spool's segment format", () => {
  it("round-trips events, destinations with their options, and any message JSON can carry", () => {
    const hard = [
      "plain",
      "line\nbreak",
      "quote \" and \\ backslash",
      "é😀",
      "\ud800 lone",
      "\u0000 nul",
      " ".repeat(3)
    ]
    const inputs = hard.flatMap((message, i) => [
      { destination: orders, event: { timestamp: 1_700_000_000_000 + i, message } },
      { destination: billing, event: { timestamp: i, message } }
    ])
    const { rejected, text } = encodeAll(inputs)
    expect(rejected).toEqual([])
    const decoded = format.decode(text)
    expect(decoded).toEqual({ entries: inputs, unreadable: 0, tornBytes: 0 })
    // one line per event, one per change of destination
    expect(text.split("\n").length - 1).toBe(inputs.length * 2)
  })

  it("writes a destination once while it does not change, also across writes to one segment", () => {
    const encoder = format.encoder()
    const ignore = () => {}
    const a = format.encode(encoder, [{ destination: orders, event: { timestamp: 1, message: "a" } }], ignore)
    const b = format.encode(encoder, [{ destination: orders, event: { timestamp: 2, message: "b" } }], ignore)
    expect(a).toBe(`{"g":"orders","s":"api-1"}\n[1,"a"]\n`)
    expect(b).toBe(`[2,"b"]\n`)
    expect(format.decode(a + b).entries.map((e) => e.event.message)).toEqual(["a", "b"])
  })

  it("refuses what JSON would change, with the validator's reason, and writes the rest", () => {
    const bad: ReadonlyArray<unknown> = [
      null,
      "a string",
      { timestamp: Number.NaN, message: "x" },
      { timestamp: Infinity, message: "x" },
      { timestamp: "1", message: "x" },
      { timestamp: 1, message: 42 },
      { timestamp: 1 },
      { timestamp: undefined, message: undefined }
    ]
    const { rejected, text } = encodeAll([
      ...bad.map((event) => ({ destination: orders, event })),
      { destination: orders, event: { timestamp: 5, message: "kept" } }
    ])
    expect(rejected.map(([, reason]) => reason)).toEqual([
      "InvalidMessage",
      "InvalidMessage",
      "InvalidTimestamp",
      "InvalidTimestamp",
      "InvalidTimestamp",
      "InvalidMessage",
      "InvalidMessage",
      "InvalidTimestamp"
    ])
    // what the validator judges later (negative, fractional, empty) is written as it is
    const later = encodeAll([
      { destination: orders, event: { timestamp: -1, message: "" } },
      { destination: orders, event: { timestamp: 1.5, message: "x" } }
    ])
    expect(later.rejected).toEqual([])
    expect(format.decode(later.text).entries.map((e) => e.event)).toEqual([
      { timestamp: -1, message: "" },
      { timestamp: 1.5, message: "x" }
    ])
    expect(format.decode(text).entries.map((e) => e.event.message)).toEqual(["kept"])
  })

  it("ignores a torn last write, at any byte, and counts its bytes", () => {
    const { text } = encodeAll([
      { destination: orders, event: { timestamp: 1, message: "first" } },
      { destination: orders, event: { timestamp: 2, message: "second é😀" } }
    ])
    const whole = Buffer.from(text)
    const firstEnd = text.indexOf("\n", text.indexOf("[1,")) + 1
    expect(format.decode(text.slice(0, firstEnd)).tornBytes).toBe(0)
    for (let cut = firstEnd + 1; cut < whole.length; cut++) {
      const decoded = format.decode(whole.subarray(0, cut).toString("utf8"))
      expect(decoded.entries.map((e) => e.event.message)).toEqual(["first"])
      expect(decoded.unreadable).toBe(0)
      expect(decoded.tornBytes).toBeGreaterThan(0)
    }
    expect(format.decode(text).entries).toHaveLength(2)
  })

  it("counts complete lines it cannot read, and an event before any destination", () => {
    const text = `[1,"orphan"]\n{"g":"orders","s":"api-1"}\n[2,"ok"]\nnot json\n[3]\n{"g":1}\n[4,"also ok"]\n`
    const decoded = format.decode(text)
    expect(decoded.entries.map((e) => e.event.message)).toEqual(["ok", "also ok"])
    expect(decoded.unreadable).toBe(4)
  })

  it("names segments so that names sort as numbers, and finds them among other files", () => {
    expect(format.segmentName(7)).toBe("000000000007.ndjson")
    expect(format.segmentSeq("000000000007.ndjson")).toBe(7)
    expect(format.segmentSeq("000000000007.ndjson.tmp")).toBeUndefined()
    expect(format.isTemporary("000000000007.ndjson.tmp")).toBe(true)
    const names = [
      "000000000010.ndjson",
      "cwlogs-spool.lock",
      "000000000002.ndjson",
      "x.ndjson",
      "000000000003.ndjson.unreadable"
    ]
    expect(format.segments(names).map((s) => s.seq)).toEqual([2, 10])
  })
})
