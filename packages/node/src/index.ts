/**
 * @cwlogs/node: the AWS SDK v3 adapter, file-backed stores and the `cwlogs` CLI.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as NodeCloudWatchLogs from "./NodeCloudWatchLogs.js"

/** @since 0.1.0 */
export * as FileSequenceTokenStore from "./FileSequenceTokenStore.js"

/** @since 0.1.0 */
export * as Cli from "./Cli.js"
