/**
 * Where events go: a log group and a log stream, and what the library may do to make them exist.
 *
 * @since 0.1.0
 */

/**
 * A destination. By default a missing group or stream is created on the first ResourceNotFound (never
 * before: no CreateLogGroup at every start), and a retention policy is applied when a group is created.
 *
 * @since 0.1.0
 * @category models
 */
export interface Destination {
  readonly logGroupName: string
  readonly logStreamName: string
  /** Create the log group when it is missing (default `true`). */
  readonly createGroup?: boolean | undefined
  /** Create the log stream when it is missing (default `true`). */
  readonly createStream?: boolean | undefined
  /**
   * Retention applied to a group this library creates (not to one found there already, made meanwhile by
   * another writer; but a group found there after an attempt whose answer was lost counts as its own). The destinations of one uploader naming a group share its creation: the retention of
   * the one that creates it is set, so give them one. While the new group is not visible yet (ResourceNotFound),
   * PutRetentionPolicy is sent again under the `notFound` schedule; past it, the events are still sent, the
   * group keeps no retention, and a warning is logged.
   */
  readonly retentionInDays?: number | undefined
}

/**
 * Builds a destination.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  logGroupName: string,
  logStreamName: string,
  options?: Omit<Destination, "logGroupName" | "logStreamName">
): Destination => ({ ...options, logGroupName, logStreamName })

/**
 * A string key that identifies a destination (group and stream), for maps.
 *
 * @since 0.1.0
 * @category keys
 */
export const key = (destination: Pick<Destination, "logGroupName" | "logStreamName">): string =>
  `${destination.logGroupName}\u0000${destination.logStreamName}`

/**
 * `group/stream`, for people.
 *
 * @since 0.1.0
 * @category keys
 */
export const show = (destination: Pick<Destination, "logGroupName" | "logStreamName">): string =>
  `${destination.logGroupName}:${destination.logStreamName}`
