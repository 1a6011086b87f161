/**
 * The CLI's failures and their one-line descriptions (no stack traces).
 *
 * @internal
 */
import type { CloudWatchLogsError } from "@cwlogs/core"
import * as Data from "effect/Data"

/**
 * A failure of a CLI command: what to print (one line, without the `cwlogs:` prefix) and the exit
 * status. `printed` means the details are already on stderr (the summary of a ship).
 *
 * @internal
 */
export class CliError extends Data.TaggedError("CliError")<{
  readonly message: string
  readonly exitCode: number
}> {}

/** @internal */
export const EXIT_OK = 0
/** @internal Some lines were not delivered, or the service refused a request. */
export const EXIT_FAILED = 1
/** @internal Bad arguments. */
export const EXIT_USAGE = 2
/** @internal The endpoint could not be reached, or the credentials were refused. */
export const EXIT_UNAVAILABLE = 3

const REASONS: Readonly<Record<CloudWatchLogsError.NetworkError["reason"], string>> = {
  refused: "connection refused",
  reset: "connection reset",
  timeout: "timed out",
  dns: "host not found",
  credentials: "the AWS credentials could not be refreshed",
  other: "the request did not complete"
}

/**
 * The sentence for a service error, with a hint where one helps.
 *
 * @internal
 */
export const describeServiceError = (
  error: CloudWatchLogsError.CloudWatchLogsError,
  context: { readonly endpoint: string }
): CliError => {
  switch (error._tag) {
    case "NetworkError":
      return new CliError({
        message: error.reason === "credentials"
          ? error.message
          : `cannot reach ${context.endpoint}: ${REASONS[error.reason]}`,
        exitCode: EXIT_UNAVAILABLE
      })
    case "UnrecognizedClientException":
    case "InvalidSignatureException":
      return new CliError({
        message: /No usable AWS credentials/.test(error.message)
          ? "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
          : `the credentials were refused: ${error.message}`,
        exitCode: EXIT_UNAVAILABLE
      })
    case "AccessDeniedException":
      return new CliError({ message: `access denied: ${error.message}`, exitCode: EXIT_FAILED })
    case "ResourceNotFoundException":
      return new CliError({ message: error.message, exitCode: EXIT_FAILED })
    case "InvalidParameterException":
      return new CliError({ message: `refused by CloudWatch Logs: ${error.message}`, exitCode: EXIT_FAILED })
    case "MalformedResponseError":
      return new CliError({
        message: `${context.endpoint} does not answer like CloudWatch Logs (${error.message})`,
        exitCode: EXIT_UNAVAILABLE
      })
    case "ThrottlingException":
    case "ServiceUnavailableException":
    case "OperationAbortedException":
      return new CliError({
        message: `CloudWatch Logs is unavailable (${error._tag}): ${error.message}`,
        exitCode: EXIT_UNAVAILABLE
      })
    case "UnknownServiceError":
      return new CliError({
        message: error.errorName === "MissingRegion"
          ? "no AWS region: set AWS_REGION or pass --region"
          : `${error.errorName}: ${error.message}`,
        exitCode: EXIT_FAILED
      })
    default:
      return new CliError({ message: `${error._tag}: ${error.message}`, exitCode: EXIT_FAILED })
  }
}
