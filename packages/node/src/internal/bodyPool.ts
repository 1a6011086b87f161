/**
 * Reusable buffers for PutLogEvents bodies.
 *
 * A full batch's body is a ~1 MiB buffer that lives as long as its request. Under a slow service it
 * outlives a few young-generation collections, is promoted, and its memory comes back only at the next
 * full collection: one new megabyte per batch piles up between full collections (55 MB of buffers at the
 * peak of the memory benchmark, 4 uploads in flight and 200 ms per request). Bodies written into a few
 * buffers that are used again once their request is answered keep that at the number of requests in
 * flight.
 *
 * A buffer is used again only when the service has answered its request with success on the first
 * attempt: it has then read every byte of the body, so nothing (socket write, signing, an SDK retry)
 * can still read it. A body of a request that failed, timed out or was interrupted is left to the
 * garbage collector. Bodies under `minLength` (small batches: cheap to allocate, and dead young) and over
 * the buffer size (the JSON of messages full of escapes) are allocated as before.
 *
 * @internal
 */
import { Buffer } from "node:buffer"

/** @internal */
export interface BodyPoolOptions {
  /** Bytes of each reusable buffer. */
  readonly bufferBytes: number
  /** Bodies shorter than this (in UTF-16 code units of the JSON) get a buffer of their own. */
  readonly minLength: number
  /** Idle buffers kept at most; a buffer released beyond that is left to the garbage collector. */
  readonly maxIdle: number
}

/** @internal */
export interface BodyPool {
  /** The UTF-8 bytes of `json`: a view of a reusable buffer when it fits, else a buffer of its own. */
  readonly encode: (json: string) => Uint8Array
  /** `body` (from `encode`) is no longer read by anyone: its buffer may be used again. */
  readonly release: (body: unknown) => void
  /** Buffers allocated for the pool so far, and bodies written into a reused one. */
  readonly stats: () => { readonly allocated: number; readonly reused: number; readonly idle: number }
}

/**
 * 1.25 MiB: a full batch (1,048,576 bytes counting 26 per event) as JSON, whose framing per event
 * (`{"timestamp":1700000000000,"message":""}` and a comma: 41 bytes) exceeds the 26 counted, with room
 * for escapes.
 *
 * @internal
 */
export const DEFAULT_BODY_POOL_OPTIONS: BodyPoolOptions = {
  bufferBytes: 1_310_720,
  minLength: 65_536,
  maxIdle: 8
}

/** @internal */
export const makeBodyPool = (options: BodyPoolOptions = DEFAULT_BODY_POOL_OPTIONS): BodyPool => {
  const encoder = new TextEncoder()
  const idle: Array<Buffer> = []
  // Views handed out, to the buffer they are a view of; released views leave it.
  const owners = new WeakMap<object, Buffer>()
  let allocated = 0
  let reused = 0
  return {
    encode: (json) => {
      // Shorter than `minLength`, or certainly longer than a buffer (a UTF-16 unit is at least a byte).
      if (json.length < options.minLength || json.length > options.bufferBytes) return Buffer.from(json, "utf8")
      const recycled = idle.pop()
      const buffer = recycled ?? Buffer.allocUnsafeSlow(options.bufferBytes)
      const { read, written } = encoder.encodeInto(json, buffer)
      if (read !== json.length) {
        // Did not fit (multi-byte characters): the buffer stays available.
        if (idle.length < options.maxIdle) idle.push(buffer)
        if (recycled === undefined) allocated++
        return Buffer.from(json, "utf8")
      }
      if (recycled === undefined) allocated++
      else reused++
      const view = buffer.subarray(0, written)
      owners.set(view, buffer)
      return view
    },
    release: (body) => {
      if (typeof body !== "object" || body === null) return
      const buffer = owners.get(body)
      if (buffer === undefined) return
      owners.delete(body)
      if (idle.length < options.maxIdle) idle.push(buffer)
    },
    stats: () => ({ allocated, reused, idle: idle.length })
  }
}

/**
 * The process's pool, shared by every client `@cwlogs/node` builds.
 *
 * @internal
 */
export const bodyPool: BodyPool = makeBodyPool()
