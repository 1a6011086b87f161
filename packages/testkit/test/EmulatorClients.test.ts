/**
 * The emulator with other real clients, run as child processes: the AWS CLI (`aws logs ...`) and boto3.
 * They sign with botocore's SigV4, so the require-auth runs check the verifier against a second signer.
 * A missing client fails the test with a clear message (CI machines are this same image).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as Emulator from "../src/Emulator.js"

const AWS = process.env["CWLOGS_AWS_CLI"] ?? "/root/.pyenv/shims/aws"
// pyenv's interpreter (the one with boto3) rather than whatever `python3` comes first on the PATH: under
// `npx pnpm`, the directory of `node` (/usr/bin here, with a system python3 and no boto3) goes first
const PYENV_PYTHON = `${process.env["PYENV_ROOT"] ?? "/root/.pyenv"}/shims/python3`
const PYTHON = process.env["CWLOGS_PYTHON"] ?? (existsSync(PYENV_PYTHON) ? PYENV_PYTHON : "python3")
const BOTO3_SCRIPT = fileURLToPath(new URL("./fixtures/boto3_roundtrip.py", import.meta.url))

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

const clientEnv = (credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }) => ({
  PATH: process.env["PATH"] ?? "",
  HOME: process.env["HOME"] ?? "/tmp",
  PYENV_ROOT: process.env["PYENV_ROOT"] ?? "",
  AWS_ACCESS_KEY_ID: credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  AWS_DEFAULT_REGION: "us-east-1",
  AWS_CONFIG_FILE: "/nonexistent/cwlogs-aws-config",
  AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/cwlogs-aws-credentials",
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_MAX_ATTEMPTS: "1",
  AWS_PAGER: ""
})

const run = (
  file: string,
  args: ReadonlyArray<string>,
  env: Record<string, string>
): Effect.Effect<Run, Error> =>
  Effect.async<Run, Error>((resume) => {
    execFile(file, [...args], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== "number") {
        return resume(Effect.fail(new Error(`could not run ${file}: ${error.message}`)))
      }
      resume(Effect.succeed({ code: error === null ? 0 : Number(error.code), stdout, stderr }))
    })
  })

const requireBinary = (path: string, what: string) => {
  if (path.includes("/") && !existsSync(path)) {
    throw new Error(`${what} not found at ${path}: install it (or set the env variable) to run this test`)
  }
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    throw new Error(`not JSON: ${text}`)
  }
}

describe("Emulator with the AWS CLI", () => {
  const credentials = { accessKeyId: "AKIDCLI", secretAccessKey: "cli/secret+KEY" }

  for (const auth of [false, true]) {
    it.scopedLive(
      `create group and stream, put-log-events, get-log-events${auth ? " (SigV4 required)" : ""}`,
      () =>
        Effect.gen(function*() {
          requireBinary(AWS, "the AWS CLI")
          const emulator = yield* Emulator.make(auth ? { requireAuth: credentials } : {})
          const env = clientEnv(credentials)
          const aws = (...args: Array<string>) =>
            run(AWS, ["logs", "--endpoint-url", emulator.url, "--output", "json", ...args], env)
          const ok = (r: Run) => {
            if (r.code !== 0) throw new Error(`aws failed (${r.code}): ${r.stderr}`)
            return r.stdout
          }
          ok(yield* aws("create-log-group", "--log-group-name", "cli-group"))
          ok(yield* aws("create-log-stream", "--log-group-name", "cli-group", "--log-stream-name", "cli-stream"))
          const now = Date.now()
          const events = JSON.stringify([
            { timestamp: now - 1, message: "hello from the CLI" },
            { timestamp: now, message: "ünïcödé ✓" }
          ])
          const put = parseJson(ok(
            yield* aws(
              "put-log-events",
              "--log-group-name",
              "cli-group",
              "--log-stream-name",
              "cli-stream",
              "--log-events",
              events
            )
          ))
          expect(put).toMatchObject({ nextSequenceToken: expect.any(String) })
          const got = parseJson(ok(
            yield* aws(
              "get-log-events",
              "--log-group-name",
              "cli-group",
              "--log-stream-name",
              "cli-stream",
              "--start-from-head"
            )
          ))
          expect(got).toMatchObject({
            events: [
              { timestamp: now - 1, message: "hello from the CLI" },
              { timestamp: now, message: "ünïcödé ✓" }
            ],
            nextForwardToken: expect.any(String)
          })
          const missing = yield* aws("describe-log-streams", "--log-group-name", "no-such-group")
          expect(missing.code).not.toBe(0)
          expect(missing.stderr).toContain("ResourceNotFoundException")
          expect(missing.stderr).toContain("The specified log group does not exist.")
          expect((yield* emulator.model.events("cli-group", "cli-stream")).map((e) => e.message)).toEqual([
            "hello from the CLI",
            "ünïcödé ✓"
          ])
          if (auth) {
            const wrong = yield* run(
              AWS,
              ["logs", "--endpoint-url", emulator.url, "describe-log-groups"],
              clientEnv({ ...credentials, secretAccessKey: "wrong" })
            )
            expect(wrong.code).not.toBe(0)
            expect(wrong.stderr).toContain("InvalidSignatureException")
            const unknown = yield* run(
              AWS,
              ["logs", "--endpoint-url", emulator.url, "describe-log-groups"],
              clientEnv({ ...credentials, accessKeyId: "AKIDWRONG" })
            )
            expect(unknown.stderr).toContain("UnrecognizedClientException")
            expect(unknown.stderr).toContain("The security token included in the request is invalid.")
          }
        }),
      180_000
    )
  }
})

describe("Emulator with boto3", () => {
  for (const auth of [false, true]) {
    it.scopedLive(
      `the calls of a shipper and the errors it reads${auth ? " (SigV4 required)" : ""}`,
      () =>
        Effect.gen(function*() {
          const credentials = { accessKeyId: "AKIDBOTO", secretAccessKey: "boto/secret" }
          const emulator = yield* Emulator.make(auth ? { requireAuth: credentials } : {})
          const result = yield* run(
            PYTHON,
            [BOTO3_SCRIPT, emulator.url, "boto-group", "boto-stream"],
            clientEnv(credentials)
          )
            .pipe(
              Effect.mapError((e) => new Error(`python3 with boto3 is needed for this test: ${e.message}`))
            )
          if (result.code !== 0) throw new Error(`boto3 script failed (${result.code}): ${result.stderr}`)
          expect(parseJson(result.stdout)).toEqual({
            nextSequenceToken: expect.any(String),
            events: ["first", "second ünïcödé"],
            streams: ["boto-stream"],
            groups: ["boto-group"],
            filtered: ["second ünïcödé"],
            retention: 30,
            errors: {
              groupExists: {
                code: "ResourceAlreadyExistsException",
                message: "The specified log group already exists",
                status: 400,
                expectedSequenceToken: null
              },
              noStream: {
                code: "ResourceNotFoundException",
                message: "The specified log stream does not exist.",
                status: 400,
                expectedSequenceToken: null
              },
              badRetention: expect.objectContaining({ code: "InvalidParameterException", status: 400 }),
              unordered: {
                code: "InvalidParameterException",
                message: "Log events in a single PutLogEvents request must be in chronological order.",
                status: 400,
                expectedSequenceToken: null
              }
            },
            groupsAfterDelete: []
          })
        }),
      120_000
    )
  }
})
