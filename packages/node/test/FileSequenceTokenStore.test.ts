import { SequenceTokenStore } from "@cwlogs/core"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as FileSequenceTokenStore from "../src/FileSequenceTokenStore.js"
import { fileKey } from "../src/internal/fileSequenceTokenStore.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-tokens-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const withStore = <A, E>(
  directory: string,
  f: (store: SequenceTokenStore.SequenceTokenStoreShape) => Effect.Effect<A, E>
) =>
  Effect.flatMap(SequenceTokenStore.SequenceTokenStore, f).pipe(
    Effect.provide(FileSequenceTokenStore.layer(directory))
  )

const orders = { logGroupName: "orders", logStreamName: "api-1" }
const billing = { logGroupName: "billing", logStreamName: "api-1" }

describe("FileSequenceTokenStore", () => {
  it.scoped("a token survives a restart (a new layer over the same directory)", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* withStore(dir, (store) => Effect.zipRight(store.set(orders, "495"), store.set(billing, "12")))
      const [a, b] = yield* withStore(dir, (store) => Effect.all([store.get(orders), store.get(billing)]))
      expect(a).toEqual(Option.some("495"))
      expect(b).toEqual(Option.some("12"))
    }))

  it.scoped("set replaces, invalidate forgets (also across restarts), unknown streams have no token", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* withStore(dir, (store) =>
        Effect.gen(function*() {
          expect(yield* store.get(orders)).toEqual(Option.none())
          yield* store.set(orders, "1")
          yield* store.set(orders, "2")
          expect(yield* store.get(orders)).toEqual(Option.some("2"))
        }))
      yield* withStore(dir, (store) => store.invalidate(orders))
      expect(yield* withStore(dir, (store) => store.get(orders))).toEqual(Option.none())
      // invalidating what is not there is not an error
      yield* withStore(dir, (store) => store.invalidate(billing))
    }))

  it.scoped("the longest names (512 + 512 characters, any Unicode) are stored under a hashed file name", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const long = { logGroupName: "g".repeat(512), logStreamName: "é😀/:".repeat(102) + "xx" }
      const other = { logGroupName: "g".repeat(512), logStreamName: "é😀/:".repeat(102) + "xy" }
      yield* withStore(dir, (store) => Effect.zipRight(store.set(long, "t-long"), store.set(other, "t-other")))
      expect(yield* withStore(dir, (store) => store.get(long))).toEqual(Option.some("t-long"))
      expect(yield* withStore(dir, (store) => store.get(other))).toEqual(Option.some("t-other"))
      for (const name of Fs.readdirSync(dir)) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255)
    }))

  it("short keys keep their readable name; long ones are hashed", () => {
    expect(fileKey("cwlogs/token/orders/api-1")).toBe("cwlogs/token/orders/api-1")
    expect(fileKey("k".repeat(201))).toMatch(/^cwlogs-token-sha256-[0-9a-f]{64}$/)
    expect(fileKey("k".repeat(200))).toBe("k".repeat(200))
  })

  it.scoped("two stores writing one stream's token at once: a read finds one token written, never a mix of two", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const long = "L".repeat(120)
      const written = new Set<string>()
      const mixed: Array<string> = []
      const writer = (token: (i: number) => string) =>
        withStore(dir, (store) =>
          Effect.forEach(Array.from({ length: 400 }, (_, i) => i), (i) => {
            const t = token(i)
            written.add(t)
            return store.set(orders, t)
          }, { discard: true }))
      const reader = withStore(
        dir,
        (store) =>
          Effect.forEach(Array.from({ length: 800 }, (_, i) => i), () =>
            Effect.map(store.get(orders), (found) => {
              if (Option.isSome(found) && !found.value.startsWith("short-") && found.value !== long) {
                mixed.push(found.value)
              }
            }), { discard: true })
      )
      yield* Effect.all([writer((i) => `short-${i}`), writer(() => long), reader], { concurrency: "unbounded" })
      expect(mixed).toEqual([])
      // and nothing is left beside the token files
      expect(Fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([])
    }))

  it.scoped("an empty or blank file (a write caught half-way) reads as no token", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      yield* withStore(dir, (store) => store.set(orders, "7"))
      for (const file of Fs.readdirSync(dir)) Fs.writeFileSync(Path.join(dir, file), " \n")
      expect(yield* withStore(dir, (store) => store.get(orders))).toEqual(Option.none())
    }))

  it.scoped("a directory that cannot be created falls back to memory: no error, tokens kept for the process", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = Path.join(dir, "a-file")
      Fs.writeFileSync(file, "not a directory")
      const got = yield* withStore(
        Path.join(file, "tokens"),
        (store) => Effect.zipRight(store.set(orders, "9"), store.get(orders))
      )
      expect(got).toEqual(Option.some("9"))
    }))

  it.scoped("a directory that becomes unusable does not fail the store: reads answer none, writes are dropped", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const tokens = Path.join(dir, "tokens")
      const result = yield* withStore(tokens, (store) =>
        Effect.gen(function*() {
          yield* store.set(orders, "1")
          Fs.rmSync(tokens, { recursive: true, force: true })
          Fs.writeFileSync(tokens, "now a file")
          yield* store.set(orders, "2")
          yield* store.invalidate(orders)
          return yield* store.get(orders)
        }))
      expect(result).toEqual(Option.none())
    }))

  it.effect("layerKeyValueStore works over any KeyValueStore", () =>
    Effect.gen(function*() {
      const store = yield* SequenceTokenStore.SequenceTokenStore
      yield* store.set(orders, "abc")
      expect(yield* store.get(orders)).toEqual(Option.some("abc"))
      const kv = yield* KeyValueStore.KeyValueStore
      expect(yield* kv.get(SequenceTokenStore.storageKey(orders))).toEqual(Option.some("abc"))
    }).pipe(
      Effect.provide(
        FileSequenceTokenStore.layerKeyValueStore.pipe(Layer.provideMerge(KeyValueStore.layerMemory))
      )
    ))
  it.runIf(process.platform === "linux")("a directory that cannot be made: tokens in memory, and one warning", () => {
    const logged: Array<string> = []
    return Effect.runPromise(
      Effect.gen(function*() {
        // Node's recursive mkdir never returns for this path: the layer must not wait on it
        const token = yield* withStore(
          "/proc/cwlogs-nope/tokens",
          (store) => Effect.zipRight(store.set(orders, "7"), store.get(orders))
        )
        expect(token).toEqual(Option.some("7"))
        expect(logged).toHaveLength(1)
        expect(logged[0]).toMatch(
          /^WARN cwlogs: the token directory \/proc\/cwlogs-nope\/tokens cannot be made \(ENOENT/
        )
        expect(logged[0]).toContain("tokens are kept in memory")
      }).pipe(
        Effect.provide(Logger.replace(
          Logger.defaultLogger,
          Logger.make(({ logLevel, message }) => logged.push(`${logLevel.label} ${String(message)}`))
        ))
      )
    )
  })
})
