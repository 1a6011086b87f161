/**
 * AWS Signature Version 4 verification (header form), with node:crypto: the canonical request, the
 * string to sign and the HMAC chain, checked against the `Authorization` header.
 *
 * @internal
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto"
import { type WireError, wireError } from "./wire.js"

/** @internal */
export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

/** @internal */
export interface SignedRequest {
  readonly method: string
  /** The request target as received: path and query. */
  readonly url: string
  /** Header values by lower-case name (as node:http gives them). */
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  readonly body: Buffer
}

interface Authorization {
  readonly accessKeyId: string
  readonly scope: string
  readonly date: string
  readonly region: string
  readonly service: string
  readonly signedHeaders: ReadonlyArray<string>
  readonly signature: string
}

const ALGORITHM = "AWS4-HMAC-SHA256"

const parseAuthorization = (header: string): Authorization | undefined => {
  if (!header.startsWith(`${ALGORITHM} `)) return undefined
  const fields = new Map<string, string>()
  for (const part of header.slice(ALGORITHM.length + 1).split(",")) {
    const eq = part.indexOf("=")
    if (eq < 0) continue
    fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim())
  }
  const credential = fields.get("Credential")
  const signedHeaders = fields.get("SignedHeaders")
  const signature = fields.get("Signature")
  if (credential === undefined || signedHeaders === undefined || signature === undefined) return undefined
  const parts = credential.split("/")
  if (parts.length < 5) return undefined
  const service = parts[parts.length - 2]
  const region = parts[parts.length - 3]
  const date = parts[parts.length - 4]
  const accessKeyId = parts.slice(0, parts.length - 4).join("/")
  if (service === undefined || region === undefined || date === undefined) return undefined
  return {
    accessKeyId,
    scope: parts.slice(parts.length - 4).join("/"),
    date,
    region,
    service,
    signedHeaders: signedHeaders.split(";"),
    signature
  }
}

const hex = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex")
const hmac = (key: string | Buffer, data: string): Buffer => createHmac("sha256", key).update(data, "utf8").digest()

const encode = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

const canonicalPath = (path: string): string => {
  if (path === "") return "/"
  // JSON 1.1 requests go to "/"; other paths are normalised segment by segment (decoded, then encoded).
  return path.split("/").map((segment) => {
    try {
      return encode(decodeURIComponent(segment))
    } catch {
      return encode(segment)
    }
  }).join("/")
}

const canonicalQuery = (query: string): string => {
  if (query === "") return ""
  const pairs = query.split("&").filter((p) => p !== "").map((p) => {
    const eq = p.indexOf("=")
    const key = eq < 0 ? p : p.slice(0, eq)
    const value = eq < 0 ? "" : p.slice(eq + 1)
    const dec = (s: string) => {
      try {
        return decodeURIComponent(s.replace(/\+/g, " "))
      } catch {
        return s
      }
    }
    return [encode(dec(key)), encode(dec(value))] as const
  })
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
  return pairs.map(([k, v]) => `${k}=${v}`).join("&")
}

/**
 * A header's value by lower-case name, trimmed, with runs of spaces folded. Own properties only: a signed
 * header named `constructor` or `__proto__` is absent, not a member of `Object.prototype`.
 */
const headerValue = (headers: SignedRequest["headers"], name: string): string => {
  if (!Object.prototype.hasOwnProperty.call(headers, name)) return ""
  const value = headers[name]
  const joined = value === undefined ? "" : typeof value === "string" ? value : value.join(",")
  return joined.trim().replace(/\s+/g, " ")
}

/**
 * The signature a request should carry, given the secret key and the signing parameters it declares.
 *
 * @internal
 */
export const expectedSignature = (
  request: SignedRequest,
  secretAccessKey: string,
  auth: {
    readonly date: string
    readonly region: string
    readonly service: string
    readonly signedHeaders: ReadonlyArray<string>
  }
): string => {
  const q = request.url.indexOf("?")
  const path = q < 0 ? request.url : request.url.slice(0, q)
  const query = q < 0 ? "" : request.url.slice(q + 1)
  const canonicalHeaders = auth.signedHeaders.map((name) => `${name}:${headerValue(request.headers, name)}\n`).join("")
  const declaredHash = request.headers["x-amz-content-sha256"]
  const payloadHash = typeof declaredHash === "string" && declaredHash !== "UNSIGNED-PAYLOAD"
    ? declaredHash
    : hex(request.body)
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(path),
    canonicalQuery(query),
    canonicalHeaders,
    auth.signedHeaders.join(";"),
    payloadHash
  ].join("\n")
  const amzDate = headerValue(request.headers, "x-amz-date") || headerValue(request.headers, "date")
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`
  const stringToSign = [ALGORITHM, amzDate, scope, hex(canonicalRequest)].join("\n")
  const kDate = hmac(`AWS4${secretAccessKey}`, auth.date)
  const kRegion = hmac(kDate, auth.region)
  const kService = hmac(kRegion, auth.service)
  const kSigning = hmac(kService, "aws4_request")
  return createHmac("sha256", kSigning).update(stringToSign, "utf8").digest("hex")
}

/**
 * Verifies a request against the one accepted key pair. `undefined` when it is signed right.
 *
 * @internal
 */
export const verify = (request: SignedRequest, credentials: Credentials): WireError | undefined => {
  const header = headerValue(request.headers, "authorization")
  if (header === "") {
    return wireError("MissingAuthenticationTokenException", "Missing Authentication Token")
  }
  const auth = parseAuthorization(header)
  if (auth === undefined) {
    return wireError(
      "IncompleteSignatureException",
      `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${header}`
    )
  }
  if (auth.accessKeyId !== credentials.accessKeyId) {
    return wireError("UnrecognizedClientException", "The security token included in the request is invalid.")
  }
  if (!auth.signedHeaders.includes("host")) {
    return wireError("InvalidSignatureException", "'Host' must be a signed header.")
  }
  const declaredHash = request.headers["x-amz-content-sha256"]
  if (typeof declaredHash === "string" && declaredHash !== "UNSIGNED-PAYLOAD" && declaredHash !== hex(request.body)) {
    return wireError(
      "InvalidSignatureException",
      "The provided 'x-amz-content-sha256' header does not match what was computed."
    )
  }
  const expected = expectedSignature(request, credentials.secretAccessKey, auth)
  const given = Buffer.from(auth.signature, "utf8")
  const wanted = Buffer.from(expected, "utf8")
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    return wireError(
      "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )
  }
  return undefined
}
