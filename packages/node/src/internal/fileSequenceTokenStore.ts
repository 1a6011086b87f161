/**
 * A sequence token store over a `KeyValueStore` (files by default). Keys too long for a file name are
 * replaced by their SHA-256; an empty value (a write caught half-way by a concurrent reader) reads as no
 * token. Every failure is swallowed: the store is a cache.
 *
 * @internal
 */
import { SequenceTokenStore } from "@cwlogs/core"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeKeyValueStore from "@effect/platform-node/NodeKeyValueStore"
import type * as PlatformError from "@effect/platform/Error"
import * as FileSystem from "@effect/platform/FileSystem"
import * as KeyValueStore from "@effect/platform/KeyValueStore"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { createHash } from "node:crypto"
import * as NodePath from "node:path"
import { ensureDirectory } from "./directory.js"

/** File names are limited to 255 bytes on common file systems; leave room for the store's own encoding. */
const MAX_ENCODED_KEY = 200

/** @internal */
export const fileKey = (key: string): string =>
  encodeURIComponent(key).length <= MAX_ENCODED_KEY
    ? key
    : `cwlogs-token-sha256-${createHash("sha256").update(key, "utf8").digest("hex")}`

/** @internal */
export const fromKeyValueStore: Effect.Effect<
  SequenceTokenStore.SequenceTokenStoreShape,
  never,
  KeyValueStore.KeyValueStore
> = Effect.map(KeyValueStore.KeyValueStore, (kv) =>
  SequenceTokenStore.fromKeyValue({
    get: (key) =>
      Effect.map(
        kv.get(fileKey(key)),
        Option.flatMap((value) => {
          const token = value.trim()
          return token === "" ? Option.none() : Option.some(token)
        })
      ),
    set: (key, value) => kv.set(fileKey(key), value),
    remove: (key) => kv.remove(fileKey(key))
  }))

/** @internal */
export const layerKeyValueStore: Layer.Layer<
  SequenceTokenStore.SequenceTokenStore,
  never,
  KeyValueStore.KeyValueStore
> = Layer.effect(SequenceTokenStore.SequenceTokenStore, fromKeyValueStore)

/**
 * The key-value store of files in `directory` (one file per key, named as `@effect/platform`'s), whose
 * writes replace a file whole: written beside it, then renamed over it. Written in place, a reader (or
 * another writer, another process) could find a token half one write and half another.
 * @internal
 */
export const layerAtomicFiles = (
  directory: string
): Layer.Layer<KeyValueStore.KeyValueStore, PlatformError.PlatformError> =>
  Layer.effect(
    KeyValueStore.KeyValueStore,
    Effect.gen(function*() {
      const files = yield* KeyValueStore.KeyValueStore
      const fs = yield* FileSystem.FileSystem
      return KeyValueStore.make({
        get: files.get,
        getUint8Array: files.getUint8Array,
        remove: files.remove,
        clear: files.clear,
        size: files.size,
        set: (key, value) => {
          const path = NodePath.join(directory, encodeURIComponent(key))
          const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
          return (typeof value === "string" ? fs.writeFileString(temporary, value) : fs.writeFile(temporary, value))
            .pipe(
              Effect.zipRight(fs.rename(temporary, path)),
              Effect.tapError(() => Effect.ignore(fs.remove(temporary)))
            )
        }
      })
    })
  ).pipe(Layer.provide(Layer.merge(NodeKeyValueStore.layerFileSystem(directory), NodeFileSystem.layer)))

/**
 * The store in `directory`, or in memory when the directory cannot be made (made here, level by level:
 * the key-value store's own recursive `mkdir` never returns for some paths, see `directory.ts`), which
 * is said once in a warning: a setting to fix, where a failed read or write is only a cache miss.
 * @internal
 */
export const layer = (directory: string): Layer.Layer<SequenceTokenStore.SequenceTokenStore> =>
  Layer.unwrapEffect(Effect.matchEffect(ensureDirectory(directory), {
    onFailure: (error) =>
      Effect.as(
        Effect.logWarning(
          `cwlogs: the token directory ${directory} cannot be made (${error.message}); tokens are kept in memory`
        ),
        SequenceTokenStore.layerMemory
      ),
    onSuccess: () =>
      Effect.succeed(
        layerKeyValueStore.pipe(
          Layer.provide(layerAtomicFiles(directory)),
          Layer.catchAll(() => SequenceTokenStore.layerMemory)
        )
      )
  }))
