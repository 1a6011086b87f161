import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Destination from "../src/Destination.js"
import * as SequenceTokenStore from "../src/SequenceTokenStore.js"

const A = Destination.make("orders", "api-1")

describe("SequenceTokenStore", () => {
  it.effect("memory: set, get, invalidate per destination", () =>
    Effect.gen(function*() {
      const store = yield* SequenceTokenStore.SequenceTokenStore.pipe(Effect.provide(SequenceTokenStore.layerMemory))
      expect(yield* store.get(A)).toEqual(Option.none())
      yield* store.set(A, "111")
      yield* store.set(A, "222")
      expect(yield* store.get(A)).toEqual(Option.some("222"))
      expect(yield* store.get(Destination.make("orders", "api-2"))).toEqual(Option.none())
      yield* store.invalidate(A)
      expect(yield* store.get(A)).toEqual(Option.none())
      yield* store.invalidate(A) // twice is fine
    }))

  it.effect("memory: options of a destination do not change its key; names that join alike do not collide", () =>
    Effect.gen(function*() {
      const store = yield* SequenceTokenStore.makeMemory
      yield* store.set(A, "1")
      expect(yield* store.get({ ...A, createGroup: false, retentionInDays: 7 })).toEqual(Option.some("1"))
      yield* store.set(Destination.make("a/b", "c"), "x")
      yield* store.set(Destination.make("a", "b/c"), "y")
      expect(yield* store.get(Destination.make("a/b", "c"))).toEqual(Option.some("x"))
      expect(yield* store.get(Destination.make("a", "b/c"))).toEqual(Option.some("y"))
    }))

  it("storageKey percent-encodes both names", () => {
    expect(SequenceTokenStore.storageKey(Destination.make("/aws/lambda/f", "2026/01/01/[$LATEST]ab")))
      .toBe("cwlogs/token/%2Faws%2Flambda%2Ff/2026%2F01%2F01%2F%5B%24LATEST%5Dab")
    expect(SequenceTokenStore.storageKey(Destination.make("a/b", "c")))
      .not.toBe(SequenceTokenStore.storageKey(Destination.make("a", "b/c")))
  })

  it.effect("fromKeyValue: reads and writes through, and swallows the store's failures (a cache)", () =>
    Effect.gen(function*() {
      const map = new Map<string, string>()
      let broken = false
      const guard = <A>(f: () => A) => (broken ? Effect.fail("disk full" as const) : Effect.sync(f))
      const store = SequenceTokenStore.fromKeyValue({
        get: (key) => guard(() => Option.fromNullable(map.get(key))),
        set: (key, value) => guard(() => void map.set(key, value)),
        remove: (key) => guard(() => void map.delete(key))
      })
      yield* store.set(A, "42")
      expect(map.get(SequenceTokenStore.storageKey(A))).toBe("42")
      expect(yield* store.get(A)).toEqual(Option.some("42"))
      broken = true
      expect(yield* store.get(A)).toEqual(Option.none())
      yield* store.set(A, "43")
      yield* store.invalidate(A)
      broken = false
      expect(yield* store.get(A)).toEqual(Option.some("42"))
      yield* store.invalidate(A)
      expect(map.size).toBe(0)
    }))

  it.effect("fromKeyValue: a defect of the store is swallowed too", () =>
    Effect.gen(function*() {
      const store = SequenceTokenStore.fromKeyValue({
        get: () => Effect.die("boom"),
        set: () => Effect.die("boom"),
        remove: () => Effect.die("boom")
      })
      expect(yield* store.get(A)).toEqual(Option.none())
      yield* store.set(A, "1")
      yield* store.invalidate(A)
    }))
})
