import { SequenceTokenStore } from "@cwlogs/core"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as TestCloudWatchLogs from "../../src/TestCloudWatchLogs.js"
import { batch, dest, NOW, settle, setup } from "./UploaderHelpers.js"

const puts = (calls: ReadonlyArray<TestCloudWatchLogs.Call>) =>
  calls.filter((c) => c.operation === "PutLogEvents").map((c) => c.outcome)

/**
 * Token files in a map, and stores over them whose writes can be made to fail while their reads still
 * answer the last file (a full disk, a directory made read-only). Each store swallows its failures, as
 * `FileSequenceTokenStore` does.
 */
const tokenFiles = () => {
  const files = new Map<string, string>()
  const reads = { count: 0 }
  const store = (writable: () => boolean) =>
    SequenceTokenStore.fromKeyValue({
      get: (k) =>
        Effect.sync(() => {
          reads.count++
          return Option.fromNullable(files.get(k))
        }),
      set: (k, v) => writable() ? Effect.sync(() => void files.set(k, v)) : Effect.fail("ENOSPC"),
      remove: (k) => writable() ? Effect.sync(() => void files.delete(k)) : Effect.fail("ENOSPC")
    })
  return { store, reads }
}

describe("Uploader: a token store that does not keep what it is given", () => {
  it.effect("a store that works is read once a put, not once more for each token learnt", () =>
    Effect.gen(function*() {
      const files = tokenFiles()
      const ours = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" },
        store: files.store(() => true)
      })
      yield* ours.uploader.upload(dest(), batch("a", 1))
      const before = files.reads.count
      for (let i = 1; i <= 10; i++) yield* ours.uploader.upload(dest(), batch(`b${i}`, 1, NOW + i))
      expect(puts(yield* ours.model.calls).slice(-10)).toEqual(Array.from({ length: 10 }, () => "Answered"))
      // before, each token learnt from an answer was read back: 20 reads for 10 puts (a file read each)
      expect(files.reads.count - before).toBe(10)
    }))

  it.effect("writes that fail cost one token error at most: the token learnt is used, not the store's old one", () =>
    Effect.gen(function*() {
      let writable = true
      const other = yield* setup({ model: { sequenceTokens: "enforced" }, uploader: { tokens: "enforced" } })
      const ours = yield* setup({
        uploader: { tokens: "enforced" },
        sharing: { model: other.model, store: tokenFiles().store(() => writable) }
      })
      yield* ours.uploader.upload(dest(), batch("a", 1)) // the token file written
      yield* other.uploader.upload(dest(), batch("x", 1, NOW + 1)) // another writer moves the stream on
      writable = false
      const before = puts(yield* other.model.calls).length
      const result = yield* settle(Effect.either(ours.uploader.upload(dest(), batch("b", 1, NOW + 2))))
      expect(Either.isRight(result) && result.right.accepted).toBe(1)
      // the old file's token is refused once; the token that error carried is sent next, and then kept
      expect(puts(yield* other.model.calls).slice(before)).toEqual(["InvalidSequenceTokenException", "Answered"])
      yield* ours.uploader.upload(dest(), batch("c", 1, NOW + 3))
      expect(puts(yield* other.model.calls).slice(before + 2)).toEqual(["Answered"])
    }))

  it.effect("a newer token another writer stored since is taken over the one we learnt", () =>
    Effect.gen(function*() {
      const files = tokenFiles()
      // our writes fail; another process's writes to the same files go through
      const ours = yield* setup({
        model: { sequenceTokens: "enforced" },
        uploader: { tokens: "enforced" },
        store: files.store(() => false)
      })
      const other = yield* setup({
        uploader: { tokens: "enforced" },
        sharing: { model: ours.model, store: files.store(() => true) }
      })
      yield* ours.uploader.upload(dest(), batch("a", 1)) // a new stream: its next token kept by us only
      yield* settle(other.uploader.upload(dest(), batch("b", 1, NOW + 1))) // learns it, stores the next one
      const before = puts(yield* ours.model.calls).length
      yield* ours.uploader.upload(dest(), batch("c", 1, NOW + 2))
      // the store's token is newer than the one we learnt: sent at once, no token error
      expect(puts(yield* ours.model.calls).slice(before)).toEqual(["Answered"])
    }))
})
