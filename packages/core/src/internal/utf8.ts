/**
 * UTF-8 length of `s` counted in JavaScript: a lone surrogate counts as U+FFFD (3 bytes), as a
 * `TextEncoder` encodes it.
 * @internal
 */
export const utf8LengthLoop = (s: string): number => {
  let bytes = 0
  const n = s.length
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) {
      bytes += 1
    } else if (c < 0x800) {
      bytes += 2
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else {
        bytes += 3
      }
    } else {
      bytes += 3
    }
  }
  return bytes
}

/**
 * The largest prefix length (in UTF-16 code units) of `s` whose UTF-8 encoding fits in `maxBytes`,
 * never cutting a surrogate pair in half.
 * @internal
 */
export const utf8PrefixLength = (s: string, maxBytes: number): number => {
  let bytes = 0
  let i = 0
  const n = s.length
  while (i < n) {
    const c = s.charCodeAt(i)
    let w: number
    let units = 1
    if (c < 0x80) w = 1
    else if (c < 0x800) w = 2
    else if (
      c >= 0xd800 && c <= 0xdbff && i + 1 < n && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff
    ) {
      w = 4
      units = 2
    } else w = 3
    if (bytes + w > maxBytes) break
    bytes += w
    i += units
  }
  return i
}

/** Strings shorter than this are counted by the loop (cheaper than a call into the encoder; measured). */
const SHORT = 24
/** UTF-16 units encoded per call: at most 3 bytes each, so `written` never stops short of the chunk. */
const CHUNK_UNITS = 16 * 1024
const SCRATCH_BYTES = 3 * CHUNK_UNITS

const encoder = new TextEncoder()
const scratch = new Uint8Array(SCRATCH_BYTES)

/**
 * UTF-8 length of `s` (a lone surrogate counts as U+FFFD, 3 bytes). A UTF-16 unit takes at most 3 bytes
 * (a surrogate pair takes 4 for 2 units), so a string of up to `CHUNK_UNITS` units encoded into the
 * scratch buffer always fits and `written` is its length; longer strings are encoded chunk by chunk, never
 * splitting a surrogate pair. Very short strings are counted by the loop.
 * @internal
 */
export const utf8Length = (s: string): number => {
  const n = s.length
  if (n < SHORT) return utf8LengthLoop(s)
  if (n <= CHUNK_UNITS) return encoder.encodeInto(s, scratch).written
  let bytes = 0
  let start = 0
  while (start < n) {
    let end = start + CHUNK_UNITS
    if (end >= n) end = n
    else {
      const last = s.charCodeAt(end - 1)
      // a high surrogate at the cut goes with the next chunk (with its low half, if any)
      if (last >= 0xd800 && last <= 0xdbff) end--
    }
    bytes += encoder.encodeInto(s.slice(start, end), scratch).written
    start = end
  }
  return bytes
}

/**
 * Reads one character of each string `message` of `inputs`, which makes V8 flatten a message built by
 * concatenation now. Such a message is a tree of the pieces it was built from (a rope), about twice
 * the memory of the flat string it becomes when first read, and it would otherwise wait in a buffer at
 * that size until the batcher sizes it. Returns how many messages it read.
 * @internal
 */
export const flattenMessages = (inputs: ReadonlyArray<unknown>): number => {
  let read = 0
  let i = 0
  while (i < inputs.length) {
    try {
      for (; i < inputs.length; i++) {
        const input = inputs[i]
        if (typeof input === "object" && input !== null && "message" in input && typeof input.message === "string") {
          if (input.message.charCodeAt(0) >= 0) read++
        }
      }
    } catch {
      // an input whose fields cannot be read (a getter or a Proxy that throws): the validator refuses it
      i++
    }
  }
  return read
}
