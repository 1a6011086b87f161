/**
 * The port over `@aws-sdk/client-cloudwatch-logs` v3: request and response mapping, error narrowing,
 * the client's construction and lifetime.
 *
 * @internal
 */
import {
  CloudWatchLogsClient,
  type CloudWatchLogsClientConfig,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteLogStreamCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand
} from "@aws-sdk/client-cloudwatch-logs"
import { type CloudWatchLogsApi, CloudWatchLogsError } from "@cwlogs/core"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import { Readable } from "node:stream"
import type { Options } from "../NodeCloudWatchLogs.js"
import { bodyPool } from "./bodyPool.js"
import { answered, fromSdkError, RESPONSE_TOO_LARGE } from "./classify.js"
import { NativeJsonProtocol } from "./nativeJsonProtocol.js"

/** @internal */
export const DEFAULT_CONNECTION_TIMEOUT = Duration.seconds(5)
/** @internal */
export const DEFAULT_REQUEST_TIMEOUT = Duration.seconds(30)

const silentLogger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {}
}

/** The longest delay Node's timers take (2^31 − 1 ms): a longer one fires at once. */
const MAX_TIMER_MILLIS = 2_147_483_647

/**
 * A timeout in milliseconds for the SDK's handler: 0 (none) for an infinite one or one longer than a
 * timer can wait (Node fires those after 1 ms).
 *
 * @internal
 */
export const timeoutMillis = (duration: Duration.DurationInput): number => {
  const millis = Duration.toMillis(duration)
  return Number.isFinite(millis) && millis <= MAX_TIMER_MILLIS ? Math.max(0, millis) : 0
}

/**
 * The deadline of one call, answer included: the connection's timeout plus the request's (the SDK's
 * request timeout stops once the headers have come, and a body can then stall for ever). `undefined`
 * when either is none.
 *
 * @internal
 */
export const callDeadline = (options: Options): Duration.Duration | undefined => {
  const connection = timeoutMillis(options.connectionTimeout ?? DEFAULT_CONNECTION_TIMEOUT)
  const request = timeoutMillis(options.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT)
  return connection === 0 || request === 0 ? undefined : Duration.millis(connection + request)
}

/**
 * The most of a response body a call reads: 16 MiB. The answers to PutLogEvents and the create, delete
 * and retention calls are a few hundred bytes; a page of DescribeLogGroups, DescribeLogStreams,
 * GetLogEvents or FilterLogEvents is at most about 1 MB of data by the API's own bound, and at most
 * ~6.3 MiB as JSON (1 MiB of control characters, each escaped as `\u00XX`). 16 MiB leaves room for all
 * of them, while an endpoint that streams without end (a broken proxy, a wrong `endpoint`) is cut off
 * there instead of filling the heap until the call's deadline.
 *
 * @internal
 */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024

/** What a bounded collector fails with: `fromSdkError` makes it a `MalformedResponseError`. */
class ResponseTooLarge extends Error {
  override readonly name = RESPONSE_TOO_LARGE
}

/**
 * A `streamCollector` for the SDK client (the function it reads every response body with) that reads
 * at most `limit` bytes: past them, or when the `content-length` says there will be more, it destroys
 * the body (closing the request's socket) and fails with an error `fromSdkError` classifies as a
 * `MalformedResponseError` (with the status the SDK adds to it). Reads Node streams, which is what the
 * SDK's Node handler answers with.
 *
 * @internal
 */
export const boundedStreamCollector = (limit: number) => async (stream: unknown): Promise<Uint8Array> => {
  if (!(stream instanceof Readable)) {
    throw new TypeError(`cwlogs: a response body that is not a Node stream: ${Object.prototype.toString.call(stream)}`)
  }
  const tooLarge = (detail: string) => {
    stream.destroy()
    return new ResponseTooLarge(
      `The endpoint's answer is larger than the ${limit} bytes a response may have (${detail}); its request was closed`
    )
  }
  const declared = stream instanceof Http.IncomingMessage ? Number(stream.headers["content-length"]) : NaN
  if (declared > limit) throw tooLarge(`its content-length: ${declared}`)
  const chunks: Array<Uint8Array> = []
  let length = 0
  const body: AsyncIterable<unknown> = stream
  for await (const chunk of body) {
    const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk
    if (!(bytes instanceof Uint8Array)) throw new TypeError("cwlogs: a response body chunk that is not bytes")
    length += bytes.byteLength
    if (length > limit) throw tooLarge(`${length} bytes had come, and more was coming`)
    chunks.push(bytes)
  }
  return Buffer.concat(chunks, length)
}

