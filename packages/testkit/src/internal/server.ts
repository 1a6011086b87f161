/**
 * The emulator's HTTP face: a node:http server speaking CloudWatch Logs' JSON 1.1 protocol over a
 * `CloudWatchLogsApi.CloudWatchLogsApiShape`, with SigV4 checking, a bound on request bodies and HTTP-level faults.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Runtime from "effect/Runtime"
import { randomUUID } from "node:crypto"
import * as http from "node:http"
import { dispatch, type Invoke } from "./httpDispatch.js"
import { type Credentials, verify } from "./sigv4.js"
import {
  CONTENT_TYPE,
  errorBody,
  isOperation,
  parseBody,
  TARGET_PREFIX,
  validateRequest,
  type WireError,
  wireError
} from "./wire.js"

/**
 * Faults the HTTP layer injects on PutLogEvents, each a probability in [0, 1], plus a fixed latency.
 *
 * @internal
 */
export interface HttpFaults {
  /** Drop the connection without applying the batch. */
  readonly reset: number
  /** Apply the batch, then drop the connection before answering. */
  readonly lostResponse: number
  /** Delay before answering, in milliseconds. */
  readonly latencyMillis: number
}

/** @internal */
export const noHttpFaults: HttpFaults = { reset: 0, lostResponse: 0, latencyMillis: 0 }

/** @internal */
export interface ServerOptions {
  readonly maxRequestBytes: number
  readonly requireAuth: Credentials | undefined
  readonly faults: HttpFaults
  readonly seed: number
}

/**
 * The server could not listen (the port is taken, the host is unknown, ...).
 *
 * @internal
 */
export class ListenError extends Data.TaggedError("ListenError")<{
  readonly message: string
  readonly host: string
  readonly port: number
}> {}

/**
 * A small seeded generator (mulberry32), so that fault runs can be replayed.
 *
 * @internal
 */
export const seededRandom = (seed: number): () => number => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6D2B79F5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const send = (
  res: http.ServerResponse,
  requestId: string,
  status: number,
  body: string,
  errorType?: string,
  close?: boolean
): void => {
  if (res.headersSent || res.destroyed) return
  const headers: Record<string, string | number> = {
    "x-amzn-RequestId": requestId,
    "Content-Type": CONTENT_TYPE,
    "Content-Length": Buffer.byteLength(body)
  }
  if (errorType !== undefined) headers["x-amzn-errortype"] = errorType
  if (close === true) headers["Connection"] = "close"
  res.writeHead(status, headers)
  res.end(body)
}

const sendError = (res: http.ServerResponse, requestId: string, error: WireError, close?: boolean): void =>
  send(res, requestId, error.status, errorBody(error), error.name, close)

/** The answer to a defect in serving a request: a 500 InternalFailure, as AWS answers its own faults. */
const internalFailure: WireError = wireError("InternalFailure", "The emulator failed to serve the request.", 500)

/**
 * The server, not yet listening, with a handle to change the HTTP faults at run time.
 *
 * @internal
 */
export interface Server {
  readonly server: http.Server
  readonly setFaults: (faults: Partial<HttpFaults>) => void
  readonly faults: () => HttpFaults
  /** Requests the HTTP layer dropped on purpose (reset and lost-response faults). */
  readonly dropped: () => { readonly reset: number; readonly lostResponse: number }
  /**
   * Ends the requests still being served (waiting out a latency fault, say): with the server stopped,
   * none of them is applied later behind the test's back.
   */
  readonly interruptInFlight: Effect.Effect<void>
}

/**
 * Builds the node:http server over an API. Each request runs as an Effect on `runtime`.
 *
 * @internal
 */
