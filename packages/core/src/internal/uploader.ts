import * as Effect from "effect/Effect"
import { CloudWatchLogsApi } from "../CloudWatchLogsApi.js"
import type { Destination } from "../Destination.js"
import * as LogEvent from "../LogEvent.js"
import { RetryPolicy } from "../RetryPolicy.js"
import { SequenceTokenStore } from "../SequenceTokenStore.js"
import type { Options, UploaderShape } from "../Uploader.js"
import { UploadError } from "../Uploader.js"
import { UploadRateLimiter } from "../UploadRateLimiter.js"

// First version: one put, no retry. The full protocol follows.
/** @internal */
export const make = (
  _options: Options = {}
): Effect.Effect<UploaderShape, never, CloudWatchLogsApi | SequenceTokenStore | UploadRateLimiter | RetryPolicy> =>
  Effect.gen(function*() {
    const api = yield* CloudWatchLogsApi
    const limiter = yield* UploadRateLimiter
    yield* SequenceTokenStore
    yield* RetryPolicy
    const upload = (destination: Destination, batch: ReadonlyArray<LogEvent.LogEvent>) =>
      api.putLogEvents({
        logGroupName: destination.logGroupName,
        logStreamName: destination.logStreamName,
        logEvents: batch
      }).pipe(
        limiter.withPermit(destination, "putLogEvents"),
        Effect.map(() => ({
          accepted: batch.length,
          rejected: [],
          retries: 0,
          possibleDuplicates: 0,
          bytes: batch.reduce((n, e) => n + LogEvent.size(e), 0)
        })),
        Effect.mapError((cause) =>
          new UploadError({ destination, events: batch, cause, reason: "Fatal", message: cause.message })
        )
      )
    return { upload }
  })