/**
 * The SDK client configuration for the options: SDK retries off unless asked, timeouts on, the SDK's
 * logging silenced (its traffic must never feed a shipping logger), response bodies read up to
 * `MAX_RESPONSE_BYTES`. An empty region is none.
 *
 * @internal
 */
export const clientConfig = (options: Options): CloudWatchLogsClientConfig => {
  const credentials = options.credentials
  const requestTimeout = timeoutMillis(options.requestTimeout ?? DEFAULT_REQUEST_TIMEOUT)
  return {
    maxAttempts: options.maxAttempts ?? 1,
    logger: silentLogger,
    streamCollector: boundedStreamCollector(MAX_RESPONSE_BYTES),
    ...(options.serializer === "sdk" ? {} : { protocol: NativeJsonProtocol }),
    requestHandler: {
      connectionTimeout: timeoutMillis(options.connectionTimeout ?? DEFAULT_CONNECTION_TIMEOUT),
      requestTimeout,
      // a socket silent that long (an answer stalled after its headers) is closed too
      socketTimeout: requestTimeout,
      throwOnRequestTimeout: true,
      logger: silentLogger
    },
    ...(options.region !== undefined && options.region !== "" ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    ...(credentials !== undefined
      ? {
        credentials: {
          accessKeyId: credentials.accessKeyId,
          secretAccessKey: Redacted.value(credentials.secretAccessKey),
          ...(credentials.sessionToken !== undefined
            ? { sessionToken: Redacted.value(credentials.sessionToken) }
            : {})
        }
      }
      : {})
  }
}

/**
 * The secrets of the options, to scrub from any message kept in an error.
 *
 * @internal
 */
export const secretsOf = (options: Options): ReadonlyArray<string> => {
  const credentials = options.credentials
  if (credentials === undefined) return []
  return [
    Redacted.value(credentials.secretAccessKey),
    ...(credentials.sessionToken !== undefined ? [Redacted.value(credentials.sessionToken)] : [])
  ]
}

/** The number of attempts an SDK output's metadata reports (the SDK's retry middleware sets it). */
const attemptsOf = (output: unknown): number | undefined => {
  if (typeof output !== "object" || output === null || !("$metadata" in output)) return undefined
  const metadata = output.$metadata
  if (typeof metadata !== "object" || metadata === null || !("attempts" in metadata)) return undefined
  return typeof metadata.attempts === "number" ? metadata.attempts : undefined
}

/**
 * A new client for the options. Its logger is silent, so the SDK's logger middleware goes too: it would
 * copy every request's input (each event of a batch) through the schema's sensitive-data filter only to
 * hand the copy to a logger that drops it. Around the request (retries and signing included), a
 * middleware gives a PutLogEvents body back to `bodyPool` once the service answered it with success
 * on the first attempt.
 *
 * @internal
 */
export const newClient = (options: Options): CloudWatchLogsClient => {
  const client = new CloudWatchLogsClient(clientConfig(options))
  client.middlewareStack.remove("loggerMiddleware")
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args)
      if (attemptsOf(result.output) === 1 && typeof args.request === "object" && args.request !== null) {
        if ("body" in args.request) bodyPool.release(args.request.body)
      }
      return result
    },
    { step: "build", name: "cwlogsBodyRecycling", override: true }
  )
  return client
}

/**
 * A client for the options (`newClient`), destroyed (its sockets closed) when the scope closes.
 *
 * @internal
 */
export const acquireClient = (options: Options): Effect.Effect<CloudWatchLogsClient, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.sync(() => newClient(options)), (client) => Effect.sync(() => client.destroy()))

