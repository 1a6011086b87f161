/**
 * The durable spool's lock: one process per directory, a file naming its pid, made whole and taken over
 * from a process that is gone by one process at a time.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as NodeFs from "node:fs"
import * as Path from "node:path"
import { codeOf } from "./directory.js"

/** @internal */
export const LOCK_FILE = "cwlogs-spool.lock"

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else
    return codeOf(error) === "EPERM"
  }
}

/** A takeover marker older than this was left by a process that died taking a lock over. */
const STALE_TAKEOVER_MILLIS = 10_000

/** Directories whose lock this process holds (a pid alone cannot tell: a container's process is often pid 1 every run). */
const heldHere = new Set<string>()

/**
 * Creates the lock file whole: its pid is written to a file of this process's own, which is then linked
 * to the lock's name (a link fails if the name is taken), so another process never reads a lock file
 * still empty (and takes it for one left by a process that is gone). Where hard links are not supported,
 * an exclusive create and a write.
 */
const createLock = (path: string): void => {
  const content = `${process.pid}\n`
  const own = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`
  try {
    NodeFs.writeFileSync(own, content, { flag: "wx" })
    try {
      NodeFs.linkSync(own, path)
      return
    } finally {
      NodeFs.rmSync(own, { force: true })
    }
  } catch (error) {
    const code = codeOf(error)
    if (code === "EEXIST" || (code !== "EPERM" && code !== "ENOTSUP" && code !== "EXDEV")) throw error
  }
  NodeFs.writeFileSync(path, content, { flag: "wx" })
}

/**
 * Takes the directory's lock file for the scope.
 * @internal A lock file naming a process that is gone (or this
 * process, when this process does not hold it: a restarted container has the same pid) is taken over.
 * The directory is known by its real path: through a symbolic link it is the same directory.
 */
export const lock = <E>(
  directory: string,
  errors: {
    /** The lock is held by this process (its pid, or a description). */
    readonly held: (holder: string, path: string) => E
    /** The file system refused `what`. */
    readonly failed: (what: string) => (cause: unknown) => E
  }
): Effect.Effect<void, E, Scope.Scope> => {
  const path = Path.join(directory, LOCK_FILE)
  const held = (holder: string) => errors.held(holder, path)
  const take = Effect.try({ try: () => createLock(path), catch: (error) => error })
  const takeOver = Effect.flatMap(
    Effect.sync(() => {
      try {
        return NodeFs.readFileSync(path, "utf8")
      } catch (error) {
        // released meanwhile: taken again, not removed (it may be another process's new lock by then)
        return codeOf(error) === "ENOENT" ? undefined : ""
      }
    }),
    (text) => {
      if (text === undefined) {
        return Effect.try({
          try: () => createLock(path),
          catch: (error) =>
            codeOf(error) === "EEXIST"
              ? held("another (it took the lock first)")
              : errors.failed(`creating ${path}`)(error)
        })
      }
      const pid = Number(text.trim())
      const alive = Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)
      if (alive) return Effect.fail(held(String(pid)))
      // One process at a time takes a stale lock over (a marker beside it, made as the lock is): two that
      // found it stale together would each remove it and make their own, the second over the first's.
      const marker = `${path}.takeover`
      return Effect.try({
        try: (): "taken" | "raced" => {
          try {
            createLock(marker)
          } catch (error) {
            if (codeOf(error) !== "EEXIST") throw error
            // a marker older than a takeover takes is one a crash left: removed, and the other goes on
            if (Date.now() - NodeFs.statSync(marker).mtimeMs > STALE_TAKEOVER_MILLIS) {
              NodeFs.rmSync(marker, { force: true })
            }
            return "raced"
          }
          try {
            // still the stale lock read above, or another process's by now
            let now: string | undefined
            try {
              now = NodeFs.readFileSync(path, "utf8")
            } catch (error) {
              if (codeOf(error) !== "ENOENT") throw error
            }
            if (now !== undefined && now !== text) return "raced"
            NodeFs.rmSync(path, { force: true })
            createLock(path)
            return "taken"
          } finally {
            NodeFs.rmSync(marker, { force: true })
          }
        },
        catch: (error) =>
          codeOf(error) === "EEXIST"
            ? held("another (it took the lock first)")
            : errors.failed(`taking over ${path}`)(error)
      }).pipe(
        Effect.flatMap((outcome) =>
          outcome === "taken" ? Effect.void : Effect.fail(held("another (it is taking the lock over)"))
        )
      )
    }
  )
  let key = directory
  return Effect.acquireRelease(
    Effect.suspend(() => {
      try {
        key = NodeFs.realpathSync(directory)
      } catch {
        // the directory was made just before: its path is its real path
      }
      if (heldHere.has(key)) return Effect.fail(held(`${process.pid} (this one)`))
      // only a lock file that is there already may be taken over: any other failure (a directory it may
      // not write in) is said as it is
      return Effect.catchAll(
        take,
        (error) => codeOf(error) === "EEXIST" ? takeOver : Effect.fail(errors.failed(`creating ${path}`)(error))
      ).pipe(Effect.tap(() => heldHere.add(key)))
    }),
    () =>
      Effect.sync(() => {
        // only this process's own lock: one taken over meanwhile (this one thought gone) is left alone
        try {
          if (NodeFs.readFileSync(path, "utf8").trim() === String(process.pid)) NodeFs.rmSync(path, { force: true })
        } catch {
          // gone already
        }
      }).pipe(Effect.ensuring(Effect.sync(() => heldHere.delete(key))))
  )
}
