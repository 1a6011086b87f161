/**
 * From a validated JSON 1.1 request body to a call on the `CloudWatchLogsApiShape`, and from its typed
 * outcome back to the wire (a JSON body, or an AWS error).
 *
 * @internal
 */
import type { CloudWatchLogsApi as Api } from "@cwlogs/core"
import type { CloudWatchLogsError as Errors } from "@cwlogs/core"
import * as Effect from "effect/Effect"
import type * as TestCloudWatchLogs from "../TestCloudWatchLogs.js"
import type { LogGroupClass } from "./model.js"
import { statusOf, type WireError, wireError } from "./wire.js"
import type { OperationName } from "./wireModel.js"

type Body = Readonly<Record<string, unknown>>

const str = (body: Body, key: string): string | undefined => {
  const value = body[key]
  return typeof value === "string" ? value : undefined
}
const reqStr = (body: Body, key: string): string => str(body, key) ?? ""
const num = (body: Body, key: string): number | undefined => {
  const value = body[key]
  return typeof value === "number" ? value : undefined
}
const bool = (body: Body, key: string): boolean | undefined => {
  const value = body[key]
  return typeof value === "boolean" ? value : undefined
}
const isStringRecord = (value: unknown): value is Readonly<Record<string, string>> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false
  for (const v of Object.values(value)) if (typeof v !== "string") return false
  return true
}
const record = (body: Body, key: string): Readonly<Record<string, string>> | undefined => {
  const value = body[key]
  return isStringRecord(value) ? value : undefined
}
const strings = (body: Body, key: string): ReadonlyArray<string> | undefined => {
  const value = body[key]
  if (!Array.isArray(value)) return undefined
  const out: Array<string> = []
  for (const item of value) if (typeof item === "string") out.push(item)
  return out
}

const logGroupClassOf = (body: Body): LogGroupClass | undefined => {
  const value = str(body, "logGroupClass")
  return value === "STANDARD" || value === "INFREQUENT_ACCESS" || value === "DELIVERY" ? value : undefined
}

const isEvent = (value: unknown): value is Api.InputLogEvent => {
  if (typeof value !== "object" || value === null) return false
  const timestamp: unknown = Reflect.get(value, "timestamp")
  const message: unknown = Reflect.get(value, "message")
  return typeof timestamp === "number" && typeof message === "string"
}

const isEvents = (value: unknown): value is ReadonlyArray<Api.InputLogEvent> => {
  if (!Array.isArray(value)) return false
  for (let i = 0; i < value.length; i++) if (!isEvent(value[i])) return false
  return true
}

const LOG_GROUP_ARN = /^arn:[\w-]+:logs:[\w-]*:\d*:log-group:([^:]+)(?::\*)?$/

/**
 * The log group of a read: `logGroupName`, or `logGroupIdentifier` (a name or an ARN), not both.
 */
const groupOf = (body: Body): { readonly name: string } | WireError => {
  const name = str(body, "logGroupName")
  const identifier = str(body, "logGroupIdentifier")
  if (name !== undefined && identifier !== undefined) {
    return wireError("InvalidParameterException", "LogGroup name and LogGroup ARN are mutually exclusive parameters.")
  }
  if (name !== undefined) return { name }
  if (identifier !== undefined) {
    const match = LOG_GROUP_ARN.exec(identifier)
    return { name: match !== null && match[1] !== undefined ? match[1] : identifier }
  }
  return wireError("InvalidParameterException", "Should provide either name or identifier.")
}

const isWireError = (value: { readonly name: string } | WireError): value is WireError => "status" in value

/**
 * The wire form of a typed error of the port.
 *
 * @internal
 */
export const toWire = (error: Errors.CloudWatchLogsError): WireError => {
  switch (error._tag) {
    case "InvalidSequenceTokenException":
    case "DataAlreadyAcceptedException":
      return wireError(
        error._tag,
        error.message,
        400,
        error.expectedSequenceToken !== undefined ? { expectedSequenceToken: error.expectedSequenceToken } : {}
      )
    case "NetworkError":
      return wireError("ServiceUnavailableException", error.message, 500)
    case "MalformedResponseError":
      return wireError("InternalFailure", error.message, 500)
    case "UnknownServiceError":
      return wireError(error.errorName, error.message, error.fault === "server" ? 500 : 400)
    default:
      return wireError(error._tag, error.message, error.httpStatus ?? statusOf(error._tag))
  }
}