// ---------------------------------------------------------------------------------------------------------------
// error narrowing: an error outside an operation's union becomes an UnknownServiceError (never lost)
// ---------------------------------------------------------------------------------------------------------------

type Tag = CloudWatchLogsError.CloudWatchLogsError["_tag"]

const COMMON_TAGS: ReadonlyArray<CloudWatchLogsError.CommonError["_tag"]> = [
  "ServiceUnavailableException",
  "ThrottlingException",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "AccessDeniedException",
  "InvalidParameterException",
  "NetworkError",
  "MalformedResponseError",
  "UnknownServiceError"
]

const demote = (error: CloudWatchLogsError.CloudWatchLogsError): CloudWatchLogsError.UnknownServiceError => {
  const httpStatus = "httpStatus" in error ? error.httpStatus : undefined
  const requestId = "requestId" in error ? error.requestId : undefined
  return new CloudWatchLogsError.UnknownServiceError({
    errorName: error._tag,
    message: error.message,
    fault: httpStatus !== undefined && httpStatus >= 500 ? "server" : "client",
    ...(httpStatus !== undefined ? { httpStatus } : {}),
    ...(requestId !== undefined ? { requestId } : {})
  })
}

const narrow = <T extends Tag>(...extra: ReadonlyArray<T>) => {
  const allowed: ReadonlySet<string> = new Set<string>([...COMMON_TAGS, ...extra])
  const isAllowed = (
    error: CloudWatchLogsError.CloudWatchLogsError
  ): error is
    | CloudWatchLogsError.CommonError
    | Extract<CloudWatchLogsError.CloudWatchLogsError, { readonly _tag: T }> => allowed.has(error._tag)
  return (
    error: CloudWatchLogsError.CloudWatchLogsError
  ): CloudWatchLogsError.CommonError | Extract<CloudWatchLogsError.CloudWatchLogsError, { readonly _tag: T }> =>
    isAllowed(error) ? error : demote(error)
}

// ---------------------------------------------------------------------------------------------------------------
// response mapping
// ---------------------------------------------------------------------------------------------------------------

class MissingMember extends Data.TaggedError("MissingMember")<{ readonly member: string }> {}

class WrongMember extends Data.TaggedError("WrongMember")<{ readonly member: string; readonly expected: string }> {}

const need = <A>(value: A | undefined | null, member: string): A => {
  if (value === undefined || value === null) throw new MissingMember({ member })
  return value
}

const opt = <A>(value: A | null | undefined): A | undefined => value === null ? undefined : value

/**
 * A token the library sends back (a sequence or a page token): the SDK passes through whatever JSON type
 * the answer has, and a number or an object would go back to the service. Absent or null is none.
 */
const optString = (value: unknown, member: string): string | undefined => {
  if (value === null || value === undefined) return undefined
  if (typeof value === "string") return value
  throw new WrongMember({ member, expected: "a string" })
}

/** An index the uploader cuts a batch at: a whole number, or none (absent or null). */
const optIndex = (value: unknown, member: string): number | undefined => {
  if (value === null || value === undefined) return undefined
  if (typeof value === "number" && Number.isInteger(value)) return value
  throw new WrongMember({ member, expected: "a whole number" })
}

interface Metadata {
  readonly $metadata?: { readonly httpStatusCode?: number | undefined; readonly requestId?: string | undefined }
}

const mapResponse = <O extends Metadata, A>(
  operation: string,
  output: O,
  f: (output: O) => A
): Effect.Effect<A, CloudWatchLogsError.MalformedResponseError> =>
  Effect.try({
    try: () => f(output),
    catch: (error) => {
      const httpStatus = output.$metadata?.httpStatusCode
      const requestId = output.$metadata?.requestId
      return new CloudWatchLogsError.MalformedResponseError({
        message: error instanceof WrongMember ?
          `${operation}: the response's ${error.member} is not ${error.expected}` :
          `${operation}: the response lacks ${error instanceof MissingMember ? error.member : "a member"}`,
        ...(httpStatus !== undefined ? { httpStatus } : {}),
        ...(requestId !== undefined ? { requestId } : {})
      })
    }
  })

