import { describe, expect, it } from "@effect/vitest"
import { utf8PrefixLength } from "../src/internal/utf8.js"
import * as LogEvent from "../src/LogEvent.js"

describe("LogEvent", () => {
  it("counts UTF-8 bytes as the encoder would, lone surrogates as U+FFFD", () => {
    for (const s of ["", "a", "é", "€", "😀", "a😀é€", "\ud800", "x\udc00y", "\ud83d\ude00\ud83d"]) {
      expect(LogEvent.utf8Bytes(s)).toBe(Buffer.byteLength(s, "utf8"))
    }
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
