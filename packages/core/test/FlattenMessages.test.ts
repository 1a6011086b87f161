import { describe, expect, it } from "@effect/vitest"
import * as V8 from "node:v8"
import * as Vm from "node:vm"
import { flattenMessages } from "../src/internal/utf8.js"

// A full collection on demand, to compare what the heap retains.
V8.setFlagsFromString("--expose-gc")
const gc: () => void = Vm.runInNewContext("gc")

const used = (): number => {
  gc()
  gc()
  return V8.getHeapStatistics().used_heap_size
}

// A line built by concatenation, as applications build them: a rope of its pieces until first read.
const rope = (i: number) =>
  `{"level":"info","seq":${i},"requestId":"req-${(i * 2654435761 >>> 0).toString(16)}","path":"/api/${
    i % 10007
  }","user":"user-${i % 8191}"}`

describe("flattenMessages (events waiting in a buffer at their flat size)", () => {
  it("reads the string message of every event and nothing else", () => {
    const inputs: ReadonlyArray<unknown> = [
      { timestamp: 1, message: "a" },
      { timestamp: 1, message: "" },
      { timestamp: 1, message: 42 },
      "not an event",
      null,
      { timestamp: 1 }
    ]
    expect(flattenMessages(inputs)).toBe(1)
  })

  it("makes a buffer of messages built by concatenation take less than two thirds of their memory", () => {
    const n = 20_000
    const base = used()
    const events = Array.from({ length: n }, (_, i) => ({ timestamp: i, message: rope(i) }))
    const asRopes = used() - base
    expect(flattenMessages(events)).toBe(n)
    const flat = used() - base
    expect(flat).toBeLessThan(asRopes * 2 / 3)
    expect(events[n - 1].message).toBe(rope(n - 1))
  })
})
