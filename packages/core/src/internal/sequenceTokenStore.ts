import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Destination } from "../Destination.js"
import * as DestinationKey from "../Destination.js"
import type { SequenceTokenStoreShape } from "../SequenceTokenStore.js"

/**
 * One map, updated in place: each operation is O(1) however many destinations (a copy-on-write map in a
 * `Ref` cost a copy of every token per `set`, quadratic in destinations for a routed sink).
 *
 * @internal
 */
export const makeMemory: Effect.Effect<SequenceTokenStoreShape> = Effect.sync((): SequenceTokenStoreShape => {
  const tokens = new Map<string, string>()
  return {
    get: (destination) => Effect.sync(() => Option.fromNullable(tokens.get(DestinationKey.key(destination)))),
    set: (destination, token) =>
      Effect.sync(() => {
        tokens.set(DestinationKey.key(destination), token)
      }),
    invalidate: (destination) =>
      Effect.sync(() => {
        tokens.delete(DestinationKey.key(destination))
      })
  }
})

/** @internal */
export const storageKey = (destination: Destination): string =>
  `cwlogs/token/${encodeURIComponent(destination.logGroupName)}/${encodeURIComponent(destination.logStreamName)}`

/** @internal */
export const fromKeyValue = <E>(kv: {
  readonly get: (key: string) => Effect.Effect<Option.Option<string>, E>
  readonly set: (key: string, value: string) => Effect.Effect<void, E>
  readonly remove: (key: string) => Effect.Effect<void, E>
}): SequenceTokenStoreShape => ({
  get: (destination) =>
    kv.get(storageKey(destination)).pipe(
      Effect.catchAllCause(() => Effect.succeed(Option.none<string>()))
    ),
  set: (destination, token) => kv.set(storageKey(destination), token).pipe(Effect.catchAllCause(() => Effect.void)),
  invalidate: (destination) => kv.remove(storageKey(destination)).pipe(Effect.catchAllCause(() => Effect.void))
})