export const makeServer = (
  invoke: Invoke,
  runtime: Runtime.Runtime<never>,
  options: ServerOptions
): Server => {
  const random = seededRandom(options.seed)
  let faults = options.faults
  const dropped = { reset: 0, lostResponse: 0 }
  const runFork = Runtime.runFork(runtime)
  const inFlight = new Set<Fiber.RuntimeFiber<void>>()

  /** Logs a defect of one request and answers it with a 500: no request can stop the server. */
  const failed = (res: http.ServerResponse, requestId: string, defect: unknown): Effect.Effect<void> =>
    Effect.zipRight(
      Effect.logError(`cwlogs-emulator: request ${requestId} failed`, Cause.die(defect)),
      Effect.sync(() => {
        try {
          sendError(res, requestId, internalFailure)
        } catch {
          res.destroy()
        }
      })
    )

  const handleBody = (req: http.IncomingMessage, res: http.ServerResponse, requestId: string, raw: Buffer) => {
    if (options.requireAuth !== undefined) {
      const denied = verify(
        { method: req.method ?? "POST", url: req.url ?? "/", headers: req.headers, body: raw },
        options.requireAuth
      )
      if (denied !== undefined) return sendError(res, requestId, denied)
    }
    const target = req.headers["x-amz-target"]
    const operation = typeof target === "string" && target.startsWith(TARGET_PREFIX)
      ? target.slice(TARGET_PREFIX.length)
      : undefined
    if (req.method !== "POST" || operation === undefined || !isOperation(operation)) {
      return sendError(res, requestId, wireError("UnknownOperationException", ""))
    }
    const parsed = parseBody(raw.toString("utf8"))
    if (!parsed.ok) return sendError(res, requestId, parsed.error)
    const invalid = validateRequest(operation, parsed.value)
    if (invalid !== undefined) return sendError(res, requestId, invalid)
    const body: Readonly<Record<string, unknown>> = typeof parsed.value === "object" && parsed.value !== null
      ? Object.fromEntries(Object.entries(parsed.value))
      : {}

    let fault: "reset" | "lostResponse" | undefined = undefined
    if (operation === "PutLogEvents") {
      const roll = random()
      if (roll < faults.reset) fault = "reset"
      else if (roll < faults.reset + faults.lostResponse) fault = "lostResponse"
    }
    const latency = operation === "PutLogEvents" ? faults.latencyMillis : 0
    const drop = (kind: "reset" | "lostResponse") =>
      Effect.sync(() => {
        dropped[kind]++
        req.socket.destroy()
      })

    const program = Effect.gen(function*() {
      if (latency > 0) yield* Effect.sleep(latency)
      if (fault === "reset") return yield* drop("reset")
      const outcome = yield* dispatch(invoke, operation, body)
      if (fault === "lostResponse") return yield* drop("lostResponse")
      yield* Effect.sync(() => {
        switch (outcome._tag) {
          case "Ok":
            return send(res, requestId, 200, outcome.body === undefined ? "{}" : JSON.stringify(outcome.body))
          case "Error":
            return sendError(res, requestId, outcome.error)
          case "Drop":
            dropped[outcome.applied ? "lostResponse" : "reset"]++
            return req.socket.destroy()
        }
      })
    }).pipe(Effect.catchAllDefect((defect) => failed(res, requestId, defect)))
    const fiber = runFork(program)
    inFlight.add(fiber)
    fiber.addObserver(() => inFlight.delete(fiber))
  }

  /** Runs a synchronous step of serving a request; a throw is answered like a defect of the request. */
  const guarded = (res: http.ServerResponse, requestId: string, step: () => void): void => {
    try {
      step()
    } catch (defect) {
      runFork(failed(res, requestId, defect))
    }
  }

  const server = http.createServer((req, res) => {
    const requestId = randomUUID()
    guarded(res, requestId, () => {
      const declared = Number(req.headers["content-length"] ?? "0")
      const tooLarge = (size: number) =>
        wireError(
          "RequestEntityTooLargeException",
          `Request body of ${size} bytes exceeds the limit of ${options.maxRequestBytes} bytes.`,
          413
        )
      if (Number.isFinite(declared) && declared > options.maxRequestBytes) {
        // Refused without reading the body; the connection is closed after the answer.
        sendError(res, requestId, tooLarge(declared), true)
        req.resume()
        return
      }
      const chunks: Array<Buffer> = []
      let length = 0
      let refused = false
      req.on("data", (chunk: Buffer) =>
        guarded(res, requestId, () => {
          if (refused) return
          length += chunk.length
          if (length > options.maxRequestBytes) {
            refused = true
            chunks.length = 0
            sendError(res, requestId, tooLarge(length), true)
            return
          }
          chunks.push(chunk)
        }))
      req.on("end", () =>
        guarded(res, requestId, () => {
          if (refused) return
          handleBody(
            req,
            res,
            requestId,
            chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks)
          )
        }))
      req.on("error", () => {
        refused = true
      })
    })
  })
  server.keepAliveTimeout = 60_000

  return {
    server,
    setFaults: (next) => {
      faults = { ...faults, ...next }
    },
    faults: () => faults,
    dropped: () => ({ ...dropped }),
    interruptInFlight: Effect.suspend(() => Fiber.interruptAll([...inFlight]))
  }
}

/**
 * Starts listening; succeeds with the port (useful with port 0).
 *
 * @internal
 */
export const listen = (server: http.Server, host: string, port: number): Effect.Effect<number, ListenError> =>
  Effect.async<number, ListenError>((resume) => {
    const onError = (error: Error) => {
      server.off("listening", onListening)
      resume(Effect.fail(new ListenError({ message: error.message, host, port })))
    }
    const onListening = () => {
      server.off("error", onError)
      const address = server.address()
      resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : port))
    }
    server.once("error", onError)
    server.once("listening", onListening)
    server.listen({ host, port })
  })

/**
 * Stops listening and drops every open connection (clients see refused or reset connections).
 *
 * @internal
 */
export const close = (server: http.Server): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    if (!server.listening) return resume(Effect.void)
    server.close(() => resume(Effect.void))
    server.closeAllConnections()
  })
