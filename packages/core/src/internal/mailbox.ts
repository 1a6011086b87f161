/**
 * The bounded buffer between producers and a shipper, behind a small interface of our own so that the
 * port to Effect 4 (no `Mailbox` there) touches this file only.
 *
 * - `offer` / `offerAll` suspend while the buffer is full (the sink's back-pressure).
 * - `unsafeOffer` never waits (a Logger is synchronous): when full, the overflow policy decides, and the
 *   answer says whether an element was dropped (the new one or the oldest).
 * - `takeAll` waits for elements; `poll` takes what is there without waiting.
 * - `end` (or `unsafeEnd`) lets the consumer drain what is buffered, then see `done`.
 *
 * @internal
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"

/** @internal */
export type Overflow = "suspend" | "dropNewest" | "dropOldest"

/** @internal */
export type OfferResult = "Offered" | "DroppedNewest" | "DroppedOldest" | "Closed"

/** @internal */
export interface Buffer<A> {
  readonly capacity: number
  readonly offer: (a: A) => Effect.Effect<boolean>
  /**
   * Offers all, suspending while full; returns the elements refused because the buffer was ended. When
   * the offer is interrupted while it waits for room, `onCut` is given the elements not buffered.
   */
  readonly offerAll: (
    as: ReadonlyArray<A>,
    onCut?: (rest: ReadonlyArray<A>) => Effect.Effect<void>
  ) => Effect.Effect<ReadonlyArray<A>>
  readonly unsafeOffer: (a: A) => OfferResult
  /** Waits for at least one element, or for the end. */
  readonly takeAll: Effect.Effect<readonly [ReadonlyArray<A>, boolean]>
  /** Takes what is buffered now, without waiting. */
  readonly poll: Effect.Effect<ReadonlyArray<A>>
  readonly end: Effect.Effect<void>
  /** Ends the buffer now (what is buffered can still be taken); `false` if it had ended already. */
  readonly unsafeEnd: () => boolean
  readonly size: () => number
}

/** @internal */
export const make = <A>(capacity: number, overflow: Overflow): Effect.Effect<Buffer<A>> =>
  Effect.map(
    Mailbox.make<A>({
      capacity,
      strategy: overflow === "suspend" ? "suspend" : overflow === "dropNewest" ? "dropping" : "sliding"
    }),
    (mailbox): Buffer<A> => {
      const size = () => Option.getOrElse(mailbox.unsafeSize(), () => 0)
      return {
        capacity,
        offer: (a) => mailbox.offer(a),
        offerAll: (as, onCut) => {
          if (onCut === undefined) return Effect.map(mailbox.offerAll(as), Chunk.toReadonlyArray)
          // As many as there is room for, one by one (no copy of the rest: a chunk far larger than the
          // buffer would be copied once per wake-up); when full, wait for room for the next one, then again
          // as many as fit. `next` is always the first element not buffered, for `onCut`.
          const all = as
          let next = 0
          const loop: Effect.Effect<ReadonlyArray<A>> = Effect.suspend(() => {
            while (next < all.length && mailbox.unsafeOffer(all[next])) next++
            if (next >= all.length) return Effect.succeed([])
            if (Option.isNone(mailbox.unsafeSize())) return Effect.succeed(all.slice(next))
            return Effect.flatMap(mailbox.offer(all[next]), (offered) => {
              if (!offered) return Effect.succeed(all.slice(next))
              next++
              return loop
            })
          })
          return Effect.onInterrupt(loop, () => next < all.length ? onCut(all.slice(next)) : Effect.void)
        },
        unsafeOffer: (a) => {
          // A sliding mailbox drops its oldest element silently: find out beforehand, to count it.
          const full = size() >= capacity
          if (!mailbox.unsafeOffer(a)) return full ? "DroppedNewest" : "Closed"
          return full && overflow === "dropOldest" ? "DroppedOldest" : "Offered"
        },
        takeAll: Effect.map(mailbox.takeAll, ([as, done]) => [Chunk.toReadonlyArray(as), done] as const),
        poll: Effect.map(mailbox.clear, Chunk.toReadonlyArray),
        end: Effect.asVoid(mailbox.end),
        unsafeEnd: () => mailbox.unsafeDone(Exit.void),
        size
      }
    }
  )
