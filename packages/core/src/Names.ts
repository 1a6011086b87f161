/**
 * The naming rules of log groups and log streams, and the retention periods a group may have, as pure
 * checks.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { InvalidParameterException } from "./CloudWatchLogsError.js"
import { RETENTION_DAYS } from "./Limits.js"

const GROUP_PATTERN = /^[.\-_/#A-Za-z0-9]+$/
const STREAM_FORBIDDEN = /[:*]/

/**
 * Longest group or stream name.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_NAME_LENGTH = 512

/**
 * Checks a log group name: 1–512 characters of `[.\-_/#A-Za-z0-9]`.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateLogGroupName = (name: string): Either.Either<string, InvalidParameterException> => {
  if (typeof name !== "string" || name.length < 1 || name.length > MAX_NAME_LENGTH) {
    return Either.left(
      new InvalidParameterException({
        message: `1 validation error detected: Value '${
          String(name)
        }' at 'logGroupName' failed to satisfy constraint: Member must have length between 1 and ${MAX_NAME_LENGTH}`,
        rule: "InvalidLogGroupName"
      })
    )
  }
  if (!GROUP_PATTERN.test(name)) {
    return Either.left(
      new InvalidParameterException({
        message:
          `1 validation error detected: Value '${name}' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+`,
        rule: "InvalidLogGroupName"
      })
    )
  }
  return Either.right(name)
}

/**
 * Checks a log stream name: 1–512 characters, none of them `:` or `*`.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateLogStreamName = (name: string): Either.Either<string, InvalidParameterException> => {
  if (typeof name !== "string" || name.length < 1 || name.length > MAX_NAME_LENGTH) {
    return Either.left(
      new InvalidParameterException({
        message: `1 validation error detected: Value '${
          String(name)
        }' at 'logStreamName' failed to satisfy constraint: Member must have length between 1 and ${MAX_NAME_LENGTH}`,
        rule: "InvalidLogStreamName"
      })
    )
  }
  if (STREAM_FORBIDDEN.test(name)) {
    return Either.left(
      new InvalidParameterException({
        message:
          `1 validation error detected: Value '${name}' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*`,
        rule: "InvalidLogStreamName"
      })
    )
  }
  return Either.right(name)
}

/**
 * Checks a retention period: one of the days PutRetentionPolicy accepts (`Limits.RETENTION_DAYS`), or
 * none.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateRetention = (
  retentionInDays: number | undefined
): Either.Either<number | undefined, InvalidParameterException> =>
  retentionInDays === undefined || RETENTION_DAYS.includes(retentionInDays)
    ? Either.right(retentionInDays)
    : Either.left(
      new InvalidParameterException({
        message: `1 validation error detected: Value '${
          String(retentionInDays)
        }' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [${
          RETENTION_DAYS.join(", ")
        }]`,
        rule: "InvalidRetention"
      })
    )

/**
 * Checks a destination: both names, and its retention period if it has one.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateDestination = <
  D extends {
    readonly logGroupName: string
    readonly logStreamName: string
    readonly retentionInDays?: number | undefined
  }
>(
  destination: D
): Either.Either<D, InvalidParameterException> =>
  Either.flatMap(
    validateLogGroupName(destination.logGroupName),
    () =>
      Either.flatMap(
        validateLogStreamName(destination.logStreamName),
        () => Either.map(validateRetention(destination.retentionInDays), () => destination)
      )
  )
