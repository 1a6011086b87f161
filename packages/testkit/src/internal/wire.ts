/**
 * The JSON 1.1 wire protocol of CloudWatch Logs, as pure functions: request validation against the API
 * model (required members, JSON types, lengths, ranges, patterns, enums), the AWS wording of validation
 * errors, and the shape of error responses.
 *
 * @internal
 */
import { type OperationName, operations, type Shape, shapes } from "./wireModel.js"

/** @internal */
export const TARGET_PREFIX = "Logs_20140328."

/** @internal */
export const CONTENT_TYPE = "application/x-amz-json-1.1"

/**
 * An error as the service puts it on the wire.
 *
 * @internal
 */
export interface WireError {
  readonly name: string
  readonly status: number
  readonly message: string
  readonly extra?: Readonly<Record<string, unknown>> | undefined
}

/** @internal */
export const wireError = (
  name: string,
  message: string,
  status = 400,
  extra?: Readonly<Record<string, unknown>>
): WireError => ({ name, message, status, ...(extra !== undefined ? { extra } : {}) })

/**
 * The HTTP status AWS uses for an error name: 5xx for server faults, 400 for everything else.
 *
 * @internal
 */
export const statusOf = (name: string): number => {
  switch (name) {
    case "ServiceUnavailableException":
    case "InternalFailure":
    case "InternalServerException":
      return 500
    default:
      return 400
  }
}

/** @internal */
export const isOperation = (name: string): name is OperationName =>
  Object.prototype.hasOwnProperty.call(operations, name)

const compiled = new Map<string, RegExp>()
const patternOf = (pattern: string): RegExp => {
  let re = compiled.get(pattern)
  if (re === undefined) {
    re = new RegExp(`^(?:${pattern})$`, "u")
    compiled.set(pattern, re)
  }
  return re
}

const MAX_SHOWN = 64

