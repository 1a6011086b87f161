/**
 * One typed error per kind of failure CloudWatch Logs (or the way to it) can answer with. The `_tag` of
 * a service error is AWS's own error name (`__type`), so the wire name and the type are one.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * What every service error carries: AWS's message, the request id and the HTTP status when known.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServiceErrorFields {
  readonly message: string
  readonly requestId?: string | undefined
  readonly httpStatus?: number | undefined
}

/**
 * Legacy protocol: the sequence token was wrong or missing. `expectedSequenceToken` is the one to use.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidSequenceTokenException extends Data.TaggedError("InvalidSequenceTokenException")<
  ServiceErrorFields & { readonly expectedSequenceToken?: string | undefined }
> {}

/**
 * Legacy protocol: this batch was already stored (a replay). A success for the caller.
 *
 * @since 0.1.0
 * @category errors
 */
export class DataAlreadyAcceptedException extends Data.TaggedError("DataAlreadyAcceptedException")<
  ServiceErrorFields & { readonly expectedSequenceToken?: string | undefined }
> {}

/**
 * Rate exceeded. Retry with backoff.
 *
 * @since 0.1.0
 * @category errors
 */
export class ThrottlingException extends Data.TaggedError("ThrottlingException")<ServiceErrorFields> {}

/**
 * A server fault (5xx). Retry with backoff.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServiceUnavailableException extends Data.TaggedError("ServiceUnavailableException")<
  ServiceErrorFields
> {}

/**
 * The log group or log stream does not exist. `resource` says which, read from AWS's message.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResourceNotFoundException extends Data.TaggedError("ResourceNotFoundException")<
  ServiceErrorFields & { readonly resource?: "logGroup" | "logStream" | undefined }
> {}

/**
 * The request breaks a rule of the service. `rule` names it when known (see `Rule`).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidParameterException extends Data.TaggedError("InvalidParameterException")<
  ServiceErrorFields & { readonly rule?: Rule | undefined }
> {}

/**
 * Bad access key or secret. Never retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnrecognizedClientException extends Data.TaggedError("UnrecognizedClientException")<
  ServiceErrorFields
> {}

/**
 * The request signature does not match. Never retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidSignatureException extends Data.TaggedError("InvalidSignatureException")<
  ServiceErrorFields
> {}

/**
 * The caller is not allowed to do this. Never retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class AccessDeniedException extends Data.TaggedError("AccessDeniedException")<ServiceErrorFields> {}

/**
 * Too many resources (e.g. log groups). Never retried.
 *
 * @since 0.1.0
 * @category errors
 */
export class LimitExceededException extends Data.TaggedError("LimitExceededException")<ServiceErrorFields> {}

/**
 * The group or stream being created exists already.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResourceAlreadyExistsException extends Data.TaggedError("ResourceAlreadyExistsException")<
  ServiceErrorFields
> {}

/**
 * A concurrent change to the same resource. Retry.
 *
 * @since 0.1.0
 * @category errors
 */
export class OperationAbortedException extends Data.TaggedError("OperationAbortedException")<
  ServiceErrorFields
> {}

/**
 * The endpoint could not be reached or the request did not complete (refused, reset, timed out, aborted):
 * the request may or may not have been applied. Or (`credentials`) the AWS credentials could not be
 * loaded again after they had been (their source, e.g. the ECS or EC2 metadata endpoint, is failing
 * while they are refreshed): nothing was sent. Retried as transient either way.
 *
 * @since 0.1.0
 * @category errors
 */
export class NetworkError extends Data.TaggedError("NetworkError")<{
  readonly message: string
  readonly reason: "refused" | "reset" | "timeout" | "dns" | "credentials" | "other"
}> {}

/**
 * The service answered with something that is not a valid response (not JSON, missing members).
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedResponseError extends Data.TaggedError("MalformedResponseError")<{
  readonly message: string
  readonly httpStatus?: number | undefined
  readonly requestId?: string | undefined
}> {}

/**
 * An error the library does not know by name. `errorName` is what the service called it; `fault` says
 * whether the service blamed itself (5xx) or the client.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownServiceError extends Data.TaggedError("UnknownServiceError")<
  ServiceErrorFields & { readonly errorName: string; readonly fault: "client" | "server" }
> {}

/**
 * The rules of PutLogEvents and of names, as named in `InvalidParameterException.rule` and in the
 * validator's rejections.
 *
 * @since 0.1.0
 * @category models
 */
