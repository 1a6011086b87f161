/**
 * The sink's cost per event does not grow with the size of the chunks it is given: the same events into
 * a small buffer (500) in one chunk and in chunks of 500, side by side, rounds interleaved, in memory (the
 * model answers at once). Prints the best time of each and their ratio (one chunk / chunks of 500; about
 * 1 when the offers are linear, as they are).
 *
 * Session 9 measured 2,154–2,777 ms for one chunk of 300,000 against 183–425 ms in chunks of 500 while
 * an interrupted offer's bookkeeping copied the rest of its chunk at every wake-up; 128–225 ms after the
 * fix, and 133–196 ms before that bookkeeping existed.
 *
 * Run: npx tsx packages/core/bench/chunk-size.ts [events=300000] [rounds=3]
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as TestCloudWatchLogs from "../../testkit/src/TestCloudWatchLogs.js"
import * as CloudWatchLogs from "../src/CloudWatchLogs.js"
import * as Destination from "../src/Destination.js"
import * as LogEvent from "../src/LogEvent.js"

const N = Number(process.argv[2] ?? 300_000)
const ROUNDS = Number(process.argv[3] ?? 3)
const BUFFER = 500

const run = (name: string, stream: Stream.Stream<LogEvent.LogEvent>) =>
  Effect.gen(function*() {
    const start = performance.now()
    const report = yield* Stream.run(
      stream,
      CloudWatchLogs.sink(Destination.make("bench", name), { bufferCapacity: BUFFER, lingerMillis: 0 })
    )
    if (report.accepted !== N) return yield* Effect.dieMessage(`${name}: ${report.accepted} of ${N} accepted`)
    return performance.now() - start
  }).pipe(Effect.provide(TestCloudWatchLogs.layer()))

const program = Effect.gen(function*() {
  const now = Date.now()
  const events = Array.from({ length: N }, (_, i) => LogEvent.make(now, `event ${i}`))
  const small: Array<number> = []
  const one: Array<number> = []
  for (let round = 0; round < ROUNDS; round++) {
    small.push(yield* run(`small-${round}`, Stream.fromIterable(events).pipe(Stream.rechunk(BUFFER))))
    one.push(yield* run(`one-${round}`, Stream.fromChunk(Chunk.unsafeFromArray(events))))
  }
  const best = (xs: ReadonlyArray<number>) => Math.min(...xs)
  console.log(`${N} events, buffer ${BUFFER}, best of ${ROUNDS}:`)
  console.log(`  chunks of ${BUFFER}: ${best(small).toFixed(0)} ms  (${small.map((t) => t.toFixed(0)).join(" ")})`)
  console.log(`  one chunk:        ${best(one).toFixed(0)} ms  (${one.map((t) => t.toFixed(0)).join(" ")})`)
  console.log(`  ratio one / small: ${(best(one) / best(small)).toFixed(2)}x`)
})

Effect.runPromise(program).catch((e) => {
  console.error(e)
  process.exit(1)
})
