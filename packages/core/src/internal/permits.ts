/**
 * Permits served first come, first served: the upload slots shared by a shipper's lanes, and each
 * destination's order lock and parallel slots in the uploader.
 *
 * Effect's own `Semaphore` does not fit there. On every release it wakes *every* waiter; one of them
 * wins, and each of the others takes again from inside the continuation of its previous take, so its
 * fiber's stack grows by a few frames per release it sees and it joins the back of the queue. With a
 * lane per destination waiting for one of `maxInFlight` slots, a routed sink to 1,000 new streams grew
 * to 1 GB of heap that way (quadratic in the number of lanes), and a newcomer could overtake a waiter
 * that had just been woken, which would reorder the batches of an enforced stream.
 *
 * Here a release hands the permit to the first waiter directly (it is never up for grabs), so a release
 * costs O(1), wakes one fiber, and waiters are served in the order they came.
 *
 * @internal
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"

/** @internal */
export class Permits {
  /** Permits at most: at least 1 (`NaN` is 1), `Infinity` for no limit. */
  readonly total: number
  private free: number
  /** In arrival order (a `Set` keeps insertion order and removes an interrupted waiter in O(1)). */
  private readonly waiters = new Set<Deferred.Deferred<void>>()

  constructor(total: number) {
    this.total = Number.isNaN(total) ? 1 : Math.max(1, Math.floor(total))
    this.free = this.total
  }

  /** Permits not taken now. */
  available(): number {
    return this.free
  }

  /** Fibers waiting for a permit now. */
  waiting(): number {
    return this.waiters.size
  }

  /** Gives a permit back: to the first waiter if there is one, else to the pool. */
  readonly unsafeRelease = (): void => {
    for (const next of this.waiters) {
      this.waiters.delete(next)
      Deferred.unsafeDone(next, Exit.void)
      return
    }
    this.free++
  }

  /** Gives a permit back (see `unsafeRelease`). */
  readonly release: Effect.Effect<void> = Effect.sync(this.unsafeRelease)

  /**
   * Takes a permit, waiting behind those who came first. The wait is interruptible: an interrupted
   * waiter leaves the queue, and one interrupted just as the permit was handed to it passes it on. Run it
   * where an interruption cannot fall between the take and the code that will release (as `withPermit`).
   */
  readonly take: Effect.Effect<void> = Effect.suspend(() => {
    if (this.free > 0) {
      this.free--
      return Effect.void
    }
    const turn = Deferred.unsafeMake<void>(FiberId.none)
    this.waiters.add(turn)
    return Effect.onInterrupt(
      Deferred.await(turn),
      () =>
        Effect.sync(() => {
          if (!this.waiters.delete(turn)) this.unsafeRelease()
        })
    )
  })

  /** Runs `effect` holding a permit; releases it however `effect` ends. */
  readonly withPermit = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.zipRight(restore(this.take), Effect.ensuring(restore(effect), this.release))
    )
}
