/**
 * The harness's counting: message identities, the tally of lost, duplicated and reordered events, the
 * table and its closing line. A suite that miscounts would pass a library that loses events.
 */
import { describe, expect, it } from "vitest"
import * as Analyze from "../internal/analyze.js"
import * as Messages from "../internal/messages.js"
import * as Table from "../internal/table.js"

const m = (producer: string, seq: number) => Messages.format(producer, seq)

describe("messages", () => {
  it("round-trips the identity, as sent and inside the logger's JSON document", () => {
    for (const seq of [0, 1, 7, 123_456]) {
      const message = m("p3", seq)
      expect(Messages.parse(message)).toEqual({ producer: "p3", seq })
      expect(Messages.parse(JSON.stringify({ level: "INFO", message }))).toEqual({ producer: "p3", seq })
    }
  })

  it("does not mistake other writers' events or a longer number for an identity", () => {
    expect(Messages.parse("competing-writer 4")).toBeUndefined()
    expect(Messages.parse("chaos producer=p1 seq=12x")).toBeUndefined()
    expect(Messages.parse("chaos producer=p1 seq=12")).toEqual({ producer: "p1", seq: 12 })
  })
})

describe("tally", () => {
  const expect2 = new Map([["a", 3], ["b", 2]])

  it("everything once, in order: nothing lost, duplicated or reordered", () => {
    const t = Analyze.tally([m("a", 0), m("b", 0), m("a", 1), m("b", 1), m("a", 2)], expect2)
    expect(t).toMatchObject({ expected: 5, stored: 5, lost: 0, duplicated: 0, orderViolations: 0, foreign: 0 })
  })

  it("counts a missing event as lost and names it", () => {
    const t = Analyze.tally([m("a", 0), m("a", 2), m("b", 0), m("b", 1)], expect2)
    expect(t.lost).toBe(1)
    expect(t.lostSample).toEqual([{ producer: "a", seq: 1 }])
  })

  it("counts copies beyond the first as duplicates, and not as reordering", () => {
    const t = Analyze.tally([m("a", 0), m("a", 1), m("a", 0), m("a", 1), m("a", 2), m("b", 0), m("b", 1)], expect2)
    expect(t.duplicated).toBe(2)
    expect(t.orderViolations).toBe(0)
    expect(t.lost).toBe(0)
  })

  it("counts an event stored after a later one of the same producer as an order violation", () => {
    const t = Analyze.tally([m("a", 1), m("a", 0), m("a", 2), m("b", 1), m("b", 0)], expect2)
    expect(t.orderViolations).toBe(2)
  })

  it("keeps other writers and events beyond a producer's count apart", () => {
    const t = Analyze.tally(
      [m("a", 0), m("a", 1), m("a", 2), m("a", 3), m("competitor", 0), "competing-writer 1", m("b", 0), m("b", 1)],
      expect2
    )
    expect(t.foreign).toBe(2)
    expect(t.unexpected).toBe(1)
    expect(t.lost).toBe(0)
  })

  it("a producer with nothing stored loses everything it should have", () => {
    const t = Analyze.tally([m("a", 0), m("a", 1), m("a", 2)], expect2)
    expect(t.lost).toBe(2)
    expect(t.expected).toBe(5)
  })

  it("adds tallies of several streams", () => {
    const x = Analyze.tally([m("a", 0)], new Map([["a", 2]]))
    const y = Analyze.tally([m("a", 0), m("a", 0)], new Map([["a", 1]]))
    expect(Analyze.addTally(x, y)).toMatchObject({ expected: 3, stored: 3, lost: 1, duplicated: 1 })
  })
})

describe("table", () => {
  const row = (scenario: string, passed: boolean): Table.Row => ({
    scenario,
    events: 10,
    stored: 10,
    lost: passed ? 0 : 1,
    duplicated: 0,
    orderViolations: 0,
    retries: 2,
    possibleDuplicates: 0,
    seconds: 1.25,
    passed,
    notes: passed ? [] : ["1 events lost"]
  })

  it("ends with `N passed, N failed`", () => {
    const text = Table.render([row("one", true), row("two", false)])
    expect(text.split("\n").at(-1)).toBe("1 passed, 1 failed")
    expect(text).toContain("two: 1 events lost")
    expect(text).toMatch(/one\s+10\s+10\s+0\s+0\s+0\s+2\s+0\s+1\.3 s\s+PASS/)
  })

  it("renders Markdown with one row per scenario", () => {
    const md = Table.markdown([row("one", true)]).split("\n")
    expect(md).toHaveLength(3)
    expect(md[2]).toBe("| one | 10 | 10 | 0 | 0 | 0 | 2 | 0 | 1.3 s | PASS |")
  })
})
