/**
 * Counting what a read-back shows against what the producers say they handed over. Pure functions only.
 */
import * as Messages from "./messages.js"

/** What one stream must hold: for each producer, events `0 .. count - 1`. */
export type Expectation = ReadonlyMap<string, number>

/** The verdict on one or more streams. */
export interface Tally {
  /** Events the producers handed over (and so must be stored). */
  readonly expected: number
  /** Stored events that belong to a producer (duplicates included). */
  readonly stored: number
  /** Expected events not stored. */
  readonly lost: number
  /** Stored copies beyond the first of an event. */
  readonly duplicated: number
  /** Times a producer's event is stored after one of its later events (first copies only). */
  readonly orderViolations: number
  /** Stored events from other writers (the competing writer) or not from this suite. */
  readonly foreign: number
  /** Stored producer events beyond what the producer reported (not a failure: stored after its report). */
  readonly unexpected: number
  /** A few of the lost events, for the diagnosis. */
  readonly lostSample: ReadonlyArray<Messages.EventId>
}

/** An empty tally. */
export const emptyTally: Tally = {
  expected: 0,
  stored: 0,
  lost: 0,
  duplicated: 0,
  orderViolations: 0,
  foreign: 0,
  unexpected: 0,
  lostSample: []
}

/** Adds two tallies (of different streams). */
export const addTally = (a: Tally, b: Tally): Tally => ({
  expected: a.expected + b.expected,
  stored: a.stored + b.stored,
  lost: a.lost + b.lost,
  duplicated: a.duplicated + b.duplicated,
  orderViolations: a.orderViolations + b.orderViolations,
  foreign: a.foreign + b.foreign,
  unexpected: a.unexpected + b.unexpected,
  lostSample: [...a.lostSample, ...b.lostSample].slice(0, 10)
})

/**
 * Tallies one stream: `messages` in the order the service returns them (timestamp order), and the
 * expectation of every producer that wrote to it. Producers not in `expectation` count as foreign.
 */
export const tally = (messages: Iterable<string>, expectation: Expectation): Tally => {
  const seen = new Map<string, Uint32Array>()
  const highest = new Map<string, number>()
  for (const [producer, count] of expectation) {
    seen.set(producer, new Uint32Array(count))
    highest.set(producer, -1)
  }
  let stored = 0
  let duplicated = 0
  let orderViolations = 0
  let foreign = 0
  let unexpected = 0
  for (const message of messages) {
    const id = Messages.parse(message)
    const counts = id === undefined ? undefined : seen.get(id.producer)
    if (id === undefined || counts === undefined) {
      foreign++
      continue
    }
    stored++
    if (id.seq >= counts.length) {
      unexpected++
      continue
    }
    counts[id.seq]++
    if (counts[id.seq] > 1) {
      duplicated++
      continue
    }
    const top = highest.get(id.producer) ?? -1
    if (id.seq < top) orderViolations++
    else highest.set(id.producer, id.seq)
  }
  let expected = 0
  let lost = 0
  const lostSample: Array<Messages.EventId> = []
  for (const [producer, counts] of seen) {
    expected += counts.length
    for (let seq = 0; seq < counts.length; seq++) {
      if (counts[seq] === 0) {
        lost++
        if (lostSample.length < 10) lostSample.push({ producer, seq })
      }
    }
  }
  return { expected, stored, lost, duplicated, orderViolations, foreign, unexpected, lostSample }
}
