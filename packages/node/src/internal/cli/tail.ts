/**
 * `cwlogs tail`: the events of a group (or one stream), page after page, and with `follow` the new ones
 * as they arrive.
 *
 * @internal
 */
import { CloudWatchLogsApi } from "@cwlogs/core"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/** @internal */
export interface TailOptions {
  readonly logGroupName: string
  readonly logStreamName?: string | undefined
  readonly filterPattern?: string | undefined
  readonly startTime?: number | undefined
  readonly follow: boolean
  /** Whether to stop following (checked between polls). */
  readonly stopped: Effect.Effect<boolean>
  readonly pollEvery?: Duration.DurationInput | undefined
  /** Events per request (the service's default when unset). */
  readonly pageSize?: number | undefined
}

/** @internal */
export interface TailEvent {
  readonly logStreamName: string
  readonly timestamp: number
  readonly message: string
}

type State =
  | { readonly _tag: "Get"; readonly nextToken: string | undefined; readonly atEnd: boolean }
  | {
    readonly _tag: "Filter"
    readonly nextToken: string | undefined
    readonly startTime: number | undefined
    readonly lastTimestamp: number | undefined
    readonly seenAtLast: ReadonlySet<string>
    readonly atEnd: boolean
  }

const eventKey = (e: CloudWatchLogsApi.FilteredLogEvent): string =>
  e.eventId !== "" ? e.eventId : `${e.logStreamName}\u0000${e.timestamp}\u0000${e.message}`

/**
 * The events, oldest first. Without `follow` the stream ends after the last page.
 *
 * @internal
 */
export const events = (
  options: TailOptions
): Stream.Stream<TailEvent, CloudWatchLogsApi.ReadError, CloudWatchLogsApi.CloudWatchLogsApi> =>
  Stream.unwrap(Effect.map(CloudWatchLogsApi.CloudWatchLogsApi, (api) => {
    const pollEvery = options.pollEvery ?? Duration.seconds(1)
    const logStreamName = options.logStreamName
    const initial: State = logStreamName !== undefined && options.filterPattern === undefined
      ? { _tag: "Get", nextToken: undefined, atEnd: false }
      : {
        _tag: "Filter",
        nextToken: undefined,
        startTime: options.startTime,
        lastTimestamp: undefined,
        seenAtLast: new Set(),
        atEnd: false
      }

    // at the end of what is there: stop, or wait and look again
    const atEnd = <S extends State>(state: S): Effect.Effect<Option.Option<S>> =>
      !options.follow
        ? Effect.succeedNone
        : Effect.flatMap(options.stopped, (stopped) =>
          stopped ? Effect.succeedNone : Effect.as(Effect.sleep(pollEvery), Option.some(state)))

    const step = (
      state: State
    ): Effect.Effect<Option.Option<readonly [Chunk.Chunk<TailEvent>, State]>, CloudWatchLogsApi.ReadError> => {
      if (state._tag === "Get" && logStreamName !== undefined) {
        const request = {
          logGroupName: options.logGroupName,
          logStreamName,
          startFromHead: true,
          ...(options.pageSize !== undefined ? { limit: options.pageSize } : {}),
          ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
          ...(state.nextToken !== undefined ? { nextToken: state.nextToken } : {})
        }
        return Effect.gen(function*() {
          if (state.atEnd) {
            const again = yield* atEnd(state)
            if (Option.isNone(again)) return Option.none()
          }
          const page = yield* api.getLogEvents(request)
          const next = page.nextForwardToken
          const reachedEnd = next === undefined || next === state.nextToken || page.events.length === 0
          const out = Chunk.fromIterable(
            page.events.map((e) => ({ logStreamName, timestamp: e.timestamp, message: e.message }))
          )
          if (reachedEnd && !options.follow && out.length === 0) return Option.none()
          return Option.some([out, { _tag: "Get", nextToken: next ?? state.nextToken, atEnd: reachedEnd }] as const)
        })
      }
      if (state._tag !== "Filter") return Effect.succeedNone
      return Effect.gen(function*() {
        if (state.atEnd) {
          const again = yield* atEnd(state)
          if (Option.isNone(again)) return Option.none()
        }
        const page = yield* api.filterLogEvents({
          logGroupName: options.logGroupName,
          ...(logStreamName !== undefined ? { logStreamNames: [logStreamName] } : {}),
          ...(options.filterPattern !== undefined ? { filterPattern: options.filterPattern } : {}),
          ...(options.pageSize !== undefined ? { limit: options.pageSize } : {}),
          ...(state.startTime !== undefined ? { startTime: state.startTime } : {}),
          ...(state.nextToken !== undefined ? { nextToken: state.nextToken } : {})
        })
        // when following, a new query starts at the last timestamp seen: skip the events already printed
        const requery = state.nextToken === undefined && state.lastTimestamp !== undefined
        const fresh = !requery ?
          page.events :
          page.events.filter((e) =>
            state.lastTimestamp === undefined || e.timestamp > state.lastTimestamp ||
            (e.timestamp === state.lastTimestamp && !state.seenAtLast.has(eventKey(e)))
          )
        let lastTimestamp = state.lastTimestamp
        let seenAtLast = new Set(state.seenAtLast)
        for (const e of fresh) {
          if (lastTimestamp === undefined || e.timestamp > lastTimestamp) {
            lastTimestamp = e.timestamp
            seenAtLast = new Set()
          }
          if (e.timestamp === lastTimestamp) seenAtLast.add(eventKey(e))
        }
        const out = Chunk.fromIterable(
          fresh.map((e) => ({ logStreamName: e.logStreamName, timestamp: e.timestamp, message: e.message }))
        )
        const more = page.nextToken !== undefined && page.nextToken !== state.nextToken
        if (!more && !options.follow && out.length === 0) return Option.none()
        const next: State = more
          ? { ...state, nextToken: page.nextToken, lastTimestamp, seenAtLast, atEnd: false }
          : {
            _tag: "Filter",
            nextToken: undefined,
            startTime: lastTimestamp ?? state.startTime,
            lastTimestamp,
            seenAtLast,
            atEnd: true
          }
        return Option.some([out, next] as const)
      })
    }

    return Stream.unfoldChunkEffect(initial, step)
  }))

/**
 * One printed line: the message alone (`raw`), or an ISO time, the stream (when several may appear)
 * and the message.
 *
 * @internal
 */
export const format = (event: TailEvent, options: { readonly raw: boolean; readonly showStream: boolean }): string =>
  options.raw
    ? event.message
    : `${new Date(event.timestamp).toISOString()} ${
      options.showStream ? `${event.logStreamName} ` : ""
    }${event.message}`
