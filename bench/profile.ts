/**
 * `npx tsx bench/profile.ts WORKLOAD CONTENDER [--quick] [--out FILE]`
 *
 * Runs one contender on one workload exactly as `pnpm bench` does (its own emulator, its own child
 * process), with V8's CPU profiler on for the measured part only, writes the profile (default
 * `bench-<workload>-<contender>.cpuprofile` in the current directory; open it in Chrome DevTools or
 * speedscope) and prints the row and where the CPU went: self time by package or file, and the
 * heaviest functions.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { compile } from "./lib/build.js"
import { startEmulator } from "./lib/emulator.js"
import { plans } from "./lib/plans.js"
import * as Processes from "./lib/processes.js"
import { printTable } from "./lib/report.js"
import { runOne } from "./lib/runner.js"
import { Contender, Workload } from "./lib/spec.js"

const CallFrame = Schema.Struct({ functionName: Schema.String, url: Schema.String, lineNumber: Schema.Number })
const Profile = Schema.Struct({
  nodes: Schema.Array(Schema.Struct({ id: Schema.Number, callFrame: CallFrame })),
  samples: Schema.Array(Schema.Number),
  timeDeltas: Schema.Array(Schema.Number)
})

const where = (url: string): string => {
  const pnpm = url.lastIndexOf("/node_modules/")
  if (pnpm >= 0) {
    const rest = url.slice(pnpm + "/node_modules/".length).split("/")
    return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  if (url === "") return "(native, gc, idle)"
  return url.replace(/^file:\/\//, "").replace(`${process.cwd()}/`, "")
}

const summarize = (file: string): void => {
  const profile = Schema.decodeUnknownSync(Schema.parseJson(Profile))(readFileSync(file, "utf8"))
  const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]))
  const byPlace = new Map<string, number>()
  const byFunction = new Map<string, number>()
  let total = 0
  profile.samples.forEach((id, i) => {
    const frame = frames.get(id)
    const micros = profile.timeDeltas[i] ?? 0
    if (frame === undefined) return
    total += micros
    const place = where(frame.url)
    byPlace.set(place, (byPlace.get(place) ?? 0) + micros)
    const fn = `${frame.functionName === "" ? "(anonymous)" : frame.functionName}  ${place}:${frame.lineNumber + 1}`
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros)
  })
  const top = (m: Map<string, number>, n: number) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) =>
      `  ${(v / 1000).toFixed(0).padStart(7)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`
    ).join("\n")
  process.stdout.write(`\nprofile ${file}: ${(total / 1000).toFixed(0)} ms sampled\n`)
  process.stdout.write(
    `self time by place:\n${top(byPlace, 15)}\nheaviest functions (self time):\n${top(byFunction, 25)}\n`
  )
}

const main = async (): Promise<void> => {
  Processes.installExitHandlers()
  compile()
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true"
  const argv = process.argv.slice(2)
  const workload = Schema.decodeUnknownSync(Workload)(argv[0])
  const contender = Schema.decodeUnknownSync(Contender)(argv[1])
  const outIndex = argv.indexOf("--out")
  const out = resolve(outIndex >= 0 ? argv[outIndex + 1] : `bench-${workload}-${contender}.cpuprofile`)
  const plan = plans(argv.includes("--quick")).find((p) => p.workload === workload)
  if (plan === undefined) throw new Error(`no workload ${workload}`)
  const emulator = await startEmulator({
    discard: plan.discard,
    putLatencyMillis: plan.putLatencyMillis,
    backend: "auto"
  })
  try {
    const row = await runOne(plan, contender, emulator, Date.now().toString(36), plan.deadlineMillis, {
      BENCH_CPU_PROFILE: out
    })
    printTable([row], 0)
    summarize(out)
  } finally {
    await emulator.stop()
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`profile failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
    Processes.killAll()
    process.exit(1)
  }
)
