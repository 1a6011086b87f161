/**
 * The command line of `cwlogs-emulator`, as a pure parser (node:util parseArgs) to `Emulator.Options`.
 *
 * @internal
 */
import * as Either from "effect/Either"
import { parseArgs } from "node:util"
import type * as Emulator from "../Emulator.js"

/** @internal */
export const USAGE = `Usage: cwlogs-emulator [options]

Amazon CloudWatch Logs on 127.0.0.1, over the real JSON 1.1 wire protocol (AWS SDKs, AWS CLI, boto3).
Point a client at it with --endpoint-url / endpoint = the printed URL, any credentials, any region.

Options:
  --host HOST                     address to listen on (default 127.0.0.1)
  --port PORT                     port (default 0: a free port; the first line printed gives it)
  --sequence-tokens MODE          enforced (legacy API) | ignored (AWS today, default)
  --max-event-bytes N             largest event, message bytes + 26 (default 1048576; 262144 = legacy)
  --max-request-bytes N           largest request body (default 8388608); larger ones get 413
  --faults LIST                   PutLogEvents faults, e.g. unavailable=0.05,throttle=0.05,
                                  lost-response=0.01,reset=0.01,competing-writer=0.01,latency=20
                                  (probabilities in [0, 1]; latency in milliseconds)
  --seed N                        seed of the fault generator (default 1)
  --throttling                    enforce per-account quotas (and the per-stream rate, if any)
  --discard                       count events without keeping them (benchmarks, long runs)
  --require-auth KEY:SECRET       verify SigV4 signatures with this key pair (default: accept any)
  --help                          this text

The first line on stdout is "listening on http://HOST:PORT". SIGINT or SIGTERM stops it cleanly.
`

const FAULT_NAMES: Readonly<Record<string, string>> = {
  unavailable: "unavailable",
  throttle: "throttle",
  "lost-response": "lostResponse",
  reset: "reset",
  "competing-writer": "competingWriter"
}

const integer = (name: string, text: string, min: number, max: number): Either.Either<number, string> => {
  if (!/^\d+$/.test(text)) return Either.left(`--${name} must be an integer, got "${text}"`)
  const n = Number(text)
  if (n < min || n > max) return Either.left(`--${name} must be between ${min} and ${max}, got ${n}`)
  return Either.right(n)
}

const parseFaults = (text: string): Either.Either<Record<string, number>, string> => {
  const out: Record<string, number> = {}
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const eq = part.indexOf("=")
    if (eq < 0) return Either.left(`--faults: "${part}" is not NAME=VALUE`)
    const name = part.slice(0, eq).trim()
    const value = part.slice(eq + 1).trim()
    const number = Number(value)
    if (value === "" || !Number.isFinite(number) || number < 0) {
      return Either.left(`--faults: ${name} must be a non-negative number, got "${value}"`)
    }
    if (name === "latency") {
      out["latencyMillis"] = number
      continue
    }
    const key = FAULT_NAMES[name]
    if (key === undefined) {
      return Either.left(
        `--faults: unknown fault "${name}" (known: ${[...Object.keys(FAULT_NAMES), "latency"].join(", ")})`
      )
    }
    if (number > 1) return Either.left(`--faults: ${name} is a probability in [0, 1], got ${number}`)
    out[key] = number
  }
  return Either.right(out)
}

/** @internal */
export type Parsed = { readonly _tag: "Help" } | { readonly _tag: "Run"; readonly options: Emulator.Options }

/**
 * Parses the arguments (without `node` and the script). Left: a message for the user.
 *
 * @internal
 */
export const parse = (args: ReadonlyArray<string>): Either.Either<Parsed, string> => {
  let values
  try {
    values = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        "sequence-tokens": { type: "string" },
        "max-event-bytes": { type: "string" },
        "max-request-bytes": { type: "string" },
        faults: { type: "string" },
        seed: { type: "string" },
        throttling: { type: "boolean" },
        discard: { type: "boolean" },
        "require-auth": { type: "string" },
        help: { type: "boolean", short: "h" }
      }
    }).values
  } catch (error) {
    return Either.left(error instanceof Error ? error.message : String(error))
  }
  if (values.help === true) return Either.right({ _tag: "Help" })
  const options: {
    -readonly [K in keyof Emulator.Options]: Emulator.Options[K]
  } = {}
  if (values.host !== undefined) {
    if (values.host === "") return Either.left("--host must not be empty")
    options.host = values.host
  }
  if (values.port !== undefined) {
    const port = integer("port", values.port, 0, 65535)
    if (Either.isLeft(port)) return Either.left(port.left)
    options.port = port.right
  }
  const tokens = values["sequence-tokens"]
  if (tokens !== undefined) {
    if (tokens !== "enforced" && tokens !== "ignored") {
      return Either.left(`--sequence-tokens must be "enforced" or "ignored", got "${tokens}"`)
    }
    options.sequenceTokens = tokens
  }
  if (values["max-event-bytes"] !== undefined) {
    const n = integer("max-event-bytes", values["max-event-bytes"], 27, 1_048_576)
    if (Either.isLeft(n)) return Either.left(n.left)
    options.maxEventBytes = n.right
  }
  if (values["max-request-bytes"] !== undefined) {
    const n = integer("max-request-bytes", values["max-request-bytes"], 1024, 1024 * 1024 * 1024)
    if (Either.isLeft(n)) return Either.left(n.left)
    options.maxRequestBytes = n.right
  }
  if (values.faults !== undefined) {
    const faults = parseFaults(values.faults)
    if (Either.isLeft(faults)) return Either.left(faults.left)
    options.faults = faults.right
  }
  if (values.seed !== undefined) {
    const n = integer("seed", values.seed, 0, 2 ** 32 - 1)
    if (Either.isLeft(n)) return Either.left(n.left)
    options.seed = n.right
  }
  if (values.throttling === true) options.throttling = true
  if (values.discard === true) options.discard = true
  const auth = values["require-auth"]
  if (auth !== undefined) {
    const colon = auth.indexOf(":")
    if (colon <= 0 || colon === auth.length - 1) {
      return Either.left("--require-auth must be ACCESS_KEY:SECRET")
    }
    options.requireAuth = { accessKeyId: auth.slice(0, colon), secretAccessKey: auth.slice(colon + 1) }
  }
  return Either.right({ _tag: "Run", options })
}
