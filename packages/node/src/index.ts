/**
 * @cwlogs/node: the AWS SDK v3 adapter.
 *
 * The rest has subpaths of its own, so that an application that only ships logs does not load what it
 * does not use: `@cwlogs/node/DurableSpool` (the write-ahead spool and the durable logger),
 * `@cwlogs/node/FileSequenceTokenStore` (on `@effect/platform`'s `KeyValueStore`, which
 * brings `Schema`: ~5 MB of heap) and `@cwlogs/node/Cli` (`@effect/cli`, `@effect/platform-node`: ~9 MB
 * of heap, ~45 MiB of resident memory). See `docs/node.md`.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as NodeCloudWatchLogs from "./NodeCloudWatchLogs.js"
