/**
 * The port to CloudWatch Logs: the operations the pipeline, the tests and the demo need, with the
 * service's own member names and a typed error union per operation. Implemented by the AWS SDK adapter
 * (`@cwlogs/node`) and by the in-memory model (`@cwlogs/testkit`).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type {
  CommonError,
  DataAlreadyAcceptedException,
  InvalidSequenceTokenException,
  LimitExceededException,
  OperationAbortedException,
  ResourceAlreadyExistsException,
  ResourceNotFoundException
} from "./CloudWatchLogsError.js"

/**
 * An event as sent: epoch milliseconds and a message.
 *
 * @since 0.1.0
 * @category models
 */
export interface InputLogEvent {
  readonly timestamp: number
  readonly message: string
}

/**
 * The entity a batch is about (2024 API).
 *
 * @since 0.1.0
 * @category models
 */
export interface Entity {
  readonly keyAttributes?: Readonly<Record<string, string>> | undefined
  readonly attributes?: Readonly<Record<string, string>> | undefined
}

/** @since 0.1.0 @category models */
export interface PutLogEventsRequest {
  readonly logGroupName: string
  readonly logStreamName: string
  readonly logEvents: ReadonlyArray<InputLogEvent>
  readonly sequenceToken?: string | undefined
  readonly entity?: Entity | undefined
}

/**
 * Events the service refused while storing the rest. Index semantics (the project's contract): events
 * before `tooOldLogEventEndIndex` / `expiredLogEventEndIndex` are rejected, and events from
 * `tooNewLogEventStartIndex` on are rejected.
 *
 * @since 0.1.0
 * @category models
 */
export interface RejectedLogEventsInfo {
  readonly tooNewLogEventStartIndex?: number | undefined
  readonly tooOldLogEventEndIndex?: number | undefined
  readonly expiredLogEventEndIndex?: number | undefined
}

/** @since 0.1.0 @category models */
export interface RejectedEntityInfo {
  readonly errorType: string
}

/** @since 0.1.0 @category models */
export interface PutLogEventsResponse {
  readonly nextSequenceToken?: string | undefined
  readonly rejectedLogEventsInfo?: RejectedLogEventsInfo | undefined
  readonly rejectedEntityInfo?: RejectedEntityInfo | undefined
}

/** @since 0.1.0 @category models */
export interface CreateLogGroupRequest {
  readonly logGroupName: string
  readonly kmsKeyId?: string | undefined
  readonly tags?: Readonly<Record<string, string>> | undefined
  readonly logGroupClass?: "STANDARD" | "INFREQUENT_ACCESS" | "DELIVERY" | undefined
}

/** @since 0.1.0 @category models */
export interface CreateLogStreamRequest {
  readonly logGroupName: string
  readonly logStreamName: string
}

/** @since 0.1.0 @category models */
export interface DeleteLogGroupRequest {
  readonly logGroupName: string
}

/** @since 0.1.0 @category models */
export interface DeleteLogStreamRequest {
  readonly logGroupName: string
  readonly logStreamName: string
}

/** @since 0.1.0 @category models */
export interface DescribeLogGroupsRequest {
  readonly logGroupNamePrefix?: string | undefined
  readonly logGroupNamePattern?: string | undefined
  readonly nextToken?: string | undefined
  readonly limit?: number | undefined
}

/** @since 0.1.0 @category models */
export interface LogGroup {
  readonly logGroupName: string
  readonly creationTime: number
  readonly retentionInDays?: number | undefined
  readonly storedBytes?: number | undefined
  readonly arn?: string | undefined
  readonly logGroupArn?: string | undefined
  readonly logGroupClass?: string | undefined
}

/** @since 0.1.0 @category models */
export interface DescribeLogGroupsResponse {
  readonly logGroups: ReadonlyArray<LogGroup>
  readonly nextToken?: string | undefined
}

/** @since 0.1.0 @category models */
export interface DescribeLogStreamsRequest {
  readonly logGroupName: string
  readonly logStreamNamePrefix?: string | undefined
  readonly orderBy?: "LogStreamName" | "LastEventTime" | undefined
  readonly descending?: boolean | undefined
  readonly nextToken?: string | undefined
  readonly limit?: number | undefined
}

/** @since 0.1.0 @category models */
export interface LogStream {
  readonly logStreamName: string
  readonly creationTime: number
  readonly firstEventTimestamp?: number | undefined
  readonly lastEventTimestamp?: number | undefined
  readonly lastIngestionTime?: number | undefined
  /** Legacy protocol: the token the next put must carry. */
  readonly uploadSequenceToken?: string | undefined
  readonly arn?: string | undefined
  readonly storedBytes?: number | undefined
}

/** @since 0.1.0 @category models */
export interface DescribeLogStreamsResponse {
  readonly logStreams: ReadonlyArray<LogStream>
  readonly nextToken?: string | undefined
}

/** @since 0.1.0 @category models */
export interface PutRetentionPolicyRequest {
  readonly logGroupName: string
  readonly retentionInDays: number
}

/** @since 0.1.0 @category models */
export interface DeleteRetentionPolicyRequest {
  readonly logGroupName: string
}

/** @since 0.1.0 @category models */
export interface GetLogEventsRequest {
  readonly logGroupName: string
  readonly logStreamName: string
  readonly startTime?: number | undefined
  readonly endTime?: number | undefined
  readonly nextToken?: string | undefined
  readonly limit?: number | undefined
  readonly startFromHead?: boolean | undefined
}

