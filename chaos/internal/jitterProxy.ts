/**
 * A TCP proxy that adds latency jitter: every chunk, in each direction, is held for a random 0..max
 * milliseconds, order kept (a chunk never overtakes the one before it). It sits between the producers
 * and the emulator, so that answers arrive late and unevenly, as over a real network. Lives in a Scope.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as Net from "node:net"

/** The proxy could not listen. */
export class ProxyError extends Data.TaggedError("ProxyError")<{ readonly message: string }> {}

/** A seeded generator (mulberry32), so that a seed gives the same delays. */
const random = (seed: number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * Copies `from` to `to`, each chunk delayed by a jitter, in order: one queue per direction, drained by a
 * single timer (timers of different durations that expire together may fire in any order).
 */
const pipeWithJitter = (from: Net.Socket, to: Net.Socket, maxMillis: number, next: () => number) => {
  const queue: Array<{ readonly chunk: Buffer; readonly at: number }> = []
  let releaseAt = 0
  let timer: NodeJS.Timeout | undefined = undefined
  let ended = false
  const drain = () => {
    timer = undefined
    const now = Date.now()
    while (queue.length > 0 && (queue[0]?.at ?? 0) <= now) {
      const head = queue.shift()
      if (head !== undefined && !to.destroyed) to.write(head.chunk)
    }
    if (queue.length > 0) timer = setTimeout(drain, Math.max(0, (queue[0]?.at ?? now) - now))
    else if (ended && !to.destroyed) to.end()
  }
  from.on("data", (chunk: Buffer) => {
    const now = Date.now()
    releaseAt = Math.max(releaseAt, now + Math.floor(next() * (maxMillis + 1)))
    queue.push({ chunk, at: releaseAt })
    if (timer === undefined) timer = setTimeout(drain, releaseAt - now)
  })
  from.on("end", () => {
    ended = true
    if (queue.length === 0 && timer === undefined && !to.destroyed) to.end()
  })
}

/** Proxies `127.0.0.1:<free port>` to `target` (an `http://host:port` URL); answers the proxy's URL. */
export const make = (
  target: string,
  maxMillis: number,
  seed: number
): Effect.Effect<string, ProxyError, Scope.Scope> =>
  Effect.gen(function*() {
    const url = new URL(target)
    const next = random(seed)
    const sockets = new Set<Net.Socket>()
    const server = Net.createServer((client) => {
      const upstream = Net.connect({ host: url.hostname, port: Number(url.port) })
      sockets.add(client)
      sockets.add(upstream)
      const close = () => {
        // a reset on one side is a reset on the other: the client must see what the server did
        client.destroy()
        upstream.destroy()
        sockets.delete(client)
        sockets.delete(upstream)
      }
      client.on("error", close)
      upstream.on("error", close)
      client.on("close", close)
      upstream.on("close", () => {
        // let delayed chunks reach the client before it closes
        setTimeout(close, maxMillis + 10)
      })
      pipeWithJitter(client, upstream, maxMillis, next)
      pipeWithJitter(upstream, client, maxMillis, next)
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number, ProxyError>((resume) => {
        server.once("error", (e) => resume(Effect.fail(new ProxyError({ message: e.message }))))
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          for (const s of sockets) s.destroy()
          server.close(() => resume(Effect.void))
        })
    )
    return `http://127.0.0.1:${port}`
  })