const record = (value: Readonly<Record<string, string>> | undefined): Record<string, string> | undefined =>
  value === undefined ? undefined : { ...value }

// ---------------------------------------------------------------------------------------------------------------
// the port
// ---------------------------------------------------------------------------------------------------------------

/**
 * The port over an existing client. `secrets` are scrubbed from error messages.
 *
 * @internal
 */
export const fromClient = (
  client: CloudWatchLogsClient,
  secrets: ReadonlyArray<string> = [],
  deadline: Duration.Duration | undefined = undefined
): CloudWatchLogsApi.CloudWatchLogsApiShape => {
  // Whether a request of this client was answered, so its credentials were loaded: failing to load them
  // afterwards is their source failing (a transient error), not credentials missing.
  let credentialsLoaded = false
  const call = <A>(
    run: (abortSignal: AbortSignal) => Promise<A>
  ): Effect.Effect<A, CloudWatchLogsError.CloudWatchLogsError> =>
    Effect.tryPromise({
      try: run,
      catch: (error) => {
        if (answered(error)) credentialsLoaded = true
        return fromSdkError(error, secrets, credentialsLoaded)
      }
    }).pipe(Effect.tap(() => {
      credentialsLoaded = true
    }))
  // Past the deadline the call is interrupted, which aborts its request (and closes its socket).
  // The answer is read (`answer`: its response mapped, its errors narrowed) inside the call's span, so a
  // malformed response or a narrowed error is the span's outcome too.
  const send = <A, B, E>(
    name: string,
    run: (abortSignal: AbortSignal) => Promise<A>,
    answer: (sent: Effect.Effect<A, CloudWatchLogsError.CloudWatchLogsError>) => Effect.Effect<B, E>
  ): Effect.Effect<B, E> =>
    answer(
      deadline === undefined ? call(run) : Effect.timeoutFail(call(run), {
        duration: deadline,
        onTimeout: () =>
          new CloudWatchLogsError.NetworkError({
            reason: "timeout",
            message: `timed out: ${name} not answered within ${Duration.format(deadline)}`
          })
      })
    ).pipe(Effect.withSpan(`CloudWatchLogs.${name}`, { kind: "client" }))

  const putErrors = narrow("InvalidSequenceTokenException", "DataAlreadyAcceptedException", "ResourceNotFoundException")
  const createGroupErrors = narrow(
    "ResourceAlreadyExistsException",
    "LimitExceededException",
    "OperationAbortedException"
  )
  const createStreamErrors = narrow("ResourceAlreadyExistsException", "ResourceNotFoundException")
  const deleteErrors = narrow("ResourceNotFoundException", "OperationAbortedException")
  const commonErrors = narrow<never>()
  const readErrors = narrow("ResourceNotFoundException")

  return {
    putLogEvents: (request) =>
      send("PutLogEvents", (abortSignal) =>
        client.send(
          new PutLogEventsCommand({
            logGroupName: request.logGroupName,
            logStreamName: request.logStreamName,
            // The events as they are (a copy of the array, not of each event): both serializers write
            // only `timestamp` and `message`, whatever else the objects carry.
            logEvents: [...request.logEvents],
            ...(request.sequenceToken !== undefined ? { sequenceToken: request.sequenceToken } : {}),
            ...(request.entity !== undefined
              ? {
                entity: {
                  keyAttributes: record(request.entity.keyAttributes),
                  attributes: record(request.entity.attributes)
                }
              }
              : {})
          }),
          { abortSignal }
        ), (sent) =>
        sent.pipe(
          Effect.flatMap((out) =>
            mapResponse("PutLogEvents", out, (o): CloudWatchLogsApi.PutLogEventsResponse => ({
              nextSequenceToken: optString(o.nextSequenceToken, "nextSequenceToken"),
              rejectedLogEventsInfo: o.rejectedLogEventsInfo === undefined ? undefined : {
                tooNewLogEventStartIndex: optIndex(
                  o.rejectedLogEventsInfo.tooNewLogEventStartIndex,
                  "tooNewLogEventStartIndex"
                ),
                tooOldLogEventEndIndex: optIndex(
                  o.rejectedLogEventsInfo.tooOldLogEventEndIndex,
                  "tooOldLogEventEndIndex"
                ),
                expiredLogEventEndIndex: optIndex(
                  o.rejectedLogEventsInfo.expiredLogEventEndIndex,
                  "expiredLogEventEndIndex"
                )
              },
              rejectedEntityInfo: o.rejectedEntityInfo?.errorType === undefined ?
                undefined :
                { errorType: o.rejectedEntityInfo.errorType }
            }))
          ),
          Effect.mapError(putErrors)
        )),

    createLogGroup: (request) =>
      send("CreateLogGroup", (abortSignal) =>
        client.send(
          new CreateLogGroupCommand({
            logGroupName: request.logGroupName,
            ...(request.kmsKeyId !== undefined ? { kmsKeyId: request.kmsKeyId } : {}),
            ...(request.tags !== undefined ? { tags: { ...request.tags } } : {}),
            ...(request.logGroupClass !== undefined ? { logGroupClass: request.logGroupClass } : {})
          }),
          { abortSignal }
        ), (sent) => sent.pipe(Effect.asVoid, Effect.mapError(createGroupErrors))),

    createLogStream: (request) =>
      send("CreateLogStream", (abortSignal) =>
        client.send(
          new CreateLogStreamCommand({ logGroupName: request.logGroupName, logStreamName: request.logStreamName }),
          { abortSignal }
        ), (sent) => sent.pipe(Effect.asVoid, Effect.mapError(createStreamErrors))),

    deleteLogGroup: (request) =>
      send(
        "DeleteLogGroup",
        (abortSignal) =>
          client.send(new DeleteLogGroupCommand({ logGroupName: request.logGroupName }), { abortSignal }),
        (sent) =>
          sent.pipe(
            Effect.asVoid,
            Effect.mapError(deleteErrors)
          )
      ),

    deleteLogStream: (request) =>
      send("DeleteLogStream", (abortSignal) =>
        client.send(
          new DeleteLogStreamCommand({ logGroupName: request.logGroupName, logStreamName: request.logStreamName }),
          { abortSignal }
        ), (sent) => sent.pipe(Effect.asVoid, Effect.mapError(deleteErrors))),

    describeLogGroups: (request) =>
      send("DescribeLogGroups", (abortSignal) =>
        client.send(
          new DescribeLogGroupsCommand({
            ...(request.logGroupNamePrefix !== undefined ? { logGroupNamePrefix: request.logGroupNamePrefix } : {}),
            ...(request.logGroupNamePattern !== undefined ? { logGroupNamePattern: request.logGroupNamePattern } : {}),
            ...(request.nextToken !== undefined ? { nextToken: request.nextToken } : {}),
            ...(request.limit !== undefined ? { limit: request.limit } : {})
          }),
          { abortSignal }
        ), (sent) =>
        sent.pipe(
          Effect.flatMap((out) =>
            mapResponse("DescribeLogGroups", out, (o): CloudWatchLogsApi.DescribeLogGroupsResponse => ({
              logGroups: (o.logGroups ?? []).map((g) => ({
                logGroupName: need(g.logGroupName, "logGroups[].logGroupName"),
                creationTime: g.creationTime ?? 0,
                retentionInDays: opt(g.retentionInDays),
                storedBytes: opt(g.storedBytes),
                arn: opt(g.arn),
                logGroupArn: opt(g.logGroupArn),
                logGroupClass: opt(g.logGroupClass)
              })),
              nextToken: optString(o.nextToken, "nextToken")
            }))
          ),
          Effect.mapError(commonErrors)
        )),

    describeLogStreams: (request) =>
      send("DescribeLogStreams", (abortSignal) =>
        client.send(
          new DescribeLogStreamsCommand({
            logGroupName: request.logGroupName,
            ...(request.logStreamNamePrefix !== undefined ? { logStreamNamePrefix: request.logStreamNamePrefix } : {}),
            ...(request.orderBy !== undefined ? { orderBy: request.orderBy } : {}),
            ...(request.descending !== undefined ? { descending: request.descending } : {}),
            ...(request.nextToken !== undefined ? { nextToken: request.nextToken } : {}),
            ...(request.limit !== undefined ? { limit: request.limit } : {})
          }),
          { abortSignal }
        ), (sent) =>
        sent.pipe(
          Effect.flatMap((out) =>
            mapResponse("DescribeLogStreams", out, (o): CloudWatchLogsApi.DescribeLogStreamsResponse => ({
              logStreams: (o.logStreams ?? []).map((s) => ({
                logStreamName: need(s.logStreamName, "logStreams[].logStreamName"),
                creationTime: s.creationTime ?? 0,
                firstEventTimestamp: opt(s.firstEventTimestamp),
                lastEventTimestamp: opt(s.lastEventTimestamp),
                lastIngestionTime: opt(s.lastIngestionTime),
                uploadSequenceToken: optString(s.uploadSequenceToken, "uploadSequenceToken"),
                arn: opt(s.arn),
                storedBytes: opt(s.storedBytes)
              })),
              nextToken: optString(o.nextToken, "nextToken")
            }))
          ),
          Effect.mapError(readErrors)
        )),

    putRetentionPolicy: (request) =>
      send("PutRetentionPolicy", (abortSignal) =>
        client.send(
          new PutRetentionPolicyCommand({
            logGroupName: request.logGroupName,
            retentionInDays: request.retentionInDays
          }),
          { abortSignal }
        ), (sent) => sent.pipe(Effect.asVoid, Effect.mapError(deleteErrors))),

    deleteRetentionPolicy: (request) =>
      send(
        "DeleteRetentionPolicy",
        (abortSignal) =>
          client.send(new DeleteRetentionPolicyCommand({ logGroupName: request.logGroupName }), { abortSignal }),
        (sent) =>
          sent.pipe(
            Effect.asVoid,
            Effect.mapError(deleteErrors)
          )
      ),

    getLogEvents: (request) =>
      send("GetLogEvents", (abortSignal) =>
        client.send(
          new GetLogEventsCommand({
            logGroupName: request.logGroupName,
            logStreamName: request.logStreamName,
            ...(request.startTime !== undefined ? { startTime: request.startTime } : {}),
            ...(request.endTime !== undefined ? { endTime: request.endTime } : {}),
            ...(request.nextToken !== undefined ? { nextToken: request.nextToken } : {}),
            ...(request.limit !== undefined ? { limit: request.limit } : {}),
            ...(request.startFromHead !== undefined ? { startFromHead: request.startFromHead } : {})
          }),
          { abortSignal }
        ), (sent) =>
        sent.pipe(
          Effect.flatMap((out) =>
            mapResponse("GetLogEvents", out, (o): CloudWatchLogsApi.GetLogEventsResponse => ({
              events: (o.events ?? []).map((e) => ({
                timestamp: need(e.timestamp, "events[].timestamp"),
                message: e.message ?? "",
                ingestionTime: e.ingestionTime ?? 0
              })),
              nextForwardToken: optString(o.nextForwardToken, "nextForwardToken"),
              nextBackwardToken: optString(o.nextBackwardToken, "nextBackwardToken")
            }))
          ),
          Effect.mapError(readErrors)
        )),

    filterLogEvents: (request) =>
      send("FilterLogEvents", (abortSignal) =>
        client.send(
          new FilterLogEventsCommand({
            logGroupName: request.logGroupName,
            ...(request.logStreamNames !== undefined ? { logStreamNames: [...request.logStreamNames] } : {}),
            ...(request.logStreamNamePrefix !== undefined ? { logStreamNamePrefix: request.logStreamNamePrefix } : {}),
            ...(request.startTime !== undefined ? { startTime: request.startTime } : {}),
            ...(request.endTime !== undefined ? { endTime: request.endTime } : {}),
            ...(request.filterPattern !== undefined ? { filterPattern: request.filterPattern } : {}),
            ...(request.nextToken !== undefined ? { nextToken: request.nextToken } : {}),
            ...(request.limit !== undefined ? { limit: request.limit } : {})
          }),
          { abortSignal }
        ), (sent) =>
        sent.pipe(
          Effect.flatMap((out) =>
            mapResponse("FilterLogEvents", out, (o): CloudWatchLogsApi.FilterLogEventsResponse => ({
              events: (o.events ?? []).map((e) => ({
                logStreamName: e.logStreamName ?? "",
                timestamp: need(e.timestamp, "events[].timestamp"),
                message: e.message ?? "",
                ingestionTime: e.ingestionTime ?? 0,
                eventId: e.eventId ?? ""
              })),
              nextToken: optString(o.nextToken, "nextToken")
            }))
          ),
          Effect.mapError(readErrors)
        ))
  }
}

