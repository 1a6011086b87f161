/**
 * The shipping Logger: every log line becomes one structured JSON event, offered without waiting to the
 * shipper's bounded buffer (a Logger is synchronous). The library's own lines (annotated
 * `cwlogs.internal`, which every fiber of the shipper is) never enter it.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as HashMap from "effect/HashMap"
import * as Inspectable from "effect/Inspectable"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { INTERNAL_ANNOTATION } from "./shipper.js"

/** @internal */
export interface Format {
  readonly minimumLevel?: LogLevel.LogLevel | undefined
}

/** @internal */
export const isInternal = (annotations: HashMap.HashMap<string, unknown>): boolean =>
  HashMap.has(annotations, INTERNAL_ANNOTATION) || HashMap.has(annotations, "aws.sdk")

/** The JSON document of one log line. @internal */
export const render = (options: Logger.Logger.Options<unknown>): string => {
  const s = Logger.structuredLogger.log(options)
  const doc: Record<string, unknown> = {
    timestamp: s.timestamp,
    level: s.logLevel,
    message: s.message,
    fiberId: s.fiberId
  }
  if (HashMap.size(options.annotations) > 0) doc.annotations = s.annotations
  if (Object.keys(s.spans).length > 0) doc.spans = s.spans
  if (!Cause.isEmpty(options.cause)) doc.cause = s.cause
  return Inspectable.stringifyCircular(doc)
}

/**
 * A logger that hands `{ timestamp, message }` events to `offer`.
 * @internal
 */
export const make = (
  offer: (event: { readonly timestamp: number; readonly message: string }) => void,
  format: Format = {}
): Logger.Logger<unknown, void> =>
  Logger.make((options) => {
    if (isInternal(options.annotations)) return
    if (format.minimumLevel !== undefined && LogLevel.lessThan(options.logLevel, format.minimumLevel)) return
    offer({ timestamp: options.date.getTime(), message: render(options) })
  })
