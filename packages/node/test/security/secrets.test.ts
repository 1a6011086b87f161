/**
 * Credentials never leak. Failing operations run with a recognisable secret (and session token); every
 * output is searched for them: the errors (message, String, JSON, util.inspect with hidden members,
 * Cause.pretty), every log line the library writes (message, annotations, cause), every span (name,
 * attributes, events, exit), the console, the metrics, the adapter's options, and the `cwlogs` CLI's
 * stdout and stderr.
 */
import { CloudWatchLogs, type CloudWatchLogsApi, Destination, LogEvent, RetryPolicy } from "@cwlogs/core"
import { Emulator } from "@cwlogs/testkit"
import { afterEach, beforeEach, describe, expect, it, vi } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Metric from "effect/Metric"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import { inspect } from "node:util"
import * as NodeCloudWatchLogs from "../../src/NodeCloudWatchLogs.js"
import { childEnv, cwlogs } from "../support/processes.js"

const SECRET = "wJalrSECRETdoNotPrint7Hq2Zx9KpLw8"
const SESSION = "FwoGSESSIONdoNotPrint4Vb6Nm1Qr3"
const KEY_ID = "AKIDSECURITYTEST"
const SECRETS = [SECRET, SESSION]

/** Every way a value may be turned into text by a user, a logger or a reporter. */
const renderings = (value: unknown): ReadonlyArray<string> => {
  const out = [inspect(value, { depth: Infinity, showHidden: true, getters: true }), String(value)]
  try {
    out.push(JSON.stringify(value) ?? "")
  } catch (e) {
    out.push(String(e))
  }
  if (value instanceof Error) out.push(value.message, value.stack ?? "")
  return out
}

const leaks = (texts: ReadonlyArray<string>): ReadonlyArray<string> =>
  texts.filter((t) => SECRETS.some((s) => t.includes(s)))

/** A logger that keeps every line as text, with its annotations, spans and cause. */
const capture = () => {
  const lines: Array<string> = []
  const logger = Logger.make((options) => {
    lines.push(inspect(Logger.structuredLogger.log(options), { depth: Infinity }))
    lines.push(Logger.logfmtLogger.log(options))
    if (!Cause.isEmpty(options.cause)) lines.push(Cause.pretty(options.cause, { renderErrorCause: true }))
  })
  return {
    lines,
    layer: Layer.merge(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(LogLevel.All))
  }
}

/** A tracer that keeps, as text, every span's name, attributes, events and exit, around the native one. */
const recordingTracer = (inner: Tracer.Tracer, texts: Array<string>): Tracer.Tracer =>
  Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = inner.span(name, parent, context, links, startTime, kind, options)
      texts.push(`span ${name}`)
      const recorded: Tracer.Span = {
        _tag: "Span",
        name: span.name,
        spanId: span.spanId,
        traceId: span.traceId,
        parent: span.parent,
        context: span.context,
        get status() {
          return span.status
        },
        get attributes() {
          return span.attributes
        },
        links: span.links,
        sampled: span.sampled,
        kind: span.kind,
        end: (endTime, exit) => {
          texts.push(inspect({ name, attributes: span.attributes, exit }, { depth: Infinity }))
          span.end(endTime, exit)
        },
        attribute: (key, value) => {
          texts.push(`${key}=${inspect(value, { depth: Infinity })}`)
          span.attribute(key, value)
        },
        event: (eventName, time, attributes) => {
          texts.push(`${eventName} ${inspect(attributes, { depth: Infinity })}`)
          span.event(eventName, time, attributes)
        },
        addLinks: (more) => span.addLinks(more)
      }
      return recorded
    },
    context: (f, fiber) => inner.context(f, fiber)
  })

const FastRetries = RetryPolicy.layer({
  transient: RetryPolicy.backoff({ base: "5 millis", cap: "20 millis", retries: 2 }),
  throttled: RetryPolicy.backoff({ base: "5 millis", cap: "20 millis", retries: 2 })
})

