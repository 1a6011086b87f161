/**
 * @since 0.1.0
 */
/** @since 0.1.0 */
export * as TestCloudWatchLogs from "./TestCloudWatchLogs.js"
/** @since 0.1.0 */
export * as Emulator from "./Emulator.js"
