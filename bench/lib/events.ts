/**
 * The work every contender is given: JSON log lines of about 200 bytes, and the fields a logger formats
 * into a line of about the same size.
 *
 * @since 0.1.0
 */

const PATHS = ["/api/orders", "/api/users", "/api/carts", "/api/payments", "/healthz"]

/**
 * The structured fields of event `i` (what a logger is given beside its message).
 *
 * @since 0.1.0
 * @category constructors
 */
export const fields = (i: number) => ({
  requestId: `req-${(i * 2654435761 >>> 0).toString(16).padStart(8, "0")}-${i.toString(36).padStart(6, "0")}`,
  method: i % 3 === 0 ? "POST" : "GET",
  path: `${PATHS[i % PATHS.length]}/${i % 10007}`,
  status: i % 50 === 0 ? 500 : 200,
  durationMs: (i % 997) / 10,
  user: `user-${i % 8191}`
})

/**
 * The message text a logger is given.
 *
 * @since 0.1.0
 * @category constructors
 */
export const MESSAGE = "request handled"

/**
 * A complete JSON log line for event `i` (about 200 bytes), as an application would hand to a sink.
 *
 * @since 0.1.0
 * @category constructors
 */
export const line = (i: number, time: number): string => {
  const f = fields(i)
  // The same document as JSON.stringify({ level, time, msg, seq, ...fields(i), app }), without its cost:
  // every value here is a plain number or a string with nothing to escape.
  return `{"level":"info","time":${time},"msg":"${MESSAGE}","seq":${i},"requestId":"${f.requestId}","method":"${f.method}","path":"${f.path}","status":${f.status},"durationMs":${f.durationMs},"user":"${f.user}","app":"bench"}`
}

/**
 * The size of a typical line, for the MiB/s column.
 *
 * @since 0.1.0
 * @category constructors
 */
export const TYPICAL_LINE_BYTES = Buffer.byteLength(line(123456, 1_700_000_000_000))
