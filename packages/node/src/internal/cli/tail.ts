/**
 * `cwlogs tail`: the events of a group (or one stream), page after page, and with `follow` the new ones
 * as they arrive.
 *
 * @internal
 */
import { CloudWatchLogsApi, CloudWatchLogsError } from "@cwlogs/core"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
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
  /** Following: how far back every `DEEP_EVERY`-th query looks (default `LOOKBACK_MILLIS`). */
  readonly lookbackMillis?: number | undefined
  /** Following: how far back the other queries look (default `RECENT_LOOKBACK_MILLIS`, at most `lookbackMillis`). */
  readonly recentLookbackMillis?: number | undefined
}

/**
 * Following (a group, a filter or one stream), every `DEEP_EVERY`-th query starts this long before the
 * newest event printed, and the events already printed are skipped (by id): an event stored after a newer
 * one was printed (another writer's linger or retries, a `--timestamp-prefix` time) is printed as long as
 * its timestamp is within this of the newest. The ids of the events printed in that window are kept, no
 * older ones.
 *
 * @internal
 */
export const LOOKBACK_MILLIS = 60_000

/**
 * Following, the other queries start this long before the newest event printed: an event stored late by
 * up to this (a shipper's linger: cwlogs' is 1 s, the CloudWatch agent's 5 s) is printed at the next poll,
 * a later one at the next deep query. Each poll re-reads what is this recent, not the whole
 * `LOOKBACK_MILLIS`: on a busy group (1,000 events a second) a query of 60 s is 60,000 events, a dozen
 * pages a second, more than FilterLogEvents' quota of requests allows.
 *
 * @internal
 */
export const RECENT_LOOKBACK_MILLIS = 5_000

/**
 * Following, one query in this many (one every 10 s at one poll a second) looks back the whole
 * `LOOKBACK_MILLIS`.
 *
 * @internal
 */
export const DEEP_EVERY = 10

/**
 * Without `follow`, a throttled or transient request (`CloudWatchLogsError.classify`) is retried this
 * many times in a row before its error ends the tail; with `follow`, until it succeeds or a stop.
 *
 * @internal
 */
export const READ_RETRIES = 5

/**
 * The delays between those retries: exponential from 200 ms, capped at 5 s, each jittered to 80%..120%
 * (so at most 6 s apart).
 *
 * @internal
 */
export const readBackoff: Schedule.Schedule<unknown> = Schedule.exponential("200 millis").pipe(
  Schedule.either(Schedule.spaced("5 seconds")),
  Schedule.jittered,
  Schedule.asVoid
)

const retryable = (error: CloudWatchLogsApi.ReadError): boolean => {
  const kind = CloudWatchLogsError.classify(error)
  return kind === "throttled" || kind === "transient"
}

/** @internal */
export interface TailEvent {
  readonly logStreamName: string
  readonly timestamp: number
  readonly message: string
}

/**
 * Reading one stream (`GetLogEvents`), the end is when the same forward token comes back (AWS's API
 * reference); an empty page with a new token is not the end (AWS answers such pages where the stream
 * has no events for a while). This many empty pages in a row count as the end all the same, so that a
 * service that never repeats its token cannot keep the tail reading nothing.
 *
 * @internal
 */
export const MAX_EMPTY_PAGES = 1_000

type State =
  | {
    readonly _tag: "Get"
    readonly nextToken: string | undefined
    readonly atEnd: boolean
    /** Empty pages in a row. */
    readonly empty: number
  }
  | {
    readonly _tag: "Filter"
    readonly nextToken: string | undefined
    readonly startTime: number | undefined
    readonly atEnd: boolean
  }

const eventKey = (e: CloudWatchLogsApi.FilteredLogEvent): string =>
  e.eventId !== "" ? e.eventId : `${e.logStreamName}\u0000${e.timestamp}\u0000${e.message}`

/**
 * The events, oldest first (following, an event stored late comes when seen). Without `follow` the stream
 * ends after the last page.
 *
 * @internal
 */
