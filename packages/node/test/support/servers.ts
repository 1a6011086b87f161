/**
 * Test servers as scoped resources: moto_server, tiny node:http servers, a closed port.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Http from "node:http"
import * as Net from "node:net"

// The SDK warns once per process about Node < 22; it is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"

export class ServerError extends Data.TaggedError("ServerError")<{ readonly message: string }> {}

/** A port nobody listens on (bound then released). */
export const freePort: Effect.Effect<number, ServerError> = Effect.async<number, ServerError>((resume) => {
  const server = Net.createServer()
  server.once("error", (e) => resume(Effect.fail(new ServerError({ message: String(e) }))))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

const answers = (url: string): Effect.Effect<void, ServerError> =>
  Effect.async<void, ServerError>((resume) => {
    const req = Http.get(url, (res) => {
      res.resume()
      resume(Effect.void)
    })
    req.once("error", (e) => resume(Effect.fail(new ServerError({ message: String(e) }))))
    req.setTimeout(1000, () => req.destroy(new Error("timeout")))
    return Effect.sync(() => req.destroy())
  })

/** Waits until an HTTP server answers at the URL (up to ~20 s of real time). */
export const waitUntilAnswers = (url: string): Effect.Effect<void, ServerError> =>
  answers(url).pipe(Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.intersect(Schedule.recurs(200)))))

/** Is moto_server on the PATH? */
export const hasMoto: boolean = (() => {
  const found = ChildProcess.spawnSync("sh", ["-c", "command -v moto_server"], { encoding: "utf8" })
  return found.status === 0 && found.stdout.trim() !== ""
})()

/** moto_server on a free loopback port, killed when the scope closes. Yields its endpoint. */
export const motoServer: Effect.Effect<string, ServerError, Scope.Scope> = Effect.gen(function*() {
  const port = yield* freePort
  const child = yield* Effect.acquireRelease(
    Effect.sync(() => ChildProcess.spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" })),
    (child) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGTERM")
      }).pipe(Effect.timeout("5 seconds"), Effect.ignore, Effect.tap(() => Effect.sync(() => child.kill("SIGKILL"))))
  )
  const endpoint = `http://127.0.0.1:${port}`
  yield* waitUntilAnswers(`${endpoint}/moto-api/`)
  if (child.exitCode !== null) return yield* new ServerError({ message: "moto_server exited" })
  return endpoint
})

/** A node:http server with the handler on a free loopback port, closed with the scope. Yields its endpoint. */
export const httpServer = (
  handler: (req: Http.IncomingMessage, res: Http.ServerResponse) => void
): Effect.Effect<string, ServerError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<Http.Server, ServerError>((resume) => {
      const server = Http.createServer(handler)
      server.once("error", (e) => resume(Effect.fail(new ServerError({ message: String(e) }))))
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(
    Effect.map((server) => {
      const address = server.address()
      return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`
    })
  )

/** What a fake CloudWatch Logs server saw of one request. */
export interface SeenRequest {
  readonly operation: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/**
 * How a fake server answers: status, headers, body; or "hang" to never answer; or "reset" to drop the
 * socket; or a 200 whose body is cut ("cut": part of it, then the socket dropped) or stalls ("stall":
 * part of it, then nothing, the socket left open).
 */
export type Answer =
  | { readonly status: number; readonly headers?: Readonly<Record<string, string>>; readonly body: string }
  | "hang"
  | "reset"
  | "cut"
  | "stall"

/** A JSON 1.1 error answer as AWS sends it. */
export const awsError = (status: number, type: string, message: string, extra: object = {}): Answer => ({
  status,
  headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "req-" + type },
  body: JSON.stringify({ __type: type, message, ...extra })
})

/** A JSON 1.1 success answer. */
export const awsOk = (body: object): Answer => ({
  status: 200,
  headers: { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "req-ok" },
  body: JSON.stringify(body)
})

/**
 * A fake CloudWatch Logs endpoint: records every request, answers with `answer(request)`. Also reports
 * the requests whose connection closed before an answer (aborted by the client).
 */
export const fakeServer = (answer: (request: SeenRequest) => Answer) =>
  Effect.gen(function*() {
    const seen: Array<SeenRequest> = []
    const aborted: Array<SeenRequest> = []
    const sockets = new Set<Net.Socket>()
    const endpoint = yield* httpServer((req, res) => {
      if (!sockets.has(req.socket)) {
        sockets.add(req.socket)
        req.socket.once("close", () => sockets.delete(req.socket))
      }
      const chunks: Array<Buffer> = []
      req.on("data", (chunk: Buffer) => chunks.push(chunk))
      req.on("end", () => {
        const target = req.headers["x-amz-target"]
        const request: SeenRequest = {
          operation: typeof target === "string" ? target.replace(/^Logs_20140328\./, "") : "",
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8")
        }
        seen.push(request)
        const a = answer(request)
        if (a === "hang") {
          res.once("close", () => {
            if (!res.writableEnded) aborted.push(request)
          })
          return
        }
        if (a === "reset") {
          req.socket.destroy()
          return
        }
        if (a === "cut" || a === "stall") {
          const body = JSON.stringify({ nextSequenceToken: "49590302" })
          res.writeHead(200, { "content-type": "application/x-amz-json-1.1", "content-length": String(body.length) })
          res.write(body.slice(0, 10))
          if (a === "cut") setTimeout(() => req.socket.destroy(), 20)
          else {
            res.once("close", () => {
              if (!res.writableEnded) aborted.push(request)
            })
          }
          return
        }
        res.writeHead(a.status, a.headers ?? {})
        res.end(a.body)
      })
    })
    return { endpoint, seen, aborted, openSockets: () => sockets.size }
  })
