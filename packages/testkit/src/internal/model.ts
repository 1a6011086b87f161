/**
 * The model of CloudWatch Logs: state plus operations, no I/O and no clock. Every operation takes the
 * current time (epoch milliseconds) as an argument and answers with an `Either` of the response or the
 * service's error (AWS's name and message).
 *
 * Storage: an accepted batch is kept as a copy of its timestamps and messages (two arrays, no object per
 * event) with the accepted index range, so a caller reusing or changing its events after the put changes
 * nothing stored; reads materialise a sorted view lazily.
 *
 * @internal
 */
import type { CloudWatchLogsApi as Api } from "@cwlogs/core"
import { CloudWatchLogsError as Errors, Limits, Names } from "@cwlogs/core"
import * as Either from "effect/Either"
import type { OperationName } from "./faults.js"
import { utf8Bytes } from "./utf8.js"

const DAY = 86_400_000
const BAD_TOKEN = "The specified nextToken is invalid."
/** FilterLogEvents returns the latest events first only for a `startTime` on or after this (Jan 1, 2024 UTC). */
const LATEST_FIRST_SINCE = Date.UTC(2024, 0, 1)

/** @internal */
export type LogGroupClass = NonNullable<Api.CreateLogGroupRequest["logGroupClass"]>

/**
 * CreateLogGroup as the service takes it: the port's request plus `deletionProtectionEnabled`, which the
 * port leaves out.
 *
 * @internal
 */
export type CreateLogGroupRequest = Api.CreateLogGroupRequest & {
  readonly deletionProtectionEnabled?: boolean | undefined
}

/**
 * A log group as DescribeLogGroups answers it: the port's plus `kmsKeyId` and `deletionProtectionEnabled`.
 *
 * @internal
 */
export type LogGroup = Api.LogGroup & {
  readonly kmsKeyId?: string | undefined
  readonly deletionProtectionEnabled?: boolean | undefined
}

/** @internal */
export interface DescribeLogGroupsResponse extends Api.DescribeLogGroupsResponse {
  readonly logGroups: ReadonlyArray<LogGroup>
}

/**
 * DescribeLogGroups as the service takes it: the port's request plus `logGroupClass` and
 * `logGroupIdentifiers`, which the port leaves out.
 *
 * @internal
 */
export type DescribeLogGroupsRequest = Api.DescribeLogGroupsRequest & {
  readonly logGroupClass?: LogGroupClass | undefined
  readonly logGroupIdentifiers?: ReadonlyArray<string> | undefined
}

/**
 * FilterLogEvents as the service takes it: the port's request plus `startFromHead`, which the port
 * leaves out.
 *
 * @internal
 */
export type FilterLogEventsRequest = Api.FilterLogEventsRequest & {
  readonly startFromHead?: boolean | undefined
}

/** @internal */
export interface ModelOptions {
  readonly sequenceTokens: "enforced" | "ignored"
  readonly limits: Limits.LimitsShape
  readonly throttling: boolean
  readonly discard: boolean
  readonly accountId: string
  readonly region: string
}

/** @internal */
export interface StoredEvent {
  readonly timestamp: number
  readonly message: string
  readonly ingestionTime: number
  readonly seq: number
}

/** @internal */
export interface StreamStats {
  /** Events stored. */
  readonly events: number
  /** Their size as the service counts it: UTF-8 bytes of the message + 26 per event. */
  readonly bytes: number
  /** UTF-8 bytes of the messages alone. */
  readonly messageBytes: number
  /** Successful PutLogEvents calls that stored at least one event. */
  readonly batches: number
}

/** A batch as it was put: its timestamps and messages, copied at put time. */
interface Batch {
  readonly timestamps: ReadonlyArray<number>
  readonly messages: ReadonlyArray<string>
}

const copyBatch = (events: ReadonlyArray<Api.InputLogEvent>): Batch => {
  const n = events.length
  const timestamps = new Array<number>(n)
  const messages = new Array<string>(n)
  for (let i = 0; i < n; i++) {
    const e = events[i]
    timestamps[i] = e.timestamp
    messages[i] = e.message
  }
  return { timestamps, messages }
}

interface Chunk {
  readonly batch: Batch
  readonly start: number
  readonly end: number
  readonly ingestionTime: number
  readonly firstSeq: number
}

interface Bucket {
  tokens: number
  last: number
}

class StreamState {
  pending: Array<Chunk> = []
  view: Array<StoredEvent> = []
  events = 0
  bytes = 0
  messageBytes = 0
  batches = 0
  firstEventTimestamp: number | undefined = undefined
  lastEventTimestamp: number | undefined = undefined
  lastIngestionTime: number | undefined = undefined
  /** The token the next put must carry (`undefined` before the first put). */
  expectedToken: string | undefined = undefined
  /** The token the last accepted batch was sent under, and a copy of that batch (for DataAlreadyAccepted). */
  lastAcceptedUnder: string | undefined = undefined
  lastBatch: Batch | undefined = undefined
  bucket: Bucket | undefined = undefined
  constructor(readonly name: string, readonly creationTime: number, readonly id: number) {}
}

class GroupState {
  readonly streams = new Map<string, StreamState>()
  retentionInDays: number | undefined = undefined
  constructor(
    readonly name: string,
    readonly creationTime: number,
    readonly logGroupClass: string,
    readonly kmsKeyId: string | undefined,
    readonly deletionProtectionEnabled: boolean
  ) {}
}

const invalid = (message: string, rule: Errors.Rule): Errors.InvalidParameterException =>
  new Errors.InvalidParameterException({ message, rule, httpStatus: 400 })

const groupNotFound = (): Errors.ResourceNotFoundException =>
  new Errors.ResourceNotFoundException({
    message: "The specified log group does not exist.",
    resource: "logGroup",
    httpStatus: 400
  })

/**
 * A deletion refused while the group's deletion protection is on: AWS's `ValidationException` (a name the
 * port does not type, hence `UnknownServiceError`; on the wire it is `ValidationException`).
 */
