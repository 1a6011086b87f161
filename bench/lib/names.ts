/**
 * The names and dummy credentials every process of the harness agrees on. No imports: a contender
 * that needs only these does not load the AWS SDK into its child for them.
 *
 * @since 0.1.0
 */

/**
 * Dummy credentials: the emulator checks the signature's shape, not the key.
 *
 * @since 0.1.0
 * @category constants
 */
export const CREDENTIALS = { accessKeyId: "AKIDBENCHMARK", secretAccessKey: "bench-secret" } as const

/**
 * @since 0.1.0
 * @category constants
 */
export const REGION = "us-east-1"

/**
 * The stream names of a job: one stream, or `<prefix>-<n>` for n in 0..streams-1.
 *
 * @since 0.1.0
 * @category setup
 */
export const streamNames = (logStreamName: string, streams: number): Array<string> =>
  streams <= 1 ? [logStreamName] : Array.from({ length: streams }, (_, n) => `${logStreamName}-${n}`)
