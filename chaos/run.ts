/**
 * `pnpm chaos`: the reliability suite. Real producer processes ship events through the library to a
 * `cwlogs-emulator` that injects faults; everything is read back and counted. Prints the table and, last,
 * `N passed, N failed`; the exit code is non-zero when a scenario failed (any loss is a failure).
 *
 * Options: `--quick` (under three minutes), `--only <text>` (scenarios whose name contains it),
 * `--seed <n>` (the emulator's fault generator), `--faults <list>` (the emulator's `--faults` for the
 * shared-stream and many-stream scenarios), `--markdown` (the table again, as Markdown).
 */
// The AWS SDK warns once per process about Node versions: noise in the table (the producers inherit this).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"

import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Config from "./internal/config.js"
import * as Scenarios from "./internal/scenarios.js"
import * as Table from "./internal/table.js"

const argv = process.argv.slice(2)
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : undefined
}
const quick = argv.includes("--quick")
const only = flag("--only")
const seed = Number(flag("--seed") ?? "7")
const sizes = quick ? Config.quick : Config.full
const faults = flag("--faults") ?? Config.FAULTS

const scenarios = [
  { name: "shared-enforced", run: Scenarios.sharedStream(sizes, "enforced", seed, faults) },
  { name: "shared-ignored", run: Scenarios.sharedStream(sizes, "ignored", seed + 1, faults) },
  { name: "many-streams", run: Scenarios.manyStreams(sizes, seed + 2, faults) },
  { name: "sigterm", run: Scenarios.sigterm(sizes, seed + 3) },
  { name: "sigkill", run: Scenarios.sigkill(sizes, seed + 5) },
  { name: "outage", run: Scenarios.outage(sizes, seed + 4) }
].filter((s) => only === undefined || s.name.includes(only))

const known = new Set(["--quick", "--markdown", "--only", "--seed", "--faults"])
const unknown = argv.filter((a, i) =>
  a.startsWith("--") && !known.has(a) && !["--only", "--seed", "--faults"].includes(argv[i - 1] ?? "")
)
if (unknown.length > 0 || !Number.isInteger(seed) || seed < 0) {
  process.stderr.write(
    `usage: pnpm chaos [--quick] [--only TEXT] [--seed N] [--faults LIST] [--markdown]` +
      (unknown.length > 0 ? ` (unknown: ${unknown.join(" ")})` : ` (--seed must be a non-negative integer)`) + "\n"
  )
  process.exit(2)
}

const main = Effect.gen(function*() {
  yield* Console.log(`cwlogs chaos suite (${quick ? "quick" : "full"}, seed ${seed}): ${scenarios.length} scenarios`)
  const rows = yield* Effect.forEach(scenarios, (s) => s.run)
  if (argv.includes("--markdown")) {
    yield* Console.log("")
    yield* Console.log(Table.markdown(rows))
  }
  // the text table ends with the `N passed, N failed` line, which stays the last line printed
  yield* Console.log("")
  yield* Console.log(Table.render(rows))
  if (rows.some((r) => !r.passed) || rows.length === 0) {
    yield* Effect.sync(() => {
      process.exitCode = 1
    })
  }
})

NodeRuntime.runMain(main.pipe(Effect.provide(NodeContext.layer)), { disableErrorReporting: false })