const deletionProtected = (what: "log group" | "log stream"): Errors.UnknownServiceError =>
  new Errors.UnknownServiceError({
    errorName: "ValidationException",
    fault: "client",
    message: what === "log group"
      ? "Cannot delete log group with deletion protection enabled. Disable deletion protection first."
      : "Cannot delete log stream in a log group with deletion protection enabled. Disable deletion protection first.",
    httpStatus: 400
  })

const streamNotFound = (): Errors.ResourceNotFoundException =>
  new Errors.ResourceNotFoundException({
    message: "The specified log stream does not exist.",
    resource: "logStream",
    httpStatus: 400
  })

const validation = (value: string, member: string, constraint: string): string =>
  `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${constraint}`

const checkLimit = (
  limit: number | undefined,
  max: number
): Errors.InvalidParameterException | undefined => {
  if (limit === undefined) return undefined
  if (!Number.isInteger(limit) || limit < 1) {
    return invalid(
      validation(String(limit), "limit", "Member must have value greater than or equal to 1"),
      "InvalidParameter"
    )
  }
  if (limit > max) {
    return invalid(
      validation(String(limit), "limit", `Member must have value less than or equal to ${max}`),
      "InvalidParameter"
    )
  }
  return undefined
}

const compareKey = (ts1: number, seq1: number, ts2: number, seq2: number): number =>
  ts1 !== ts2 ? ts1 - ts2 : seq1 - seq2

const byKey = (a: StoredEvent, b: StoredEvent): number => compareKey(a.timestamp, a.seq, b.timestamp, b.seq)

/** First index in `events` (sorted by key) whose key is greater than (or, `orEqual`, equal to) the cursor. */
const lowerBound = (
  events: ReadonlyArray<StoredEvent>,
  ts: number,
  seq: number,
  orEqual: boolean
): number => {
  let lo = 0
  let hi = events.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    const e = events[mid]
    const c = compareKey(e.timestamp, e.seq, ts, seq)
    if (c < 0 || (c === 0 && !orEqual)) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Bytes one read answer may carry (AWS: 1 MB of events per response). */
const MAX_READ_BYTES = 1_048_576

/** End of the page that starts at `from`: at most `limit` events and 1 MB (always at least one event). */
const fitForward = (events: ReadonlyArray<StoredEvent>, from: number, limit: number, overhead: number): number => {
  const end = Math.min(events.length, from + limit)
  let to = from
  let bytes = 0
  while (to < end) {
    bytes += utf8Bytes(events[to].message) + overhead
    if (to > from && bytes > MAX_READ_BYTES) break
    to++
  }
  return to
}

/** Start of the page that ends at `to`: at most `limit` events and 1 MB (always at least one event). */
const fitBackward = (events: ReadonlyArray<StoredEvent>, to: number, limit: number, overhead: number): number => {
  const start = Math.max(0, to - limit)
  let from = to
  let bytes = 0
  while (from > start) {
    bytes += utf8Bytes(events[from - 1].message) + overhead
    if (from < to && bytes > MAX_READ_BYTES) break
    from--
  }
  return from
}

/** Read cursors: `f`/`b` GetLogEvents forward/backward, `e`/`r` FilterLogEvents earliest/latest first. */
const CURSOR = /^([fber])\/(-?\d+)\/(-?\d+)$/

const parseCursor = (token: string): { dir: string; ts: number; seq: number } | undefined => {
  const m = CURSOR.exec(token)
  if (m === null) return undefined
  return { dir: m[1], ts: Number(m[2]), seq: Number(m[3]) }
}

/**
 * Where a listing resumes: after the entry with this key, in the listing's order. Page tokens name the
 * last entry returned (not its position), so groups or streams created or deleted between pages neither
 * shift nor repeat the rest.
 */
interface ListCursor {
  /** `n`: by name; `t`: by last event time, then name. */
  readonly order: "n" | "t"
  readonly descending: boolean
  /** The last event time of the entry (`t` order; -1 for a stream without events). */
  readonly time: number
  readonly name: string
}

/** DescribeLogStreams: `n+/NAME`, `n-/NAME` by name, `t+/TIME/NAME`, `t-/TIME/NAME` by last event time. */
const formatListCursor = (cursor: ListCursor): string =>
  cursor.order === "n"
    ? `n${cursor.descending ? "-" : "+"}/${cursor.name}`
    : `t${cursor.descending ? "-" : "+"}/${cursor.time}/${cursor.name}`

const LIST_CURSOR_HEAD = /^([nt])([+-])\//
const CURSOR_TIME = /^(-?\d+)\//

const parseListCursor = (token: string): ListCursor | undefined => {
  const head = LIST_CURSOR_HEAD.exec(token)
  if (head === null) return undefined
  const descending = head[2] === "-"
  const rest = token.slice(head[0].length)
  if (head[1] === "n") return rest === "" ? undefined : { order: "n", descending, time: -1, name: rest }
  const time = CURSOR_TIME.exec(rest)
  if (time === null) return undefined
  const name = rest.slice(time[0].length)
  return name === "" ? undefined : { order: "t", descending, time: Number(time[1]), name }
}

/** DescribeLogGroups: `g/NAME`, the last group returned (groups are listed by name). */
const GROUP_CURSOR = "g/"

/** Compares two entries in ascending listing order: by time first in `t` order, then by name. */
const compareListKey = (order: "n" | "t", timeA: number, nameA: string, timeB: number, nameB: string): number =>
  order === "t" && timeA !== timeB ? timeA - timeB : compareStrings(nameA, nameB)

/**
 * A filter pattern for unstructured log events (AWS's "Filter and Pattern Syntax"): an event matches when
 * it holds every `required` term, none of the `excluded` ones (`-term`), and, when there are `optional`
 * ones (`?term`), at least one of them. Terms are case-sensitive substrings; `"quoted phrases"` are kept
 * whole (and may follow `?` or `-`); a blank phrase (`" "`) matches everything.
 *
 * @internal
 */
export interface FilterPattern {
  readonly required: ReadonlyArray<string>
  readonly optional: ReadonlyArray<string>
  readonly excluded: ReadonlyArray<string>
}

/** The pattern syntaxes the emulator does not evaluate, by their first character. */
const UNSUPPORTED_SYNTAX: Readonly<Record<string, string>> = {
  "{": "JSON",
  "[": "space-delimited",
  "%": "regular expression"
}

/**
 * Parses a filter pattern; a string (the reason) for a syntax the emulator does not support.
 *
 * @internal
 */
export const parseFilterPattern = (pattern: string | undefined): FilterPattern | string => {
  const required: Array<string> = []
  const optional: Array<string> = []
  const excluded: Array<string> = []
  if (pattern === undefined) return { required, optional, excluded }
  const trimmed = pattern.trim()
  const first = trimmed.charAt(0)
  if (Object.prototype.hasOwnProperty.call(UNSUPPORTED_SYNTAX, first)) {
    return `The filter pattern '${pattern}' uses the ${
      UNSUPPORTED_SYNTAX[first]
    } syntax, which the emulator does not support (it supports terms, "quoted phrases", ?term and -term).`
  }
  const re = /([?-]?)(?:"([^"]*)"|(\S+))/g
  let m: RegExpExecArray | null
  while ((m = re.exec(trimmed)) !== null) {
    const quoted = m[2]
    const term = quoted ?? m[3]
    if (term === undefined || term.trim().length === 0) continue
    if (m[1] === "?") optional.push(term)
    else if (m[1] === "-") excluded.push(term)
    else required.push(term)
  }
  return { required, optional, excluded }
}