const show = (value: unknown): string => {
  if (value === null || value === undefined) return "null"
  if (typeof value === "string") {
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}...` : value
    return `'${shown}'`
  }
  if (Array.isArray(value)) return `'[${value.length} items]'`
  if (typeof value === "object") return "'{...}'"
  return `'${String(value)}'`
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * A request that does not fit the model. `serialization` means a member has the wrong JSON type (AWS
 * cannot even deserialize it); otherwise the member breaks a constraint (AWS's "validation error").
 *
 * @internal
 */
export interface Violation {
  readonly path: string
  readonly value: unknown
  readonly constraint: string
  readonly serialization: boolean
}

const typeName = (shape: Shape): string => {
  switch (shape.type) {
    case "structure":
      return "structure"
    case "list":
      return "list"
    case "map":
      return "map"
    case "string":
      return "String"
    case "integer":
      return "Integer"
    case "long":
      return "Long"
    case "boolean":
      return "Boolean"
  }
}

const jsonKind = (value: unknown): string =>
  value === null
    ? "VALUE_NULL"
    : Array.isArray(value)
    ? "START_ARRAY"
    : typeof value === "object"
    ? "START_OBJECT"
    : typeof value === "string"
    ? "VALUE_STRING"
    : typeof value === "number"
    ? "VALUE_NUMBER"
    : typeof value === "boolean"
    ? "VALUE_BOOLEAN"
    : "UNKNOWN"

/** A bound of the model (`min`/`max`) on a member's length or value, with AWS's wording for each. */
const checkBounds = (
  shape: { readonly min?: number; readonly max?: number },
  measure: "length" | "value",
  n: number,
  path: string,
  value: unknown,
  out: Array<Violation>
): void => {
  if (shape.min !== undefined && n < shape.min) {
    out.push({
      path,
      value,
      constraint: `Member must have ${measure} greater than or equal to ${shape.min}`,
      serialization: false
    })
  }
  if (shape.max !== undefined && n > shape.max) {
    out.push({
      path,
      value,
      constraint: `Member must have ${measure} less than or equal to ${shape.max}`,
      serialization: false
    })
  }
}

const validateShape = (shapeName: string, value: unknown, path: string, out: Array<Violation>): void => {
  const shape = shapes[shapeName]
  if (shape === undefined) return
  const wrongType = () =>
    out.push({
      path,
      value,
      constraint: `${jsonKind(value)} can not be converted to ${typeName(shape)}`,
      serialization: true
    })
  switch (shape.type) {
    case "structure": {
      if (!isObject(value)) return void wrongType()
      if (shape.required !== undefined) {
        for (const name of shape.required) {
          const member = value[name]
          if (member === undefined || member === null) {
            out.push({
              path: path === "" ? name : `${path}.${name}`,
              value: null,
              constraint: "Member must not be null",
              serialization: false
            })
          }
        }
      }
      for (const name in value) {
        const member = value[name]
        const memberShape = shape.members[name]
        if (memberShape === undefined || member === null || member === undefined) continue
        validateShape(memberShape, member, path === "" ? name : `${path}.${name}`, out)
      }
      return
    }
    case "list": {
      if (!Array.isArray(value)) return void wrongType()
      checkBounds(shape, "length", value.length, path, value, out)
      // The hot path: PutLogEvents' events are checked in one tight loop.
      if (shape.member === "InputLogEvent") return validateEvents(value, path, out)
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i]
        if (item === null) continue
        validateShape(shape.member, item, `${path}.${i + 1}.member`, out)
      }
      return
    }
    case "map": {
      if (!isObject(value)) return void wrongType()
      const keys = Object.keys(value)
      checkBounds(shape, "length", keys.length, path, value, out)
      for (const key of keys) {
        validateShape(shape.key, key, `${path}.${key}.key`, out)
        const item = value[key]
        if (item !== null) validateShape(shape.value, item, `${path}.${key}.value`, out)
      }
      return
    }
    case "string": {
      if (typeof value !== "string") return void wrongType()
      checkBounds(shape, "length", value.length, path, value, out)
      if (shape.pattern !== undefined && !patternOf(shape.pattern).test(value)) {
        out.push({
          path,
          value,
          constraint: `Member must satisfy regular expression pattern: ${shape.pattern}`,
          serialization: false
        })
      }
      if (shape.enum !== undefined && !shape.enum.includes(value)) {
        out.push({
          path,
          value,
          constraint: `Member must satisfy enum value set: [${shape.enum.join(", ")}]`,
          serialization: false
        })
      }
      return
    }
    case "integer":
    case "long": {
      if (typeof value !== "number" || !Number.isFinite(value)) return void wrongType()
      if (!Number.isInteger(value)) {
        out.push({
          path,
          value,
          constraint: `VALUE_NUMBER_FLOAT can not be converted to ${typeName(shape)}`,
          serialization: true
        })
        return
      }
      checkBounds(shape, "value", value, path, value, out)
      return
    }
    case "boolean": {
      if (typeof value !== "boolean") return void wrongType()
      return
    }
  }
}

const validateEvents = (events: ReadonlyArray<unknown>, path: string, out: Array<Violation>): void => {
  for (let i = 0; i < events.length; i++) {
    const event: unknown = events[i]
    if (event === null) continue
    if (!isObject(event)) {
      validateShape("InputLogEvent", event, `${path}.${i + 1}.member`, out)
      continue
    }
    const timestamp = event["timestamp"]
    const message = event["message"]
    if (
      typeof message === "string" && message.length >= 1 && typeof timestamp === "number" &&
      Number.isInteger(timestamp) && timestamp >= 0
    ) continue
    validateShape("InputLogEvent", event, `${path}.${i + 1}.member`, out)
  }
}

/**
 * Checks a request body against the input shape of an operation. The first violation of a JSON type
 * wins (AWS fails deserialization before validation); constraint violations are all listed.
 *
 * @internal
 */
export const validateRequest = (operation: OperationName, body: unknown): WireError | undefined => {
  const out: Array<Violation> = []
  validateShape(operations[operation], body, "", out)
  if (out.length === 0) return undefined
  const serialization = out.find((v) => v.serialization)
  if (serialization !== undefined) {
    return wireError("SerializationException", serialization.constraint)
  }
  const shown = out.slice(0, 10)
  const count = out.length
  const head = `${count} validation error${count === 1 ? "" : "s"} detected: `
  const parts = shown.map((v) => `Value ${show(v.value)} at '${v.path}' failed to satisfy constraint: ${v.constraint}`)
  return wireError("InvalidParameterException", head + parts.join("; "))
}

/**
 * Parses a request body: an empty body is an empty structure, anything else must be a JSON object.
 *
 * @internal
 */
export const parseBody = (text: string): { readonly ok: true; readonly value: unknown } | {
  readonly ok: false
  readonly error: WireError
} => {
  if (text.trim() === "") return { ok: true, value: {} }
  try {
    const value: unknown = JSON.parse(text)
    if (!isObject(value)) {
      return {
        ok: false,
        error: wireError("SerializationException", "Start of structure or map found where not expected.")
      }
    }
    return { ok: true, value }
  } catch {
    return { ok: false, error: wireError("SerializationException", "Unable to parse the request body as JSON.") }
  }
}

/**
 * The JSON body of an error response.
 *
 * @internal
 */
export const errorBody = (error: WireError): string =>
  JSON.stringify({ __type: error.name, message: error.message, ...(error.extra ?? {}) })
