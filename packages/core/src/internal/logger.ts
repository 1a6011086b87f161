/**
 * The shipping Logger: every log line becomes one structured JSON event, offered without waiting to the
 * shipper's bounded buffer (a Logger is synchronous). The library's own lines (`cwlogs.internal`
 * annotated `true`, as every fiber of the shipper is) never enter it.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as HashMap from "effect/HashMap"
import * as Inspectable from "effect/Inspectable"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { describeThrown } from "./describe.js"
import { INTERNAL_ANNOTATION } from "./shipper.js"

/** @internal */
export interface Format {
  readonly minimumLevel?: LogLevel.LogLevel | undefined
}

/**
 * Whether a line is the library's own (`cwlogs.internal` annotated `true`), the only lines never shipped:
 * any other value (`false`) is an application's line. The AWS SDK's own logging needs no rule here:
 * `@cwlogs/node` gives its clients a silent logger, and the SDK logs through that, never through Effect's
 * loggers. (An `aws.sdk` annotation used to skip a line too, whatever its value: an application line so
 * annotated was neither shipped nor counted.)
 * @internal
 */
export const isInternal = (annotations: HashMap.HashMap<string, unknown>): boolean => {
  const marked = HashMap.get(annotations, INTERNAL_ANNOTATION)
  return Option.isSome(marked) && marked.value === true
}

/** Objects `isPlainData` looks up in a list before it keeps them in a set (a typical line has a few). */
const FEW_OBJECTS = 32

/**
 * Whether `root` is plain JSON data: primitives, arrays and objects whose prototype is `Object.prototype`
 * or `null`, with no object reached twice, no `toJSON` of their own and nothing `Redactable`. For such
 * data `JSON.stringify` writes what `Inspectable.stringifyCircular` writes (its replacer changes nothing
 * there), without calling a replacer for every value: ~0.4 µs of a ~4.9 µs log call in the benchmark's
 * overhead workload, and about half the time of a line of 100,000 rows. Linear time: the objects seen
 * are kept in a list while they are few, then in a set. A getter of a plain object is read twice (here,
 * then by the serializer).
 * @internal
 */
export const isPlainData = (root: unknown): boolean => {
  const few: Array<object> = []
  let many: Set<object> | undefined
  const pending: Array<unknown> = [root]
  while (pending.length > 0) {
    const value = pending.pop()
    if (typeof value === "bigint") return false
    if (typeof value !== "object" || value === null) continue
    if (many !== undefined) {
      if (many.has(value)) return false
      many.add(value)
    } else {
      if (few.includes(value)) return false
      few.push(value)
      if (few.length === FEW_OBJECTS) many = new Set(few)
    }
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) return false
      for (let i = 0; i < value.length; i++) pending.push(value[i])
      continue
    }
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) return false
    if (Inspectable.symbolRedactable in value || Object.hasOwn(value, "toJSON")) return false
    for (const v of Object.values(value)) pending.push(v)
  }
  return true
}

/**
 * Characters (about) of repeated objects a line writes in full; past them a repeat is written as
 * `REPEATED`. A graph of shared objects (each holding the next twice) doubles at each level: 23 objects
 * wrote 84 MB in 2 s. 64 KiB keeps such a line well within an event (1 MB, and the legacy 256 KB).
 * @internal
 */
export const REPEAT_BUDGET = 64 * 1024

/**
 * What a repeated object is written as once the line's `REPEAT_BUDGET` is spent.
 * @internal
 */
export const REPEATED = "[cwlogs: repeated object]"

/** What writing `value` under `key` in a repeat costs, about, in characters. */
const repeatCost = (key: string, value: unknown): number =>
  key.length + (typeof value === "string" ? value.length + 4 : 8)

/**
 * Like `Inspectable.stringifyCircular`, a `Redactable` redacted, but only a true cycle is cut: an object
 * that is one of its own ancestors is left out (`null` in an array), while one merely reached again is
 * written again, in full while the line's repeats stay within `REPEAT_BUDGET`, else as `REPEATED`
 * (`stringifyCircular` drops every repeat). A `bigint` is written as its digits in a string, where
 * `JSON.stringify` throws, and an `Error` as its name, message, fields, aggregated errors and cause.
 *
 * Linear time in the size of the graph (plus the budget): the path of ancestors is a stack, and a map
 * says of every object met whether it is on the path. `JSON.stringify` serializes depth first and calls
 * the replacer with the object holding the value as `this`, so the objects above the holder on the
 * stack are finished: they are popped (each object is pushed and popped once). Everything written
 * under a repeat is charged to the budget, which each object met there checks.
 * @internal
 */
