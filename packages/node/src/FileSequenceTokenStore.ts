/**
 * A `SequenceTokenStore` kept in files, so that a restarted process (or another process on the same
 * machine) starts with the last known token of each stream instead of paying an InvalidSequenceToken
 * round trip or a DescribeLogStreams call. Only the legacy token protocol consults it.
 *
 * The store is a cache: a failure to read answers "no token", a failure to write is ignored (the uploader
 * keeps the token it could not store), and a directory that cannot be created makes the layer fall back
 * to the in-memory store, with one warning.
 *
 * @since 0.1.0
 */
import type { SequenceTokenStore } from "@cwlogs/core"
import type * as KeyValueStore from "@effect/platform/KeyValueStore"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as internal from "./internal/fileSequenceTokenStore.js"

/**
 * A token store over whatever `KeyValueStore` is provided.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<SequenceTokenStore.SequenceTokenStoreShape, never, KeyValueStore.KeyValueStore> =
  internal.fromKeyValueStore

/**
 * The token store in a directory (one small file per stream; created if missing).
 *
 * @example
 * ```ts
 * const Tokens = FileSequenceTokenStore.layer(path.join(os.homedir(), ".cache", "cwlogs", "tokens"))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (directory: string) => Layer.Layer<SequenceTokenStore.SequenceTokenStore> = internal.layer

/**
 * The token store over the `KeyValueStore` in context (e.g. `KeyValueStore.layerMemory` in tests, or a
 * store of your own).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerKeyValueStore: Layer.Layer<
  SequenceTokenStore.SequenceTokenStore,
  never,
  KeyValueStore.KeyValueStore
> = internal.layerKeyValueStore
