import type { CloudWatchLogsApi as Api } from "@cwlogs/core"
import { CloudWatchLogsError as Errors, Limits } from "@cwlogs/core"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as T from "../TestCloudWatchLogs.js"
import { type FaultKind, type FaultOptions, Faults, type OperationName } from "./faults.js"
import { Model } from "./model.js"

interface Target {
  readonly logGroupName?: string | undefined
  readonly logStreamName?: string | undefined
}

/**
 * The model's clock: whole epoch milliseconds, as every time of the service is (a TestClock adjusted by
 * a jittered, fractional delay would otherwise give events fractional timestamps and read cursors).
 */
const wholeMillis: Effect.Effect<number> = Effect.map(Clock.currentTimeMillis, Math.floor)

/** @internal */
export const unsafeMake = (options: T.Options = {}): T.TestCloudWatchLogsShape => {
  const model = new Model({
    sequenceTokens: options.sequenceTokens ?? "ignored",
    limits: options.limits ?? Limits.current,
    throttling: options.throttling ?? false,
    discard: options.discard ?? false,
    accountId: options.accountId ?? "000000000000",
    region: options.region ?? "us-east-1"
  })
  const faults = new Faults(options.faults ?? {}, options.seed ?? 1)
  const recordCalls = options.recordCalls ?? options.discard !== true
  let calls: Array<T.Call> = []
  let counts = new Map<OperationName, number>()

  const record = (
    operation: OperationName,
    target: Target,
    outcome: string,
    eventCount: number,
    sequenceToken: string | undefined,
    time: number
  ): void => {
    counts.set(operation, (counts.get(operation) ?? 0) + 1)
    if (!recordCalls) return
    calls.push({
      operation,
      ...(target.logGroupName !== undefined ? { logGroupName: target.logGroupName } : {}),
      ...(target.logStreamName !== undefined ? { logStreamName: target.logStreamName } : {}),
      outcome,
      eventCount,
      ...(sequenceToken !== undefined ? { sequenceToken } : {}),
      time
    })
  }

  const run = <A, E extends Errors.CloudWatchLogsError>(
    operation: OperationName,
    target: Target,
    eventCount: number,
    sequenceToken: string | undefined,
    apply: (now: number) => Either.Either<A, E>
  ): Effect.Effect<T.Outcome<A, E | Errors.ServiceUnavailableException | Errors.ThrottlingException>> =>
    Effect.flatMap(wholeMillis, (now) => {
      const decision = faults.decide(operation)
      let outcome: T.Outcome<A, E | Errors.ServiceUnavailableException | Errors.ThrottlingException>
      if (decision.refused) {
        outcome = { _tag: "ConnectionRefused" }
      } else {
        if (decision.competingWriter && target.logGroupName !== undefined && target.logStreamName !== undefined) {
          model.competingPut(target.logGroupName, target.logStreamName, now)
        }
        switch (decision.failure) {
          case "unavailable":
            outcome = {
              _tag: "Failed",
              error: new Errors.ServiceUnavailableException({
                message: "The service is unavailable. Please try again later. (injected fault)",
                httpStatus: 500
              })
            }
            break
          case "throttle":
            outcome = {
              _tag: "Failed",
              error: new Errors.ThrottlingException({ message: "Rate exceeded", httpStatus: 400 })
            }
            break
          case "reset":
            outcome = { _tag: "ConnectionReset" }
            break
          default: {
            const result = apply(now)
            if (Either.isLeft(result)) {
              // a lost answer is lost whatever it was: an error answer too (the fault is used up)
              outcome = decision.failure === "lostResponse"
                ? {
                  _tag: "Failed",
                  error: new Errors.ServiceUnavailableException({
                    message: "The request failed and its response was lost (injected fault)",
                    httpStatus: 500
                  })
                }
                : { _tag: "Failed", error: result.left }
            } else if (decision.failure === "lostResponse") outcome = { _tag: "LostResponse", value: result.right }
            else outcome = { _tag: "Answered", value: result.right }
          }
        }
      }
      record(
        operation,
        target,
        outcome._tag === "Failed" ? outcome.error._tag : outcome._tag,
        eventCount,
        sequenceToken,
        now
      )
      return decision.latencyMillis > 0
        ? Effect.as(Effect.sleep(decision.latencyMillis), outcome)
        : Effect.succeed(outcome)
    })

  const handlers: T.Handlers = {
    PutLogEvents: (r) =>
      run("PutLogEvents", r, r.logEvents.length, r.sequenceToken, (now) => model.putLogEvents(r, now)),
    CreateLogGroup: (r) => run("CreateLogGroup", r, 0, undefined, (now) => model.createLogGroup(r, now)),
    CreateLogStream: (r) => run("CreateLogStream", r, 0, undefined, (now) => model.createLogStream(r, now)),
    DeleteLogGroup: (r) => run("DeleteLogGroup", r, 0, undefined, (now) => model.deleteLogGroup(r, now)),
    DeleteLogStream: (r) => run("DeleteLogStream", r, 0, undefined, (now) => model.deleteLogStream(r, now)),
    DescribeLogGroups: (r) => run("DescribeLogGroups", {}, 0, undefined, (now) => model.describeLogGroups(r, now)),
    DescribeLogStreams: (r) => run("DescribeLogStreams", r, 0, undefined, (now) => model.describeLogStreams(r, now)),
    PutRetentionPolicy: (r) => run("PutRetentionPolicy", r, 0, undefined, (now) => model.putRetentionPolicy(r, now)),
    DeleteRetentionPolicy: (r) =>
      run("DeleteRetentionPolicy", r, 0, undefined, (now) => model.deleteRetentionPolicy(r, now)),
    GetLogEvents: (r) => run("GetLogEvents", r, 0, undefined, (now) => model.getLogEvents(r, now)),
    FilterLogEvents: (r) => run("FilterLogEvents", r, 0, undefined, (now) => model.filterLogEvents(r, now))
  }

  const api: Api.CloudWatchLogsApiShape = {
    putLogEvents: (r) => toEffect(handlers.PutLogEvents(r)),
    createLogGroup: (r) => toEffect(handlers.CreateLogGroup(r)),
    createLogStream: (r) => toEffect(handlers.CreateLogStream(r)),
    deleteLogGroup: (r) => toEffect(handlers.DeleteLogGroup(r)),
    deleteLogStream: (r) => toEffect(handlers.DeleteLogStream(r)),
    describeLogGroups: (r) => toEffect(handlers.DescribeLogGroups(r)),
    describeLogStreams: (r) => toEffect(handlers.DescribeLogStreams(r)),
    putRetentionPolicy: (r) => toEffect(handlers.PutRetentionPolicy(r)),
    deleteRetentionPolicy: (r) => toEffect(handlers.DeleteRetentionPolicy(r)),
    getLogEvents: (r) => toEffect(handlers.GetLogEvents(r)),
    filterLogEvents: (r) => toEffect(handlers.FilterLogEvents(r))
  }

  return {
    api,
    invoke: (operation, request) => handlers[operation](request),
    events: (logGroupName, logStreamName) =>
      Effect.map(
        wholeMillis,
        (now) =>
          model.visibleEvents(logGroupName, logStreamName, now).map((e): Api.OutputLogEvent => ({
            timestamp: e.timestamp,
            message: e.message,
            ingestionTime: e.ingestionTime
          }))
      ),
    calls: Effect.sync(() => calls.slice()),
    callCount: (operation) => Effect.sync(() => counts.get(operation) ?? 0),
    token: (logGroupName, logStreamName) => Effect.sync(() => model.token(logGroupName, logStreamName)),
    streamStats: (logGroupName, logStreamName) => Effect.sync(() => model.stats(logGroupName, logStreamName)),
    setFaults: (f: FaultOptions) => Effect.sync(() => faults.setOptions(f)),
    failNext: (n: number, kind: FaultKind, operation?: OperationName) =>
      Effect.sync(() => faults.failNext(n, kind, operation ?? "PutLogEvents")),
    setOutage: (outage: boolean) => Effect.sync(() => faults.setOutage(outage)),
    reset: Effect.sync(() => {
      model.reset()
      faults.reset()
      calls = []
      counts = new Map()
    })
  }
}

/** @internal */
export const toEffect = <A, E extends Errors.CloudWatchLogsError>(
  outcome: Effect.Effect<T.Outcome<A, E>>
): Effect.Effect<A, E | Errors.ServiceUnavailableException | Errors.NetworkError> =>
  Effect.flatMap(outcome, (o): Effect.Effect<A, E | Errors.ServiceUnavailableException | Errors.NetworkError> => {
    switch (o._tag) {
      case "Answered":
        return Effect.succeed(o.value)
      case "Failed":
        return Effect.fail(o.error)
      case "LostResponse":
        return Effect.fail(
          new Errors.ServiceUnavailableException({
            message: "The request was applied but its response was lost (injected fault)",
            httpStatus: 500
          })
        )
      case "ConnectionReset":
        return Effect.fail(
          new Errors.NetworkError({ message: "Connection reset by peer (injected fault)", reason: "reset" })
        )
      case "ConnectionRefused":
        return Effect.fail(
          new Errors.NetworkError({ message: "Connection refused (injected outage)", reason: "refused" })
        )
    }
  })
