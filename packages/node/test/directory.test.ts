import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { ensureDirectory } from "../src/internal/directory.js"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-dir-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/** The error's code, after at most a few seconds: Node's recursive mkdir would never come back here. */
const failureCode = (directory: string) =>
  Effect.map(
    Effect.either(ensureDirectory(directory)),
    (result) => Either.isRight(result) ? "made" : "code" in result.left ? String(result.left.code) : result.left.message
  )

describe("ensureDirectory", () => {
  it.scoped("makes the missing levels, and is content with a directory that exists", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const deep = Path.join(dir, "a", "b", "c")
      yield* ensureDirectory(deep)
      expect(Fs.statSync(deep).isDirectory()).toBe(true)
      yield* ensureDirectory(deep)
      yield* ensureDirectory(Path.relative(process.cwd(), deep))
    }))

  it.scoped("a dangling symbolic link fails", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      Fs.symlinkSync(Path.join(dir, "gone"), Path.join(dir, "link"))
      expect(yield* failureCode(Path.join(dir, "link"))).toBe("ENOENT")
      expect(yield* failureCode(Path.join(dir, "link", "spool"))).toBe("ENOENT")
    }))

  it.scoped("a file in the way fails", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      Fs.writeFileSync(Path.join(dir, "file"), "")
      expect(yield* failureCode(Path.join(dir, "file"))).toContain("ENOTDIR")
      expect(yield* failureCode(Path.join(dir, "file", "spool"))).toBe("ENOTDIR")
    }))

  it.runIf(process.platform === "linux")(
    "a path under /proc fails with ENOENT (Node's recursive mkdir spins forever)",
    () =>
      Effect.runPromise(Effect.gen(function*() {
        expect(yield* failureCode("/proc/cwlogs-nope/spool")).toBe("ENOENT")
      }))
  )
})
