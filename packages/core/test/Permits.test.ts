import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as TestClock from "effect/TestClock"
import { Permits } from "../src/internal/permits.js"

/** `n` tasks asking in turn (each forked after the previous one is queued), each holding its permit a while. */
const contend = (permits: Permits, n: number, hold: Effect.Effect<void> = Effect.sleep(10)) =>
  Effect.gen(function*() {
    const order: Array<number> = []
    let inside = 0
    let most = 0
    const task = (i: number) =>
      permits.withPermit(Effect.gen(function*() {
        inside++
        most = Math.max(most, inside)
        order.push(i)
        yield* hold
        inside--
      }))
    const fibers: Array<Fiber.RuntimeFiber<void>> = []
    for (let i = 0; i < n; i++) {
      fibers.push(yield* Effect.fork(task(i)))
      yield* Effect.yieldNow()
    }
    yield* TestClock.adjust(10 * n)
    yield* Fiber.joinAll(fibers)
    return { order, most }
  })

describe("Permits: upload slots served first come, first served", () => {
  it.effect("one permit: one holder at a time, in the order they came", () =>
    Effect.gen(function*() {
      const { most, order } = yield* contend(new Permits(1), 20)
      expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i))
      expect(most).toBe(1)
    }))

  it.effect("n permits: never more than n holders; 5,000 waiters all served once, in order", () =>
    Effect.gen(function*() {
      const permits = new Permits(4)
      const { most, order } = yield* contend(permits, 5_000, Effect.repeatN(Effect.yieldNow(), 3))
      expect(order).toEqual(Array.from({ length: 5_000 }, (_, i) => i))
      expect(most).toBe(4)
      expect(permits.available()).toBe(4)
      expect(permits.waiting()).toBe(0)
    }))

  it.effect("a newcomer does not overtake a waiter the permit was released to", () =>
    Effect.gen(function*() {
      const permits = new Permits(1)
      const order: Array<string> = []
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(permits.withPermit(Deferred.await(gate)))
      yield* Effect.yieldNow()
      const waiter = yield* Effect.fork(permits.withPermit(Effect.sync(() => void order.push("waiter"))))
      yield* Effect.yieldNow()
      expect(permits.waiting()).toBe(1)
      // The holder releases when it next runs; the newcomer is forked before that and runs right after it.
      yield* Deferred.succeed(gate, undefined)
      const newcomer = yield* Effect.fork(permits.withPermit(Effect.sync(() => void order.push("newcomer"))))
      yield* Fiber.joinAll([holder, waiter, newcomer])
      expect(order).toEqual(["waiter", "newcomer"])
    }))

  it.effect("an interrupted waiter leaves the queue; an interrupted holder releases", () =>
    Effect.gen(function*() {
      const permits = new Permits(1)
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(permits.withPermit(Deferred.await(gate)))
      yield* Effect.yieldNow()
      const waiter = yield* Effect.fork(permits.withPermit(Effect.succeed("waiter")))
      const third = yield* Effect.fork(permits.withPermit(Effect.succeed("third")))
      yield* Effect.yieldNow()
      expect(permits.waiting()).toBe(2)
      yield* Fiber.interrupt(waiter)
      expect(permits.waiting()).toBe(1)
      yield* Fiber.interrupt(holder)
      expect(yield* Fiber.join(third)).toBe("third")
      expect(permits.available()).toBe(1)
    }))

  it.effect("a waiter interrupted as the permit is handed to it passes the permit on", () =>
    Effect.gen(function*() {
      const permits = new Permits(1)
      yield* permits.take
      const ran: Array<string> = []
      const first = yield* Effect.fork(permits.withPermit(Effect.sync(() => ran.push("first"))))
      const second = yield* Effect.fork(permits.withPermit(Effect.sync(() => ran.push("second"))))
      yield* Effect.yieldNow()
      expect(permits.waiting()).toBe(2)
      // Handed to `first` (its turn is done), which is interrupted before it runs again.
      permits.unsafeRelease()
      yield* Fiber.interrupt(first)
      yield* Fiber.join(second)
      expect(ran).toEqual(["second"])
      expect(permits.available()).toBe(1)
      expect(permits.waiting()).toBe(0)
    }))

  it.effect("a failure or a defect inside releases the permit", () =>
    Effect.gen(function*() {
      const permits = new Permits(1)
      yield* Effect.either(permits.withPermit(Effect.fail("boom")))
      yield* Effect.exit(permits.withPermit(Effect.die("defect")))
      expect(yield* permits.withPermit(Effect.succeed(1))).toBe(1)
      expect(permits.available()).toBe(1)
    }))

  it("at least one permit, whole numbers only; Infinity is no limit", () => {
    expect(new Permits(0).total).toBe(1)
    expect(new Permits(Number.NaN).total).toBe(1)
    expect(new Permits(2.7).total).toBe(2)
    expect(new Permits(Infinity).available()).toBe(Infinity)
  })
})
