/**
 * UTF-8 length of a string: Node's native `Buffer.byteLength` when there is one (an order of magnitude
 * faster on large messages), else the portable count of `@cwlogs/core`. Both count a lone surrogate as
 * U+FFFD (3 bytes), as the encoder sends it.
 *
 * @internal
 */
import { LogEvent } from "@cwlogs/core"

const NodeBuffer = typeof Buffer === "function" && typeof Buffer.byteLength === "function" ? Buffer : undefined

/** @internal */
export const utf8Bytes: (s: string) => number = NodeBuffer !== undefined
  ? (s) => NodeBuffer.byteLength(s, "utf8")
  : LogEvent.utf8Bytes