/**
 * What the server does with an outcome of the model.
 *
 * @internal
 */
export type Outcome =
  | { readonly _tag: "Ok"; readonly body: unknown }
  | { readonly _tag: "Error"; readonly error: WireError }
  /** Drop the connection without answering; `applied` tells whether the request took effect. */
  | { readonly _tag: "Drop"; readonly applied: boolean }

const fail = (error: WireError): Outcome => ({ _tag: "Error", error })

const run = <A, E extends Errors.CloudWatchLogsError>(
  effect: Effect.Effect<TestCloudWatchLogs.Outcome<A, E>>,
  body: (a: A) => unknown
): Effect.Effect<Outcome> =>
  Effect.map(effect, (outcome): Outcome => {
    switch (outcome._tag) {
      case "Answered":
        return { _tag: "Ok", body: body(outcome.value) }
      case "Failed":
        return fail(toWire(outcome.error))
      case "LostResponse":
        return { _tag: "Drop", applied: true }
      case "ConnectionReset":
      case "ConnectionRefused":
        return { _tag: "Drop", applied: false }
    }
  })

/**
 * How a transport calls the model: one operation, answered with an outcome (see `TestCloudWatchLogs`).
 *
 * @internal
 */
export type Invoke = TestCloudWatchLogs.TestCloudWatchLogsShape["invoke"]

const outcomeOf = <A, E extends Errors.CloudWatchLogsError>(
  effect: Effect.Effect<A, E>
): Effect.Effect<TestCloudWatchLogs.Outcome<A, E>> =>
  Effect.match(effect, {
    onSuccess: (value): TestCloudWatchLogs.Outcome<A, E> => ({ _tag: "Answered", value }),
    onFailure: (error): TestCloudWatchLogs.Outcome<A, E> =>
      error._tag === "NetworkError"
        ? error.reason === "refused" ? { _tag: "ConnectionRefused" } : { _tag: "ConnectionReset" }
        : { _tag: "Failed", error }
  })

/**
 * The transport hook of any implementation of the port: typed errors become `Failed`, a network error
 * drops the connection.
 *
 * @internal
 */
export const invokeOf = (api: Api.CloudWatchLogsApiShape): Invoke => {
  const handlers: TestCloudWatchLogs.Handlers = {
    PutLogEvents: (r) => outcomeOf(api.putLogEvents(r)),
    CreateLogGroup: (r) => outcomeOf(api.createLogGroup(r)),
    CreateLogStream: (r) => outcomeOf(api.createLogStream(r)),
    DeleteLogGroup: (r) => outcomeOf(api.deleteLogGroup(r)),
    DeleteLogStream: (r) => outcomeOf(api.deleteLogStream(r)),
    DescribeLogGroups: (r) => outcomeOf(api.describeLogGroups(r)),
    DescribeLogStreams: (r) => outcomeOf(api.describeLogStreams(r)),
    PutRetentionPolicy: (r) => outcomeOf(api.putRetentionPolicy(r)),
    DeleteRetentionPolicy: (r) => outcomeOf(api.deleteRetentionPolicy(r)),
    GetLogEvents: (r) => outcomeOf(api.getLogEvents(r)),
    FilterLogEvents: (r) => outcomeOf(api.filterLogEvents(r))
  }
  return (operation, request) => handlers[operation](request)
}

const none = () => undefined
const same = <A>(a: A): A => a

/**
 * Calls the operation on the model with a body already validated against the API model.
 *
 * @internal
 */
