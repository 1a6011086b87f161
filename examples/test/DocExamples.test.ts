/**
 * Every TypeScript example a user reads (the README, docs/*.md, the doc comments of the public modules)
 * compiles against the sources, with the project's strict settings (see `support/docExamples.ts`).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { check } from "./support/docExamples.js"

const ROOT = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")

/** Inside `examples/`, so that the packages resolve as they do for the examples. */
const scratch = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(ROOT, "examples", ".doc-examples-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

describe("the documented examples", () => {
  it.scoped("compile, every one of them", () =>
    Effect.gen(function*() {
      const checked = check(ROOT, yield* scratch)
      expect(checked.errors).toEqual([])
      expect(checked.examples).toBeGreaterThanOrEqual(16)
    }), { timeout: 120_000 })

  it.scoped("a broken example is reported at its line", () =>
    Effect.gen(function*() {
      const root = yield* scratch
      // the repository's packages, beside a README whose example passes an option that does not exist
      Fs.mkdirSync(Path.join(root, "docs"))
      Fs.mkdirSync(Path.join(root, "packages"))
      Fs.mkdirSync(Path.join(root, "examples"))
      Fs.symlinkSync(Path.join(ROOT, "examples", "node_modules"), Path.join(root, "examples", "node_modules"))
      for (const pkg of ["core", "node", "testkit"]) {
        Fs.mkdirSync(Path.join(root, "packages", pkg))
        Fs.copyFileSync(
          Path.join(ROOT, "packages", pkg, "package.json"),
          Path.join(root, "packages", pkg, "package.json")
        )
        Fs.symlinkSync(Path.join(ROOT, "packages", pkg, "src"), Path.join(root, "packages", pkg, "src"))
      }
      Fs.copyFileSync(Path.join(ROOT, "tsconfig.base.json"), Path.join(root, "tsconfig.base.json"))
      Fs.writeFileSync(
        Path.join(root, "README.md"),
        [
          "# x",
          "",
          "```ts",
          "const L = CloudWatchLogs.layerLogger({ logGroupName: \"g\", logStreamName: \"s\", lingerSeconds: 1 })",
          "```",
          ""
        ].join("\n")
      )
      const out = Path.join(root, "examples", "out")
      Fs.mkdirSync(out)
      const checked = check(root, out)
      expect(checked.errors.filter((e) => !e.includes("stale EXTRA"))).toEqual([
        expect.stringMatching(/^README\.md:4:\d+ {2}TS2353: .*lingerSeconds/)
      ])
    }), { timeout: 120_000 })
})
