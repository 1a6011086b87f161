import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type { Destination } from "../Destination.js"
import * as DestinationKey from "../Destination.js"
import type { SequenceTokenStoreShape } from "../SequenceTokenStore.js"

/** @internal */
export const makeMemory: Effect.Effect<SequenceTokenStoreShape> = Effect.map(
  Ref.make<ReadonlyMap<string, string>>(new Map()),
  (ref): SequenceTokenStoreShape => ({
    get: (destination) =>
      Effect.map(Ref.get(ref), (map) => Option.fromNullable(map.get(DestinationKey.key(destination)))),
    set: (destination, token) =>
      Ref.update(ref, (map) => {
        const next = new Map(map)
        next.set(DestinationKey.key(destination), token)
        return next
      }),
    invalidate: (destination) =>
      Ref.update(ref, (map) => {
        const k = DestinationKey.key(destination)
        if (!map.has(k)) return map
        const next = new Map(map)
        next.delete(k)
        return next
      })
  })
)

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
