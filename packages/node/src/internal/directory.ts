/**
 * Making a directory and its missing parents without Node's recursive `mkdir`, which never returns when a
 * parent exists but answers ENOENT for the child (a path under `/proc`): it takes the ENOENT for a
 * missing parent, makes the parent again (EEXIST) and retries, forever (Node 20.20 here; the sync form
 * spins at 100 % CPU). `cwlogs ship --spool /proc/x` hung that way.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as NodeFs from "node:fs"
import * as Path from "node:path"

/** The `code` of a Node system error (`ENOENT`, ...), if it has one. @internal */
export const codeOf = (error: unknown): unknown =>
  typeof error === "object" && error !== null && "code" in error ? error.code : undefined

const ensureSync = (directory: string): void => {
  // the missing levels, deepest first, found by walking up to one that exists
  const missing: Array<string> = []
  for (let at = directory;;) {
    try {
      NodeFs.statSync(at)
      break
    } catch (error) {
      const parent = Path.dirname(at)
      if (codeOf(error) !== "ENOENT" || parent === at) throw error
      missing.push(at)
      at = parent
    }
  }
  for (const level of missing.reverse()) {
    try {
      NodeFs.mkdirSync(level)
    } catch (error) {
      // made meanwhile by someone else: fine if it is a directory (checked below)
      if (codeOf(error) !== "EEXIST") throw error
    }
  }
  if (!NodeFs.statSync(directory).isDirectory()) {
    throw new Error(`ENOTDIR: not a directory, '${directory}'`)
  }
}

/**
 * Makes `directory` and its missing parents, one level at a time; fails with the error of the level that
 * could not be made (or if `directory` is not a directory).
 * @internal
 */
export const ensureDirectory = (directory: string): Effect.Effect<void, Error> =>
  Effect.try({
    try: () => ensureSync(Path.resolve(directory)),
    catch: (error) => error instanceof Error ? error : new Error(String(error))
  })