/**
 * Whether an endpoint is an http or https URL with a host (`localhost:4566` parses, as a URL of scheme
 * `localhost:`). @internal
 */
export const isHttpUrl = (endpoint: string): boolean => {
  if (!URL.canParse(endpoint)) return false
  const url = new URL(endpoint)
  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== ""
}

/**
 * The endpoint the SDK takes from the environment when none is given, and the variable it comes from:
 * `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, else `AWS_ENDPOINT_URL` (an empty one is skipped, as the SDK
 * skips it); none with `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`, which makes the SDK ignore both. @internal
 */
export const environmentEndpoint = (
  env: Readonly<Record<string, string | undefined>>
): { readonly variable: string; readonly value: string } | undefined => {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === "true") return undefined
  for (const variable of ["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "AWS_ENDPOINT_URL"]) {
    const value = env[variable]
    if (value !== undefined && value !== "") return { variable, value }
  }
  return undefined
}

/**
 * What is wrong with the options, if anything: a timeout of zero or less (which the SDK would read as
 * none, so that a call without an answer would wait for ever), `maxAttempts` not a whole number of at
 * least 1, an endpoint that is not an http or https URL (each call would fail with "Invalid URL"),
 * given or, when none is, taken from the environment (`env`, `process.env` by default).
 *
 * @internal
 */
