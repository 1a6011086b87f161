/**
 * The suite's own view of the service, through the AWS SDK directly (not through the library under
 * test): reading everything back, preparing streams, and a competing writer that advances the token.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  GetLogEventsCommand,
  type GetLogEventsCommandOutput,
  PutLogEventsCommand
} from "@aws-sdk/client-cloudwatch-logs"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Messages from "./messages.js"

/** A call of the suite's own client failed after its retries. */
export class AwsCallError extends Data.TaggedError("AwsCallError")<{
  readonly operation: string
  readonly name: string
  readonly message: string
}> {}

/** A client for the emulator (any credentials will do unless the emulator requires some). */
export const client = (endpoint: string): CloudWatchLogsClient =>
  new CloudWatchLogsClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "chaos", secretAccessKey: "chaos-secret" },
    maxAttempts: 1
  })

const nameOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "name" in e && typeof e.name === "string" ? e.name : "Error"
const messageOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e && typeof e.message === "string" ? e.message : String(e)

const call = <A>(operation: string, f: (signal: AbortSignal) => Promise<A>): Effect.Effect<A, AwsCallError> =>
  Effect.tryPromise({
    try: f,
    catch: (e) => new AwsCallError({ operation, name: nameOf(e), message: messageOf(e) })
  })

/**
 * Faults may be on for every call: the suite's own calls retry server faults, throttling and network
 * errors, not the service's other answers.
 */
const retryable = (e: AwsCallError): boolean =>
  ["ServiceUnavailableException", "ThrottlingException", "OperationAbortedException", "InternalFailure"].includes(
    e.name
  ) || !e.name.endsWith("Exception")

const patient = <A>(effect: Effect.Effect<A, AwsCallError>): Effect.Effect<A, AwsCallError> =>
  effect.pipe(
    Effect.timeoutFail({
      duration: Duration.seconds(20),
      onTimeout: () => new AwsCallError({ operation: "call", name: "Timeout", message: "no answer in 20 s" })
    }),
    Effect.retry({
      schedule: Schedule.exponential(Duration.millis(50)).pipe(
        Schedule.union(Schedule.spaced(Duration.seconds(1))),
        Schedule.intersect(Schedule.recurs(60))
      ),
      while: retryable
    })
  )

/** Creates a group and a stream (either may exist already). */
export const ensureStream = (
  api: CloudWatchLogsClient,
  logGroupName: string,
  logStreamName: string
): Effect.Effect<void, AwsCallError> =>
  Effect.gen(function*() {
    const exists = (e: AwsCallError) => e.name === "ResourceAlreadyExistsException" ? Effect.void : Effect.fail(e)
    yield* patient(
      call("CreateLogGroup", (abortSignal) => api.send(new CreateLogGroupCommand({ logGroupName }), { abortSignal }))
    ).pipe(Effect.catchAll(exists))
    yield* patient(call("CreateLogStream", (abortSignal) =>
      api.send(new CreateLogStreamCommand({ logGroupName, logStreamName }), { abortSignal }))).pipe(
        Effect.catchAll(exists)
      )
  })

/** Every message of a stream, from the head, in the service's order. */
export const readAll = (
  api: CloudWatchLogsClient,
  logGroupName: string,
  logStreamName: string
): Effect.Effect<ReadonlyArray<string>, AwsCallError> =>
  Effect.gen(function*() {
    const messages: Array<string> = []
    let token: string | undefined = undefined
    for (;;) {
      const from: string | undefined = token
      const page: GetLogEventsCommandOutput = yield* patient(call("GetLogEvents", (abortSignal) =>
        api.send(
          new GetLogEventsCommand({
            logGroupName,
            logStreamName,
            startFromHead: true,
            limit: 10_000,
            ...(from !== undefined ? { nextToken: from } : {})
          }),
          { abortSignal }
        )))
      for (const e of page.events ?? []) if (e.message !== undefined) messages.push(e.message)
      const next: string | undefined = page.nextForwardToken
      if (next === undefined || next === from || (page.events ?? []).length === 0) return messages
      token = next
    }
  })

/**
 * A competing writer: one event at a time into the stream, adopting the token from each answer (and from
 * token errors), so that with tokens enforced every producer's token goes stale under it. Runs in the
 * scope until it closes; `written` counts its stored events.
 */
export const competingWriter = (
  api: CloudWatchLogsClient,
  logGroupName: string,
  logStreamName: string,
  every: Duration.DurationInput
): Effect.Effect<Ref.Ref<number>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const written = yield* Ref.make(0)
    const token = yield* Ref.make<string | undefined>(undefined)
    const seq = yield* Ref.make(0)
    const putOne = Effect.gen(function*() {
      const n = yield* Ref.get(seq)
      const sequenceToken = yield* Ref.get(token)
      const answer = yield* Effect.tryPromise({
        try: (abortSignal) =>
          api.send(
            new PutLogEventsCommand({
              logGroupName,
              logStreamName,
              logEvents: [{ timestamp: Date.now(), message: Messages.format("competitor", n) }],
              ...(sequenceToken !== undefined ? { sequenceToken } : {})
            }),
            { abortSignal }
          ),
        catch: (e) => e
      }).pipe(Effect.either)
      if (answer._tag === "Right") {
        yield* Ref.set(token, answer.right.nextSequenceToken)
        yield* Ref.update(written, (w) => w + 1)
        yield* Ref.set(seq, n + 1)
        return
      }
      const e = answer.left
      if (typeof e === "object" && e !== null && "expectedSequenceToken" in e) {
        const expected = e.expectedSequenceToken
        yield* Ref.set(token, typeof expected === "string" ? expected : undefined)
        if (nameOf(e) === "DataAlreadyAcceptedException") yield* Ref.set(seq, n + 1)
      }
    })
    yield* putOne.pipe(
      Effect.timeout(Duration.seconds(10)),
      Effect.ignore,
      Effect.repeat(Schedule.spaced(every)),
      Effect.forkScoped
    )
    return written
  })