export const dispatch = (
  invoke: Invoke,
  operation: OperationName,
  body: Body
): Effect.Effect<Outcome> => {
  switch (operation) {
    case "PutLogEvents": {
      const logEvents = body["logEvents"]
      if (!isEvents(logEvents)) {
        return Effect.succeed(fail(wireError("SerializationException", "logEvents must be a list of InputLogEvent")))
      }
      const entity = body["entity"]
      const entityBody: Body | undefined = typeof entity === "object" && entity !== null && !Array.isArray(entity)
        ? Object.fromEntries(Object.entries(entity))
        : undefined
      const entityRequest = entityBody === undefined
        ? undefined
        : { keyAttributes: record(entityBody, "keyAttributes"), attributes: record(entityBody, "attributes") }
      return run(
        invoke("PutLogEvents", {
          logGroupName: reqStr(body, "logGroupName"),
          logStreamName: reqStr(body, "logStreamName"),
          logEvents,
          sequenceToken: str(body, "sequenceToken"),
          entity: entityRequest
        }),
        same
      )
    }
    case "CreateLogGroup":
      return run(
        invoke("CreateLogGroup", {
          logGroupName: reqStr(body, "logGroupName"),
          kmsKeyId: str(body, "kmsKeyId"),
          tags: record(body, "tags"),
          logGroupClass: logGroupClassOf(body),
          deletionProtectionEnabled: bool(body, "deletionProtectionEnabled")
        }),
        none
      )
    case "CreateLogStream":
      return run(
        invoke("CreateLogStream", {
          logGroupName: reqStr(body, "logGroupName"),
          logStreamName: reqStr(body, "logStreamName")
        }),
        none
      )
    case "DeleteLogGroup":
      return run(invoke("DeleteLogGroup", { logGroupName: reqStr(body, "logGroupName") }), none)
    case "DeleteLogStream":
      return run(
        invoke("DeleteLogStream", {
          logGroupName: reqStr(body, "logGroupName"),
          logStreamName: reqStr(body, "logStreamName")
        }),
        none
      )
    case "PutRetentionPolicy":
      return run(
        invoke("PutRetentionPolicy", {
          logGroupName: reqStr(body, "logGroupName"),
          retentionInDays: num(body, "retentionInDays") ?? 0
        }),
        none
      )
    case "DeleteRetentionPolicy":
      return run(invoke("DeleteRetentionPolicy", { logGroupName: reqStr(body, "logGroupName") }), none)
    case "DescribeLogGroups":
      return run(
        invoke("DescribeLogGroups", {
          logGroupNamePrefix: str(body, "logGroupNamePrefix"),
          logGroupNamePattern: str(body, "logGroupNamePattern"),
          nextToken: str(body, "nextToken"),
          limit: num(body, "limit"),
          logGroupClass: logGroupClassOf(body),
          logGroupIdentifiers: strings(body, "logGroupIdentifiers")
        }),
        same
      )
    case "DescribeLogStreams": {
      const group = groupOf(body)
      if (isWireError(group)) return Effect.succeed(fail(group))
      const orderBy = str(body, "orderBy")
      const prefix = str(body, "logStreamNamePrefix")
      if (orderBy === "LastEventTime" && prefix !== undefined) {
        return Effect.succeed(
          fail(wireError("InvalidParameterException", "Cannot order by LastEventTime with a logStreamNamePrefix."))
        )
      }
      return run(
        invoke("DescribeLogStreams", {
          logGroupName: group.name,
          logStreamNamePrefix: prefix,
          orderBy: orderBy === "LogStreamName" || orderBy === "LastEventTime" ? orderBy : undefined,
          descending: bool(body, "descending"),
          nextToken: str(body, "nextToken"),
          limit: num(body, "limit")
        }),
        same
      )
    }
    case "GetLogEvents": {
      const group = groupOf(body)
      if (isWireError(group)) return Effect.succeed(fail(group))
      return run(
        invoke("GetLogEvents", {
          logGroupName: group.name,
          logStreamName: reqStr(body, "logStreamName"),
          startTime: num(body, "startTime"),
          endTime: num(body, "endTime"),
          nextToken: str(body, "nextToken"),
          limit: num(body, "limit"),
          startFromHead: bool(body, "startFromHead")
        }),
        same
      )
    }
    case "FilterLogEvents": {
      const group = groupOf(body)
      if (isWireError(group)) return Effect.succeed(fail(group))
      const names = strings(body, "logStreamNames")
      const prefix = str(body, "logStreamNamePrefix")
      if (names !== undefined && prefix !== undefined) {
        return Effect.succeed(
          fail(
            wireError(
              "InvalidParameterException",
              "logStreamNames and logStreamNamePrefix are mutually exclusive parameters."
            )
          )
        )
      }
      return run(
        invoke("FilterLogEvents", {
          logGroupName: group.name,
          logStreamNames: names,
          logStreamNamePrefix: prefix,
          startTime: num(body, "startTime"),
          endTime: num(body, "endTime"),
          filterPattern: str(body, "filterPattern"),
          nextToken: str(body, "nextToken"),
          limit: num(body, "limit"),
          startFromHead: bool(body, "startFromHead")
        }),
        same
      )
    }
  }
}
