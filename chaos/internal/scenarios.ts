/**
 * The scenarios of the suite. Each one starts real processes, runs them to the end (or kills them), reads
 * everything back through its own AWS SDK client and returns one row of the table. A scenario never
 * fails: whatever goes wrong is a FAIL row with notes.
 */
import { Emulator } from "@cwlogs/testkit"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Analyze from "./analyze.js"
import * as Aws from "./aws.js"
import { destinationKey, FAULTS, JITTER_MILLIS, type ProducerConfig, type Sizes } from "./config.js"
import * as JitterProxy from "./jitterProxy.js"
import * as Processes from "./processes.js"
import type { Row } from "./table.js"

type Destination = { readonly logGroupName: string; readonly logStreamName: string }

interface Outcome {
  readonly results: ReadonlyArray<Processes.ProducerResult>
  readonly notes: ReadonlyArray<string>
}

/** Waits for every producer's result (in parallel); a producer that fails is a note. */
const collect = (
  producers: ReadonlyArray<Processes.RunningProducer>,
  timeout: Duration.DurationInput,
  requireCleanExit: boolean
): Effect.Effect<Outcome> =>
  Effect.forEach(
    producers,
    (p) =>
      p.result.pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () =>
            new Processes.ProcessError({
              message: `producer ${p.id} did not finish within ${Duration.format(timeout)}`
            })
        }),
        Effect.either
      ),
    { concurrency: "unbounded" }
  ).pipe(Effect.map((all) => {
    const results: Array<Processes.ProducerResult> = []
    const notes: Array<string> = []
    for (const r of all) {
      if (r._tag === "Left") {
        notes.push(r.left.message)
        if (r.left.output !== undefined) notes.push(r.left.output.split("\n").slice(-15).join("\n    "))
        continue
      }
      results.push(r.right.result)
      const dropped = r.right.result.dropped ?? 0
      if (dropped > 0) notes.push(`producer ${r.right.result.id}: the logger dropped ${dropped} lines (buffer full)`)
      if (r.right.result.failure !== undefined) notes.push(`producer ${r.right.result.id}: ${r.right.result.failure}`)
      else if (requireCleanExit && r.right.exitCode !== 0) {
        notes.push(`producer ${r.right.result.id} exited with code ${r.right.exitCode}`)
      }
    }
    return { results, notes }
  }))

/**
 * Reads every destination back and tallies it. With a `plan` (a run of a known length), every planned
 * event of every planned producer must be stored, whether or not the producer got to hand it over (a
 * shipment that stopped early lost the rest); without one (SIGTERM), what each producer reported handing
 * over.
 */