export type Rule =
  | "EmptyBatch"
  | "TooManyEvents"
  | "BatchTooLarge"
  | "EventTooLarge"
  | "EmptyMessage"
  | "NotChronological"
  | "SpanOver24Hours"
  | "InvalidTimestamp"
  | "InvalidLogGroupName"
  | "InvalidLogStreamName"
  | "InvalidRetention"
  | "InvalidParameter"

/**
 * Errors any call can fail with, whatever the operation.
 *
 * @since 0.1.0
 * @category errors
 */
export type CommonError =
  | ServiceUnavailableException
  | ThrottlingException
  | UnrecognizedClientException
  | InvalidSignatureException
  | AccessDeniedException
  | InvalidParameterException
  | NetworkError
  | MalformedResponseError
  | UnknownServiceError

/**
 * Every error of this module.
 *
 * @since 0.1.0
 * @category errors
 */
export type CloudWatchLogsError =
  | CommonError
  | InvalidSequenceTokenException
  | DataAlreadyAcceptedException
  | ResourceNotFoundException
  | LimitExceededException
  | ResourceAlreadyExistsException
  | OperationAbortedException

/**
 * How the library treats an error (the reference's "retry?" column).
 *
 * - `token`: retry at once with the expected token
 * - `alreadyAccepted`: a success (the batch is stored)
 * - `throttled`: retry with a long backoff and slow down
 * - `transient`: retry with backoff (5xx, network, concurrent change)
 * - `notFound`: create the group or stream, then resend
 * - `fatal`: never retried
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorClass = "token" | "alreadyAccepted" | "throttled" | "transient" | "notFound" | "fatal"

/**
 * Classifies an error for retrying.
 *
 * @since 0.1.0
 * @category classification
 */
export const classify = (error: CloudWatchLogsError): ErrorClass => {
  switch (error._tag) {
    case "InvalidSequenceTokenException":
      return "token"
    case "DataAlreadyAcceptedException":
      return "alreadyAccepted"
    case "ThrottlingException":
      return "throttled"
    case "ServiceUnavailableException":
    case "OperationAbortedException":
    case "NetworkError":
      return "transient"
    case "MalformedResponseError":
      return error.httpStatus === 429
        ? "throttled"
        : error.httpStatus !== undefined && error.httpStatus >= 500
        ? "transient"
        : "fatal"
    case "UnknownServiceError":
      return error.httpStatus === 429 ? "throttled" : error.fault === "server" ? "transient" : "fatal"
    case "InvalidSignatureException":
      // a clock off by more than the service's 5 minutes: the SDK corrects its offset from the answer's
      // Date, and the next attempt is signed right
      return CLOCK_SKEW.test(error.message) ? "transient" : "fatal"
    case "ResourceNotFoundException":
      return "notFound"
    case "InvalidParameterException":
    case "UnrecognizedClientException":
    case "AccessDeniedException":
    case "LimitExceededException":
    case "ResourceAlreadyExistsException":
      return "fatal"
  }
}

/** What AWS says when a request's signing time is too far from its own clock. */
const CLOCK_SKEW =
  /Signature expired|Signature not yet current|request time and the current time is too large|Request has expired/i

const EXPECTED_TOKEN = /sequenceToken(?: is)?:\s*(\S+)\s*$/

/**
 * The expected sequence token of a token error: the `expectedSequenceToken` field, else the end of the
 * message (`The next expected sequenceToken is: <token>`), as old SDKs only exposed the message.
 * `null` in the message means "no token" (a new stream) and yields `undefined`.
 *
 * @since 0.1.0
 * @category classification
 */
export const expectedSequenceToken = (
  error: InvalidSequenceTokenException | DataAlreadyAcceptedException
): string | undefined => {
  if (error.expectedSequenceToken !== undefined && error.expectedSequenceToken !== "") {
    return error.expectedSequenceToken
  }
  const match = EXPECTED_TOKEN.exec(error.message)
  if (match === null || match[1] === undefined || match[1] === "null") return undefined
  return match[1]
}