/** @since 0.1.0 @category models */
export interface OutputLogEvent {
  readonly timestamp: number
  readonly message: string
  readonly ingestionTime: number
}

/** @since 0.1.0 @category models */
export interface GetLogEventsResponse {
  readonly events: ReadonlyArray<OutputLogEvent>
  readonly nextForwardToken?: string | undefined
  readonly nextBackwardToken?: string | undefined
}

/** @since 0.1.0 @category models */
export interface FilterLogEventsRequest {
  readonly logGroupName: string
  readonly logStreamNames?: ReadonlyArray<string> | undefined
  readonly logStreamNamePrefix?: string | undefined
  readonly startTime?: number | undefined
  readonly endTime?: number | undefined
  readonly filterPattern?: string | undefined
  readonly nextToken?: string | undefined
  readonly limit?: number | undefined
}

/** @since 0.1.0 @category models */
export interface FilteredLogEvent {
  readonly logStreamName: string
  readonly timestamp: number
  readonly message: string
  readonly ingestionTime: number
  readonly eventId: string
}

/** @since 0.1.0 @category models */
export interface FilterLogEventsResponse {
  readonly events: ReadonlyArray<FilteredLogEvent>
  readonly nextToken?: string | undefined
}

/** @since 0.1.0 @category errors */
export type PutLogEventsError =
  | CommonError
  | InvalidSequenceTokenException
  | DataAlreadyAcceptedException
  | ResourceNotFoundException

/** @since 0.1.0 @category errors */
export type CreateLogGroupError =
  | CommonError
  | ResourceAlreadyExistsException
  | LimitExceededException
  | OperationAbortedException

/** @since 0.1.0 @category errors */
export type CreateLogStreamError = CommonError | ResourceAlreadyExistsException | ResourceNotFoundException

/** @since 0.1.0 @category errors */
export type DeleteError = CommonError | ResourceNotFoundException | OperationAbortedException

/** @since 0.1.0 @category errors */
export type ReadError = CommonError | ResourceNotFoundException

/** @since 0.1.0 @category errors */
export type PutRetentionPolicyError = CommonError | ResourceNotFoundException | OperationAbortedException

/**
 * The operations of the port.
 *
 * @since 0.1.0
 * @category models
 */
export interface CloudWatchLogsApiShape {
  readonly putLogEvents: (request: PutLogEventsRequest) => Effect.Effect<PutLogEventsResponse, PutLogEventsError>
  readonly createLogGroup: (request: CreateLogGroupRequest) => Effect.Effect<void, CreateLogGroupError>
  readonly createLogStream: (request: CreateLogStreamRequest) => Effect.Effect<void, CreateLogStreamError>
  readonly deleteLogGroup: (request: DeleteLogGroupRequest) => Effect.Effect<void, DeleteError>
  readonly deleteLogStream: (request: DeleteLogStreamRequest) => Effect.Effect<void, DeleteError>
  readonly describeLogGroups: (
    request: DescribeLogGroupsRequest
  ) => Effect.Effect<DescribeLogGroupsResponse, CommonError>
  readonly describeLogStreams: (
    request: DescribeLogStreamsRequest
  ) => Effect.Effect<DescribeLogStreamsResponse, ReadError>
  readonly putRetentionPolicy: (request: PutRetentionPolicyRequest) => Effect.Effect<void, PutRetentionPolicyError>
  readonly deleteRetentionPolicy: (request: DeleteRetentionPolicyRequest) => Effect.Effect<void, DeleteError>
  readonly getLogEvents: (request: GetLogEventsRequest) => Effect.Effect<GetLogEventsResponse, ReadError>
  readonly filterLogEvents: (request: FilterLogEventsRequest) => Effect.Effect<FilterLogEventsResponse, ReadError>
}

/**
 * The CloudWatch Logs service, as a port.
 *
 * @since 0.1.0
 * @category tags
 */
export class CloudWatchLogsApi extends Context.Tag("@cwlogs/core/CloudWatchLogsApi")<
  CloudWatchLogsApi,
  CloudWatchLogsApiShape
>() {}

/**
 * Every event of a stream, from its head (or `startTime`), following `nextForwardToken` until it stops
 * moving: what a read-back after shipping needs. `maxPages` bounds the reading (default: no bound).
 *
 * @since 0.1.0
 * @category reads
 */
export const readAll = (
  api: CloudWatchLogsApiShape,
  request: Omit<GetLogEventsRequest, "nextToken" | "startFromHead">,
  options?: { readonly maxPages?: number | undefined }
): Effect.Effect<ReadonlyArray<OutputLogEvent>, ReadError> =>
  Effect.gen(function*() {
    const events: Array<OutputLogEvent> = []
    const maxPages = options?.maxPages ?? Number.POSITIVE_INFINITY
    let token: string | undefined = undefined
    for (let pages = 0; pages < maxPages; pages++) {
      const page: GetLogEventsResponse = yield* api.getLogEvents({
        ...request,
        startFromHead: true,
        ...(token !== undefined ? { nextToken: token } : {})
      })
      for (const event of page.events) events.push(event)
      const next = page.nextForwardToken
      if (next === undefined || next === token || page.events.length === 0) break
      token = next
    }
    return events
  })