const check = (
  endpoint: string,
  destinations: ReadonlyArray<Destination>,
  results: ReadonlyArray<Processes.ProducerResult>,
  plan?: { readonly ids: ReadonlyArray<string>; readonly events: number }
): Effect.Effect<{ readonly tally: Analyze.Tally; readonly notes: ReadonlyArray<string> }> =>
  Effect.gen(function*() {
    const api = Aws.client(endpoint)
    const notes: Array<string> = []
    const tallies = yield* Effect.forEach(destinations, (d) => {
      const key = destinationKey(d)
      const expectation = new Map<string, number>()
      if (plan !== undefined) {
        for (const id of plan.ids) expectation.set(id, plan.events)
      } else {
        for (const r of results) {
          const n = r.handed[key]
          if (n !== undefined) expectation.set(r.id, n)
        }
      }
      return Aws.readAll(api, d.logGroupName, d.logStreamName).pipe(
        Effect.map((messages) => Analyze.tally(messages, expectation)),
        Effect.catchAll((e) =>
          Effect.sync(() => {
            notes.push(`cannot read ${key} back: ${e.name}: ${e.message}`)
            const expected = [...expectation.values()].reduce((a, b) => a + b, 0)
            return { ...Analyze.emptyTally, expected, lost: expected }
          })
        )
      )
    }, { concurrency: 4 })
    api.destroy()
    const tally = tallies.reduce(Analyze.addTally, Analyze.emptyTally)
    if (tally.lostSample.length > 0) {
      notes.push(`lost, e.g.: ${tally.lostSample.map((e) => `${e.producer}#${e.seq}`).join(", ")}`)
    }
    return { tally, notes }
  })

const sum = (results: ReadonlyArray<Processes.ProducerResult>, f: (r: Processes.ProducerResult) => number) =>
  results.reduce((n, r) => n + f(r), 0)

interface Verdict {
  readonly scenario: string
  readonly started: number
  readonly producers: number
  readonly outcome: Outcome
  readonly tally: Analyze.Tally
  readonly notes: ReadonlyArray<string>
  /** Facts worth printing that are not failures. */
  readonly info?: ReadonlyArray<string> | undefined
  /** Tokens enforced: no duplicate allowed. Ignored: duplicates up to the reported possible duplicates. */
  readonly tokens: "enforced" | "ignored"
  /** Duplicates allowed besides those (events shipped again by design: a spool's leftovers), and why. */
  readonly allowed?: { readonly duplicates: number; readonly why: string } | undefined
}

const verdict = (v: Verdict): Effect.Effect<Row> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const possibleDuplicates = sum(v.outcome.results, (r) => r.possibleDuplicates) + (v.allowed?.duplicates ?? 0)
    const notes = [...v.outcome.notes, ...v.notes]
    if (v.outcome.results.length < v.producers) {
      notes.push(`${v.producers - v.outcome.results.length} of ${v.producers} producers gave no result`)
    }
    if (v.tally.lost > 0) notes.push(`${v.tally.lost} events lost`)
    if (v.tokens === "enforced" && v.tally.duplicated > 0) {
      const reported = v.tally.duplicated <= possibleDuplicates
        ? "; all of them within what the producers reported as possible duplicates"
        : `; only ${possibleDuplicates} reported as possible duplicates`
      notes.push(`${v.tally.duplicated} duplicates with tokens enforced (none allowed)${reported}`)
    }
    if (v.tokens === "ignored" && v.tally.duplicated > possibleDuplicates) {
      notes.push(`${v.tally.duplicated} duplicates but only ${possibleDuplicates} reported as possible`)
    }
    const allowance = v.allowed === undefined
      ? []
      : [`${v.tally.duplicated} duplicates, at most ${v.allowed.duplicates} allowed: ${v.allowed.why}`]
    if (v.tokens === "enforced" && v.tally.orderViolations > 0) {
      notes.push(`${v.tally.orderViolations} events stored out of their producer's order with tokens enforced`)
    }
    if (v.tally.expected === 0) notes.push("no event was handed over")
    const passed = notes.length === 0
    notes.push(...(v.info ?? []), ...allowance)
    if (v.tally.unexpected > 0) {
      notes.push(`${v.tally.unexpected} stored events beyond the producers' counts (not a loss)`)
    }
    return {
      scenario: v.scenario,
      events: v.tally.expected,
      stored: v.tally.stored,
      lost: v.tally.lost,
      duplicated: v.tally.duplicated,
      orderViolations: v.tally.orderViolations,
      retries: sum(v.outcome.results, (r) => r.retries),
      possibleDuplicates,
      seconds: (now - v.started) / 1000,
      passed,
      notes
    }
  })

/** A scenario that could not even run. */
const broken = (scenario: string, started: number, message: string): Effect.Effect<Row> =>
  Clock.currentTimeMillis.pipe(Effect.map((now) => ({
    scenario,
    events: 0,
    stored: 0,
    lost: 0,
    duplicated: 0,
    orderViolations: 0,
    retries: 0,
    possibleDuplicates: 0,
    seconds: (now - started) / 1000,
    passed: false,
    notes: [message]
  })))

const guarded = <R>(
  scenario: string,
  body: (started: number) => Effect.Effect<Row, Processes.ProcessError, R | Scope.Scope>
): Effect.Effect<Row, never, Exclude<R, Scope.Scope>> =>
  Effect.gen(function*() {
    const started = yield* Clock.currentTimeMillis
    yield* Effect.logInfo(`scenario ${scenario}: start`)
    const row = yield* Effect.scoped(body(started)).pipe(
      Effect.catchAllCause((cause) => broken(scenario, started, `the scenario broke: ${String(cause)}`))
    )
    yield* Effect.logInfo(`scenario ${scenario}: ${row.passed ? "PASS" : "FAIL"} in ${row.seconds.toFixed(1)} s`)
    return row
  })

