import * as NodeContext from "@effect/platform-node/NodeContext"
import * as FileSystem from "@effect/platform/FileSystem"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as Fs from "node:fs"
import { followBytes } from "../src/internal/cli/input.js"
import { tempFile } from "./support/files.js"

describe("cwlogs input: follow, review 13", () => {
  it.scopedLive("follow: a rewrite just after the first read after a wait keeps what that read took of the old file", () =>
    Effect.gen(function*() {
      const file = yield* tempFile("2024-05-01 12:00:00 old line one\n2024-05-01 12:00:01 old line two\n")
      const three = "2024-05-01 12:00:02 old line three\n"
      const rewrite = "2024-05-01 13:30:00 new line AAAA\n".repeat(4)
      // The file system as it is, but armed, the next read of more than the start's 64 bytes (the read
      // after the start's check) is followed by a rewrite: truncated and written again past the old size.
      let armed = false
      const fs = yield* FileSystem.FileSystem
      const racing: FileSystem.FileSystem = {
        ...fs,
        open: (path, options) =>
          Effect.map(fs.open(path, options), (opened) => {
            const original = opened.readAlloc.bind(opened)
            const readAlloc: typeof opened.readAlloc = (size) =>
              Effect.tap(original(size), () =>
                Effect.sync(() => {
                  if (armed && Number(size) > 64) {
                    armed = false
                    Fs.writeFileSync(file, rewrite)
                  }
                }))
            return Object.defineProperty(opened, "readAlloc", { value: readAlloc })
          })
      }
      const chunks: Array<string> = []
      const stop = yield* Deferred.make<void>()
      const fiber = yield* followBytes(file, Deferred.isDone(stop), "20 millis").pipe(
        Stream.decodeText(),
        Stream.runForEach((text) => Effect.sync(() => chunks.push(text))),
        Effect.provideService(FileSystem.FileSystem, racing),
        Effect.fork
      )
      const until = (done: (t: string) => boolean) =>
        Effect.sync(() => chunks.join("")).pipe(
          Effect.repeat({ until: done, schedule: Schedule.spaced("20 millis") }),
          Effect.timeout("5 seconds"),
          Effect.ignore
        )
      yield* until((t) => t.endsWith("old line two\n"))
      yield* Effect.sleep("100 millis") // the reader is waiting for more
      // a line appended to the old file, read by the next read, and then the file rewritten
      yield* Effect.sync(() => {
        Fs.appendFileSync(file, three)
        armed = true
      })
      yield* until((t) => t.endsWith("AAAA\n") && !armed)
      yield* Effect.sleep("100 millis")
      yield* Deferred.succeed(stop, undefined)
      yield* Fiber.join(fiber)
      // before: the line read from the old file was dropped with the bytes of a read taken as the new file's
      expect(chunks.join("")).toBe(
        "2024-05-01 12:00:00 old line one\n2024-05-01 12:00:01 old line two\n" + three + rewrite
      )
    }).pipe(Effect.provide(NodeContext.layer)))
})
