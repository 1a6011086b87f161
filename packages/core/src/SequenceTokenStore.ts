/**
 * Where the uploader keeps the sequence token of each destination (legacy protocol). A store is a cache:
 * it adopts `nextSequenceToken` from responses and `expectedSequenceToken` from errors, its failures are
 * swallowed, and losing it costs one InvalidSequenceTokenException at most. The uploader keeps each token
 * it gives the store until a read (one per put) shows the store kept it: while the store still gives what
 * it gave before (a failed write), the uploader sends its own; once it gives another writer's, that one.
 * Against a service that ignores tokens it is never consulted.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type { Destination } from "./Destination.js"
import * as internal from "./internal/sequenceTokenStore.js"

/**
 * The operations of a token store. None of them fails: a store that cannot read answers `None`.
 *
 * @since 0.1.0
 * @category models
 */
export interface SequenceTokenStoreShape {
  /** The token the next put to this destination should carry, if known. */
  readonly get: (destination: Destination) => Effect.Effect<Option.Option<string>>
  /** Remembers the token the next put to this destination should carry. */
  readonly set: (destination: Destination, token: string) => Effect.Effect<void>
  /** Forgets the token of this destination (a new stream, or a token known to be wrong). */
  readonly invalidate: (destination: Destination) => Effect.Effect<void>
}

/**
 * The sequence token store.
 *
 * @since 0.1.0
 * @category tags
 */
export class SequenceTokenStore extends Context.Tag("@cwlogs/core/SequenceTokenStore")<
  SequenceTokenStore,
  SequenceTokenStoreShape
>() {}

/**
 * A store in memory, keyed by destination (group and stream).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<SequenceTokenStoreShape> = internal.makeMemory

/**
 * Builds a store over any get/set/remove of strings by key (e.g. a `KeyValueStore`), swallowing its
 * failures: a store is a cache.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromKeyValue: <E>(kv: {
  readonly get: (key: string) => Effect.Effect<Option.Option<string>, E>
  readonly set: (key: string, value: string) => Effect.Effect<void, E>
  readonly remove: (key: string) => Effect.Effect<void, E>
}) => SequenceTokenStoreShape = internal.fromKeyValue

/**
 * The key a destination's token is stored under: `cwlogs/token/<group>/<stream>` with both names
 * percent-encoded.
 *
 * @since 0.1.0
 * @category keys
 */
export const storageKey: (destination: Destination) => string = internal.storageKey

/**
 * The default store, in memory.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<SequenceTokenStore> = Layer.effect(SequenceTokenStore, makeMemory)
