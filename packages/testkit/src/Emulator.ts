/**
 * `cwlogs-emulator`: the in-memory CloudWatch Logs served over HTTP with the real JSON 1.1 wire protocol,
 * so that the AWS SDK, the AWS CLI, boto3 and any other client can talk to it. Embed it in tests and
 * demos with `make` or `layer`, or run it from the command line (`pnpm emulator`).
 *
 * The server runs each request on the runtime it was started from: use it with the live clock
 * (`it.live`, `it.scopedLive`), not under a TestClock, since clients wait on real time.
 *
 * @since 0.1.0
 */
import type { CloudWatchLogsApi } from "@cwlogs/core"
import { Limits } from "@cwlogs/core"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { type Invoke, invokeOf } from "./internal/httpDispatch.js"
import * as internal from "./internal/server.js"
import * as TestCloudWatchLogs from "./TestCloudWatchLogs.js"

/**
 * The server could not listen (the port is taken, the host is unknown, ...).
 *
 * @since 0.1.0
 * @category errors
 */
export const ListenError = internal.ListenError

/**
 * @since 0.1.0
 * @category errors
 */
export type ListenError = internal.ListenError

/**
 * Faults injected by the HTTP layer on PutLogEvents: `reset` drops the connection without applying the
 * batch, `lostResponse` applies it and then drops the connection, `latencyMillis` delays every answer.
 * Probabilities are in [0, 1] and drawn from the seeded generator.
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpFaults {
  readonly reset: number
  readonly lostResponse: number
  readonly latencyMillis: number
}

/**
 * How to serve: where to listen, how large a request may be, which key pair to require.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServeOptions {
  /** Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** Default `0`: a free port. */
  readonly port?: number | undefined
  /**
   * Largest request body accepted, in bytes (default 8 MiB: a full PutLogEvents batch with JSON framing and
   * escapes, control characters included). A larger body is refused with 413 before it is read.
   */
  readonly maxRequestBytes?: number | undefined
  /** When set, requests must be SigV4-signed with this key pair; otherwise any credentials are accepted. */
  readonly requireAuth?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined
  /** HTTP-level faults on PutLogEvents (default: none). */
  readonly httpFaults?: Partial<HttpFaults> | undefined
  /** Seed of the HTTP-level fault generator (default 1). */
  readonly seed?: number | undefined
}

/**
 * A running server: its address, a switch to simulate an outage, and the HTTP-level faults.
 *
 * @since 0.1.0
 * @category models
 */
export interface Server {
  /** `http://HOST:PORT`. */
  readonly url: string
  readonly host: string
  readonly port: number
  /** Stops listening and drops open connections: clients see refused connections. State is kept. */
  readonly stop: Effect.Effect<void>
  /** Listens again on the same port after `stop`. */
  readonly listen: Effect.Effect<void, ListenError>
  /** Whether the server is listening now. */
  readonly isListening: Effect.Effect<boolean>
  /** Changes the HTTP-level faults at run time. */
  readonly setHttpFaults: (faults: Partial<HttpFaults>) => Effect.Effect<void>
  /** How many requests the HTTP layer dropped on purpose, by fault. */
  readonly dropped: Effect.Effect<{ readonly reset: number; readonly lostResponse: number }>
}

/** @since 0.1.0 @category constants */
export const DEFAULT_HOST = "127.0.0.1"

/**
 * The largest request body read (8 MiB). A legal PutLogEvents batch can be this large on the wire: 1 MiB
 * of control characters escapes to about 6.3 MiB of JSON (`\u0001` is six bytes for one).
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024

const urlOf = (host: string, port: number): string =>
  host.includes(":") ? `http://[${host}]:${port}` : `http://${host}:${port}`

const serveInvoke = (
  invoke: Invoke,
  options: ServeOptions
): Effect.Effect<Server, ListenError, Scope.Scope> =>
  Effect.gen(function*() {
    const host = options.host ?? DEFAULT_HOST
    const runtime = yield* Effect.runtime<never>()
    const built = internal.makeServer(invoke, runtime, {
      maxRequestBytes: options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES,
      requireAuth: options.requireAuth,
      faults: { ...internal.noHttpFaults, ...options.httpFaults },
      seed: options.seed ?? 1
    })
    // stopped: no new connection, the open ones dropped, and the requests they had in progress ended
    const stop = Effect.zipRight(internal.close(built.server), built.interruptInFlight)
    const port = yield* Effect.acquireRelease(internal.listen(built.server, host, options.port ?? 0), () => stop)
    return {
      url: urlOf(host, port),
      host,
      port,
      stop,
      listen: Effect.suspend(() =>
        built.server.listening ? Effect.void : Effect.asVoid(internal.listen(built.server, host, port))
      ),
      isListening: Effect.sync(() => built.server.listening),
      setHttpFaults: (faults) => Effect.sync(() => built.setFaults(faults)),
      dropped: Effect.sync(() => built.dropped())
    }
  })

/**
 * Serves any implementation of the port over the wire protocol, as a scoped resource: the server stops
 * when the scope closes. A `NetworkError` from the port drops the connection.
 *
 * @since 0.1.0
 * @category constructors
 */
