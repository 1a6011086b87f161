/**
 * The pure rules of the uploader: what an error says about the token, whether a failed call may have
 * been applied, which events the service rejected, and which stream of a DescribeLogStreams page is ours.
 *
 * @internal
 */
import * as Option from "effect/Option"
import type { LogStream, RejectedLogEventsInfo } from "../CloudWatchLogsApi.js"
import type { CloudWatchLogsError } from "../CloudWatchLogsError.js"
import * as Errors from "../CloudWatchLogsError.js"
import type { LogEvent } from "../LogEvent.js"
import * as LogEventSize from "../LogEvent.js"
import type { UploadResult } from "../Uploader.js"

/**
 * What a token error tells about the token the next put must carry.
 *
 * - `Token`: this one (from the field, else from the message)
 * - `NoToken`: none (the message says `null`: the stream has never been written)
 * - `Unknown`: the error does not say; DescribeLogStreams is the last resort
 *
 * @internal
 */
export type TokenHint =
  | { readonly _tag: "Token"; readonly token: string }
  | { readonly _tag: "NoToken" }
  | { readonly _tag: "Unknown" }

const NULL_TOKEN = /sequenceToken(?: is)?:\s*null\s*$/

/** @internal */
export const tokenHint = (
  error: Errors.InvalidSequenceTokenException | Errors.DataAlreadyAcceptedException
): TokenHint => {
  const token = Errors.expectedSequenceToken(error)
  if (token !== undefined) return { _tag: "Token", token }
  if (NULL_TOKEN.test(error.message)) return { _tag: "NoToken" }
  return { _tag: "Unknown" }
}

/**
 * The token a hint names (`NoToken`: none).
 *
 * @internal
 */
export const hintedToken = (hint: Exclude<TokenHint, { readonly _tag: "Unknown" }>): Option.Option<string> =>
  hint._tag === "Token" ? Option.some(hint.token) : Option.none()

/**
 * Whether a call that failed so may nevertheless have been applied by the service (a lost answer): a
 * server fault, a connection reset or timeout, an answer that could not be read. A refused connection, a
 * failed DNS lookup or credentials that could not be loaded never reached the service.
 *
 * @internal
 */
export const possiblyApplied = (error: CloudWatchLogsError): boolean => {
  switch (error._tag) {
    case "ServiceUnavailableException":
      return true
    case "NetworkError":
      return error.reason !== "refused" && error.reason !== "dns" && error.reason !== "credentials"
    case "MalformedResponseError":
      return error.httpStatus === undefined || error.httpStatus < 400 || error.httpStatus >= 500
    case "UnknownServiceError":
      return error.fault === "server"
    default:
      return false
  }
}

/**
 * The rejected events of a batch, by index. The contract: events before `tooOldLogEventEndIndex` are too
 * old, events before `expiredLogEventEndIndex` are expired (too old wins when both apply), events from
 * `tooNewLogEventStartIndex` on are too new. Indexes are clamped to the batch.
 *
 * @internal
 */
export const rejectedIndexes = (
  info: RejectedLogEventsInfo | undefined,
  count: number
): UploadResult["rejected"] => {
  if (info === undefined) return []
  const clamp = (i: number | undefined, fallback: number) =>
    i === undefined || !Number.isFinite(i) ? fallback : Math.max(0, Math.min(count, Math.trunc(i)))
  const tooOldEnd = clamp(info.tooOldLogEventEndIndex, 0)
  const expiredEnd = clamp(info.expiredLogEventEndIndex, 0)
  const tooNewStart = clamp(info.tooNewLogEventStartIndex, count)
  const rejected: Array<UploadResult["rejected"][number]> = []
  for (let index = 0; index < count; index++) {
    if (index < tooOldEnd) rejected.push({ index, reason: "TooOld" })
    else if (index < expiredEnd) rejected.push({ index, reason: "Expired" })
    else if (index >= tooNewStart) rejected.push({ index, reason: "TooNew" })
  }
  return rejected
}

/**
 * Bytes of a batch as the service counts them.
 *
 * @internal
 */
export const batchBytes = (batch: ReadonlyArray<LogEvent>): number => {
  let bytes = 0
  for (const event of batch) bytes += LogEventSize.size(event)
  return bytes
}

/**
 * The stream of that exact name in a DescribeLogStreams page (the call filters by prefix: `api-1`
 * also finds `api-10`).
 *
 * @internal
 */
export const exactStream = (streams: ReadonlyArray<LogStream>, name: string): LogStream | undefined =>
  streams.find((stream) => stream.logStreamName === name)