/** The producers' way to the emulator: through a proxy that adds latency jitter. */
const jitter = (endpoint: string, seed: number) =>
  JitterProxy.make(endpoint, JITTER_MILLIS, seed).pipe(
    Effect.mapError((e) => new Processes.ProcessError({ message: `cannot start the jitter proxy: ${e.message}` }))
  )

/** Starts one producer per id; with `alternate`, every other one ships with the logger instead of the sink. */
const run = (config: Omit<ProducerConfig, "id">, ids: ReadonlyArray<string>, alternate = false) =>
  Effect.forEach(
    ids,
    (id, i) => Processes.producer(id, { ...config, id, mode: alternate && i % 2 === 1 ? "logger" : "sink" })
  )

/**
 * Many producer processes into one stream, faults on, with a competing writer advancing the token.
 */
export const sharedStream = (
  sizes: Sizes,
  tokens: "enforced" | "ignored",
  seed: number,
  faults: string = FAULTS
): Effect.Effect<Row, never, CommandExecutor.CommandExecutor> =>
  guarded(
    `${sizes.sharedProducers} procs x ${sizes.sharedEvents} -> 1 stream, tokens ${tokens}`,
    (started) =>
      Effect.gen(function*() {
        const emulator = yield* Processes.emulator({ sequenceTokens: tokens, faults, seed })
        const jittered = yield* jitter(emulator.endpoint, seed)
        const destination = { logGroupName: `chaos-${tokens}`, logStreamName: "shared" }
        const api = Aws.client(emulator.endpoint)
        yield* Effect.addFinalizer(() => Effect.sync(() => api.destroy()))
        yield* Aws.ensureStream(api, destination.logGroupName, destination.logStreamName).pipe(
          Effect.mapError((e) => new Processes.ProcessError({ message: `cannot create the stream: ${e.message}` }))
        )
        const competitor = yield* Effect.forkScoped(
          Effect.scoped(
            Aws.competingWriter(api, destination.logGroupName, destination.logStreamName, Duration.millis(100)).pipe(
              Effect.zipLeft(Effect.never)
            )
          )
        )
        const ids = Array.from({ length: sizes.sharedProducers }, (_, i) => `p${i}`)
        const producers = yield* run({
          endpoint: jittered,
          destinations: [destination],
          eventsPerDestination: sizes.sharedEvents,
          ratePerSecond: sizes.sharedRate,
          chunk: 50
        }, ids)
        const outcome = yield* collect(producers, Duration.minutes(4), true)
        yield* Fiber.interrupt(competitor)
        const { notes, tally } = yield* check(emulator.endpoint, [destination], outcome.results, {
          ids,
          events: sizes.sharedEvents
        })
        return yield* verdict({
          scenario: `${sizes.sharedProducers} procs x ${sizes.sharedEvents} -> 1 stream, tokens ${tokens}`,
          started,
          producers: ids.length,
          outcome,
          tally,
          notes,
          info: [`other writers stored ${tally.foreign} events`],
          tokens
        })
      })
  )

/** Many streams at once from a few processes: every process writes to every stream. */
export const manyStreams = (
  sizes: Sizes,
  seed: number,
  faults: string = FAULTS
): Effect.Effect<Row, never, CommandExecutor.CommandExecutor> =>
  guarded(
    `${sizes.manyProcesses} procs -> ${sizes.manyStreams} streams, tokens enforced`,
    (started) =>
      Effect.gen(function*() {
        const emulator = yield* Processes.emulator({ sequenceTokens: "enforced", faults, seed })
        const jittered = yield* jitter(emulator.endpoint, seed)
        const destinations = Array.from(
          { length: sizes.manyStreams },
          (_, i) => ({ logGroupName: "chaos-many", logStreamName: `stream-${String(i).padStart(3, "0")}` })
        )
        const ids = Array.from({ length: sizes.manyProcesses }, (_, i) => `m${i}`)
        const producers = yield* run({
          endpoint: jittered,
          destinations,
          eventsPerDestination: sizes.manyEventsPerStream,
          ratePerSecond: 50,
          chunk: 10
        }, ids)
        const outcome = yield* collect(producers, Duration.minutes(4), true)
        const { notes, tally } = yield* check(emulator.endpoint, destinations, outcome.results, {
          ids,
          events: sizes.manyEventsPerStream
        })
        return yield* verdict({
          scenario: `${sizes.manyProcesses} procs -> ${sizes.manyStreams} streams, tokens enforced`,
          started,
          producers: ids.length,
          outcome,
          tally,
          notes,
          tokens: "enforced"
        })
      })
  )