const options = (endpoint: string): NodeCloudWatchLogs.Options => ({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: KEY_ID, secretAccessKey: Redacted.make(SECRET), sessionToken: Redacted.make(SESSION) },
  connectionTimeout: "2 seconds",
  requestTimeout: "5 seconds"
})

const dest = Destination.make("secure", "stream-1")

/** Ships through the adapter and returns everything printable about the outcome. */
const shipAndRender = (api: Layer.Layer<CloudWatchLogsApi.CloudWatchLogsApi, unknown>) =>
  Effect.gen(function*() {
    const logs = capture()
    const spans: Array<string> = []
    const tracer = recordingTracer(yield* Effect.tracer, spans)
    const events = [LogEvent.make(Date.now(), "hello"), LogEvent.make(Date.now(), "world")]
    const exit = yield* Stream.fromIterable(events).pipe(
      Stream.run(CloudWatchLogs.sink(dest)),
      Effect.provide(Layer.mergeAll(api, FastRetries, logs.layer)),
      Effect.withTracer(tracer),
      Effect.exit
    )
    expect(spans.length).toBeGreaterThan(0)
    expect(exit._tag).toBe("Failure")
    const texts: Array<string> = []
    if (exit._tag === "Failure") {
      texts.push(Cause.pretty(exit.cause, { renderErrorCause: true }))
      const failure = Cause.failureOption(exit.cause)
      if (failure._tag === "Some") texts.push(...renderings(failure.value))
      else texts.push(...renderings(Cause.squash(exit.cause)))
    }
    texts.push(...logs.lines)
    texts.push(...spans)
    texts.push(inspect(yield* Metric.snapshot, { depth: Infinity }))
    return { texts, logs: logs.lines, spans, exit }
  })

