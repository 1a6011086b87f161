#!/usr/bin/env node
/**
 * `pnpm demo [--events N] [--producers N] [--message-bytes N] [--endpoint URL] [--region R]
 * [--sequence-tokens enforced|ignored] [--no-faults] [--seed N] [--group G] [--stream S] [--progress live|lines|off]`
 *
 * Exit status 0 only when every event sent was stored.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { parseArgs } from "node:util"
import * as Demo from "../Demo.js"

// the SDK warns about Node versions it will stop supporting next year: not the demo's concern
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true"

const USAGE = `usage: pnpm demo [options]

Ships events from several producers into one shared CloudWatch Logs stream, with the program's own logs
going through the CloudWatch logger, then reads everything back and proves nothing was lost or duplicated.
With no --endpoint and no --region it runs against an embedded cwlogs-emulator (tokens enforced, faults on).

  --events N                 events in total (default ${Demo.DEFAULT_EVENTS})
  --producers N              producers sharing the stream (default ${Demo.DEFAULT_PRODUCERS})
  --message-bytes N          size of each message (default 200)
  --endpoint URL             a CloudWatch Logs endpoint instead of the embedded emulator
  --region R                 an AWS region instead of the embedded emulator (AWS credentials as usual)
  --sequence-tokens MODE     embedded emulator: enforced (default) or ignored
  --independent              each producer with its own uploader and token store, like separate processes
  --no-faults                embedded emulator: no injected faults
  --seed N                   embedded emulator: the seed of its faults (default 7)
  --group G                  log group (default cwlogs-demo)
  --stream S                 shared stream (default shared-<epoch ms>); app logs go to S-app
  --progress live|lines|off  progress display (default: live on a terminal, else a line a second)
  --help                     this text
`

const fail = (message: string): never => {
  process.stderr.write(`${message}\n\n${USAGE}`)
  process.exit(2)
}

const integer = (name: string, value: string | undefined, min: number): number | undefined => {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) return fail(`--${name} must be an integer >= ${min}, got "${value}"`)
  return n
}

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        events: { type: "string" },
        producers: { type: "string" },
        "message-bytes": { type: "string" },
        endpoint: { type: "string" },
        region: { type: "string" },
        "sequence-tokens": { type: "string" },
        "no-faults": { type: "boolean" },
        independent: { type: "boolean" },
        seed: { type: "string" },
        group: { type: "string" },
        stream: { type: "string" },
        progress: { type: "string" },
        help: { type: "boolean" }
      },
      strict: true,
      allowPositionals: false
    }).values
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e))
  }
})()

if (parsed.help === true) {
  process.stdout.write(USAGE)
  process.exit(0)
}

const tokens = parsed["sequence-tokens"]
if (tokens !== undefined && tokens !== "enforced" && tokens !== "ignored") {
  fail(`--sequence-tokens must be enforced or ignored, got "${tokens}"`)
}
const progress = parsed.progress
if (progress !== undefined && progress !== "live" && progress !== "lines" && progress !== "off") {
  fail(`--progress must be live, lines or off, got "${progress}"`)
}

const options: Demo.Options = {
  events: integer("events", parsed.events, 0),
  producers: integer("producers", parsed.producers, 1),
  messageBytes: integer("message-bytes", parsed["message-bytes"], 1),
  endpoint: parsed.endpoint,
  region: parsed.region,
  sequenceTokens: tokens === "ignored" ? "ignored" : "enforced",
  faults: parsed["no-faults"] !== true,
  pipeline: parsed.independent === true ? "independent" : "shared",
  seed: integer("seed", parsed.seed, 0),
  logGroupName: parsed.group,
  logStreamName: parsed.stream,
  progress: progress === "live" || progress === "lines" || progress === "off" ? progress : undefined
}

NodeRuntime.runMain(Demo.main(options), { disableErrorReporting: true })
