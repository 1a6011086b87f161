/** @internal */
export const utf8Length = (s: string): number => {
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
