/**
 * The chaos suite's event messages: each one names its producer and its sequence number, so that a
 * read-back can tell lost, duplicated and reordered events apart. Pure functions only.
 */

/** One event as a producer identifies it. */
export interface EventId {
  readonly producer: string
  readonly seq: number
}

/** Found anywhere in a message: the logger ships JSON documents with the text in their `message`. */
const PATTERN = /chaos producer=([^\s"]+) seq=(\d+)(?:[ "]|$)/

/** Filler of varying length, with a few multi-byte characters so that sizes are counted in UTF-8. */
const FILLER = "lorem ipsum dolor sit amet, consectetur adipiscing elit — café, naïve, 日本語, ✓ "

/**
 * The message of event `seq` of `producer`: the identifying head, then 20 to 220 bytes of filler
 * chosen by the sequence number (deterministic, so a rerun sends the same bytes).
 */
export const format = (producer: string, seq: number): string => {
  const length = 20 + ((seq * 7919) % 200)
  let filler = ""
  while (filler.length < length) filler += FILLER
  return `chaos producer=${producer} seq=${seq} ${filler.slice(0, length)}`
}

/** Reads the identity back from a stored message; `undefined` for a message that is not a producer's. */
export const parse = (message: string): EventId | undefined => {
  const match = PATTERN.exec(message)
  if (match === null || match[1] === undefined || match[2] === undefined) return undefined
  return { producer: match[1], seq: Number(match[2]) }
}