/**
 * Builds the typed error for a wire error name (`__type`, with any `prefix#` or `:suffix` dropped).
 * Used by every adapter (the AWS SDK, the emulator's clients) so that they classify alike.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromWire = (wire: {
  readonly name: string
  readonly message: string
  readonly httpStatus?: number | undefined
  readonly requestId?: string | undefined
  readonly expectedSequenceToken?: string | undefined
}): CloudWatchLogsError => {
  const name = normalizeErrorName(wire.name)
  const base: ServiceErrorFields = {
    message: wire.message,
    ...(wire.requestId !== undefined ? { requestId: wire.requestId } : {}),
    ...(wire.httpStatus !== undefined ? { httpStatus: wire.httpStatus } : {})
  }
  const token = wire.expectedSequenceToken !== undefined ? { expectedSequenceToken: wire.expectedSequenceToken } : {}
  switch (name) {
    case "InvalidSequenceTokenException":
      return new InvalidSequenceTokenException({ ...base, ...token })
    case "DataAlreadyAcceptedException":
      return new DataAlreadyAcceptedException({ ...base, ...token })
    // The AWS SDK's own throttling names (`THROTTLING_ERROR_CODES` of @smithy/core,
    // dist-es/submodules/retry/service-error-classification/constants.js), but LimitExceededException:
    // for CloudWatch Logs that is a quota (too many log groups), which waiting does not lift.
    case "ThrottlingException":
    case "Throttling":
    case "TooManyRequestsException":
    case "RequestLimitExceeded":
    case "RequestThrottled":
    case "RequestThrottledException":
    case "ThrottledException":
    case "SlowDown":
    case "PriorRequestNotComplete":
    case "BandwidthLimitExceeded":
    case "ProvisionedThroughputExceededException":
    case "EC2ThrottledException":
    case "TransactionInProgressException":
      return new ThrottlingException(base)
    // and its transient names (`TRANSIENT_ERROR_CODES`, same file): the request timed out on the way
    case "RequestTimeout":
    case "RequestTimeoutException":
    case "TimeoutError":
    case "ServiceUnavailableException":
    case "ServiceUnavailable":
    case "InternalFailure":
    case "InternalServerError":
      return new ServiceUnavailableException(base)
    case "ResourceNotFoundException": {
      const resource = /log stream/i.test(wire.message)
        ? "logStream" as const
        : /log group/i.test(wire.message)
        ? "logGroup" as const
        : undefined
      return new ResourceNotFoundException({ ...base, ...(resource !== undefined ? { resource } : {}) })
    }
    case "InvalidParameterException":
    case "ValidationException":
    case "SerializationException":
      return new InvalidParameterException({ ...base, rule: ruleOfMessage(wire.message) })
    case "UnrecognizedClientException":
    case "InvalidClientTokenId":
    case "ExpiredTokenException":
      return new UnrecognizedClientException(base)
    case "InvalidSignatureException":
    case "SignatureDoesNotMatch":
    case "RequestExpired":
    case "RequestTimeTooSkewed":
    case "RequestInTheFuture":
      return new InvalidSignatureException(base)
    case "AccessDeniedException":
      return new AccessDeniedException(base)
    case "LimitExceededException":
      return new LimitExceededException(base)
    case "ResourceAlreadyExistsException":
      return new ResourceAlreadyExistsException(base)
    case "OperationAbortedException":
      return new OperationAbortedException(base)
    default:
      // an error name nobody knows, with 429 Too Many Requests: throttling all the same
      if (wire.httpStatus === 429) return new ThrottlingException(base)
      return new UnknownServiceError({
        ...base,
        errorName: name,
        fault: wire.httpStatus !== undefined && wire.httpStatus >= 500 ? "server" : "client"
      })
  }
}

/**
 * Drops the `prefix#` and `:suffix` that some services put around an error name.
 *
 * @since 0.1.0
 * @category classification
 */
export const normalizeErrorName = (name: string): string => {
  const hash = name.lastIndexOf("#")
  const afterHash = hash >= 0 ? name.slice(hash + 1) : name
  const colon = afterHash.indexOf(":")
  return colon >= 0 ? afterHash.slice(0, colon) : afterHash
}

/**
 * Reads which rule an InvalidParameterException message names (AWS's own wording).
 *
 * @since 0.1.0
 * @category classification
 */
export const ruleOfMessage = (message: string): Rule => {
  if (/Upload too large/i.test(message)) return "BatchTooLarge"
  if (/Log event too large/i.test(message)) return "EventTooLarge"
  if (/chronological order/i.test(message)) return "NotChronological"
  if (/span more than 24 hours/i.test(message)) return "SpanOver24Hours"
  if (/'logEvents\.\d+\.member\.message'.*greater than or equal to 1\b/i.test(message)) return "EmptyMessage"
  if (/'logEvents\.\d+\.member\.timestamp'/i.test(message)) return "InvalidTimestamp"
  if (/'logEvents'.*less than or equal to 10000|too many log events/i.test(message)) return "TooManyEvents"
  if (/'logEvents'.*greater than or equal to 1\b|empty/i.test(message)) return "EmptyBatch"
  if (/logGroupName/.test(message)) return "InvalidLogGroupName"
  if (/logStreamName/.test(message)) return "InvalidLogStreamName"
  if (/retentionInDays/.test(message)) return "InvalidRetention"
  return "InvalidParameter"
}
