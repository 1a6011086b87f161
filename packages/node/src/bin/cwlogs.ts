#!/usr/bin/env node
/**
 * The `cwlogs` command: `cwlogs ship ...`, `cwlogs tail ...` (see `cwlogs --help`).
 *
 * @since 0.1.0
 */
// The AWS SDK warns once per process about Node versions; it is noise on a command's stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"
// `cwlogs tail ... | head` closes stdout early: that is not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
})

const { runMain } = await import("../Cli.js")
runMain()
