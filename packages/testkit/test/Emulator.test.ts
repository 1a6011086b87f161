/**
 * The emulator (the in-memory model over HTTP) with the real AWS SDK for JavaScript v3: every operation,
 * every error kind, both token generations, the faults, require-auth, malformed bodies.
 */
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DeleteLogGroupCommand,
  DeleteLogStreamCommand,
  DeleteRetentionPolicyCommand,
  DescribeLogGroupsCommand,
  type DescribeLogGroupsCommandInput,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  PutLogEventsCommand,
  PutRetentionPolicyCommand
} from "@aws-sdk/client-cloudwatch-logs"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import { request } from "node:http"
import * as Emulator from "../src/Emulator.js"
import * as TestCloudWatchLogs from "../src/TestCloudWatchLogs.js"

/** The `message` member of an error or a JSON body, if it has one. */
const messageOf = (value: unknown): string | undefined => {
  if (typeof value !== "object" || value === null) return undefined
  const message: unknown = Reflect.get(value, "message")
  return typeof message === "string" ? message : undefined
}

const client = (url: string, credentials = { accessKeyId: "AKID", secretAccessKey: "secret" }) =>
  new CloudWatchLogsClient({ endpoint: url, region: "us-east-1", credentials, maxAttempts: 1 })

type Sent<A> = { readonly ok: A } | { readonly error: unknown }

const attempt = <A>(f: () => Promise<A>): Effect.Effect<Sent<A>> =>
  Effect.promise(() => f().then((ok) => ({ ok }), (error: unknown) => ({ error })))

const succeed = <A>(f: () => Promise<A>): Effect.Effect<A> => Effect.promise(f)

const errorOf = <A>(sent: Sent<A>): unknown => ("error" in sent ? sent.error : { unexpected: "success" })

const now = () => Date.now()
const ev = (message: string, timestamp = now()) => ({ timestamp, message })

/** A PutLogEvents of these events, without a token. */
const putEvents = (
  logGroupName: string,
  logStreamName: string,
  logEvents: Array<{ timestamp: number; message: string }>
) => new PutLogEventsCommand({ logGroupName, logStreamName, logEvents })

const setup = (url: string, group = "g", stream = "s") =>
  Effect.gen(function*() {
    const c = client(url)
    yield* succeed(() => c.send(new CreateLogGroupCommand({ logGroupName: group })))
    yield* succeed(() => c.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream })))
    return c
  })

