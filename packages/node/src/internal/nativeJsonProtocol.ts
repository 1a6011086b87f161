/**
 * The SDK's JSON 1.1 protocol, with PutLogEvents bodies written by the runtime's native JSON
 * serializer.
 *
 * The SDK writes every JSON body with a serializer in JavaScript that walks the request's schema and
 * copies each string character by character into a growing buffer: for a full batch (10,000 events or
 * 1 MiB) that is most of the CPU a PutLogEvents costs the client. `JSON.stringify` produces the same
 * JSON (the same members, the same escapes of quotes, backslashes, control characters and lone
 * surrogates) natively. Everything else about the request (endpoint, headers, target, signing) is the
 * SDK's own: the request is built by the SDK from the input without its events, then given this body.
 * Every other operation goes through the SDK's serializer unchanged.
 *
 * @internal
 */
import { AwsJson1_1Protocol } from "@aws-sdk/core/protocols"
import { bodyPool } from "./bodyPool.js"

type SerializeRequest = AwsJson1_1Protocol["serializeRequest"]
type OperationSchema = Parameters<SerializeRequest>[0]
type Context = Parameters<SerializeRequest>[2]
type HttpRequest = Awaited<ReturnType<SerializeRequest>>

/** The members of a PutLogEvents input this body writes (the SDK's model has no others). */
interface PutLogEventsInput {
  readonly logGroupName: string
  readonly logStreamName: string
  readonly logEvents: ReadonlyArray<unknown>
  readonly sequenceToken?: unknown
  readonly entity?: unknown
}

const isPutLogEventsInput = (input: object): input is PutLogEventsInput =>
  "logGroupName" in input && typeof input.logGroupName === "string" &&
  "logStreamName" in input && typeof input.logStreamName === "string" &&
  "logEvents" in input && Array.isArray(input.logEvents)

/** Only these members of an event are written, whatever else the objects carry. */
const EVENT_MEMBERS = ["timestamp", "message"]

/** The members of an `Entity`, in the model's order; their maps are written whole. */
const entityJson = (entity: object): string => {
  const keyAttributes = "keyAttributes" in entity ? entity.keyAttributes : undefined
  const attributes = "attributes" in entity ? entity.attributes : undefined
  return JSON.stringify({ keyAttributes, attributes })
}

/**
 * The JSON body of a PutLogEvents request: the same document the SDK's serializer writes (members
 * absent when `undefined`), as UTF-8 bytes: a full batch's in one of `bodyPool`'s reusable buffers.
 *
 * @internal
 */
export const putLogEventsBody = (input: PutLogEventsInput): Uint8Array => {
  let json = `{"logGroupName":${JSON.stringify(input.logGroupName)},"logStreamName":${
    JSON.stringify(input.logStreamName)
  },"logEvents":${JSON.stringify(input.logEvents, EVENT_MEMBERS)}`
  if (input.sequenceToken !== undefined && input.sequenceToken !== null) {
    json += `,"sequenceToken":${JSON.stringify(input.sequenceToken)}`
  }
  if (typeof input.entity === "object" && input.entity !== null) json += `,"entity":${entityJson(input.entity)}`
  return bodyPool.encode(json + "}")
}

/**
 * `AwsJson1_1Protocol` whose PutLogEvents bodies are written natively (see the module's comment). Pass
 * the class as the client's `protocol`: the client constructs it with its own protocol settings.
 *
 * @internal
 */
export class NativeJsonProtocol extends AwsJson1_1Protocol {
  override async serializeRequest<Input extends object>(
    operationSchema: OperationSchema,
    input: Input,
    context: Context
  ): Promise<HttpRequest> {
    if (operationSchema.name !== "PutLogEvents" || !isPutLogEventsInput(input)) {
      return super.serializeRequest(operationSchema, input, context)
    }
    const request = await super.serializeRequest(operationSchema, {
      logGroupName: input.logGroupName,
      logStreamName: input.logStreamName,
      logEvents: []
    }, context)
    request.body = putLogEventsBody(input)
    return request
  }
}
