/**
 * The packages as a user gets them from the registry: `pnpm pack` of `@cwlogs/core`, `@cwlogs/testkit`
 * and `@cwlogs/node` (their `publishConfig` applied: `exports` and `bin` on the compiled `dist`,
 * `workspace:*` replaced by versions), installed with npm into a project of its own next to the versions
 * of Effect and the AWS SDK an application already has. Then, in that project and nowhere else:
 *
 * - the examples compile with a user's strict settings (`strict`, `exactOptionalPropertyTypes`, library
 *   declarations checked too) against the published declarations, and run under plain `node`;
 * - a program ships through the sink and the logger to the packaged emulator, and reads every event back;
 * - both commands (`cwlogs`, `cwlogs-emulator`) start;
 * - the packages Effect keys its services by (`effect`, `@effect/platform`), the SDK client and its
 *   `@aws-sdk/core` are there once: cwlogs shares the application's copies instead of bringing its own
 *   (with exact versions in its dependencies it brought a second client, and ten copies of the core).
 *
 * It needs the npm registry (as the first install of the repository does). About a minute.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const ROOT = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")
const PACKAGES = ["core", "testkit", "node"] as const
const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc")

/**
 * What the application itself depends on: this repository's Effect, and a newer SDK client than the one
 * it is built with (3.1169.0), as an application that keeps its SDK up to date has.
 */
const APP_SDK_CLIENT = "3.1178.0"
const APP_DEPENDENCIES = {
  "effect": "3.22.4",
  "@effect/platform-node": "0.108.2",
  "@aws-sdk/client-cloudwatch-logs": APP_SDK_CLIENT,
  "@types/node": "^20.19.0"
}

/**
 * The registry as it stood on this day: npm resolves the packages' ranges (theirs, and the SDK's own for
 * its dependencies) with the versions published by then, so that this test installs the same tree every
 * day. Without it, a release of the SDK's dependencies that drops Node 20 (announced for January 2027)
 * would turn CI red with no change here. Move it forward, with `APP_SDK_CLIENT`, to test newer releases.
 */
const REGISTRY_AS_OF = "2026-12-07T00:00:00Z"

interface Finished {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** The environment without what pnpm or npm put there for this run (it would steer the child's npm). */
const cleanEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.toLowerCase().startsWith("npm_") && !key.startsWith("AWS_")) env[key] = value
  }
  return { ...env, NO_COLOR: "1", AWS_EC2_METADATA_DISABLED: "true" }
}

/** Runs a command to its end (killed with the scope if still running). */
const run = (
  command: string,
  args: ReadonlyArray<string>,
  cwd: string
): Effect.Effect<Finished, never, Scope.Scope> =>
  Effect.flatMap(
    Effect.acquireRelease(
      Effect.sync(() => ChildProcess.spawn(command, args, { cwd, env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] })),
      (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
    ),
    (child) =>
      Effect.async<Finished>((resume) => {
        let stdout = ""
        let stderr = ""
        child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s))
        child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s))
        child.once("error", (e) => resume(Effect.succeed({ code: -1, stdout, stderr: `${stderr}${String(e)}` })))
        child.once("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
      })
  )

/** Runs a command that must succeed; its output is in the failure when it does not. */
const succeed = (command: string, args: ReadonlyArray<string>, cwd: string) =>
  Effect.tap(run(command, args, cwd), (r) =>
    Effect.sync(() => {
      if (r.code !== 0) {
        throw new Error(`${command} ${args.join(" ")} (in ${cwd}) exited ${r.code}\n${r.stdout}\n${r.stderr}`)
      }
    }))

const pnpm = (args: ReadonlyArray<string>, cwd: string) => succeed("npx", ["-y", "pnpm@10", ...args], cwd)

const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), prefix))),
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
  )

/** A user's program: a stream through the sink, a line through the logger, everything read back. */
const CHECK_PROGRAM = `
import { CloudWatchLogs, CloudWatchLogsApi } from "@cwlogs/core"
import { NodeCloudWatchLogs } from "@cwlogs/node"
import { Emulator } from "@cwlogs/testkit"
import { Effect, Layer, Redacted, Stream } from "effect"

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.make()
  const api = NodeCloudWatchLogs.layer({
    endpoint: emulator.url,
    region: "us-east-1",
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: Redacted.make("example-secret") }
  })
  const report = yield* Stream.range(1, 5000).pipe(
    Stream.map((i) => ({ timestamp: Date.now(), message: \`event \${i}\` })),
    Stream.run(CloudWatchLogs.sink({ logGroupName: "published", logStreamName: "sink" })),
    Effect.provide(api)
  )
  yield* Effect.logInfo("from the logger").pipe(
    Effect.provide(
      CloudWatchLogs.layerLogger({ logGroupName: "published", logStreamName: "logger", replace: true }).pipe(
        Layer.provide(api)
      )
    )
  )
  const sink = yield* emulator.model.events("published", "sink")
  const logger = yield* emulator.model.events("published", "logger")
  console.log(JSON.stringify({
    accepted: report.accepted,
    stored: new Set(sink.map((e) => e.message)).size,
    logger: logger.map((e) => JSON.parse(e.message).message)
  }))
})
Effect.runPromise(Effect.scoped(program)).catch((e) => {
  console.error(e)
  process.exit(1)
})
void CloudWatchLogsApi
`

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: false,
    types: ["node"],
    outDir: "out",
    rootDir: "src"
  },
  include: ["src"]
}

