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

/** The entries read (their events as plain objects: the reader numbers them), and the counts. */
const readAll = (bytes: Buffer, acked?: format.Ranges) => {
  const { counts, entries } = format.read(bytes, acked)
  const all = [...entries].map(({ destination, event }) => ({
    destination,
    event: { timestamp: event.timestamp, message: event.message }
  }))
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
    expect(readAll(bytes)).toEqual({
      entries: inputs,
      events: inputs.length,
      skipped: 0,
      unreadableBytes: 0,
      tornBytes: 0
    })
  })

  it("a rewrite keeps each event's number (an N record says where it skips): acknowledgements name the same events", () => {
    const inputs = Array.from({ length: 10 }, (_, i) => ({
      destination: i < 5 ? orders : billing,
      event: { timestamp: i, message: `m${i}` }
    }))
    const original = encodeAll(inputs).bytes
    const acked: format.Ranges = [[0, 2], [4, 5], [7, 8]]
    const numbered = (bytes: Buffer, ranges: format.Ranges = []) =>
      [...format.read(bytes, ranges).entries].map(({ event }) => [
        event.message,
        event instanceof format.SpoolEvent ? event.record : -1
      ])
    // the events not acknowledged, rewritten with their numbers
    const kept = [...format.read(original, acked).entries].map(({ destination, event }) => ({
      destination,
      event,
      record: event instanceof format.SpoolEvent ? event.record : undefined
    }))
    const rewrite = encodeAll(kept).bytes
    expect(numbered(rewrite)).toEqual(numbered(original, acked))
    // the acknowledgements of the segment skip nothing more in the rewrite, and later ones name the same
    expect(numbered(rewrite, acked)).toEqual(numbered(rewrite))
    expect(numbered(rewrite, [[5, 7]]).map(([m]) => m)).toEqual(["m2", "m3", "m8", "m9"])
    expect(readAll(rewrite)).toMatchObject({ events: 6, skipped: 0, unreadableBytes: 0, tornBytes: 0 })
    // gaps only: no number record where the numbers follow on
    const plain = encodeAll(inputs.map((input, i) => ({ ...input, record: i }))).bytes
    expect(plain.equals(original)).toBe(true)
  })

  it("a number record that goes back, or is not 4 bytes, makes the rest unreadable", () => {
    const head = encodeAll([
      { destination: orders, event: { timestamp: 1, message: "a" }, record: 5 },
      { destination: orders, event: { timestamp: 2, message: "b" } }
    ]).bytes
    const record = (length: number, value: number) => {
      const out = Buffer.alloc(5 + length)
      out[0] = 0x4e
      out.writeUInt32LE(length, 1)
      if (length >= 4) out.writeUInt32LE(value, 5)
      return out
    }
    const event = encodeAll([{ destination: orders, event: { timestamp: 3, message: "c" } }], {
      ...format.encoder(),
      started: true,
      last: JSON.stringify(orders)
    }).bytes
    const back = Buffer.concat([head, record(4, 6), event])
    expect(readAll(back)).toMatchObject({ events: 2, unreadableBytes: back.length - head.length })
    const odd = Buffer.concat([head, record(3, 0), event])
    expect(readAll(odd)).toMatchObject({ events: 2, unreadableBytes: odd.length - head.length })
    const ahead = Buffer.concat([head, record(4, 9), event])
    expect(readAll(ahead)).toMatchObject({ events: 3, unreadableBytes: 0 })
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
      expect(readAll(whole.subarray(0, cut))).toEqual({
        entries: [],
        events: 0,
        skipped: 0,
        unreadableBytes: 0,
        tornBytes: cut
      })
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

  it("a record whose length was damaged in the middle is unreadable (the segment kept), not a torn tail", () => {
    const inputs = Array.from({ length: 1_000 }, (_, i) => ({
      destination: orders,
      event: { timestamp: i, message: `{"seq":${i},"text":"an ordinary line"}` }
    }))
    const { bytes } = encodeAll(inputs)
    const whole = readAll(bytes)
    expect(whole.events).toBe(1_000)
    // the 11th event's length: its high byte set, as a bad sector or a stray write would
    const damaged = Buffer.from(bytes)
    const eleventh = encodeAll(inputs.slice(0, 10)).bytes.length
    expect(damaged[eleventh]).toBe(0x45) // "E"
    damaged[eleventh + 4] = 0x7f
    const read = readAll(damaged)
    expect(read.events).toBe(10)
    expect(read.tornBytes).toBe(0)
    expect(read.unreadableBytes).toBe(bytes.length - eleventh)
    // a last write cut off in its last record stays torn
    const cut = readAll(bytes.subarray(0, bytes.length - 5))
    expect(cut).toMatchObject({ events: 999, unreadableBytes: 0 })
    expect(cut.tornBytes).toBeGreaterThan(0)
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
    const names = [
      "000000000010.seg",
      "cwlogs-spool.lock",
      "000000000002.seg",
      "x.seg",
      "000000000003.seg.unreadable",
      "000000000002.seg.acks"
    ]
    expect(format.segments(names).map((s) => s.seq)).toEqual([2, 10])
    expect(format.acksOf("/d/000000000002.seg")).toBe("/d/000000000002.seg.acks")
    expect(names.map(format.acksSegment).filter((n) => n !== undefined)).toEqual(["000000000002.seg"])
  })

  describe("acknowledgements", () => {
    const inputs = Array.from(
      { length: 10 },
      (_, i) => ({ destination: orders, event: { timestamp: i, message: `m${i}` } })
    )
    const messages = (read: ReturnType<typeof readAll>) => read.entries.map((e) => e.event.message)

    it("name runs of events, in any order and with repeats; a reader skips exactly those", () => {
      const acks = Buffer.concat([format.encodeAcks([7, 2, 3, 2, 4]), format.encodeAcks([9])])
      // two entries for [2, 5) and [7, 8), one for [9, 10)
      expect(acks.length).toBe(36)
      const { acked, end } = format.readAcks(acks)
      expect(acked).toEqual([[2, 5], [7, 8], [9, 10]])
      expect(end).toBe(36)
      const read = readAll(encodeAll(inputs).bytes, acked)
      expect(messages(read)).toEqual(["m0", "m1", "m5", "m6", "m8"])
      expect(read).toMatchObject({ events: 5, skipped: 5 })
      // the events read carry their number among the segment's events
      const numbers = [...format.read(encodeAll(inputs).bytes, acked).entries].map((e) =>
        e.event instanceof format.SpoolEvent ? e.event.record : -1
      )
      expect(numbers).toEqual([0, 1, 5, 6, 8])
    })

    it("ranges that overlap or touch are merged; entries past the segment's events skip nothing", () => {
      const acks = Buffer.concat([format.encodeAcks([0, 1, 2]), format.encodeAcks([2, 3]), format.encodeAcks([40])])
      expect(format.readAcks(acks).acked).toEqual([[0, 4], [40, 41]])
      expect(messages(readAll(encodeAll(inputs).bytes, format.readAcks(acks).acked))).toEqual(
        inputs.slice(4).map((i) => i.event.message)
      )
    })

    it("a torn last entry, zeros and a damaged entry name nothing; the next entry goes over the torn one", () => {
      const whole = format.encodeAcks([0, 1])
      const torn = Buffer.concat([whole, format.encodeAcks([5]).subarray(0, 7)])
      expect(format.readAcks(torn)).toEqual({ acked: [[0, 2]], sent: [], end: 12 })
      // a machine crash after the file grew but before its blocks were written: zeros name nothing
      expect(format.readAcks(Buffer.alloc(24)).acked).toEqual([])
      const damaged = Buffer.from(format.encodeAcks([3]))
      damaged[0] ^= 1 // first 3 becomes 2: the check no longer matches
      expect(format.readAcks(Buffer.concat([whole, damaged])).acked).toEqual([[0, 2]])
      expect(format.readAcks(new Uint8Array(0))).toEqual({ acked: [], sent: [], end: 0 })
    })

    /** An entry as three 32-bit little-endian words. */
    const entry = (first: number, count: number, check: number) => {
      const out = Buffer.alloc(12)
      out.writeUInt32LE(first, 0)
      out.writeUInt32LE(count, 4)
      out.writeUInt32LE(check >>> 0, 8)
      return out
    }

    it("a file written before sent entries existed reads as it did: acknowledgements only, nothing sent", () => {
      // the bytes the first version wrote for encodeAcks([0, 1, 2]), encodeAcks([5]) and a torn entry
      const old = Buffer.concat([
        entry(0, 3, 0 ^ 3 ^ 0x5a17c0de),
        entry(5, 1, 5 ^ 1 ^ 0x5a17c0de),
        Buffer.from([7, 0, 0])
      ])
      expect(Buffer.from(format.encodeAcks([0, 1, 2]))).toEqual(old.subarray(0, 12))
      expect(format.readAcks(old)).toEqual({ acked: [[0, 3], [5, 6]], sent: [], end: 24 })
      expect(messages(readAll(encodeAll(inputs).bytes, format.readAcks(old).acked))).toEqual(
        ["m3", "m4", "m6", "m7", "m8", "m9"]
      )
    })

    it("sent entries: the last one of an event holds, an acknowledgement overrides it, 0 takes it out", () => {
      const acks = Buffer.concat([
        format.encodeSent([0, 1, 2, 3], 1),
        format.encodeAcks([0, 1]), // answered: stored
        format.encodeSent([4, 5, 6], 1),
        format.encodeSent([5, 6], 0), // answered: not stored (throttled, refused)
        format.encodeSent([7, 8, 9], 1),
        format.encodeSent([8], 2), // an answer lost, then the put sent again
        format.encodeSent([2], 3)
      ])
      const read = format.readAcks(acks)
      expect(read.acked).toEqual([[0, 2]])
      expect(read.sent).toEqual([[2, 3, 3], [3, 4, 1], [4, 5, 1], [7, 8, 1], [8, 9, 2], [9, 10, 1]])
      expect(read.end).toBe(acks.length)
      expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => format.copiesOf(read.sent, n))).toEqual(
        [0, 0, 3, 1, 1, 0, 0, 1, 2, 1, 0]
      )
      // sent entries name no event as done: a reader skips only the acknowledged ones
      expect(messages(readAll(encodeAll(inputs).bytes, read.acked))).toEqual(
        inputs.slice(2).map((i) => i.event.message)
      )
      // more copies than a byte holds are said as the most it holds
      expect(format.readAcks(format.encodeSent([0], 1_000)).sent).toEqual([[0, 1, format.MAX_COPIES]])
    })

    it("a reader that predates sent entries ignores them: they do not check as acknowledgements", () => {
      // the first version's rule, as it was
      const oldReader = (bytes: Buffer) => {
        const acked: Array<[number, number]> = []
        for (let at = 0; at + 12 <= bytes.length; at += 12) {
          const first = bytes.readUInt32LE(at)
          const count = bytes.readUInt32LE(at + 4)
          if (count > 0 && bytes.readUInt32LE(at + 8) === ((first ^ count ^ 0x5a17c0de) >>> 0)) {
            acked.push([first, first + count])
          }
        }
        return acked
      }
      const copies = Array.from({ length: format.MAX_COPIES + 1 }, (_, c) => c)
      const sent = Buffer.concat(copies.map((c) => format.encodeSent([c, c + 1, c + 7], c)))
      expect(oldReader(sent)).toEqual([])
      expect(oldReader(Buffer.concat([sent, format.encodeAcks([3])]))).toEqual([[3, 4]])
      // and this reader takes no acknowledgement for a sent entry, nor the reverse
      expect(format.readAcks(sent).acked).toEqual([])
      expect(format.readAcks(format.encodeAcks([1, 2])).sent).toEqual([])
    })

    it("a torn, zeroed or damaged sent entry says nothing", () => {
      const whole = format.encodeSent([0, 1], 1)
      const torn = Buffer.concat([whole, format.encodeSent([5], 1).subarray(0, 7)])
      expect(format.readAcks(torn)).toEqual({ acked: [], sent: [[0, 2, 1]], end: 12 })
      const damaged = Buffer.from(format.encodeSent([3], 1))
      damaged[4] ^= 2 // count 1 becomes 3: the check no longer matches
      expect(format.readAcks(Buffer.concat([whole, damaged, Buffer.alloc(12)])).sent).toEqual([[0, 2, 1]])
    })
  })
})