describe("credentials never leak", () => {
  const consoleTexts: Array<string> = []
  beforeEach(() => {
    consoleTexts.length = 0
    for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: Array<unknown>) => {
        consoleTexts.push(args.map((a) => inspect(a, { depth: Infinity })).join(" "))
      })
    }
  })
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it("the adapter's options print the secret as <redacted>", () => {
    const o = options("http://127.0.0.1:1")
    expect(leaks(renderings(o))).toEqual([])
    expect(inspect(o, { depth: Infinity })).toContain("<redacted>")
  })

  it.scopedLive("refused credentials: the error, the logs, the metrics and the console hold no secret", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        requireAuth: { accessKeyId: KEY_ID, secretAccessKey: "the-server-knows-another-secret" }
      })
      const { exit, logs, texts } = yield* shipAndRender(NodeCloudWatchLogs.layer(options(emulator.url)))
      // the failure is the signature error, reported and logged
      expect(texts.join("\n")).toMatch(/InvalidSignatureException|UnrecognizedClientException/)
      expect(logs.length).toBeGreaterThan(0)
      expect(exit._tag).toBe("Failure")
      expect(leaks([...texts, ...consoleTexts])).toEqual([])
    }))

  it.scopedLive("an endpoint that is down: the error, the logs and the console hold no secret", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      yield* emulator.stop
      const { texts } = yield* shipAndRender(NodeCloudWatchLogs.layer(options(emulator.url)))
      expect(texts.join("\n")).toMatch(/refused/i)
      expect(leaks([...texts, ...consoleTexts])).toEqual([])
    }))

  it.scopedLive("a response that is not JSON: the error (with its body excerpt) holds no secret", () =>
    Effect.gen(function*() {
      // an endpoint that echoes the request headers back as HTML: the Authorization header carries the
      // key id and a signature, never the secret; the session token is sent as X-Amz-Security-Token, so
      // the error must not quote the request
      const { createServer } = yield* Effect.promise(() => import("node:http"))
      const server = createServer((req, res) => {
        req.resume()
        res.writeHead(200, { "Content-Type": "text/html" })
        res.end(`<html>${JSON.stringify(req.headers)}</html>`)
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => {
          server.listen(0, "127.0.0.1", () => resume(Effect.void))
        }),
        () =>
          Effect.sync(() => {
            server.closeAllConnections()
            server.close()
          })
      )
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const { texts } = yield* shipAndRender(NodeCloudWatchLogs.layer(options(`http://127.0.0.1:${port}`)))
      expect(texts.join("\n")).toMatch(/MalformedResponseError|not valid JSON/)
      expect(leaks([...texts, ...consoleTexts])).toEqual([])
    }))

  it.scopedLive("layerConfig with Config.redacted: a refused call's error holds no secret", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        requireAuth: { accessKeyId: KEY_ID, secretAccessKey: "the-server-knows-another-secret" }
      })
      const provider = ConfigProvider.fromMap(
        new Map([["LOGS_ENDPOINT", emulator.url], ["LOGS_KEY_ID", KEY_ID], ["LOGS_SECRET", SECRET]])
      )
      const api = NodeCloudWatchLogs.layerConfig({
        endpoint: Config.string("LOGS_ENDPOINT"),
        region: Config.succeed("us-east-1"),
        credentials: Config.all({
          accessKeyId: Config.string("LOGS_KEY_ID"),
          secretAccessKey: Config.redacted("LOGS_SECRET")
        })
      }).pipe(Layer.provide(Layer.setConfigProvider(provider)))
      const { texts } = yield* shipAndRender(api)
      expect(leaks([...texts, ...consoleTexts])).toEqual([])
    }))

  it.scopedLive("the CLI's stdout and stderr hold no secret (refused credentials, endpoint down, bad arguments)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({
        requireAuth: { accessKeyId: KEY_ID, secretAccessKey: "the-server-knows-another-secret" }
      })
      const env = childEnv({
        AWS_ACCESS_KEY_ID: KEY_ID,
        AWS_SECRET_ACCESS_KEY: SECRET,
        AWS_SESSION_TOKEN: SESSION
      })
      const refused = yield* cwlogs(["ship", "-g", "secure", "-s", "cli", "--create", "--endpoint", emulator.url], {
        env,
        stdin: "one\ntwo\n"
      })
      expect(refused.code).not.toBe(0)
      expect(refused.stderr.length + refused.stdout.length).toBeGreaterThan(0)
      const down = yield* Emulator.make()
      yield* down.stop
      const unreachable = yield* cwlogs(["ship", "-g", "secure", "-s", "cli", "--endpoint", down.url], {
        env,
        stdin: "one\n"
      })
      expect(unreachable.code).not.toBe(0)
      const tail = yield* cwlogs(["tail", "-g", "secure", "--endpoint", emulator.url], { env })
      expect(tail.code).not.toBe(0)
      const bad = yield* cwlogs(["ship", "--no-such-option", SECRET.slice(0, 4)], { env })
      expect(bad.code).not.toBe(0)
      const outputs = [refused, unreachable, tail, bad].flatMap((r) => [r.stdout, r.stderr])
      expect(leaks(outputs)).toEqual([])
    }))
})

describe("the adapter holds credentials as Redacted", () => {
  it("the search is not blind: a secret held as a plain string is found in every rendering", () => {
    const plain = { credentials: { secretAccessKey: SECRET } }
    expect(leaks(renderings(plain)).length).toBe(renderings(plain).length - 1) // String(object) shows no members
    expect(leaks([inspect(new Error(`boom ${SESSION}`))])).toHaveLength(1)
  })

  it("Redacted values print as <redacted> however they are turned into text", () => {
    const r = Redacted.make(SECRET)
    expect(leaks(renderings(r))).toEqual([])
    expect(leaks(renderings({ nested: { r } }))).toEqual([])
    expect(Redacted.value(r)).toBe(SECRET)
  })

  it.live("a failed sink reports its events, not the adapter's configuration", () =>
    Effect.gen(function*() {
      const result = yield* Stream.make(LogEvent.make(Date.now(), "x")).pipe(
        Stream.run(CloudWatchLogs.sink(Destination.make("bad group", "s"))),
        Effect.either,
        Effect.provide(NodeCloudWatchLogs.layer(options("http://127.0.0.1:1"))),
        Effect.provide(FastRetries)
      )
      expect(Either.isLeft(result)).toBe(true)
      if (Either.isLeft(result)) expect(leaks(renderings(result.left))).toEqual([])
    }))
})
