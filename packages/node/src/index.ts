/**
 * @cwlogs/node: the AWS SDK v3 adapter and the file-backed token store.
 *
 * The `cwlogs` command line is not here: it is `@cwlogs/node/Cli`, so that an application that only
 * ships logs does not load `@effect/cli` and `@effect/platform-node` (about 9 MB of heap and 45 MiB of
 * resident memory at start, measured in `docs/benchmarks.md`).
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as NodeCloudWatchLogs from "./NodeCloudWatchLogs.js"

/** @since 0.1.0 */
export * as FileSequenceTokenStore from "./FileSequenceTokenStore.js"
