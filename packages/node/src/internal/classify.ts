/**
 * Turns whatever the AWS SDK v3 throws into the core's typed errors. Pure: no SDK import, it reads the
 * shape of the thrown value only (`name`, `code`, `$fault`, `$metadata`, `expectedSequenceToken`).
 *
 * @internal
 */
import { CloudWatchLogsError } from "@cwlogs/core"

type Reason = CloudWatchLogsError.NetworkError["reason"]

const field = (value: unknown, key: string): unknown => {
  if (typeof value !== "object" || value === null) return undefined
  const found: unknown = Reflect.get(value, key)
  return found
}

const stringField = (value: unknown, key: string): string | undefined => {
  const v = field(value, key)
  return typeof v === "string" ? v : undefined
}

const numberField = (value: unknown, key: string): number | undefined => {
  const v = field(value, key)
  return typeof v === "number" ? v : undefined
}

/**
 * The name of the error a response body larger than the adapter reads fails with (`sdk.ts`).
 *
 * @internal
 */
export const RESPONSE_TOO_LARGE = "ResponseTooLargeError"

const NETWORK_CODES: Readonly<Record<string, Reason>> = {
  ECONNREFUSED: "refused",
  ECONNRESET: "reset",
  EPIPE: "reset",
  ECONNABORTED: "reset",
  ETIMEDOUT: "timeout",
  ESOCKETTIMEDOUT: "timeout",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
  EHOSTUNREACH: "other",
  ENETUNREACH: "other",
  EADDRNOTAVAIL: "other"
}

/**
 * Which network failure a thrown value is, if it is one. The socket's `code` wins over the `name`,
 * because the SDK renames ECONNRESET and EPIPE to `TimeoutError` while keeping the code.
 *
 * @internal
 */
export const networkReason = (error: unknown): Reason | undefined => {
  const code = stringField(error, "code")
  if (code !== undefined && code in NETWORK_CODES) return NETWORK_CODES[code]
  const name = stringField(error, "name")
  const message = stringField(error, "message") ?? ""
  if (name === "TimeoutError" || name === "RequestTimeout" || name === "TimeoutOverflowWarning") return "timeout"
  if (name === "AbortError") return "other"
  if (/socket hang up/i.test(message)) return "reset"
  if (/ECONNREFUSED/.test(message)) return "refused"
  if (/ECONNRESET|EPIPE/.test(message)) return "reset"
  if (/ETIMEDOUT|timed out/i.test(message)) return "timeout"
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return "dns"
  const cause = field(error, "cause")
  return cause !== undefined && cause !== error ? networkReason(cause) : undefined
}

const REASON_TEXT: Readonly<Record<Reason, string>> = {
  refused: "connection refused",
  reset: "connection reset",
  timeout: "timed out",
  dns: "host not found",
  credentials: "the AWS credentials could not be refreshed",
  other: "request did not complete"
}

/**
 * Removes every occurrence of the given secrets from a text.
 *
 * @internal
 */
export const scrub = (text: string, secrets: ReadonlyArray<string>): string => {
  let out = text
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join("<redacted>")
  }
  return out
}

/**
 * Whether a value thrown by `client.send` is an answer of the service (an HTTP status came back): the
 * request was signed, so its credentials had been loaded.
 *
 * @internal
 */
export const answered = (error: unknown): boolean =>
  numberField(field(error, "$metadata"), "httpStatusCode") !== undefined

/**
 * Classifies a value thrown by `client.send` into the core's typed errors. `secrets` are removed from
 * every message kept (the secret key and session token, should a server or the SDK ever echo them).
 * `credentialsLoaded`: whether this client's credentials were loaded before (a request of it was
 * answered), which makes a failure to load them a transient `NetworkError` (`credentials`) rather than
 * missing credentials.
 *
 * @internal
 */
