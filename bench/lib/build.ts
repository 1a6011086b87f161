/**
 * The children run compiled JavaScript, as an application in production does: `tsc` builds the
 * packages (`packages/*\/dist`, the files their published `exports` point to) and the bench itself
 * (`bench/dist`), and each child is plain `node --conditions=cwlogs-dist bench/dist/child.js`.
 *
 * Not `tsx`: its loader runs in a thread of its own that grows with every module it serves, and it turns
 * source maps on, so Node reads and keeps the `.map` file of every module that names one. Both are
 * measured as the contender's memory, and both grow with the number of modules a library loads, not
 * with what it does (the memory workload measured cwlogs' sink at 312–340 MiB under `tsx`, 251–287
 * compiled; see `docs/benchmarks.md`).
 *
 * @since 0.1.0
 */
import { spawnSync } from "node:child_process"
import { createRequire } from "node:module"

/** The packages the children import, then the bench; each `tsconfig.build.json` writes its `dist`. */
const PROJECTS = [
  "packages/core/tsconfig.build.json",
  "packages/testkit/tsconfig.build.json",
  "packages/node/tsconfig.build.json",
  "bench/tsconfig.build.json"
]

/**
 * How a child is started (after `node`'s own flags): the export condition that resolves `@cwlogs/*` to
 * their `dist`, then the compiled entry.
 *
 * @since 0.1.0
 * @category children
 */
export const CHILD_ARGS: ReadonlyArray<string> = ["--conditions=cwlogs-dist", "bench/dist/child.js"]

/**
 * Compile every project the children load (incrementally: a second run with nothing changed takes a
 * second or two). Throws, with tsc's output already on stderr, when a project does not compile.
 *
 * @since 0.1.0
 * @category children
 */
export const compile = (): void => {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
  for (const project of PROJECTS) {
    const result = spawnSync(process.execPath, [tsc, "-p", project, "--incremental"], {
      stdio: ["ignore", "inherit", "inherit"]
    })
    if (result.status !== 0) {
      throw new Error(`bench: tsc -p ${project} failed (exit ${result.status ?? result.signal ?? "?"})`)
    }
  }
}