/**
 * SIGTERM in the middle of a run: producers with an endless source are signalled; each drains and
 * reports what it handed to the library; all of that must be stored.
 */
export const sigterm = (sizes: Sizes, seed: number): Effect.Effect<Row, never, CommandExecutor.CommandExecutor> =>
  guarded(`SIGTERM mid-run, ${sizes.sigtermProducers} procs (sink, logger)`, (started) =>
    Effect.gen(function*() {
      const emulator = yield* Processes.emulator({
        sequenceTokens: "enforced",
        faults: "unavailable=0.05,throttle=0.02,latency=250",
        seed
      })
      // one stream per producer: this run is about the drain, not about writers racing for a token
      const ids = Array.from({ length: sizes.sigtermProducers }, (_, i) => `t${i}`)
      const destinations = ids.map((id) => ({ logGroupName: "chaos-sigterm", logStreamName: `stream-${id}` }))
      const producers = yield* Effect.forEach(ids, (id, i) =>
        Processes.producer(id, {
          id,
          endpoint: emulator.endpoint,
          destinations: [destinations[i]],
          eventsPerDestination: null,
          ratePerSecond: 2_000,
          chunk: 20,
          mode: i % 2 === 1 ? "logger" : "sink"
        }))
      yield* Effect.forEach(producers, (p) => p.ready, { concurrency: "unbounded" }).pipe(
        Effect.timeout(Duration.seconds(60)),
        Effect.ignore
      )
      yield* Effect.sleep(Duration.seconds(sizes.sigtermAfterSeconds))
      const killedAt = yield* Clock.currentTimeMillis
      yield* Effect.forEach(producers, (p) => p.kill("SIGTERM"), { discard: true })
      // the producers' drain deadline is 10 s (the library's default): one still running 20 s after the
      // signal did not drain within it
      const outcome = yield* collect(producers, Duration.seconds(20), false)
      const exitedAt = yield* Clock.currentTimeMillis
      const { notes, tally } = yield* check(emulator.endpoint, destinations, outcome.results)
      return yield* verdict({
        scenario: `SIGTERM mid-run, ${sizes.sigtermProducers} procs (sink, logger)`,
        started,
        producers: ids.length,
        outcome,
        tally,
        notes,
        info: [`all producers drained and exited within ${((exitedAt - killedAt) / 1000).toFixed(1)} s of SIGTERM`],
        tokens: "enforced"
      })
    }))

/**
 * SIGKILL in the middle of a run through a durable spool: no finalizer runs, nothing drains. Each
 * producer ships through a spool of its own, faults on; after the kill, a second process per spool (no
 * new events) ships what the first one left. Every event the killed producers had handed over (on disk)
 * must be stored; duplicates only among what the second processes recovered (the puts in flight at the
 * kill are sent again: their events were not acknowledged in their segment).
 */