export const stringifyCareful = (doc: unknown): string => {
  /** The objects being written, outermost first: what the replacer returned for each (their holders). */
  const path: Array<object> = []
  /** The values the replacer was given for them, where that was another object (an `Error`, a `Redactable`). */
  const given: Array<object | undefined> = []
  /** Every object met: `true` while it is in `path` or `given` (an ancestor), `false` once written. */
  const met = new Map<object, boolean>()
  /** The index in `path` of the outermost repeat being written; -1 when none is. */
  let repeatAt = -1
  /** Characters (about) written under repeats so far. */
  let spent = 0
  return JSON.stringify(doc, function(this: unknown, key: string, value: unknown): unknown {
    const isObject = typeof value === "object" && value !== null
    if (!isObject && repeatAt < 0) return typeof value === "bigint" ? value.toString() : value
    while (path.length > 0 && path[path.length - 1] !== this) {
      const finished = path.pop()
      if (finished !== undefined) met.set(finished, false)
      const original = given.pop()
      if (original !== undefined) met.set(original, false)
    }
    if (path.length <= repeatAt) repeatAt = -1
    if (!isObject) {
      if (repeatAt >= 0) spent += repeatCost(key, value)
      return typeof value === "bigint" ? value.toString() : value
    }
    // `JSON.stringify` hands the replacer what a `toJSON` returned (a new object each time), not the object
    // in the graph: that one, the holder's own, is what a repeat or a cycle is told by
    const own: unknown = typeof this === "object" && this !== null ? Reflect.get(this, key) : value
    const identity = typeof own === "object" && own !== null ? own : value
    const state = met.get(identity)
    if (state === true) return undefined
    const written = collectionFields(errorFields(Inspectable.redact(value)))
    if (typeof written !== "object" || written === null) return written
    const writtenState = written === identity ? state : met.get(written)
    if (writtenState === true) return undefined
    if (repeatAt >= 0 || state === false || writtenState === false) {
      if (spent > REPEAT_BUDGET) return REPEATED
      spent += repeatCost(key, written)
      if (repeatAt < 0) repeatAt = path.length
    }
    path.push(written)
    met.set(written, true)
    if (written === identity) {
      given.push(undefined)
    } else {
      given.push(identity)
      met.set(identity, true)
    }
    return written
  })
}

/**
 * An `Error` (without a `toJSON` of its own) as its name, message, own fields, the errors of an
 * `AggregateError`, and cause: `JSON.stringify` would write `{}` (`name`, `message`, `errors` and `cause`
 * are not enumerable fields of its own). As Effect's `Logger.json` does for the message, here wherever
 * the error is (a message part, an annotation, a field). The errors and the cause are written by the
 * same replacer: cycles cut, repeats within the budget.
 */
const errorFields = (value: unknown): unknown => {
  if (!(value instanceof Error) || "toJSON" in value) return value
  const cause: unknown = value.cause
  const errors: unknown = value instanceof AggregateError ? value.errors : undefined
  return {
    ...value,
    name: value.name,
    message: value.message,
    ...(errors !== undefined ? { errors } : {}),
    ...(cause !== undefined ? { cause } : {})
  }
}

/**
 * A `Map` as an object of its entries when every key is a string (as a query tool reads fields), else as
 * an array of `[key, value]` pairs; a `Set` as an array of its values. `JSON.stringify` writes both as
 * `{}`, their contents lost.
 */
const collectionFields = (value: unknown): unknown => {
  if (value instanceof Map) {
    const named: Array<[string, unknown]> = []
    for (const [key, entry] of value) {
      if (typeof key !== "string") return Array.from(value)
      named.push([key, entry])
    }
    return Object.fromEntries(named)
  }
  if (value instanceof Set) return Array.from(value)
  return value
}

/**
 * The JSON document of one log line. Never throws: a log call must not fail the program that makes it.
 * A value JSON cannot write (a `toJSON` or a getter that throws) gives a line that says so.
 * @internal
 */
export const render = (options: Logger.Logger.Options<unknown>): string => {
  try {
    return renderDocument(options)
  } catch (error) {
    return JSON.stringify({
      timestamp: options.date.toISOString(),
      level: options.logLevel.label,
      message: `[cwlogs: this log line could not be written as JSON: ${describeThrown(error)}]`
    })
  }
}

/**
 * The document of a log line: Effect's `structuredLogger` fields, those that are empty left out.
 * @internal
 */
export const documentOf = (options: Logger.Logger.Options<unknown>): Record<string, unknown> => {
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
  return doc
}

const renderDocument = (options: Logger.Logger.Options<unknown>): string => {
  const doc = documentOf(options)
  return isPlainData(doc) ? JSON.stringify(doc) : stringifyCareful(doc)
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