describe("Emulator with the AWS SDK", () => {
  it.scopedLive("every operation, with the model's state read back", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const c = yield* setup(emulator.url, "app", "api-1")
      yield* succeed(() => c.send(new CreateLogStreamCommand({ logGroupName: "app", logStreamName: "api-2" })))
      const t0 = now() - 1000
      const put = yield* succeed(() =>
        c.send(putEvents("app", "api-1", [ev("hello", t0), ev("wörld ✓", t0 + 1), ev("error: boom", t0 + 2)]))
      )
      expect(put.$metadata.httpStatusCode).toBe(200)
      expect(put.rejectedLogEventsInfo).toBeUndefined()
      expect((yield* emulator.model.events("app", "api-1")).map((e) => e.message)).toEqual([
        "hello",
        "wörld ✓",
        "error: boom"
      ])

      const got = yield* succeed(() =>
        c.send(new GetLogEventsCommand({ logGroupName: "app", logStreamName: "api-1", startFromHead: true }))
      )
      expect(got.events?.map((e) => [e.timestamp, e.message])).toEqual([
        [t0, "hello"],
        [t0 + 1, "wörld ✓"],
        [t0 + 2, "error: boom"]
      ])
      expect(typeof got.events?.[0]?.ingestionTime).toBe("number")
      expect(got.nextForwardToken).toMatch(/^f\//)

      const filtered = yield* succeed(() =>
        c.send(new FilterLogEventsCommand({ logGroupName: "app", filterPattern: "error" }))
      )
      expect(filtered.events?.map((e) => [e.logStreamName, e.message])).toEqual([["api-1", "error: boom"]])

      const groups = yield* succeed(() => c.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "ap" })))
      expect(groups.logGroups?.map((g) => g.logGroupName)).toEqual(["app"])
      const streams = yield* succeed(() =>
        c.send(new DescribeLogStreamsCommand({ logGroupName: "app", logStreamNamePrefix: "api-" }))
      )
      expect(streams.logStreams?.map((s) => s.logStreamName)).toEqual(["api-1", "api-2"])
      expect(streams.logStreams?.[0]?.lastEventTimestamp).toBe(t0 + 2)

      yield* succeed(() => c.send(new PutRetentionPolicyCommand({ logGroupName: "app", retentionInDays: 7 })))
      const retained = yield* succeed(() => c.send(new DescribeLogGroupsCommand({})))
      expect(retained.logGroups?.[0]?.retentionInDays).toBe(7)
      yield* succeed(() => c.send(new DeleteRetentionPolicyCommand({ logGroupName: "app" })))
      const unretained = yield* succeed(() => c.send(new DescribeLogGroupsCommand({})))
      expect(unretained.logGroups?.[0]?.retentionInDays).toBeUndefined()

      yield* succeed(() => c.send(new DeleteLogStreamCommand({ logGroupName: "app", logStreamName: "api-2" })))
      const left = yield* succeed(() => c.send(new DescribeLogStreamsCommand({ logGroupName: "app" })))
      expect(left.logStreams?.map((s) => s.logStreamName)).toEqual(["api-1"])
      yield* succeed(() => c.send(new DeleteLogGroupCommand({ logGroupName: "app" })))
      const none = yield* succeed(() => c.send(new DescribeLogGroupsCommand({})))
      expect(none.logGroups).toEqual([])
    }))

  it.scopedLive("pagination: DescribeLogGroups and DescribeLogStreams by limit and nextToken, GetLogEvents by tokens", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const c = client(emulator.url)
      for (let i = 0; i < 7; i++) {
        yield* succeed(() => c.send(new CreateLogGroupCommand({ logGroupName: `group-${i}` })))
        yield* succeed(() => c.send(new CreateLogStreamCommand({ logGroupName: "group-0", logStreamName: `s-${i}` })))
      }
      const names: Array<string> = []
      let token: string | undefined = undefined
      let pages = 0
      do {
        const page = yield* succeed(() => c.send(new DescribeLogGroupsCommand({ limit: 3, nextToken: token })))
        names.push(...(page.logGroups ?? []).map((g) => g.logGroupName ?? ""))
        token = page.nextToken
        pages++
      } while (token !== undefined)
      expect(names).toEqual(Array.from({ length: 7 }, (_, i) => `group-${i}`))
      expect(pages).toBe(3)
      const streamNames: Array<string> = []
      token = undefined
      do {
        const page = yield* succeed(() =>
          c.send(new DescribeLogStreamsCommand({ logGroupName: "group-0", limit: 2, nextToken: token }))
        )
        streamNames.push(...(page.logStreams ?? []).map((s) => s.logStreamName ?? ""))
        token = page.nextToken
      } while (token !== undefined)
      expect(streamNames).toEqual(Array.from({ length: 7 }, (_, i) => `s-${i}`))

      const t0 = now() - 10_000
      yield* succeed(() =>
        c.send(putEvents("group-0", "s-0", Array.from({ length: 25 }, (_, i) => ev(`m${i}`, t0 + i))))
      )
      const read: Array<string> = []
      let forward: string | undefined = undefined
      for (let i = 0; i < 10; i++) {
        const page = yield* succeed(() =>
          c.send(
            new GetLogEventsCommand({
              logGroupName: "group-0",
              logStreamName: "s-0",
              limit: 10,
              startFromHead: true,
              nextToken: forward
            })
          )
        )
        read.push(...(page.events ?? []).map((e) => e.message ?? ""))
        if (page.nextForwardToken === forward) break
        forward = page.nextForwardToken
      }
      expect(read).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`))
    }))

  it.scopedLive("pagination: a stream deleted or created between pages neither skips nor repeats one (tokens name the last stream)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const c = client(emulator.url)
      const names = (
        r: { readonly logStreams?: ReadonlyArray<{ readonly logStreamName?: string | undefined }> | undefined }
      ) => (r.logStreams ?? []).map((s) => s.logStreamName)
      yield* succeed(() => c.send(new CreateLogGroupCommand({ logGroupName: "pg" })))
      for (const s of ["b", "c", "d"]) {
        yield* succeed(() => c.send(new CreateLogStreamCommand({ logGroupName: "pg", logStreamName: s })))
      }
      const first = yield* succeed(() => c.send(new DescribeLogStreamsCommand({ logGroupName: "pg", limit: 2 })))
      expect(names(first)).toEqual(["b", "c"])
      yield* succeed(() => c.send(new DeleteLogStreamCommand({ logGroupName: "pg", logStreamName: "b" })))
      const afterDelete = yield* succeed(() =>
        c.send(new DescribeLogStreamsCommand({ logGroupName: "pg", limit: 2, nextToken: first.nextToken }))
      )
      expect(names(afterDelete)).toEqual(["d"])
      yield* succeed(() => c.send(new CreateLogStreamCommand({ logGroupName: "pg", logStreamName: "a" })))
      const afterCreate = yield* succeed(() =>
        c.send(new DescribeLogStreamsCommand({ logGroupName: "pg", limit: 2, nextToken: first.nextToken }))
      )
      expect(names(afterCreate)).toEqual(["d"])
    }))

  it.scopedLive("errors: not found, already exists, the batch rules, retention, in AWS's words", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const c = yield* setup(emulator.url)
      const put = (logEvents: Array<{ timestamp: number; message: string }>, group = "g", stream = "s") =>
        attempt(() => c.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents })))

      expect(errorOf(yield* put([ev("x")], "nope"))).toMatchObject({
        name: "ResourceNotFoundException",
        message: "The specified log group does not exist.",
        $metadata: { httpStatusCode: 400 }
      })
      expect(errorOf(yield* put([ev("x")], "g", "nope"))).toMatchObject({
        name: "ResourceNotFoundException",
        message: "The specified log stream does not exist."
      })
      expect(errorOf(yield* attempt(() => c.send(new CreateLogGroupCommand({ logGroupName: "g" }))))).toMatchObject({
        name: "ResourceAlreadyExistsException"
      })
      expect(
        errorOf(yield* attempt(() => c.send(new CreateLogStreamCommand({ logGroupName: "g", logStreamName: "s" }))))
      ).toMatchObject({ name: "ResourceAlreadyExistsException" })
      const t = now()
      expect(errorOf(yield* put([ev("b", t), ev("a", t - 1)]))).toMatchObject({
        name: "InvalidParameterException",
        message: "Log events in a single PutLogEvents request must be in chronological order."
      })
      expect(errorOf(yield* put([ev("a", t - 25 * 3600_000), ev("b", t)]))).toMatchObject({
        name: "InvalidParameterException",
        message: "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."
      })
      // 1,048,576 bytes exactly (message bytes + 26 per event) is accepted; one byte more is refused.
      const full = [ev("x".repeat(524_262), t), ev("y".repeat(524_262), t)]
      const accepted = yield* put(full)
      expect("ok" in accepted).toBe(true)
      const over = [ev("x".repeat(524_262), t), ev("y".repeat(524_263), t)]
      expect(errorOf(yield* put(over))).toMatchObject({
        name: "InvalidParameterException",
        message: "Upload too large: 1048577 bytes exceeds limit of 1048576"
      })
      expect(
        errorOf(yield* attempt(() => c.send(new PutRetentionPolicyCommand({ logGroupName: "g", retentionInDays: 2 }))))
      ).toMatchObject({ name: "InvalidParameterException" })
      expect(
        errorOf(yield* attempt(() => c.send(new DeleteLogStreamCommand({ logGroupName: "g", logStreamName: "x" }))))
      ).toMatchObject({ name: "ResourceNotFoundException" })
      // Validation from the API model, before the model sees the request.
      expect(errorOf(yield* put([]))).toMatchObject({
        name: "InvalidParameterException",
        message:
          "1 validation error detected: Value '[0 items]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1"
      })
      expect(
        errorOf(yield* attempt(() => c.send(new CreateLogGroupCommand({ logGroupName: "bad name" }))))
      ).toMatchObject({ name: "InvalidParameterException" })
    }))

  it.scopedLive("too old and too new events are rejected and reported; the rest is stored", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make()
      const c = yield* setup(emulator.url)
      const t = now()
      const out = yield* succeed(() =>
        c.send(putEvents("g", "s", [
          ev("old", t - 15 * 86_400_000),
          ev("ok-1", t - 1000),
          ev("ok-2", t),
          ev("new", t + 3 * 3600_000)
        ]))
      )
      // The span of the batch is over 24 h only through rejected events: the valid ones are stored.
      expect(out.rejectedLogEventsInfo).toEqual({ tooOldLogEventEndIndex: 1, tooNewLogEventStartIndex: 3 })
      expect((yield* emulator.model.events("g", "s")).map((e) => e.message)).toEqual(["ok-1", "ok-2"])
      const single = yield* succeed(() => c.send(putEvents("g", "s", [ev("ok-3", t), ev("new", t + 3 * 3600_000)])))
      expect(single.rejectedLogEventsInfo).toEqual({ tooNewLogEventStartIndex: 1 })
    }))

  it.scopedLive("maxEventBytes: an event at the limit is stored, one byte over is refused", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.make({ maxEventBytes: 262_144 })
      const c = yield* setup(emulator.url)
      const at = yield* attempt(() => c.send(putEvents("g", "s", [ev("x".repeat(262_144 - 26))])))
      expect("ok" in at).toBe(true)
      const past = yield* attempt(() => c.send(putEvents("g", "s", [ev("x".repeat(262_144 - 25))])))
      expect(errorOf(past)).toMatchObject({
        name: "InvalidParameterException",
        message: "Log event too large: 262145 bytes exceeds limit of 262144"
      })
    }))

  describe("sequence tokens", () => {
    it.scopedLive("ignored (default, AWS today): any token is accepted, a replay is stored twice", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make()
        const c = yield* setup(emulator.url)
        const put = (sequenceToken?: string) =>
          succeed(() =>
            c.send(
              new PutLogEventsCommand({ logGroupName: "g", logStreamName: "s", logEvents: [ev("x")], sequenceToken })
            )
          )
        const uploadSequenceToken = () =>
          Effect.map(
            succeed(() => c.send(new DescribeLogStreamsCommand({ logGroupName: "g" }))),
            (described) => described.logStreams?.[0]?.uploadSequenceToken
          )
        expect(yield* uploadSequenceToken()).toBeUndefined()
        const first = yield* put()
        expect(typeof first.nextSequenceToken).toBe("string")
        expect(yield* uploadSequenceToken()).toBe(first.nextSequenceToken)
        yield* put("whatever")
        const third = yield* put()
        expect((yield* emulator.model.events("g", "s")).length).toBe(3)
        // DescribeLogStreams shows the token the last put returned, though nothing checks it
        expect(yield* uploadSequenceToken()).toBe(third.nextSequenceToken)
      }))

    it.scopedLive("enforced (legacy): InvalidSequenceToken with the expected token, DataAlreadyAccepted on replay", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ sequenceTokens: "enforced" })
        const c = yield* setup(emulator.url)
        const put = (message: string, sequenceToken?: string) =>
          attempt(() =>
            c.send(
              new PutLogEventsCommand({
                logGroupName: "g",
                logStreamName: "s",
                logEvents: [ev(message, 1_000)].map((e) => ({ ...e, timestamp: now() })),
                sequenceToken
              })
            )
          )
        const first = yield* put("one")
        expect("ok" in first).toBe(true)
        const token1 = "ok" in first ? first.ok.nextSequenceToken : undefined
        expect(token1).toBeDefined()
        const missing = errorOf(yield* put("two"))
        expect(missing).toMatchObject({
          name: "InvalidSequenceTokenException",
          expectedSequenceToken: token1,
          $metadata: { httpStatusCode: 400 }
        })
        expect(messageOf(missing)).toBe(
          `The given sequenceToken is invalid. The next expected sequenceToken is: ${token1}`
        )
        const wrong = errorOf(yield* put("two", "12345"))
        expect(wrong).toMatchObject({ name: "InvalidSequenceTokenException", expectedSequenceToken: token1 })
        const second = yield* put("two", token1)
        expect("ok" in second).toBe(true)
        const token2 = "ok" in second ? second.ok.nextSequenceToken : undefined
        // The same batch again under the token it was accepted with: DataAlreadyAccepted, nothing duplicated.
        const events = [{ timestamp: now(), message: "three" }]
        const third = yield* succeed(() =>
          c.send(
            new PutLogEventsCommand({ logGroupName: "g", logStreamName: "s", logEvents: events, sequenceToken: token2 })
          )
        )
        const replay = errorOf(
          yield* attempt(() =>
            c.send(
              new PutLogEventsCommand({
                logGroupName: "g",
                logStreamName: "s",
                logEvents: events,
                sequenceToken: token2
              })
            )
          )
        )
        expect(replay).toMatchObject({
          name: "DataAlreadyAcceptedException",
          expectedSequenceToken: third.nextSequenceToken
        })
        expect((yield* emulator.model.events("g", "s")).map((e) => e.message)).toEqual(["one", "two", "three"])
        const described = yield* succeed(() => c.send(new DescribeLogStreamsCommand({ logGroupName: "g" })))
        expect(described.logStreams?.[0]?.uploadSequenceToken).toBe(third.nextSequenceToken)
      }))
  })

  describe("rules of the AWS API model", () => {
    it.scopedLive("DescribeLogStreams reports storedBytes 0 for every stream; DescribeLogGroups the group's bytes", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make()
        const c = yield* setup(emulator.url)
        yield* succeed(() => c.send(new CreateLogStreamCommand({ logGroupName: "g", logStreamName: "t" })))
        const storedBytes = () =>
          Effect.map(
            succeed(() => c.send(new DescribeLogStreamsCommand({ logGroupName: "g" }))),
            (described) => described.logStreams?.map((s) => [s.logStreamName, s.storedBytes])
          )
        expect(yield* storedBytes()).toEqual([["s", 0], ["t", 0]])
        yield* succeed(() =>
          c.send(new PutLogEventsCommand({ logGroupName: "g", logStreamName: "s", logEvents: [ev("héllo"), ev("x")] }))
        )
        expect(yield* storedBytes()).toEqual([["s", 0], ["t", 0]])
        const groups = yield* succeed(() => c.send(new DescribeLogGroupsCommand({})))
        expect(groups.logGroups?.[0]?.storedBytes).toBe(7)
      }))

    it.scopedLive("CreateLogGroup refuses a name starting with aws/; 'aws', 'awsx/' and '/aws/' ones are created", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make()
        const c = client(emulator.url)
        const create = (logGroupName: string) => attempt(() => c.send(new CreateLogGroupCommand({ logGroupName })))
        for (const ok of ["aws", "awsx/y", "/aws/lambda/f"]) expect("ok" in (yield* create(ok))).toBe(true)
        for (const bad of ["aws/", "aws/spans"]) {
          expect(errorOf(yield* create(bad))).toMatchObject({
            name: "InvalidParameterException",
            message: `Invalid logGroupName '${bad}': log group names can't start with the string aws/`,
            $metadata: { httpStatusCode: 400 }
          })
        }
        // only creation: elsewhere such a name is just a group that does not exist here
        expect(
          errorOf(yield* attempt(() => c.send(new DescribeLogStreamsCommand({ logGroupName: "aws/spans" }))))
        ).toMatchObject({ name: "ResourceNotFoundException" })
        const groups = yield* succeed(() => c.send(new DescribeLogGroupsCommand({})))
        expect(groups.logGroups?.map((g) => g.logGroupName)).toEqual(["/aws/lambda/f", "aws", "awsx/y"])
      }))

    it.scopedLive("PutLogEvents: timestamps at and above 2^53 are longs, rejected as too new; the rest is stored", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make()
        const c = yield* setup(emulator.url)
        const out = yield* succeed(() =>
          c.send(putEvents("g", "s", [
            ev("now"),
            ev("2^53 - 1", Number.MAX_SAFE_INTEGER),
            ev("2^53", 2 ** 53),
            ev("2^53 + 2", 9_007_199_254_740_994)
          ]))
        )
        expect(out.rejectedLogEventsInfo).toEqual({ tooNewLogEventStartIndex: 1 })
        const alone = yield* succeed(() => c.send(putEvents("g", "s", [ev("2^53 + 2", 9_007_199_254_740_994)])))
        expect(alone.rejectedLogEventsInfo).toEqual({ tooNewLogEventStartIndex: 0 })
        expect((yield* emulator.model.events("g", "s")).map((e) => e.message)).toEqual(["now"])
        // negative timestamps are still refused
        expect(
          errorOf(
            yield* attempt(() =>
              c.send(new PutLogEventsCommand({ logGroupName: "g", logStreamName: "s", logEvents: [ev("x", -1)] }))
            )
          )
        ).toMatchObject({ name: "InvalidParameterException" })
      }))

    it.scopedLive("DescribeLogGroups logGroupNamePattern: case-sensitive, only arn, creationTime and logGroupName", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make()
        const c = client(emulator.url)
        for (const logGroupName of ["DataLogs", "/aws/DataLogs", "GroupDataLogs", "datalogs", "Groupdata"]) {
          yield* succeed(() => c.send(new CreateLogGroupCommand({ logGroupName })))
        }
        yield* succeed(() => c.send(new PutRetentionPolicyCommand({ logGroupName: "DataLogs", retentionInDays: 7 })))
        const byPattern = (logGroupNamePattern: string) =>
          succeed(() => c.send(new DescribeLogGroupsCommand({ logGroupNamePattern })))
        const found = yield* byPattern("DataLogs")
        expect(found.logGroups?.map((g) => g.logGroupName)).toEqual(["/aws/DataLogs", "DataLogs", "GroupDataLogs"])
        expect((yield* byPattern("datalogs")).logGroups?.map((g) => g.logGroupName)).toEqual(["datalogs"])
        expect((yield* byPattern("Datalogs")).logGroups).toEqual([])
        const dataLogs = found.logGroups?.[1]
        expect(dataLogs).toEqual({
          logGroupName: "DataLogs",
          creationTime: dataLogs?.creationTime,
          arn: "arn:aws:logs:us-east-1:000000000000:log-group:DataLogs:*"
        })
        expect(typeof dataLogs?.creationTime).toBe("number")
        const byPrefix = yield* succeed(() => c.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: "DataLogs" })))
        expect(byPrefix.logGroups?.[0]).toMatchObject({ retentionInDays: 7, storedBytes: 0, logGroupClass: "STANDARD" })
      }))

    it.scopedLive("DescribeLogGroups logGroupClass and logGroupIdentifiers (1 to 50, no other filter)", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make()
        const c = client(emulator.url)
        yield* succeed(() => c.send(new CreateLogGroupCommand({ logGroupName: "a/std" })))
        yield* succeed(() =>
          c.send(new CreateLogGroupCommand({ logGroupName: "a/ia", logGroupClass: "INFREQUENT_ACCESS" }))
        )
        yield* succeed(() =>
          c.send(new CreateLogGroupCommand({ logGroupName: "b/ia", logGroupClass: "INFREQUENT_ACCESS" }))
        )
        const names = (input: DescribeLogGroupsCommandInput) =>
          Effect.map(
            succeed(() => c.send(new DescribeLogGroupsCommand(input))),
            (out) => out.logGroups?.map((g) => g.logGroupName)
          )
        expect(yield* names({ logGroupClass: "INFREQUENT_ACCESS" })).toEqual(["a/ia", "b/ia"])
        expect(yield* names({ logGroupClass: "STANDARD" })).toEqual(["a/std"])
        expect(yield* names({ logGroupClass: "DELIVERY" })).toEqual([])
        expect(yield* names({ logGroupClass: "INFREQUENT_ACCESS", logGroupNamePrefix: "b/" })).toEqual(["b/ia"])
        expect(yield* names({ logGroupIdentifiers: ["b/ia", "a/std", "nope", "a/"] })).toEqual(["a/std", "b/ia"])
        const page = yield* succeed(() =>
          c.send(new DescribeLogGroupsCommand({ logGroupIdentifiers: ["b/ia", "a/std", "a/ia"], limit: 2 }))
        )
        expect(page.logGroups?.map((g) => g.logGroupName)).toEqual(["a/ia", "a/std"])
        expect(
          yield* names({ logGroupIdentifiers: ["b/ia", "a/std", "a/ia"], limit: 2, nextToken: page.nextToken })
        ).toEqual(["b/ia"])
        const many = (n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? "a/ia" : `x/${i}`))
        expect(yield* names({ logGroupIdentifiers: many(50) })).toEqual(["a/ia"])
        expect(
          errorOf(yield* attempt(() => c.send(new DescribeLogGroupsCommand({ logGroupIdentifiers: many(51) }))))
        ).toMatchObject({
          name: "InvalidParameterException",
          message: expect.stringContaining(
            "at 'logGroupIdentifiers' failed to satisfy constraint: Member must have length less than or equal to 50"
          )
        })
        for (
          const other of [
            { logGroupNamePrefix: "a/" },
            { logGroupNamePattern: "ia" },
            { logGroupClass: "STANDARD" as const }
          ]
        ) {
          expect(
            errorOf(
              yield* attempt(() => c.send(new DescribeLogGroupsCommand({ logGroupIdentifiers: ["a/ia"], ...other })))
            )
          ).toMatchObject({
            name: "InvalidParameterException",
            message:
              "logGroupIdentifiers can't be combined with logGroupNamePrefix, logGroupNamePattern or logGroupClass."
          })
        }
      }))

    it.scopedLive("CreateLogGroup kmsKeyId and deletionProtectionEnabled are reported; protection refuses deletions with ValidationException", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make()
        const c = client(emulator.url)
        const kmsKeyId = "arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        yield* succeed(() =>
          c.send(new CreateLogGroupCommand({ logGroupName: "p", kmsKeyId, deletionProtectionEnabled: true }))
        )
        yield* succeed(() => c.send(new CreateLogStreamCommand({ logGroupName: "p", logStreamName: "s" })))
        yield* succeed(() => c.send(new CreateLogGroupCommand({ logGroupName: "q" })))
        const described = yield* succeed(() => c.send(new DescribeLogGroupsCommand({})))
        expect(described.logGroups?.map((g) => [g.logGroupName, g.kmsKeyId, g.deletionProtectionEnabled])).toEqual([
          ["p", kmsKeyId, true],
          ["q", undefined, false]
        ])
        // AWS: "If you attempt to delete a log group with deletion protection enabled, you receive a
        // ValidationException"; the API model: protection "blocks all deletion operations"
        const group = yield* attempt(() => c.send(new DeleteLogGroupCommand({ logGroupName: "p" })))
        expect(errorOf(group)).toMatchObject({
          name: "ValidationException",
          message: "Cannot delete log group with deletion protection enabled. Disable deletion protection first.",
          $metadata: { httpStatusCode: 400 }
        })
        const stream = yield* attempt(() =>
          c.send(new DeleteLogStreamCommand({ logGroupName: "p", logStreamName: "s" }))
        )
        expect(errorOf(stream)).toMatchObject({ name: "ValidationException" })
        const after = yield* succeed(() => c.send(new DescribeLogStreamsCommand({ logGroupName: "p" })))
        expect(after.logStreams?.map((s) => s.logStreamName)).toEqual(["s"])
        yield* succeed(() => c.send(new DeleteLogGroupCommand({ logGroupName: "q" })))
      }))

    it.scopedLive("FilterLogEvents patterns: ?terms (any of them), -terms (excluded), quoted phrases; JSON patterns refused", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make()
        const c = yield* setup(emulator.url)
        const t = now()
        yield* succeed(() =>
          c.send(
            putEvents("g", "s", [
              ev("ERROR disk full", t),
              ev("WARN cpu hot", t + 1),
              ev("INFO all good", t + 2),
              ev("ERROR network down", t + 3)
            ])
          )
        )
        const messages = (filterPattern: string) =>
          Effect.map(
            succeed(() => c.send(new FilterLogEventsCommand({ logGroupName: "g", filterPattern }))),
            (r) => (r.events ?? []).map((e) => e.message)
          )
        // AWS: "?ERROR ?Exception" returns the events holding ERROR or Exception
        expect(yield* messages("?ERROR ?WARN")).toEqual(["ERROR disk full", "WARN cpu hot", "ERROR network down"])
        // AWS: "ERROR -ARGUMENTS" returns the events holding ERROR and not ARGUMENTS
        expect(yield* messages("ERROR -disk")).toEqual(["ERROR network down"])
        expect(yield* messages(`?"cpu hot" ?"all good"`)).toEqual(["WARN cpu hot", "INFO all good"])
        const json = yield* attempt(() =>
          c.send(new FilterLogEventsCommand({ logGroupName: "g", filterPattern: `{ $.level = "ERROR" }` }))
        )
        expect(errorOf(json)).toMatchObject({
          name: "InvalidParameterException",
          message: expect.stringContaining("uses the JSON syntax, which the emulator does not support")
        })
      }))

    it.scopedLive("FilterLogEvents startFromHead false: latest first and paging on; startTime from Jan 1, 2024 only", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make()
        const c = yield* setup(emulator.url)
        const t0 = now() - 10_000
        yield* succeed(() => c.send(putEvents("g", "s", Array.from({ length: 7 }, (_, i) => ev(`m${i}`, t0 + i)))))
        const y2024 = Date.UTC(2024, 0, 1)
        const read: Array<string> = []
        let token: string | undefined = undefined
        let pages = 0
        do {
          const page = yield* succeed(() =>
            c.send(
              new FilterLogEventsCommand({
                logGroupName: "g",
                startTime: y2024,
                startFromHead: false,
                limit: 3,
                nextToken: token
              })
            )
          )
          read.push(...(page.events ?? []).map((e) => e.message ?? ""))
          token = page.nextToken
          pages++
        } while (token !== undefined)
        expect(read).toEqual(["m6", "m5", "m4", "m3", "m2", "m1", "m0"])
        expect(pages).toBe(3)
        const head = yield* succeed(() =>
          c.send(new FilterLogEventsCommand({ logGroupName: "g", startTime: y2024 - 1, limit: 3 }))
        )
        expect(head.events?.map((e) => e.message)).toEqual(["m0", "m1", "m2"])
        expect(
          errorOf(
            yield* attempt(() =>
              c.send(new FilterLogEventsCommand({ logGroupName: "g", startTime: y2024 - 1, startFromHead: false }))
            )
          )
        ).toMatchObject({
          name: "InvalidParameterException",
          message:
            "startFromHead false is supported only when startTime is on or after Jan 1, 2024 00:00:00 UTC (1704067200000)."
        })
      }))
  })

  describe("faults", () => {
    const put = (c: CloudWatchLogsClient, message: string) =>
      attempt(() =>
        c.send(new PutLogEventsCommand({ logGroupName: "g", logStreamName: "s", logEvents: [ev(message)] }))
      )

    it.scopedLive("reset: the client sees a network error and nothing is stored", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ faults: { reset: 1 } })
        const c = yield* setup(emulator.url)
        const sent = yield* put(c, "x")
        const error = errorOf(sent)
        expect(error).toMatchObject({ name: expect.stringMatching(/Error/) })
        expect(error).not.toHaveProperty("$metadata.httpStatusCode")
        expect(yield* emulator.model.events("g", "s")).toEqual([])
      }))

    it.scopedLive("lost-response: stored once though the client saw a failure", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ faults: { lostResponse: 1 } })
        const c = yield* setup(emulator.url)
        const sent = yield* put(c, "x")
        expect("error" in sent).toBe(true)
        expect((yield* emulator.model.events("g", "s")).map((e) => e.message)).toEqual(["x"])
        expect(yield* emulator.dropped).toEqual({ reset: 0, lostResponse: 1 })
      }))

    it.scopedLive("unavailable is a 500 ServiceUnavailableException; throttle a ThrottlingException", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make({ faults: { unavailable: 1 } })
        const c = yield* setup(emulator.url)
        expect(errorOf(yield* put(c, "x"))).toMatchObject({
          name: "ServiceUnavailableException",
          $fault: "server",
          $metadata: { httpStatusCode: 500 }
        })
        yield* emulator.model.setFaults({ throttle: 1 })
        expect(errorOf(yield* put(c, "x"))).toMatchObject({
          name: "ThrottlingException",
          $metadata: { httpStatusCode: 400 }
        })
        yield* emulator.model.setFaults({})
        expect("ok" in (yield* put(c, "x"))).toBe(true)
        expect((yield* emulator.model.events("g", "s")).length).toBe(1)
      }))

    it.scopedLive("an outage (stop) refuses connections; listen serves again with the state kept", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make()
        const c = yield* setup(emulator.url)
        expect("ok" in (yield* put(c, "before"))).toBe(true)
        yield* emulator.stop
        expect("error" in (yield* put(c, "during"))).toBe(true)
        yield* emulator.listen
        expect("ok" in (yield* put(c, "after"))).toBe(true)
        expect((yield* emulator.model.events("g", "s")).map((e) => e.message)).toEqual(["before", "after"])
      }))

    it.scopedLive("stop ends the requests in progress: a put waiting out a latency fault is not applied later", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make()
        const c = yield* setup(emulator.url)
        yield* emulator.setHttpFaults({ latencyMillis: 1_000 })
        const slow = yield* Effect.fork(put(c, "in flight"))
        yield* Effect.sleep("200 millis")
        yield* emulator.stop
        expect("error" in (yield* Fiber.join(slow))).toBe(true)
        // past the latency: still not applied
        yield* Effect.sleep("1200 millis")
        expect(yield* emulator.model.events("g", "s")).toEqual([])
        expect((yield* emulator.model.calls).filter((call) => call.operation === "PutLogEvents")).toEqual([])
      }))
  })

  describe("auth and malformed requests", () => {
    it.scopedLive("require-auth: the right key works; a wrong key or secret fails with the right error", () =>
      Effect.gen(function*() {
        const requireAuth = { accessKeyId: "AKIDTEST", secretAccessKey: "s3cr3t/KEY+value" }
        const emulator = yield* Emulator.make({ requireAuth })
        const good = yield* attempt(() =>
          client(emulator.url, requireAuth).send(new CreateLogGroupCommand({ logGroupName: "g" }))
        )
        expect("ok" in good).toBe(true)
        expect(
          errorOf(
            yield* attempt(() =>
              client(emulator.url, { ...requireAuth, accessKeyId: "AKIDOTHER" }).send(new DescribeLogGroupsCommand({}))
            )
          )
        ).toMatchObject({
          name: "UnrecognizedClientException",
          message: "The security token included in the request is invalid."
        })
        expect(
          errorOf(
            yield* attempt(() =>
              client(emulator.url, { ...requireAuth, secretAccessKey: "wrong" }).send(new DescribeLogGroupsCommand({}))
            )
          )
        ).toMatchObject({ name: "InvalidSignatureException" })
        expect(yield* emulator.model.callCount("DescribeLogGroups")).toBe(0)
      }))

    it.scopedLive("a malformed body is a SerializationException, an unknown target an UnknownOperationException", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.make()
        const post = (target: string, body: string) =>
          Effect.async<{ status: number; type: string | undefined; json: unknown }>((resume) => {
            const req = request(`${emulator.url}/`, {
              method: "POST",
              agent: false,
              headers: { "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target }
            }, (res) => {
              const chunks: Array<Buffer> = []
              res.on("data", (b: Buffer) => chunks.push(b))
              res.on("end", () => {
                const errorType = res.headers["x-amzn-errortype"]
                resume(Effect.succeed({
                  status: res.statusCode ?? 0,
                  type: typeof errorType === "string" ? errorType : undefined,
                  json: JSON.parse(Buffer.concat(chunks).toString())
                }))
              })
            })
            req.end(body)
          })
        const malformed = yield* post("Logs_20140328.PutLogEvents", "{not json")
        expect(malformed).toMatchObject({ status: 400, type: "SerializationException" })
        const unknown = yield* post("Logs_20140328.GetQueryResults", "{}")
        expect(unknown).toMatchObject({ status: 400, type: "UnknownOperationException" })
        expect(yield* emulator.model.calls).toEqual([])
      }))
  })

  it.scopedLive("layer: the Emulator service and the model's inspection handle from one fresh emulator", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const c = yield* setup(emulator.url)
      yield* succeed(() =>
        c.send(new PutLogEventsCommand({ logGroupName: "g", logStreamName: "s", logEvents: [ev("via layer")] }))
      )
      expect((yield* TestCloudWatchLogs.events("g", "s")).map((e) => e.message)).toEqual(["via layer"])
    }).pipe(Effect.provide(Layer.fresh(Emulator.layer()))))
})
