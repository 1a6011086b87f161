import { describe, expect, it } from "@effect/vitest"
import * as ShipReport from "../src/ShipReport.js"

const orders = { logGroupName: "orders", logStreamName: "api-1" }
const billing = { logGroupName: "billing", logStreamName: "api-1" }

const counts = (accepted: number, tooOld: number): ShipReport.Counts => ({
  ...ShipReport.emptyCounts,
  accepted,
  rejected: { ...ShipReport.emptyCounts.rejected, TooOld: tooOld },
  batches: 1,
  bytes: accepted * 100
})

describe("ShipReport", () => {
  it("combine adds two reports destination by destination, and leaves both as they were", () => {
    const a = ShipReport.add(ShipReport.add(ShipReport.empty, orders, counts(10, 1)), billing, counts(5, 0))
    const b = ShipReport.add(ShipReport.empty, orders, counts(7, 2))
    const sum = ShipReport.combine(a, b)
    expect(sum.accepted).toBe(22)
    expect(sum.rejected.TooOld).toBe(3)
    expect(sum.batches).toBe(3)
    expect(ShipReport.total(sum)).toBe(25)
    expect(sum.perDestination.get("orders\u0000api-1")).toEqual({
      destination: orders,
      ...ShipReport.addCounts(counts(10, 1), counts(7, 2))
    })
    expect(sum.perDestination.get("billing\u0000api-1")).toEqual({ destination: billing, ...counts(5, 0) })
    expect(a.accepted).toBe(15)
    expect(a.perDestination.get("orders\u0000api-1")?.accepted).toBe(10)
    expect(ShipReport.combine(ShipReport.empty, a)).toEqual(a)
    expect(ShipReport.combine(a, ShipReport.empty)).toEqual(a)
  })
})