export const sigkill = (sizes: Sizes, seed: number): Effect.Effect<Row, never, CommandExecutor.CommandExecutor> =>
  guarded(`SIGKILL mid-run, ${sizes.sigtermProducers} procs (durable spool)`, (started) =>
    Effect.gen(function*() {
      const emulator = yield* Processes.emulator({
        sequenceTokens: "ignored",
        faults: "unavailable=0.05,throttle=0.02,reset=0.02,latency=250",
        seed
      })
      const spools = yield* Effect.acquireRelease(
        Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "cwlogs-chaos-spool-"))),
        (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
      )
      const ids = Array.from({ length: sizes.sigtermProducers }, (_, i) => `k${i}`)
      const destinations = ids.map((id) => ({ logGroupName: "chaos-sigkill", logStreamName: `stream-${id}` }))
      const config = (id: string, i: number, events: number | null) => ({
        id,
        endpoint: emulator.endpoint,
        destinations: [destinations[i]],
        eventsPerDestination: events,
        ratePerSecond: 2_000,
        chunk: 20,
        spool: Path.join(spools, id)
      })
      const producers = yield* Effect.forEach(ids, (id, i) => Processes.producer(id, config(id, i, null)))
      yield* Effect.forEach(producers, (p) => p.ready, { concurrency: "unbounded" }).pipe(
        Effect.timeout(Duration.seconds(60)),
        Effect.ignore
      )
      yield* Effect.sleep(Duration.seconds(sizes.sigtermAfterSeconds))
      yield* Effect.forEach(producers, (p) => p.kill("SIGKILL"), { discard: true })
      // what each had on disk when it died: its last HANDED (read once it has exited: nothing more comes)
      yield* Effect.forEach(producers, (p) => Effect.ignore(p.result), { concurrency: "unbounded" })
      const handed = yield* Effect.forEach(producers, (p) => p.handed)
      const recovery = yield* Effect.forEach(ids, (id, i) => Processes.producer(`${id}-next`, config(id, i, 0)))
      const outcome = yield* collect(recovery, Duration.seconds(90), true)
      const killed: ReadonlyArray<Processes.ProducerResult> = ids.map((id, i) => ({
        id,
        handed: { [destinationKey(destinations[i])]: handed[i] ?? 0 },
        accepted: 0,
        rejected: 0,
        retries: 0,
        possibleDuplicates: 0
      }))
      const checked = yield* check(emulator.endpoint, destinations, killed)
      const recovered = sum(outcome.results, (r) => r.recovered ?? 0)
      const notes = recovered > 0
        ? checked.notes
        : [...checked.notes, "the second processes recovered nothing: the kill found nothing on disk"]
      const tally = checked.tally
      return yield* verdict({
        scenario: `SIGKILL mid-run, ${sizes.sigtermProducers} procs (durable spool)`,
        started,
        producers: ids.length,
        outcome,
        tally,
        notes,
        info: [
          `killed with ${handed.reduce((a, b) => a + b, 0)} events handed over; the next runs recovered ${recovered}`
        ],
        tokens: "ignored",
        allowed: { duplicates: recovered, why: "the puts in flight at the kill are sent again" }
      })
    }))

/**
 * An outage mid-run: the emulator (in this process, so that it can stop listening and listen again with
 * its state kept) refuses connections for a while; producers back off, retry and finish with nothing lost.
 */
export const outage = (sizes: Sizes, seed: number): Effect.Effect<Row, never, CommandExecutor.CommandExecutor> =>
  guarded(
    `outage ${sizes.outageSeconds} s mid-run, ${sizes.outageProducers} procs`,
    (started) =>
      Effect.gen(function*() {
        const server = yield* Emulator.make({
          sequenceTokens: "enforced",
          faults: { unavailable: 0.05, throttle: 0.02, reset: 0.01, lostResponse: 0.01, latencyJitterMillis: 20 },
          seed
        }).pipe(Effect.mapError((e) => new Processes.ProcessError({ message: `cannot serve: ${e.message}` })))
        const destination = { logGroupName: "chaos-outage", logStreamName: "shared" }
        const ids = Array.from({ length: sizes.outageProducers }, (_, i) => `o${i}`)
        const rate = sizes.outageEvents / 12
        const producers = yield* run(
          {
            endpoint: server.url,
            destinations: [destination],
            eventsPerDestination: sizes.outageEvents,
            ratePerSecond: rate,
            chunk: 20
          },
          ids,
          true
        )
        yield* Effect.forEach(producers, (p) => p.ready, { concurrency: "unbounded" }).pipe(
          Effect.timeout(Duration.seconds(60)),
          Effect.ignore
        )
        yield* Effect.sleep(Duration.seconds(3))
        yield* Effect.logInfo(`outage: the endpoint refuses connections for ${sizes.outageSeconds} s`)
        yield* server.stop
        yield* Effect.sleep(Duration.seconds(sizes.outageSeconds))
        yield* server.listen.pipe(
          Effect.retry({ times: 20 }),
          Effect.mapError((e) => new Processes.ProcessError({ message: `cannot listen again: ${e.message}` }))
        )
        yield* Effect.logInfo("outage: over")
        const outcome = yield* collect(producers, Duration.minutes(3), true)
        const { notes, tally } = yield* check(server.url, [destination], outcome.results, {
          ids,
          events: sizes.outageEvents
        })
        return yield* verdict({
          scenario: `outage ${sizes.outageSeconds} s mid-run, ${sizes.outageProducers} procs (sink, logger)`,
          started,
          producers: ids.length,
          outcome,
          tally,
          notes,
          tokens: "enforced"
        })
      })
  )
