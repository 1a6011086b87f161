/**
 * What `import "@cwlogs/node"` loads: the adapter, never the token store (`@effect/platform`'s
 * `KeyValueStore`, which brings `Schema`: ~5 MB of heap) nor the CLI (`@effect/cli`, the demo, the
 * emulator: ~9 MB of heap, ~45 MiB of resident memory at start) nor the spool (`@effect/platform-node`'s
 * file system); they are `@cwlogs/node/FileSequenceTokenStore`, `@cwlogs/node/Cli` and
 * `@cwlogs/node/DurableSpool`.
 */
import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../src")

/**
 * The specifiers a module loads when it runs: static imports and re-exports (not `import type`, which
 * TypeScript erases), and dynamic `import(...)`.
 */
const runtimeImports = (source: string): ReadonlyArray<string> => {
  const found: Array<string> = []
  const statement = /^\s*(import|export)\s+(type\s+)?[^;]*?\s+from\s+"([^"]+)"/gm
  for (const match of source.matchAll(statement)) {
    if (match[2] === undefined) found.push(match[3])
  }
  for (const match of source.matchAll(/\bimport\(\s*"([^"]+)"\s*\)/g)) found.push(match[1])
  return found
}

/** The package's own files reached from `entry`, and the packages they import. */
const closure = (entry: string): { readonly files: ReadonlySet<string>; readonly packages: ReadonlySet<string> } => {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string): void => {
    if (files.has(file)) return
    files.add(file)
    for (const specifier of runtimeImports(readFileSync(file, "utf8"))) {
      if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")))
      else packages.add(specifier)
    }
  }
  visit(join(SRC, entry))
  return { files: new Set([...files].map((f) => relative(SRC, f))), packages }
}

describe("@cwlogs/node's module graph", () => {
  it("the finder sees static, re-exported and dynamic imports and skips type-only ones", () => {
    expect(runtimeImports([
      `import * as A from "a"`,
      `import type * as B from "b"`,
      `import { type C, d } from "c"`,
      `export * as E from "./e.js"`,
      `const f = await import("f")`
    ].join("\n"))).toEqual(["a", "c", "./e.js", "f"])
  })

  it("the index loads the adapter, not the token store nor the CLI", () => {
    const { files, packages } = closure("index.ts")
    expect(files).toContain("NodeCloudWatchLogs.ts")
    expect(packages).toContain("@aws-sdk/client-cloudwatch-logs")
    for (const file of files) {
      expect(file).not.toMatch(
        /^(Cli|Demo|DurableSpool|FileSequenceTokenStore)\.ts$|^internal\/(cli|demo|fileSequence|spool)|^bin\//
      )
    }
    for (const name of packages) expect(name).not.toMatch(/^@effect\/(cli|platform)|^@cwlogs\/testkit/)
  })

  it("@cwlogs/node/FileSequenceTokenStore is the store, on @effect/platform", () => {
    const { packages } = closure("FileSequenceTokenStore.ts")
    expect([...packages].some((name) => name.startsWith("@effect/platform"))).toBe(true)
  })

  it("@cwlogs/node/DurableSpool is the spool, on @effect/platform-node's file system", () => {
    const { files, packages } = closure("DurableSpool.ts")
    expect(files).toContain("internal/spoolFormat.ts")
    expect([...packages].some((name) => name.startsWith("@effect/platform-node/"))).toBe(true)
  })

  it("@cwlogs/node/Cli is the CLI", () => {
    const { packages } = closure("Cli.ts")
    expect([...packages].some((name) => name.startsWith("@effect/cli"))).toBe(true)
  })
})