export const fromSdkError = (
  error: unknown,
  secrets: ReadonlyArray<string> = [],
  credentialsLoaded = false
): CloudWatchLogsError.CloudWatchLogsError => {
  const name = stringField(error, "name") ?? "Error"
  const rawMessage = stringField(error, "message") ?? String(error)
  const message = scrub(firstLine(rawMessage), secrets)
  const metadata = field(error, "$metadata")
  const httpStatus = numberField(metadata, "httpStatusCode")
  const requestId = stringField(metadata, "requestId")
  const fault = stringField(error, "$fault")

  // A service error: the SDK parsed an error body and named it.
  if (fault === "client" || fault === "server") {
    const expected = stringField(error, "expectedSequenceToken")
    return CloudWatchLogsError.fromWire({
      name,
      message,
      ...(httpStatus !== undefined ? { httpStatus } : {}),
      ...(requestId !== undefined ? { requestId } : {}),
      ...(expected !== undefined ? { expectedSequenceToken: expected } : {})
    })
  }

  /** An answer that is not one of the service's: `what` it was, its status (if any), then `detail`. */
  const malformed = (what: string, detail?: string) =>
    new CloudWatchLogsError.MalformedResponseError({
      message: `${what}${httpStatus !== undefined ? ` (HTTP ${httpStatus})` : ""}${
        detail === undefined ? "" : `: ${detail}`
      }`,
      ...(httpStatus !== undefined ? { httpStatus } : {}),
      ...(requestId !== undefined ? { requestId } : {})
    })

  // A body larger than any answer of the service: cut off, its request's socket closed.
  if (name === RESPONSE_TOO_LARGE) return malformed(message)

  // The connection failed, the answer's body cut included (the SDK then also says it could not parse
  // it, but the socket's code says what happened: the answer was lost, not malformed).
  const reason = networkReason(error)
  if (reason !== undefined) {
    return new CloudWatchLogsError.NetworkError({ reason, message: `${REASON_TEXT[reason]}: ${message}` })
  }

  // Too many requests, with a body that is not an AWS error (a proxy, a gateway): throttling.
  if (httpStatus === 429) {
    return new CloudWatchLogsError.ThrottlingException({
      message: `HTTP 429 Too Many Requests: ${message}`,
      httpStatus,
      ...(requestId !== undefined ? { requestId } : {})
    })
  }

  // The body could not be parsed: HTML from a proxy, garbage.
  if (name === "SyntaxError" || /Deserialization error|is not valid JSON|Unexpected (token|end)/.test(rawMessage)) {
    return malformed("The endpoint answered with a response that is not valid JSON", message)
  }

  if (name === "CredentialsProviderError" || name === "CredentialsError" || /credentials/i.test(rawMessage)) {
    // The SDK says the same ("Could not load credentials from any providers") whether none are configured
    // or their source failed while refreshing them: credentials that were loaded before tell the two apart.
    // Loading them sends nothing to the endpoint: an answer with a status (a proxy's 407) is not that.
    return credentialsLoaded && httpStatus === undefined
      ? new CloudWatchLogsError.NetworkError({
        reason: "credentials",
        message: `${REASON_TEXT.credentials} (they were loaded before; their source is failing): ${message}`
      })
      : new CloudWatchLogsError.UnrecognizedClientException({ message: `No usable AWS credentials: ${message}` })
  }

  if (/Region is missing|Region not accepted: region="" /i.test(rawMessage)) {
    return new CloudWatchLogsError.UnknownServiceError({
      errorName: "MissingRegion",
      message: "No AWS region configured: set AWS_REGION or pass a region",
      fault: "client"
    })
  }

  // Anything else the SDK raised before or after the exchange (a missing region, a bad endpoint URL, an
  // error status without a recognisable body).
  return new CloudWatchLogsError.UnknownServiceError({
    errorName: name,
    message,
    fault: httpStatus !== undefined && httpStatus >= 500 ? "server" : "client",
    ...(httpStatus !== undefined ? { httpStatus } : {}),
    ...(requestId !== undefined ? { requestId } : {})
  })
}

const firstLine = (text: string): string => {
  const nl = text.indexOf("\n")
  return (nl >= 0 ? text.slice(0, nl) : text).trim()
}