export const serve = (
  api: CloudWatchLogsApi.CloudWatchLogsApiShape,
  options: ServeOptions = {}
): Effect.Effect<Server, ListenError, Scope.Scope> => serveInvoke(invokeOf(api), options)

/**
 * How to run the emulator: the server's options and the model's.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Omit<ServeOptions, "httpFaults"> {
  /** The token generation: `ignored` (AWS today, the default) or `enforced` (legacy). */
  readonly sequenceTokens?: "enforced" | "ignored" | undefined
  /** The limits (default `Limits.current`). */
  readonly limits?: Limits.LimitsShape | undefined
  /** Largest event (message bytes + 26); overrides `limits.maxEventBytes` (e.g. 262144 like older services). */
  readonly maxEventBytes?: number | undefined
  /**
   * Faults of the model, drawn from `seed`: `unavailable` (500), `throttle`, `reset` (connection dropped,
   * nothing applied), `lostResponse` (applied, then the connection is dropped), `competingWriter`,
   * `latencyMillis`. Default: PutLogEvents only (see `TestCloudWatchLogs.FaultOptions`).
   */
  readonly faults?: TestCloudWatchLogs.FaultOptions | undefined
  /** Per-account quotas and the legacy per-stream rate (default off). */
  readonly throttling?: boolean | undefined
  /** Count events and bytes without keeping messages (benchmarks, long runs). */
  readonly discard?: boolean | undefined
  /** Keep a log of every call (default on, off in `discard` mode). */
  readonly recordCalls?: boolean | undefined
}

/**
 * A running emulator: the server and the model behind it (inspect it, change its faults).
 *
 * @since 0.1.0
 * @category models
 */
export interface EmulatorShape extends Server {
  readonly model: TestCloudWatchLogs.TestCloudWatchLogsShape
}

/**
 * The running emulator, as a service.
 *
 * @since 0.1.0
 * @category tags
 */
export class Emulator extends Context.Tag("@cwlogs/testkit/Emulator")<Emulator, EmulatorShape>() {}

/**
 * The model's options from the emulator's.
 *
 * @since 0.1.0
 * @category constructors
 */
export const modelOptions = (options: Options): TestCloudWatchLogs.Options => {
  const base = options.limits ?? Limits.current
  return {
    sequenceTokens: options.sequenceTokens ?? "ignored",
    limits: options.maxEventBytes !== undefined ? { ...base, maxEventBytes: options.maxEventBytes } : base,
    throttling: options.throttling ?? false,
    faults: options.faults,
    seed: options.seed ?? 1,
    discard: options.discard ?? false,
    recordCalls: options.recordCalls
  }
}

/**
 * Starts an emulator on a fresh model, as a scoped resource: the server stops when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options = {}): Effect.Effect<EmulatorShape, ListenError, Scope.Scope> =>
  Effect.gen(function*() {
    const model = yield* TestCloudWatchLogs.make(modelOptions(options))
    const server = yield* serveInvoke(model.invoke, options)
    return { ...server, model }
  })

/**
 * The emulator as a layer: the `Emulator` service, and the model's inspection handle
 * (`TestCloudWatchLogs`). The port (`CloudWatchLogsApi`) is the one a client makes over HTTP to its URL
 * (`NodeCloudWatchLogs.layer({ endpoint: emulator.url })`), not part of this layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<Emulator | TestCloudWatchLogs.TestCloudWatchLogs, ListenError> =>
  Layer.scopedContext(
    Effect.map(
      make(options),
      (emulator) =>
        Context.make(Emulator, emulator).pipe(Context.add(TestCloudWatchLogs.TestCloudWatchLogs, emulator.model))
    )
  )
