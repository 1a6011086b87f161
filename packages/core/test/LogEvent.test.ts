import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { utf8Length, utf8LengthLoop, utf8PrefixLength } from "../src/internal/utf8.js"
import * as LogEvent from "../src/LogEvent.js"

describe("LogEvent", () => {
  it("counts UTF-8 bytes as the encoder would, lone surrogates as U+FFFD", () => {
    for (const s of ["", "a", "é", "€", "😀", "a😀é€", "\ud800", "x\udc00y", "\ud83d\ude00\ud83d"]) {
      expect(LogEvent.utf8Bytes(s)).toBe(Buffer.byteLength(s, "utf8"))
    }
  })

  it("counts by the encoder path as by the loop: lone surrogates at either end, astral chars, empty", () => {
    const pad = "x".repeat(40) // long enough for the encoder path
    const cases = [
      "",
      "\ud800" + pad,
      pad + "\ud800",
      "\udc00" + pad + "\udbff",
      pad + "\ud83d\ude00",
      "\ud83d\ude00" + pad + "\u{10ffff}",
      "😀".repeat(30),
      "日本語".repeat(20),
      "é".repeat(25) + "\udfff"
    ]
    for (const s of cases) {
      expect(utf8Length(s)).toBe(Buffer.byteLength(s, "utf8"))
      expect(utf8LengthLoop(s)).toBe(Buffer.byteLength(s, "utf8"))
    }
  })

  it("counts strings longer than the scratch buffer, with a pair or a lone surrogate on a chunk's edge", () => {
    const chunk = 16 * 1024
    const cases = [
      "a".repeat(chunk + 1),
      "a".repeat(chunk - 1) + "😀" + "b".repeat(10), // the pair straddles the cut
      "a".repeat(chunk - 1) + "\ud800" + "b".repeat(10), // a lone high surrogate at the cut
      "a".repeat(chunk) + "\udc00" + "b", // a lone low surrogate just past the cut
      "日".repeat(3 * chunk + 7),
      "😀".repeat(chunk + 3) + "\ud83d",
      "\ud83d".repeat(2 * chunk + 1)
    ]
    for (const s of cases) expect(utf8Length(s)).toBe(Buffer.byteLength(s, "utf8"))
  })

  it("counts any string as the encoder would (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (s) => {
        expect(utf8Length(s)).toBe(Buffer.byteLength(s, "utf8"))
        expect(utf8LengthLoop(s)).toBe(Buffer.byteLength(s, "utf8"))
      }),
      { numRuns: 500 }
    )
  })

  it("sizes an event as message bytes + 26", () => {
    expect(LogEvent.size(LogEvent.make(0, "héllo"))).toBe(6 + 26)
  })

  it("never cuts a surrogate pair when taking a UTF-8 prefix", () => {
    const s = "ab😀cd"
    expect(utf8PrefixLength(s, 2)).toBe(2)
    expect(utf8PrefixLength(s, 5)).toBe(2)
    expect(utf8PrefixLength(s, 6)).toBe(4)
    expect(utf8PrefixLength(s, 100)).toBe(s.length)
  })
})
