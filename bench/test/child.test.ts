/**
 * The child process is where memory and CPU are measured, so it must load nothing for the harness
 * itself: a peer's child loads the peer and the AWS SDK, never Effect (the job is read by `lib/job.ts`,
 * the streams are made by the parent).
 */
import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { CONTENDERS, parseJob, WORKLOADS } from "../lib/job.js"

const BENCH = resolve(dirname(fileURLToPath(import.meta.url)), "..")

/** Packages loaded at start-up from `entry`, through its static imports (`import type` is erased). */
const staticPackages = (entry: string): ReadonlySet<string> => {
  const seen = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    const statement = /^\s*(import|export)\s+(type\s+)?[^;]*?\s+from\s+"([^"]+)"|^\s*import\s+"([^"]+)"/gm
    for (const match of readFileSync(file, "utf8").matchAll(statement)) {
      if (match[2] !== undefined) continue
      const specifier = match[3] ?? match[4]
      if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier.replace(/\.js$/, ".ts")))
      else packages.add(specifier)
    }
  }
  visit(resolve(BENCH, entry))
  return packages
}

const isEffect = (name: string) => name === "effect" || name.startsWith("effect/") || name.startsWith("@effect/")

const job = {
  workload: "memory",
  contender: "logtape-cloudwatch",
  endpoint: "http://127.0.0.1:1",
  logGroupName: "g",
  logStreamName: "s",
  events: 10,
  streams: 1,
  rate: 0,
  concurrency: 1,
  deadlineMillis: 1000
}

describe("bench child", () => {
  it("loads neither Effect nor the AWS SDK for itself", () => {
    const packages = [...staticPackages("child.ts")]
    expect(packages.filter(isEffect)).toEqual([])
    expect(packages.filter((name) => name.startsWith("@aws-sdk/"))).toEqual([])
  })

  it("a peer's child loads the peer, not Effect", () => {
    for (const peer of ["logtape.ts", "winston.ts", "pino.ts", "raw.ts"]) {
      const packages = [...staticPackages(`contenders/${peer}`)]
      expect(packages.filter(isEffect), peer).toEqual([])
    }
    expect(staticPackages("contenders/logtape.ts")).toContain("@logtape/cloudwatch-logs")
  })

  it("cwlogs' child loads Effect, through cwlogs", () => {
    expect([...staticPackages("contenders/cwlogs.ts")].some(isEffect)).toBe(true)
  })

  it("cwlogs' sink and logger do not load the durable spool, which they do not use (4.6 MiB of heap)", () => {
    expect(staticPackages("contenders/cwlogs.ts")).not.toContain("@cwlogs/node/DurableSpool")
    expect(staticPackages("contenders/cwlogsSpool.ts")).toContain("@cwlogs/node/DurableSpool")
  })

  it("reads a job, and names every field that is wrong", () => {
    expect(parseJob(JSON.stringify(job))).toEqual(job)
    for (const workload of WORKLOADS) expect(parseJob(JSON.stringify({ ...job, workload })).workload).toBe(workload)
    for (const contender of CONTENDERS) {
      expect(parseJob(JSON.stringify({ ...job, contender })).contender).toBe(contender)
    }
    expect(() => parseJob(JSON.stringify({ ...job, workload: "speed", events: "10", endpoint: undefined }))).toThrow(
      /workload must be one of .*; endpoint must be a string; events must be a finite number/
    )
    expect(() => parseJob(JSON.stringify({ ...job, rate: null }))).toThrow(/rate must be a finite number/)
    expect(() => parseJob("[1]")).toThrow(/a job is a JSON object/)
    expect(() => parseJob("{")).toThrow(SyntaxError)
  })
})
