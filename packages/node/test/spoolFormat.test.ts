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

const encodeAll = (inputs: ReadonlyArray<format.Input>, encoder = format.encoder()) => {
  const rejected: Array<[string, ShipReport.RejectionReason]> = []
  // a copy: the encoder's buffer is reused by its next encode
  const bytes = Buffer.from(format.encode(encoder, inputs, (d, reason) => rejected.push([d.logStreamName, reason])))
  return { bytes, rejected }
}

const readAll = (bytes: Buffer) => {
  const { counts, entries } = format.read(bytes)
  const all = [...entries]
  return { entries: all, ...counts }
}

describe("the spool's segment format", () => {
  it("round-trips events, destinations with their options, and any message", () => {
    const hard = [
      "plain",
      "line\nbreak",
      "quote \" and \\ backslash",
      "é😀",
      "\u0000 nul",
      " ".repeat(3),
      "x".repeat(300_000)
    ]
    const inputs = hard.flatMap((message, i) => [
      { destination: orders, event: { timestamp: 1_700_000_000_000 + i, message } },
      { destination: billing, event: { timestamp: i + 0.5, message } }
    ])
    const { bytes, rejected } = encodeAll(inputs)
    expect(rejected).toEqual([])
    expect(bytes.subarray(0, format.MAGIC.length).toString()).toBe("cwlogs-spool/1\n")
    expect(readAll(bytes)).toEqual({ entries: inputs, events: inputs.length, unreadableBytes: 0, tornBytes: 0 })
  })

  it("writes a lone surrogate as U+FFFD, as the service stores it", () => {
    const { bytes } = encodeAll([{ destination: orders, event: { timestamp: 1, message: "a\ud800b" } }])
    expect(readAll(bytes).entries[0]?.event.message).toBe("a\ufffdb")
  })

  it("writes the magic and a destination once, also across writes to one segment", () => {
    const encoder = format.encoder()
    const a = encodeAll([{ destination: orders, event: { timestamp: 1, message: "a" } }], encoder).bytes
    const b = encodeAll([{ destination: orders, event: { timestamp: 2, message: "b" } }], encoder).bytes
    const c = encodeAll([{ destination: billing, event: { timestamp: 3, message: "c" } }], encoder).bytes
    // b: one event record, no magic, no destination: type, length, timestamp, message
    expect(b.length).toBe(13 + 1)
    expect(b[0]).toBe(0x45)
    expect(c[0]).toBe(0x44)
    const all = readAll(Buffer.concat([a, b, c]))
    expect(all.entries.map((e) => [e.destination.logGroupName, e.event.message])).toEqual([
      ["orders", "a"],
      ["orders", "b"],
      ["billing", "c"]
    ])
  })

  it("refuses what the service refuses whenever it is sent, with the validator's reason, and writes the rest", () => {
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
    const { bytes, rejected } = encodeAll([
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
    expect(readAll(bytes).entries.map((e) => e.event.message)).toEqual(["kept"])
    // what the validator judges later (negative, fractional, empty) is written as it is
    const later = encodeAll([
      { destination: orders, event: { timestamp: -1, message: "" } },
      { destination: orders, event: { timestamp: 1.5, message: "x" } }
    ])
    expect(later.rejected).toEqual([])
    expect(readAll(later.bytes).entries.map((e) => e.event)).toEqual([
      { timestamp: -1, message: "" },
      { timestamp: 1.5, message: "x" }
    ])
  })

  it("ignores a write cut off at any byte, and zeros after the last record, and counts their bytes", () => {
    const encoder = format.encoder()
    const first = encodeAll([{ destination: orders, event: { timestamp: 1, message: "first" } }], encoder).bytes
    const second = encodeAll([{ destination: billing, event: { timestamp: 2, message: "second é😀" } }], encoder).bytes
    const whole = Buffer.concat([first, second])
    for (let cut = first.length + 1; cut < whole.length; cut++) {
      const read = readAll(whole.subarray(0, cut))
      expect(read.entries.map((e) => e.event.message)).toEqual(["first"])
      expect(read.unreadableBytes).toBe(0)
      // the cut record's bytes (the destination record before it is whole from its last byte on)
      const destinationRecord = second.length - 13 - Buffer.byteLength("second é😀")
      const complete = cut >= first.length + destinationRecord ? destinationRecord : 0
      expect(read.tornBytes).toBe(cut - first.length - complete)
    }
    // a crash that cut the magic itself, or left an empty file
    for (let cut = 0; cut < format.MAGIC.length; cut++) {
      expect(readAll(whole.subarray(0, cut))).toEqual({ entries: [], events: 0, unreadableBytes: 0, tornBytes: cut })
    }
    const zeros = readAll(Buffer.concat([whole, Buffer.alloc(4096)]))
    expect(zeros).toMatchObject({ events: 2, unreadableBytes: 0, tornBytes: 4096 })
  })

  it("counts what is not a segment, or not a record, as unreadable from there on", () => {
    const { bytes } = encodeAll([
      { destination: orders, event: { timestamp: 1, message: "ok" } },
      { destination: orders, event: { timestamp: 2, message: "also ok" } }
    ])
    const json = Buffer.from("{\"g\":\"orders\"}\n[1,\"x\"]\n")
    expect(readAll(json)).toMatchObject({ events: 0, unreadableBytes: json.length })
    const damaged = Buffer.concat([bytes, Buffer.from("garbage")])
    expect(readAll(damaged)).toMatchObject({ events: 2, unreadableBytes: 7, tornBytes: 0 })
    // an event record before any destination
    const orphan = Buffer.from(bytes)
    orphan.set(bytes.subarray(bytes.length - 20), format.MAGIC.length)
    expect(readAll(orphan.subarray(0, format.MAGIC.length + 20))).toMatchObject({ events: 0, unreadableBytes: 20 })
  })

  it("reads events one by one as they are asked for", () => {
    const inputs = Array.from(
      { length: 5 },
      (_, i) => ({ destination: orders, event: { timestamp: i, message: `m${i}` } })
    )
    const { counts, entries } = format.read(encodeAll(inputs).bytes)
    const it = entries[Symbol.iterator]()
    it.next()
    it.next()
    expect(counts.events).toBe(2)
  })

  it("names segments so that names sort as numbers, and finds them among other files", () => {
    expect(format.segmentName(7)).toBe("000000000007.seg")
    expect(format.segmentSeq("000000000007.seg")).toBe(7)
    expect(format.segmentSeq("000000000007.seg.tmp")).toBeUndefined()
    expect(format.isTemporary("000000000007.seg.tmp")).toBe(true)
    const names = ["000000000010.seg", "cwlogs-spool.lock", "000000000002.seg", "x.seg", "000000000003.seg.unreadable"]
    expect(format.segments(names).map((s) => s.seq)).toEqual([2, 10])
  })
})