export const invalidOptions = (
  options: Options,
  env: Readonly<Record<string, string | undefined>> = process.env
): string | undefined => {
  if (options.endpoint !== undefined && options.endpoint !== "") {
    if (!isHttpUrl(options.endpoint)) {
      return `endpoint must be a URL starting with http:// or https:// (got ${
        JSON.stringify(options.endpoint)
      }), e.g. http://localhost:4566`
    }
  } else {
    const fromEnv = environmentEndpoint(env)
    if (fromEnv !== undefined && !isHttpUrl(fromEnv.value)) {
      return `${fromEnv.variable} must be a URL starting with http:// or https:// (got ${
        JSON.stringify(fromEnv.value)
      }), e.g. http://localhost:4566`
    }
  }
  for (const name of ["connectionTimeout", "requestTimeout"] as const) {
    const value = options[name]
    if (value === undefined) continue
    const millis = Duration.toMillis(value)
    if (!(millis > 0)) {
      return `${name} must be more than zero (got ${Duration.format(Duration.decode(value))}); ` +
        `an infinite one means none`
    }
  }
  if (options.maxAttempts !== undefined && !(Number.isInteger(options.maxAttempts) && options.maxAttempts >= 1)) {
    return `maxAttempts must be a whole number of at least 1 (got ${options.maxAttempts})`
  }
  return undefined
}

/**
 * The port over a client made from the options, for the lifetime of the scope. Invalid options are a
 * defect (a programming error), with a message saying which.
 *
 * @internal
 */
export const make = (
  options: Options = {}
): Effect.Effect<CloudWatchLogsApi.CloudWatchLogsApiShape, never, Scope.Scope> =>
  Effect.suspend(() => {
    const invalid = invalidOptions(options)
    if (invalid !== undefined) return Effect.dieMessage(`cwlogs: NodeCloudWatchLogs: ${invalid}`)
    return Effect.map(acquireClient(options), (client) => fromClient(client, secretsOf(options), callDeadline(options)))
  })