export const events = (
  options: TailOptions
): Stream.Stream<TailEvent, CloudWatchLogsApi.ReadError, CloudWatchLogsApi.CloudWatchLogsApi> =>
  Stream.unwrap(Effect.map(CloudWatchLogsApi.CloudWatchLogsApi, (api) => {
    const pollEvery = options.pollEvery ?? Duration.seconds(1)
    const logStreamName = options.logStreamName
    // following one stream reads it like a group (FilterLogEvents, look-back and dedupe): GetLogEvents'
    // forward token would skip an event stored after a newer one (two writers on the stream)
    const initial: State = logStreamName !== undefined && options.filterPattern === undefined && !options.follow
      ? { _tag: "Get", nextToken: undefined, atEnd: false, empty: 0 }
      : { _tag: "Filter", nextToken: undefined, startTime: options.startTime, atEnd: false }
    const lookback = options.lookbackMillis ?? LOOKBACK_MILLIS
    const recent = Math.min(options.recentLookbackMillis ?? RECENT_LOOKBACK_MILLIS, lookback)
    /** Following: the queries started after reaching the end of what was there (each `DEEP_EVERY`-th is deep). */
    let polls = 0
    /** Following: the events printed within `lookback` of the newest (by key, with their timestamp). */
    const printed = new Map<string, number>()
    let newest: number | undefined

    // at the end of what is there: stop, or wait and look again
    const atEnd = <S extends State>(state: S): Effect.Effect<Option.Option<S>> =>
      !options.follow
        ? Effect.succeedNone
        : Effect.flatMap(options.stopped, (stopped) =>
          stopped ? Effect.succeedNone : Effect.as(Effect.sleep(pollEvery), Option.some(state)))

    /**
     * One request, its throttled or transient failures retried (`readBackoff`): `READ_RETRIES` times, or
     * following, until a stop (then `None`).
     */
    const request = <A>(
      call: Effect.Effect<A, CloudWatchLogsApi.ReadError>
    ): Effect.Effect<Option.Option<A>, CloudWatchLogsApi.ReadError> =>
      options.follow
        ? call.pipe(
          Effect.map(Option.some),
          Effect.retry({
            schedule: Schedule.checkEffect(readBackoff, () => Effect.map(options.stopped, (stopped) => !stopped)),
            while: retryable
          }),
          Effect.catchIf(
            retryable,
            (error) => Effect.flatMap(options.stopped, (stopped) => stopped ? Effect.succeedNone : Effect.fail(error))
          )
        )
        : call.pipe(
          Effect.map(Option.some),
          Effect.retry({ schedule: Schedule.intersect(readBackoff, Schedule.recurs(READ_RETRIES)), while: retryable })
        )

    const step = (
      state: State
    ): Effect.Effect<Option.Option<readonly [Chunk.Chunk<TailEvent>, State]>, CloudWatchLogsApi.ReadError> => {
      if (state._tag === "Get" && logStreamName !== undefined) {
        const getRequest = {
          logGroupName: options.logGroupName,
          logStreamName,
          startFromHead: true,
          ...(options.pageSize !== undefined ? { limit: options.pageSize } : {}),
          ...(options.startTime !== undefined ? { startTime: options.startTime } : {}),
          ...(state.nextToken !== undefined ? { nextToken: state.nextToken } : {})
        }
        return Effect.gen(function*() {
          if (state.atEnd) return Option.none()
          const answer = yield* request(api.getLogEvents(getRequest))
          if (Option.isNone(answer)) return Option.none()
          const page = answer.value
          const next = page.nextForwardToken
          const empty = page.events.length === 0 ? state.empty + 1 : 0
          const reachedEnd = next === undefined || next === state.nextToken || empty >= MAX_EMPTY_PAGES
          const out = Chunk.fromIterable(
            page.events.map((e) => ({ logStreamName, timestamp: e.timestamp, message: e.message }))
          )
          if (reachedEnd && out.length === 0) return Option.none()
          return Option.some(
            [out, {
              _tag: "Get",
              nextToken: next ?? state.nextToken,
              atEnd: reachedEnd,
              empty: reachedEnd ? 0 : empty
            }] as const
          )
        })
      }
      if (state._tag !== "Filter") return Effect.succeedNone
      return Effect.gen(function*() {
        if (state.atEnd) {
          const again = yield* atEnd(state)
          if (Option.isNone(again)) return Option.none()
        }
        const answer = yield* request(api.filterLogEvents({
          logGroupName: options.logGroupName,
          ...(logStreamName !== undefined ? { logStreamNames: [logStreamName] } : {}),
          ...(options.filterPattern !== undefined ? { filterPattern: options.filterPattern } : {}),
          ...(options.pageSize !== undefined ? { limit: options.pageSize } : {}),
          ...(state.startTime !== undefined ? { startTime: state.startTime } : {}),
          ...(state.nextToken !== undefined ? { nextToken: state.nextToken } : {})
        }))
        if (Option.isNone(answer)) return Option.none()
        const page = answer.value
        // following, a new query looks back from the newest printed: skip the events already printed
        const fresh = !options.follow ? page.events : page.events.filter((e) => !printed.has(eventKey(e)))
        if (options.follow && fresh.length > 0) {
          let top = newest ?? fresh[0].timestamp
          for (const e of fresh) {
            printed.set(eventKey(e), e.timestamp)
            if (e.timestamp > top) top = e.timestamp
          }
          newest = top
          // forget what no query reaches again (kept in the order printed: mostly oldest first)
          const horizon = top - lookback
          for (const [key, timestamp] of printed) {
            if (timestamp >= horizon) break
            printed.delete(key)
          }
        }
        const out = Chunk.fromIterable(
          fresh.map((e) => ({ logStreamName: e.logStreamName, timestamp: e.timestamp, message: e.message }))
        )
        const more = page.nextToken !== undefined && page.nextToken !== state.nextToken
        if (!more && !options.follow && out.length === 0) return Option.none()
        let next: State
        if (more) next = { ...state, nextToken: page.nextToken, atEnd: false }
        else {
          polls++
          const back = polls % DEEP_EVERY === 0 ? lookback : recent
          next = {
            _tag: "Filter",
            nextToken: undefined,
            startTime: newest !== undefined ? Math.max(newest - back, options.startTime ?? 0) : state.startTime,
            atEnd: true
          }
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