const matchesPattern = (message: string, pattern: FilterPattern): boolean => {
  for (const term of pattern.required) if (!message.includes(term)) return false
  for (const term of pattern.excluded) if (message.includes(term)) return false
  if (pattern.optional.length === 0) return true
  for (const term of pattern.optional) if (message.includes(term)) return true
  return false
}

/** Whether a batch sent now holds the same events as the copy kept of an earlier one. */
const sameEvents = (kept: Batch, sent: ReadonlyArray<Api.InputLogEvent>): boolean => {
  if (kept.timestamps.length !== sent.length) return false
  for (let i = 0; i < sent.length; i++) {
    if (kept.timestamps[i] !== sent[i].timestamp || kept.messages[i] !== sent[i].message) return false
  }
  return true
}

/** @internal */
export class Model {
  private groups = new Map<string, GroupState>()
  private accountBuckets = new Map<OperationName, Bucket>()
  private seq = 0
  private streamIds = 0
  private tokenCounter = 0

  constructor(readonly options: ModelOptions) {}

  reset(): void {
    this.groups = new Map()
    this.accountBuckets = new Map()
    this.seq = 0
    this.streamIds = 0
    this.tokenCounter = 0
  }

  // ---------------------------------------------------------------------------------------------------
  // throttling

  private take(bucket: Bucket, rate: number, now: number): boolean {
    if (now > bucket.last) {
      bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.last) * rate) / 1000)
    }
    bucket.last = now
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1
      return true
    }
    return false
  }

  private quotaOf(operation: OperationName): number | undefined {
    const q = this.options.limits.quotas
    switch (operation) {
      case "PutLogEvents":
        return q.putLogEvents
      case "DescribeLogStreams":
        return q.describeLogStreams
      case "CreateLogStream":
        return q.createLogStream
      case "CreateLogGroup":
        return q.createLogGroup
      case "PutRetentionPolicy":
        return q.putRetentionPolicy
      default:
        return undefined
    }
  }

  /** Per-account rate of an operation; `undefined` when the call may go on. */
  private throttle(operation: OperationName, now: number): Errors.ThrottlingException | undefined {
    if (!this.options.throttling) return undefined
    const rate = this.quotaOf(operation)
    if (rate === undefined || rate <= 0) return undefined
    let bucket = this.accountBuckets.get(operation)
    if (bucket === undefined) {
      bucket = { tokens: rate, last: now }
      this.accountBuckets.set(operation, bucket)
    }
    return this.take(bucket, rate, now) ? undefined : rateExceeded()
  }

  private throttleStream(stream: StreamState, now: number): Errors.ThrottlingException | undefined {
    const rate = this.options.limits.perStreamPutsPerSecond
    if (!this.options.throttling || rate === undefined || rate <= 0) return undefined
    if (stream.bucket === undefined) stream.bucket = { tokens: rate, last: now }
    return this.take(stream.bucket, rate, now) ? undefined : rateExceeded()
  }

  // ---------------------------------------------------------------------------------------------------
  // tokens and names

  private newToken(stream: StreamState): string {
    this.tokenCounter++
    return "49" + String(stream.id).padStart(10, "0") + String(this.tokenCounter).padStart(44, "0")
  }

  private resolveGroup(
    name: string
  ): Either.Either<GroupState, Errors.InvalidParameterException | Errors.ResourceNotFoundException> {
    const valid = Names.validateLogGroupName(name)
    if (Either.isLeft(valid)) return Either.left(valid.left)
    const group = this.groups.get(name)
    return group === undefined ? Either.left(groupNotFound()) : Either.right(group)
  }

  private resolveStream(
    groupName: string,
    streamName: string
  ): Either.Either<
    { readonly group: GroupState; readonly stream: StreamState },
    Errors.InvalidParameterException | Errors.ResourceNotFoundException
  > {
    const validGroup = Names.validateLogGroupName(groupName)
    if (Either.isLeft(validGroup)) return Either.left(validGroup.left)
    const validStream = Names.validateLogStreamName(streamName)
    if (Either.isLeft(validStream)) return Either.left(validStream.left)
    const group = this.groups.get(groupName)
    if (group === undefined) return Either.left(groupNotFound())
    const stream = group.streams.get(streamName)
    return stream === undefined ? Either.left(streamNotFound()) : Either.right({ group, stream })
  }

  private retentionCutoff(group: GroupState, now: number): number {
    return group.retentionInDays === undefined ? -Infinity : now - group.retentionInDays * DAY
  }

  private arnOf(groupName: string): string {
    return `arn:aws:logs:${this.options.region}:${this.options.accountId}:log-group:${groupName}`
  }

  // ---------------------------------------------------------------------------------------------------
  // PutLogEvents

  putLogEvents(
    request: Api.PutLogEventsRequest,
    now: number
  ): Either.Either<Api.PutLogEventsResponse, Api.PutLogEventsError> {
    const throttled = this.throttle("PutLogEvents", now)
    if (throttled !== undefined) return Either.left(throttled)
    const limits = this.options.limits
    const events = request.logEvents
    const n = events.length
    if (n < 1) {
      return Either.left(
        invalid(
          validation("[]", "logEvents", "Member must have length greater than or equal to 1"),
          "EmptyBatch"
        )
      )
    }
    if (n > limits.maxBatchEvents) {
      return Either.left(
        invalid(
          validation(
            `[${n} log events]`,
            "logEvents",
            `Member must have length less than or equal to ${limits.maxBatchEvents}`
          ),
          "TooManyEvents"
        )
      )
    }
    const overhead = limits.perEventOverheadBytes
    const maxEvent = limits.maxEventBytes
    let total = 0
    let ordered = true
    let previous = -Infinity
    for (let i = 0; i < n; i++) {
      const e = events[i]
      const message = e.message
      const ts = e.timestamp
      if (typeof message !== "string" || message.length === 0) {
        return Either.left(
          invalid(
            validation(
              "",
              `logEvents.${i + 1}.member.message`,
              "Member must have length greater than or equal to 1"
            ),
            "EmptyMessage"
          )
        )
      }
      // A long, min 0: any non-negative integer (above 2^53 too) is legal here, and is then too new.
      if (!Number.isInteger(ts) || ts < 0) {
        return Either.left(
          invalid(
            validation(
              String(ts),
              `logEvents.${i + 1}.member.timestamp`,
              "Member must have value greater than or equal to 0"
            ),
            "InvalidTimestamp"
          )
        )
      }
      const size = utf8Bytes(message) + overhead
      if (size > maxEvent) {
        return Either.left(
          invalid(`Log event too large: ${size} bytes exceeds limit of ${maxEvent}`, "EventTooLarge")
        )
      }
      total += size
      if (ts < previous) ordered = false
      previous = ts
    }
    if (total > limits.maxBatchBytes) {
      return Either.left(
        invalid(`Upload too large: ${total} bytes exceeds limit of ${limits.maxBatchBytes}`, "BatchTooLarge")
      )
    }
    const resolved = this.resolveStream(request.logGroupName, request.logStreamName)
    if (Either.isLeft(resolved)) return Either.left(resolved.left)
    const { group, stream } = resolved.right
    const streamThrottled = this.throttleStream(stream, now)
    if (streamThrottled !== undefined) return Either.left(streamThrottled)

    if (this.options.sequenceTokens === "enforced") {
      const sent = request.sequenceToken
      if (stream.expectedToken === undefined) {
        if (sent !== undefined) return Either.left(invalidToken(undefined))
      } else if (sent !== stream.expectedToken) {
        if (
          sent === stream.lastAcceptedUnder && stream.lastBatch !== undefined && sameEvents(stream.lastBatch, events)
        ) {
          return Either.left(
            new Errors.DataAlreadyAcceptedException({
              message:
                `The given batch of log events has already been accepted. The next batch can be sent with sequenceToken: ${stream.expectedToken}`,
              expectedSequenceToken: stream.expectedToken,
              httpStatus: 400
            })
          )
        }
        return Either.left(invalidToken(stream.expectedToken))
      }
    }

    if (!ordered) {
      return Either.left(
        invalid("Log events in a single PutLogEvents request must be in chronological order.", "NotChronological")
      )
    }

    // Rejections (the batch is sorted): too old and expired form a prefix, too new a suffix.
    const tooOldBefore = now - limits.maxEventAgeMillis
    const expiredBefore = this.retentionCutoff(group, now)
    const tooNewAfter = now + limits.maxEventFutureMillis
    let tooOldEnd = 0
    while (tooOldEnd < n && events[tooOldEnd].timestamp < tooOldBefore) tooOldEnd++
    let expiredEnd = 0
    while (expiredEnd < n && events[expiredEnd].timestamp < expiredBefore) expiredEnd++
    let tooNewStart = n
    while (tooNewStart > 0 && events[tooNewStart - 1].timestamp > tooNewAfter) tooNewStart--
    const start = Math.max(tooOldEnd, expiredEnd)
    const end = Math.max(start, tooNewStart)

    if (end > start && events[end - 1].timestamp - events[start].timestamp > limits.maxBatchSpanMillis) {
      return Either.left(
        invalid(
          "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
          "SpanOver24Hours"
        )
      )
    }

    // Accept.
    let acceptedBytes = total
    if (start > 0 || end < n) {
      for (let i = 0; i < start; i++) acceptedBytes -= utf8Bytes(events[i].message) + overhead
      for (let i = end; i < n; i++) acceptedBytes -= utf8Bytes(events[i].message) + overhead
    }
    const enforced = this.options.sequenceTokens === "enforced"
    // The copy is what is stored, and (tokens enforced) what a replay is compared with.
    const batch = enforced || (!this.options.discard && end > start) ? copyBatch(events) : undefined
    if (end > start) {
      this.store(stream, batch, start, end, events[start].timestamp, events[end - 1].timestamp, acceptedBytes, now)
    }
    stream.lastAcceptedUnder = request.sequenceToken
    stream.lastBatch = enforced ? batch : undefined
    const token = this.newToken(stream)
    stream.expectedToken = token

    if (start === 0 && end === n) return Either.right({ nextSequenceToken: token })
    return Either.right({
      nextSequenceToken: token,
      rejectedLogEventsInfo: {
        ...(tooNewStart < n ? { tooNewLogEventStartIndex: tooNewStart } : {}),
        ...(tooOldEnd > 0 ? { tooOldLogEventEndIndex: tooOldEnd } : {}),
        ...(expiredEnd > 0 ? { expiredLogEventEndIndex: expiredEnd } : {})
      }
    })
  }

  /** Counts the accepted events `start..end` and keeps them (from the batch's copy) unless discarding. */
  private store(
    stream: StreamState,
    batch: Batch | undefined,
    start: number,
    end: number,
    first: number,
    last: number,
    bytes: number,
    now: number
  ): void {
    const count = end - start
    if (count <= 0) return
    const overhead = this.options.limits.perEventOverheadBytes
    stream.events += count
    stream.bytes += bytes
    stream.messageBytes += bytes - count * overhead
    stream.batches++
    if (stream.firstEventTimestamp === undefined || first < stream.firstEventTimestamp) {
      stream.firstEventTimestamp = first
    }
    if (stream.lastEventTimestamp === undefined || last > stream.lastEventTimestamp) {
      stream.lastEventTimestamp = last
    }
    stream.lastIngestionTime = now
    const firstSeq = this.seq
    this.seq += count
    if (!this.options.discard && batch !== undefined) {
      stream.pending.push({ batch, start, end, ingestionTime: now, firstSeq })
    }
  }

  /**
   * Another writer puts one event to the stream with the right token, advancing it. Returns whether
   * the stream existed.
   */
  competingPut(groupName: string, streamName: string, now: number): boolean {
    const stream = this.groups.get(groupName)?.streams.get(streamName)
    if (stream === undefined) return false
    const message = `competing-writer ${this.seq}`
    const batch: Batch = { timestamps: [now], messages: [message] }
    const bytes = utf8Bytes(message) + this.options.limits.perEventOverheadBytes
    this.store(stream, batch, 0, 1, now, now, bytes, now)
    stream.lastAcceptedUnder = stream.expectedToken
    stream.lastBatch = this.options.sequenceTokens === "enforced" ? batch : undefined
    stream.expectedToken = this.newToken(stream)
    return true
  }

  // ---------------------------------------------------------------------------------------------------
  // groups and streams

  createLogGroup(
    request: CreateLogGroupRequest,
    now: number
  ): Either.Either<void, Api.CreateLogGroupError> {
    const throttled = this.throttle("CreateLogGroup", now)
    if (throttled !== undefined) return Either.left(throttled)
    const valid = Names.validateLogGroupName(request.logGroupName)
    if (Either.isLeft(valid)) return Either.left(valid.left)
    if (request.logGroupName.startsWith(RESERVED_GROUP_PREFIX)) {
      // The rule is AWS's (CreateLogGroup: "Log group names can't start with the string aws/"); the
      // message is ours, AWS's exact text is not known. Only creation refuses such names: AWS creates
      // groups like aws/spans itself, and users may put to them.
      return Either.left(
        invalid(
          `Invalid logGroupName '${request.logGroupName}': log group names can't start with the string ${RESERVED_GROUP_PREFIX}`,
          "InvalidLogGroupName"
        )
      )
    }
    if (this.groups.has(request.logGroupName)) {
      return Either.left(
        new Errors.ResourceAlreadyExistsException({
          message: "The specified log group already exists",
          httpStatus: 400
        })
      )
    }
    this.groups.set(
      request.logGroupName,
      new GroupState(
        request.logGroupName,
        now,
        request.logGroupClass ?? "STANDARD",
        request.kmsKeyId,
        request.deletionProtectionEnabled === true
      )
    )
    return Either.void
  }

  createLogStream(
    request: Api.CreateLogStreamRequest,
    now: number
  ): Either.Either<void, Api.CreateLogStreamError> {
    const throttled = this.throttle("CreateLogStream", now)
    if (throttled !== undefined) return Either.left(throttled)
    const validStream = Names.validateLogStreamName(request.logStreamName)
    if (Either.isLeft(validStream)) return Either.left(validStream.left)
    const group = this.resolveGroup(request.logGroupName)
    if (Either.isLeft(group)) return Either.left(group.left)
    if (group.right.streams.has(request.logStreamName)) {
      return Either.left(
        new Errors.ResourceAlreadyExistsException({
          message: "The specified log stream already exists",
          httpStatus: 400
        })
      )
    }
    group.right.streams.set(request.logStreamName, new StreamState(request.logStreamName, now, ++this.streamIds))
    return Either.void
  }

  deleteLogGroup(request: Api.DeleteLogGroupRequest, now: number): Either.Either<void, Api.DeleteError> {
    const throttled = this.throttle("DeleteLogGroup", now)
    if (throttled !== undefined) return Either.left(throttled)
    const group = this.resolveGroup(request.logGroupName)
    if (Either.isLeft(group)) return Either.left(group.left)
    if (group.right.deletionProtectionEnabled) return Either.left(deletionProtected("log group"))
    this.groups.delete(request.logGroupName)
    return Either.void
  }

  deleteLogStream(request: Api.DeleteLogStreamRequest, now: number): Either.Either<void, Api.DeleteError> {
    const throttled = this.throttle("DeleteLogStream", now)
    if (throttled !== undefined) return Either.left(throttled)
    const resolved = this.resolveStream(request.logGroupName, request.logStreamName)
    if (Either.isLeft(resolved)) return Either.left(resolved.left)
    // "deletion protection blocks all deletion operations" (the API model), a stream's deletion too
    if (resolved.right.group.deletionProtectionEnabled) return Either.left(deletionProtected("log stream"))
    resolved.right.group.streams.delete(request.logStreamName)
    return Either.void
  }

  putRetentionPolicy(
    request: Api.PutRetentionPolicyRequest,
    now: number
  ): Either.Either<void, Api.PutRetentionPolicyError> {
    const throttled = this.throttle("PutRetentionPolicy", now)
    if (throttled !== undefined) return Either.left(throttled)
    const days = request.retentionInDays
    if (!RETENTION.has(days)) {
      return Either.left(
        invalid(
          validation(
            String(days),
            "retentionInDays",
            `Member must satisfy enum value set: [${[...RETENTION].join(", ")}]`
          ),
          "InvalidRetention"
        )
      )
    }
    const group = this.resolveGroup(request.logGroupName)
    if (Either.isLeft(group)) return Either.left(group.left)
    group.right.retentionInDays = days
    return Either.void
  }

  deleteRetentionPolicy(
    request: Api.DeleteRetentionPolicyRequest,
    now: number
  ): Either.Either<void, Api.DeleteError> {
    const throttled = this.throttle("DeleteRetentionPolicy", now)
    if (throttled !== undefined) return Either.left(throttled)
    const group = this.resolveGroup(request.logGroupName)
    if (Either.isLeft(group)) return Either.left(group.left)
    group.right.retentionInDays = undefined
    return Either.void
  }

  // ---------------------------------------------------------------------------------------------------
  // describe

  describeLogGroups(
    request: DescribeLogGroupsRequest,
    now: number
  ): Either.Either<DescribeLogGroupsResponse, Errors.CommonError> {
    const throttled = this.throttle("DescribeLogGroups", now)
    if (throttled !== undefined) return Either.left(throttled)
    const limitError = checkLimit(request.limit, 50)
    if (limitError !== undefined) return Either.left(limitError)
    const prefix = request.logGroupNamePrefix
    const pattern = request.logGroupNamePattern
    const logGroupClass = request.logGroupClass
    const identifiers = request.logGroupIdentifiers
    if (identifiers !== undefined && (identifiers.length < 1 || identifiers.length > MAX_GROUP_IDENTIFIERS)) {
      return Either.left(
        invalid(
          validation(
            `[${identifiers.join(", ")}]`,
            "logGroupIdentifiers",
            identifiers.length < 1
              ? "Member must have length greater than or equal to 1"
              : `Member must have length less than or equal to ${MAX_GROUP_IDENTIFIERS}`
          ),
          "InvalidParameter"
        )
      )
    }
    if (prefix !== undefined && pattern !== undefined) {
      return Either.left(
        invalid("LogGroupNamePrefix and LogGroupNamePattern are mutually exclusive parameters.", "InvalidParameter")
      )
    }
    // The model: with logGroupIdentifiers "the only other filter that you can choose to specify is
    // includeLinkedAccounts". The message is ours (AWS's exact text is not known).
    if (identifiers !== undefined && (prefix !== undefined || pattern !== undefined || logGroupClass !== undefined)) {
      return Either.left(
        invalid(
          "logGroupIdentifiers can't be combined with logGroupNamePrefix, logGroupNamePattern or logGroupClass.",
          "InvalidParameter"
        )
      )
    }
    let after: string | undefined
    if (request.nextToken !== undefined) {
      after = request.nextToken.startsWith(GROUP_CURSOR) ? request.nextToken.slice(GROUP_CURSOR.length) : ""
      if (after === "") return Either.left(invalid(BAD_TOKEN, "InvalidParameter"))
    }
    // Outside a monitoring account the identifiers are log group names, matched exactly.
    const wanted = identifiers === undefined ? undefined : new Set(identifiers)
    const groups = [...this.groups.values()]
      .filter((g) =>
        (prefix === undefined || g.name.startsWith(prefix)) &&
        // case-sensitive substring search
        (pattern === undefined || g.name.includes(pattern)) &&
        (logGroupClass === undefined || g.logGroupClass === logGroupClass) &&
        (wanted === undefined || wanted.has(g.name)) &&
        (after === undefined || compareStrings(g.name, after) > 0)
      )
      .sort((a, b) => compareStrings(a.name, b.name))
    const limit = request.limit ?? 50
    const page = groups.slice(0, limit)
    const logGroups = page.map((g): LogGroup => {
      const name = g.name
      const arn = this.arnOf(name)
      // With a pattern, "only arn, creationTime, and logGroupName are included in the response".
      if (pattern !== undefined) return { logGroupName: name, creationTime: g.creationTime, arn: `${arn}:*` }
      let storedBytes = 0
      for (const s of g.streams.values()) storedBytes += s.messageBytes
      return {
        logGroupName: name,
        creationTime: g.creationTime,
        ...(g.retentionInDays !== undefined ? { retentionInDays: g.retentionInDays } : {}),
        storedBytes,
        arn: `${arn}:*`,
        logGroupArn: arn,
        logGroupClass: g.logGroupClass,
        ...(g.kmsKeyId !== undefined ? { kmsKeyId: g.kmsKeyId } : {}),
        deletionProtectionEnabled: g.deletionProtectionEnabled
      }
    })
    const last = page[page.length - 1]
    return Either.right(
      groups.length > limit && last !== undefined
        ? { logGroups, nextToken: `${GROUP_CURSOR}${last.name}` }
        : { logGroups }
    )
  }

  describeLogStreams(
    request: Api.DescribeLogStreamsRequest,
    now: number
  ): Either.Either<Api.DescribeLogStreamsResponse, Api.ReadError> {
    const throttled = this.throttle("DescribeLogStreams", now)
    if (throttled !== undefined) return Either.left(throttled)
    const limitError = checkLimit(request.limit, 50)
    if (limitError !== undefined) return Either.left(limitError)
    const orderBy = request.orderBy ?? "LogStreamName"
    const prefix = request.logStreamNamePrefix
    if (orderBy === "LastEventTime" && prefix !== undefined) {
      return Either.left(invalid("Cannot order by LastEventTime with a logStreamNamePrefix.", "InvalidParameter"))
    }
    const order = orderBy === "LastEventTime" ? "t" : "n"
    const descending = request.descending === true
    let cursor: ListCursor | undefined
    if (request.nextToken !== undefined) {
      cursor = parseListCursor(request.nextToken)
      // a token resumes the listing it came from: same order, same direction
      if (cursor === undefined || cursor.order !== order || cursor.descending !== descending) {
        return Either.left(invalid(BAD_TOKEN, "InvalidParameter"))
      }
    }
    const resolved = this.resolveGroup(request.logGroupName)
    if (Either.isLeft(resolved)) return Either.left(resolved.left)
    const group = resolved.right
    const timeOf = (s: StreamState): number => s.lastEventTimestamp ?? -1
    const sign = descending ? -1 : 1
    const streams = [...group.streams.values()].filter((s) =>
      (prefix === undefined || s.name.startsWith(prefix)) &&
      (cursor === undefined || sign * compareListKey(order, timeOf(s), s.name, cursor.time, cursor.name) > 0)
    )
    streams.sort((a, b) => sign * compareListKey(order, timeOf(a), a.name, timeOf(b), b.name))
    const limit = request.limit ?? 50
    const page = streams.slice(0, limit)
    const logStreams = page.map((s): Api.LogStream => ({
      logStreamName: s.name,
      creationTime: s.creationTime,
      ...(s.firstEventTimestamp !== undefined ? { firstEventTimestamp: s.firstEventTimestamp } : {}),
      ...(s.lastEventTimestamp !== undefined ? { lastEventTimestamp: s.lastEventTimestamp } : {}),
      ...(s.lastIngestionTime !== undefined ? { lastIngestionTime: s.lastIngestionTime } : {}),
      // In both generations: the token the last put returned (now documented as ignored).
      ...(s.expectedToken !== undefined ? { uploadSequenceToken: s.expectedToken } : {}),
      arn: `${this.arnOf(group.name)}:log-stream:${s.name}`,
      // "As of June 17, 2019, this parameter is no longer supported for log streams, and is always
      // reported as zero." (the group's storedBytes still counts)
      storedBytes: 0
    }))
    const last = page[page.length - 1]
    return Either.right(
      streams.length > limit && last !== undefined
        ? { logStreams, nextToken: formatListCursor({ order, descending, time: timeOf(last), name: last.name }) }
        : { logStreams }
    )
  }

  // ---------------------------------------------------------------------------------------------------
  // reads

  /** The stored events of a stream, sorted by timestamp (then arrival), retention applied. */
  visibleEvents(groupName: string, streamName: string, now: number): ReadonlyArray<StoredEvent> {
    const group = this.groups.get(groupName)
    const stream = group?.streams.get(streamName)
    if (group === undefined || stream === undefined) return []
    return this.visible(group, stream, now)
  }

  private materialize(stream: StreamState): ReadonlyArray<StoredEvent> {
    if (stream.pending.length > 0) {
      const view = stream.view
      let sorted = true
      let last = view.length > 0 ? view[view.length - 1].timestamp : -Infinity
      for (const chunk of stream.pending) {
        const { messages, timestamps } = chunk.batch
        for (let i = chunk.start; i < chunk.end; i++) {
          const timestamp = timestamps[i]
          if (timestamp < last) sorted = false
          last = timestamp
          view.push({
            timestamp,
            message: messages[i],
            ingestionTime: chunk.ingestionTime,
            seq: chunk.firstSeq + (i - chunk.start)
          })
        }
      }
      stream.pending = []
      if (!sorted) view.sort(byKey)
    }
    return stream.view
  }

  private visible(group: GroupState, stream: StreamState, now: number): ReadonlyArray<StoredEvent> {
    const all = this.materialize(stream)
    const cutoff = this.retentionCutoff(group, now)
    if (cutoff === -Infinity || all.length === 0 || all[0].timestamp >= cutoff) return all
    return all.slice(lowerBound(all, cutoff, -Infinity, true))
  }

  getLogEvents(
    request: Api.GetLogEventsRequest,
    now: number
  ): Either.Either<Api.GetLogEventsResponse, Api.ReadError> {
    const throttled = this.throttle("GetLogEvents", now)
    if (throttled !== undefined) return Either.left(throttled)
    const limitError = checkLimit(request.limit, 10_000)
    if (limitError !== undefined) return Either.left(limitError)
    let cursor: { dir: string; ts: number; seq: number } | undefined
    if (request.nextToken !== undefined) {
      cursor = parseCursor(request.nextToken)
      if (cursor === undefined || (cursor.dir !== "f" && cursor.dir !== "b")) {
        return Either.left(invalid(BAD_TOKEN, "InvalidParameter"))
      }
    }
    const resolved = this.resolveStream(request.logGroupName, request.logStreamName)
    if (Either.isLeft(resolved)) return Either.left(resolved.left)
    let events = this.visible(resolved.right.group, resolved.right.stream, now)
    const startTime = request.startTime
    const endTime = request.endTime
    if (startTime !== undefined || endTime !== undefined) {
      const lo = startTime === undefined ? 0 : lowerBound(events, startTime, -Infinity, true)
      const hi = endTime === undefined ? events.length : lowerBound(events, endTime, -Infinity, true)
      events = events.slice(lo, Math.max(lo, hi))
    }
    const limit = request.limit ?? 10_000
    const overhead = this.options.limits.perEventOverheadBytes
    let from: number
    let to: number
    if (cursor === undefined ? request.startFromHead === true : cursor.dir === "f") {
      from = cursor === undefined ? 0 : lowerBound(events, cursor.ts, cursor.seq, false)
      to = fitForward(events, from, limit, overhead)
    } else {
      to = cursor === undefined ? events.length : lowerBound(events, cursor.ts, cursor.seq, true)
      from = fitBackward(events, to, limit, overhead)
    }
    const page = events.slice(from, to).map((e): Api.OutputLogEvent => ({
      timestamp: e.timestamp,
      message: e.message,
      ingestionTime: e.ingestionTime
    }))
    if (page.length === 0) {
      const ts = cursor?.ts ?? -1
      const seq = cursor?.seq ?? -1
      return Either.right({
        events: page,
        nextForwardToken: cursor?.dir === "f" ? request.nextToken : `f/${ts}/${seq}`,
        nextBackwardToken: cursor?.dir === "b" ? request.nextToken : `b/${ts}/${seq}`
      })
    }
    const first = events[from]
    const last = events[to - 1]
    return Either.right({
      events: page,
      nextForwardToken: `f/${last.timestamp}/${last.seq}`,
      nextBackwardToken: `b/${first.timestamp}/${first.seq}`
    })
  }

  filterLogEvents(
    request: FilterLogEventsRequest,
    now: number
  ): Either.Either<Api.FilterLogEventsResponse, Api.ReadError> {
    const throttled = this.throttle("FilterLogEvents", now)
    if (throttled !== undefined) return Either.left(throttled)
    const limitError = checkLimit(request.limit, 10_000)
    if (limitError !== undefined) return Either.left(limitError)
    if (request.logStreamNames !== undefined && request.logStreamNamePrefix !== undefined) {
      return Either.left(
        invalid("You cannot specify both LogStreamNames and LogStreamNamePrefix.", "InvalidParameter")
      )
    }
    if (
      request.logStreamNames !== undefined && (request.logStreamNames.length < 1 || request.logStreamNames.length > 100)
    ) {
      return Either.left(
        invalid(
          validation(
            `[${request.logStreamNames.join(", ")}]`,
            "logStreamNames",
            "Member must have length between 1 and 100"
          ),
          "InvalidParameter"
        )
      )
    }
    let cursor: { dir: string; ts: number; seq: number } | undefined
    if (request.nextToken !== undefined) {
      cursor = parseCursor(request.nextToken)
      if (cursor === undefined || (cursor.dir !== "e" && cursor.dir !== "r")) {
        return Either.left(invalid(BAD_TOKEN, "InvalidParameter"))
      }
    }
    // startFromHead sets the direction of the first page; a nextToken keeps its own.
    const latestFirst = cursor !== undefined ? cursor.dir === "r" : request.startFromHead === false
    // Without a startTime it is taken (the model bounds only a startTime given).
    if (latestFirst && request.startTime !== undefined && request.startTime < LATEST_FIRST_SINCE) {
      // The rule is AWS's; the message is ours (AWS's exact text is not known).
      return Either.left(
        invalid(
          "startFromHead false is supported only when startTime is on or after Jan 1, 2024 00:00:00 UTC (1704067200000).",
          "InvalidParameter"
        )
      )
    }
    const pattern = parseFilterPattern(request.filterPattern)
    if (typeof pattern === "string") return Either.left(invalid(pattern, "InvalidParameter"))
    const resolved = this.resolveGroup(request.logGroupName)
    if (Either.isLeft(resolved)) return Either.left(resolved.left)
    const group = resolved.right
    const names = request.logStreamNames !== undefined ? new Set(request.logStreamNames) : undefined
    const prefix = request.logStreamNamePrefix
    const startTime = request.startTime ?? -Infinity
    const endTime = request.endTime ?? Infinity
    const matches: Array<{ readonly stream: string; readonly event: StoredEvent }> = []
    for (const stream of group.streams.values()) {
      if (names !== undefined && !names.has(stream.name)) continue
      if (prefix !== undefined && !stream.name.startsWith(prefix)) continue
      for (const e of this.visible(group, stream, now)) {
        if (e.timestamp < startTime || e.timestamp > endTime) continue
        if (cursor !== undefined) {
          const c = compareKey(e.timestamp, e.seq, cursor.ts, cursor.seq)
          if (latestFirst ? c >= 0 : c <= 0) continue
        }
        if (matchesPattern(e.message, pattern)) matches.push({ stream: stream.name, event: e })
      }
    }
    matches.sort(latestFirst ? (a, b) => byKey(b.event, a.event) : (a, b) => byKey(a.event, b.event))
    const limit = request.limit ?? 10_000
    const page = matches.slice(
      0,
      fitForward(matches.map((m) => m.event), 0, limit, this.options.limits.perEventOverheadBytes)
    )
    const events = page.map(({ event, stream }): Api.FilteredLogEvent => ({
      logStreamName: stream,
      timestamp: event.timestamp,
      message: event.message,
      ingestionTime: event.ingestionTime,
      eventId: String(event.seq).padStart(20, "0")
    }))
    if (matches.length > page.length) {
      const last = page[page.length - 1].event
      return Either.right({ events, nextToken: `${latestFirst ? "r" : "e"}/${last.timestamp}/${last.seq}` })
    }
    return Either.right({ events })
  }

  // ---------------------------------------------------------------------------------------------------
  // inspection

  token(groupName: string, streamName: string): string | undefined {
    return this.groups.get(groupName)?.streams.get(streamName)?.expectedToken
  }

  stats(groupName: string, streamName: string): StreamStats {
    const s = this.groups.get(groupName)?.streams.get(streamName)
    if (s === undefined) return { events: 0, bytes: 0, messageBytes: 0, batches: 0 }
    return { events: s.events, bytes: s.bytes, messageBytes: s.messageBytes, batches: s.batches }
  }
}

const RETENTION: ReadonlySet<number> = new Set(Limits.RETENTION_DAYS)

/** CreateLogGroup: "Log group names can't start with the string aws/". */
const RESERVED_GROUP_PREFIX = "aws/"

/** DescribeLogGroups: at most 50 `logGroupIdentifiers`. */
const MAX_GROUP_IDENTIFIERS = 50

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const rateExceeded = (): Errors.ThrottlingException =>
  new Errors.ThrottlingException({ message: "Rate exceeded", httpStatus: 400 })

const invalidToken = (expected: string | undefined): Errors.InvalidSequenceTokenException =>
  new Errors.InvalidSequenceTokenException({
    message: `The given sequenceToken is invalid. The next expected sequenceToken is: ${expected ?? "null"}`,
    ...(expected !== undefined ? { expectedSequenceToken: expected } : {}),
    httpStatus: 400
  })