/** Every copy of `name` in the installed tree (its versions, one per copy). */
const copiesOf = (project: string, name: string): ReadonlyArray<string> => {
  const found: Array<string> = []
  const visit = (dir: string): void => {
    const modules = Path.join(dir, "node_modules")
    if (!Fs.existsSync(modules)) return
    for (const entry of Fs.readdirSync(modules)) {
      const scoped = entry.startsWith("@")
        ? Fs.readdirSync(Path.join(modules, entry)).map((s) => `${entry}/${s}`)
        : [entry]
      for (const pkg of scoped) {
        const at = Path.join(modules, pkg)
        const manifest = Path.join(at, "package.json")
        if (pkg === name && Fs.existsSync(manifest)) {
          const json: unknown = JSON.parse(Fs.readFileSync(manifest, "utf8"))
          found.push(typeof json === "object" && json !== null && "version" in json ? String(json.version) : "?")
        }
        visit(at)
      }
    }
  }
  visit(project)
  return found
}

describe("the packages as published", () => {
  it.scopedLive(
    "install from their tarballs, compile strictly, run the examples and ship",
    () =>
      Effect.gen(function*() {
        // 1. Compiled and packed as `pnpm publish` would.
        for (const pkg of PACKAGES) {
          yield* succeed(process.execPath, [TSC, "-p", `packages/${pkg}/tsconfig.build.json`, "--incremental"], ROOT)
        }
        const packs = yield* tempDir("cwlogs-packs-")
        for (const pkg of PACKAGES) yield* pnpm(["pack", "--pack-destination", packs], Path.join(ROOT, "packages", pkg))
        const tarballs = Fs.readdirSync(packs).filter((f) => f.endsWith(".tgz")).sort()
        expect(tarballs).toEqual(["cwlogs-core-0.1.0.tgz", "cwlogs-node-0.1.0.tgz", "cwlogs-testkit-0.1.0.tgz"])

        // 2. A project of its own, with the application's own Effect and SDK, and the three tarballs.
        const project = yield* tempDir("cwlogs-consumer-")
        const dependencies: Record<string, string> = { ...APP_DEPENDENCIES }
        for (const t of tarballs) {
          dependencies[t.replace(/^cwlogs-(\w+)-.*$/, "@cwlogs/$1")] = `file:${Path.join(packs, t)}`
        }
        Fs.writeFileSync(
          Path.join(project, "package.json"),
          JSON.stringify({ name: "consumer", private: true, type: "module", dependencies }, null, 2)
        )
        yield* succeed(
          "npm",
          ["install", `--before=${REGISTRY_AS_OF}`, "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
          project
        )

        // The application's copies are the ones cwlogs uses: one of each.
        expect(copiesOf(project, "effect")).toEqual(["3.22.4"])
        expect(copiesOf(project, "@effect/platform")).toHaveLength(1)
        expect(copiesOf(project, "@aws-sdk/client-cloudwatch-logs")).toEqual([APP_SDK_CLIENT])
        expect(copiesOf(project, "@aws-sdk/core")).toHaveLength(1)
        // What a published package would never ship: sources compiled in, tests, the build's own state.
        const nodeFiles = Fs.readdirSync(Path.join(project, "node_modules/@cwlogs/node/dist"), { recursive: true })
        expect(nodeFiles.map(String).filter((f) => /test|tsbuildinfo/.test(f))).toEqual([])

        // 3. The examples and the check program, compiled against the published declarations only.
        const src = Path.join(project, "src")
        Fs.mkdirSync(Path.join(src, "support"), { recursive: true })
        const examples = Fs.readdirSync(Path.join(ROOT, "examples")).filter((f) => f.endsWith(".ts")).sort()
        expect(examples.length).toBeGreaterThanOrEqual(8)
        for (const f of examples) Fs.copyFileSync(Path.join(ROOT, "examples", f), Path.join(src, f))
        for (const f of Fs.readdirSync(Path.join(ROOT, "examples/support"))) {
          Fs.copyFileSync(Path.join(ROOT, "examples/support", f), Path.join(src, "support", f))
        }
        Fs.writeFileSync(Path.join(src, "check.ts"), CHECK_PROGRAM)
        Fs.writeFileSync(Path.join(project, "tsconfig.json"), JSON.stringify(CONSUMER_TSCONFIG, null, 2))
        yield* succeed(process.execPath, [TSC, "-p", "tsconfig.json"], project)

        // 4. Run under plain node, from the installed packages.
        const check = yield* succeed(process.execPath, ["out/check.js"], project)
        expect(JSON.parse(check.stdout.trim().split("\n").at(-1) ?? "{}")).toEqual({
          accepted: 5000,
          stored: 5000,
          logger: ["from the logger"]
        })
        for (const f of examples) {
          const r = yield* succeed(process.execPath, [`out/${f.replace(/\.ts$/, ".js")}`], project)
          expect(r.stdout.length, f).toBeGreaterThan(0)
        }
        const help = yield* succeed(Path.join(project, "node_modules/.bin/cwlogs"), ["--help"], project)
        expect(help.stdout).toContain("ship")
        const emulatorHelp = yield* succeed(
          Path.join(project, "node_modules/.bin/cwlogs-emulator"),
          ["--help"],
          project
        )
        expect(emulatorHelp.stdout).toContain("Usage: cwlogs-emulator")
      }),
    { timeout: 300_000 }
  )
})
