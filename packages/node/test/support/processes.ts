/**
 * Child processes for tests: the `cwlogs` CLI and fixture programs, run through tsx.
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

export const ROOT = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../../../..")
// `node --import tsx` rather than the tsx binary: one process instead of two, signals go straight to it
const NODE_ARGS = ["--import", "tsx"]
export const CWLOGS = Path.join(ROOT, "packages/node/src/bin/cwlogs.ts")

export interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

export interface Running {
  readonly child: ChildProcess.ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Effect.Effect<Finished>
}

/** Environment for children: fake credentials, no instance metadata lookups, no shared AWS config. */
export const childEnv = (extra: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const key of Object.keys(env)) if (key.startsWith("AWS_")) delete env[key]
  return {
    ...env,
    AWS_ACCESS_KEY_ID: "AKIDCLITEST",
    AWS_SECRET_ACCESS_KEY: "cli-test-secret",
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: "/nonexistent/aws-config",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
    NO_COLOR: "1",
    ...extra
  }
}

/** Starts `node --import tsx script args` (killed with the scope if still running). */
export const start = (
  script: string,
  args: ReadonlyArray<string>,
  options: { readonly env?: NodeJS.ProcessEnv; readonly stdin?: string | undefined } = {}
): Effect.Effect<Running, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = ChildProcess.spawn(process.execPath, [...NODE_ARGS, script, ...args], {
        cwd: ROOT,
        env: options.env ?? childEnv(),
        stdio: ["pipe", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s))
      child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s))
      child.stdin.on("error", () => {})
      if (options.stdin !== undefined) child.stdin.end(options.stdin)
      const exited = Effect.async<Finished>((resume) => {
        const done = () => resume(Effect.succeed({ code: child.exitCode, signal: child.signalCode, stdout, stderr }))
        if (child.exitCode !== null || child.signalCode !== null) done()
        else child.once("close", done)
      })
      return { child, stdout: () => stdout, stderr: () => stderr, exited }
    }),
    ({ child }) =>
      Effect.sync(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
      })
  )

/** Runs the CLI to its end. */
export const cwlogs = (
  args: ReadonlyArray<string>,
  options: { readonly env?: NodeJS.ProcessEnv; readonly stdin?: string | undefined } = {}
): Effect.Effect<Finished, never, Scope.Scope> =>
  Effect.flatMap(
    start(CWLOGS, args, { stdin: options.stdin ?? "", ...(options.env ? { env: options.env } : {}) }),
    (r) => r.exited
  )

/** Waits until the predicate holds (real time, polling), up to 30 s. */
export const eventually = <A, R>(
  read: Effect.Effect<A, never, R>,
  until: (a: A) => boolean
): Effect.Effect<A, never, R> =>
  read.pipe(
    Effect.filterOrFail(until, () => "not yet"),
    Effect.retry(Schedule.spaced("50 millis")),
    Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => "condition not reached in 30 s" }),
    Effect.orDie
  )
