/**
 * Which log lines the shipping logger hands on: every application line, whatever it is annotated with;
 * only the library's own (`cwlogs.internal` = `true`) are left out. (The lines' JSON: LoggerRender.test.ts.)
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as CloudWatchLogs from "../src/CloudWatchLogs.js"

/** The messages of the lines `program` logs that the shipping logger's event logger hands on (it alone installed). */
const offered = <A, E>(program: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const messages: Array<unknown> = []
    const logger = CloudWatchLogs.makeEventLogger((event) => {
      const doc: unknown = JSON.parse(event.message)
      messages.push(doc !== null && typeof doc === "object" && "message" in doc ? doc.message : undefined)
    })
    yield* Effect.locally(program, FiberRef.currentLoggers, HashSet.make(logger))
    return messages
  })

describe("the shipping logger's lines", () => {
  it.effect("an application line annotated \"aws.sdk\" is handed on (the SDK's own logging never reaches Effect's loggers)", () =>
    Effect.gen(function*() {
      const messages = yield* offered(Effect.gen(function*() {
        // an application recording which SDK version served a request: before, this line was neither shipped nor counted
        yield* Effect.log("payment captured").pipe(Effect.annotateLogs("aws.sdk", "3.700.0"))
        yield* Effect.log("plain")
      }))
      expect(messages).toEqual(["payment captured", "plain"])
    }))

  it.effect("only cwlogs.internal = true marks the library's own line: any other value is an application's", () =>
    Effect.gen(function*() {
      const messages = yield* offered(Effect.gen(function*() {
        yield* Effect.log("own").pipe(Effect.annotateLogs(CloudWatchLogs.INTERNAL_ANNOTATION, true))
        // before, the annotation's presence was enough: `false` left the line out too
        yield* Effect.log("false").pipe(Effect.annotateLogs(CloudWatchLogs.INTERNAL_ANNOTATION, false))
        yield* Effect.log("string").pipe(Effect.annotateLogs(CloudWatchLogs.INTERNAL_ANNOTATION, "true"))
      }))
      expect(messages).toEqual(["false", "string"])
    }))
})
