import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Equivalence from "effect/Equivalence"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type {
  DescribeLogStreamsResponse,
  GetLogEventsResponse,
  OutputLogEvent,
  PutLogEventsResponse
} from "../CloudWatchLogsApi.js"
import { CloudWatchLogsApi } from "../CloudWatchLogsApi.js"
import type { CloudWatchLogsError, ErrorClass, ResourceNotFoundException } from "../CloudWatchLogsError.js"
import * as Errors from "../CloudWatchLogsError.js"
import type { Destination } from "../Destination.js"
import * as Destinations from "../Destination.js"
import { Limits } from "../Limits.js"
import type { LogEvent } from "../LogEvent.js"
import * as Metrics from "../Metrics.js"
import * as Names from "../Names.js"
import type { RetryPolicyShape } from "../RetryPolicy.js"
import { RetryPolicy } from "../RetryPolicy.js"
import { SequenceTokenStore } from "../SequenceTokenStore.js"
import type { Options, TokenMode, UploaderShape, UploadOptions, UploadResult } from "../Uploader.js"
import { UploadError } from "../Uploader.js"
import type { Operation } from "../UploadRateLimiter.js"
import { UploadRateLimiter } from "../UploadRateLimiter.js"
import { Permits } from "./permits.js"
import * as ReplayCheck from "./replayCheck.js"
import * as Protocol from "./tokenProtocol.js"

type Detected = "unknown" | "enforced" | "ignored"

interface DestinationState {
  /**
   * What the puts so far proved about tokens (mode `auto`); while `unknown`, what the uploader's puts to
   * any destination proved last stands for it (the service's generation, see `make`).
   */
  detected: Detected
  /** A put of ours stored events in the stream (so a legacy service now expects a token). */
  used: boolean
  /** The probe (a put without a token to a used stream) has been sent. */
  probed: boolean
  /** Order of an enforced stream: one put at a time, in the order they came. */
  readonly lock: Permits
  /** Puts in parallel to a stream that ignores tokens. */
  readonly parallel: Permits
  readonly metrics: DestinationMetrics
  /** Uploads to the destination in progress: the state may be forgotten (`release`) only at 0. */
  active: number
  /** Released while uploads to it ran: forgotten when the last of them ends, unless another began since. */
  released: boolean
  /** The token learnt last, until a read of the store shows it kept it (see `Unstored`). */
  unstored: Unstored | undefined
  /** What the store gave at its last read for the destination (`undefined`: not read yet). */
  lastRead: { readonly token: Option.Option<string> } | undefined
}

/**
 * A token we learnt and gave the store, and what the store gave before (when it had been read). A read
 * that gives our token: the store kept it. One that still gives what it had before: the write failed (a
 * full disk, a read-only directory), and our token is the fresher. Anything else: another writer stored
 * a token since, and the store's wins (so it does when what it had before is not known: at most one token
 * error).
 */
interface Unstored {
  readonly token: Option.Option<string>
  readonly storeHad: { readonly token: Option.Option<string> } | undefined
}

const sameToken = Option.getEquivalence(Equivalence.string)

/** The metrics of one destination, tagged once. */
interface DestinationMetrics {
  readonly uploads: Metric.Metric.Counter<number>
  readonly accepted: Metric.Metric.Counter<number>
  readonly batchBytes: Metric.Metric.Histogram<number>
  readonly latency: Metric.Metric.Histogram<number>
  readonly rejected: (reason: string) => Metric.Metric.Counter<number>
  readonly retries: (cls: RetryClass) => Metric.Metric.Counter<number>
}

const destinationMetrics = (destination: Destination, labels: Metrics.DestinationLabels): DestinationMetrics => {
  const rejected = new Map<string, Metric.Metric.Counter<number>>()
  const retries = new Map<string, Metric.Metric.Counter<number>>()
  const byTag = (
    cache: Map<string, Metric.Metric.Counter<number>>,
    metric: Metric.Metric.Counter<number>,
    key: string,
    value: string
  ) => {
    let m = cache.get(value)
    if (m === undefined) {
      m = Metrics.forDestination(metric, destination, labels).pipe(Metric.tagged(key, value))
      cache.set(value, m)
    }
    return m
  }
  return {
    uploads: Metrics.forDestination(Metrics.uploads, destination, labels),
    accepted: Metrics.forDestination(Metrics.eventsAccepted, destination, labels),
    batchBytes: Metrics.forDestination(Metrics.batchBytes, destination, labels),
    latency: Metrics.forDestination(Metrics.uploadLatency, destination, labels),
    rejected: (reason) => byTag(rejected, Metrics.eventsRejected, "reason", reason),
    retries: (cls) => byTag(retries, Metrics.retries, "class", cls)
  }
}

type RetryClass = "token" | "transient" | "throttled" | "notFound"

/**
 * The classes of a failing service: their schedules bound their failures over an upload, restarted only
 * by a token error (see `RetryPolicy`).
 */
const SERVICE_CLASSES: ReadonlyArray<RetryClass> = ["transient", "throttled", "notFound"]

const OPERATION_LABEL: Record<Operation, string> = {
  putLogEvents: "PutLogEvents",
  describeLogStreams: "DescribeLogStreams",
  createLogStream: "CreateLogStream",
  createLogGroup: "CreateLogGroup",
  putRetentionPolicy: "PutRetentionPolicy",
  getLogEvents: "GetLogEvents"
}

const MAX_DESCRIBE_PAGES = 10

/**
 * How a call other than the put ended: done (or there already after an attempt of this call whose answer
 * was lost, which may have been the one that made it), the resource was there already, or not found.
 */
type CallAnswer = "done" | "alreadyExists" | ResourceNotFoundException

/** GetLogEvents pages read at most to settle a lost answer (past them the check gives up). */
const MAX_READ_PAGES = 10
/** Events become readable shortly after they are stored: the check reads no sooner after the lost put. */
const READ_DELAY_MILLIS = 1_000
/** The difference allowed between our clock and the service's (ingestion times, event age limits). */
const CLOCK_SKEW_MILLIS = 5 * 60 * 1000

/**
 * The uploader, with what the engine's tests observe of it.
 *
 * @internal
 */
export interface Internal extends UploaderShape {
  /** Destinations whose state the uploader keeps now. */
  readonly destinationsKept: () => number
}

/** @internal */
export const make = (
  options: Options = {}
): Effect.Effect<Internal, never, CloudWatchLogsApi | SequenceTokenStore | UploadRateLimiter | RetryPolicy> =>
  Effect.gen(function*() {
    const api = yield* CloudWatchLogsApi
    const store = yield* SequenceTokenStore
    const limiter = yield* UploadRateLimiter
    const policy = yield* RetryPolicy
    const limits = yield* Limits
    const maxParallel = Math.max(1, Math.floor(options.maxParallelPerDestination ?? 4))
    /**
     * What is kept per destination, while a user (a sink's lane) may upload to it: forgotten at its
     * `release`, once no upload to it runs. So it does not grow with the destinations ever written to.
     */
    const states = new Map<string, DestinationState>()
    /**
     * What puts proved last about tokens, to any destination in mode `auto`: the generation of the
     * service this uploader talks to, not of one stream. It stands for what a destination's own puts have
     * not proved yet (a destination first written to, or written to again after its release): neither
     * costs a probe (one token error on a service that enforces tokens) once the uploader has learnt it.
     */
    let serviceDetected: Detected = "unknown"
    /** Records what a put proved about tokens (mode `auto`), for the destination and the service. */
    const detect = (state: DestinationState, detected: "enforced" | "ignored"): void => {
      state.detected = detected
      serviceDetected = detected
    }
    /**
     * The creations of log groups in flight (CreateLogGroup, then its retention), by group name: one at a
     * time per group, the other destinations naming it wait for its outcome. Only while in flight: a later
     * not-found (the group deleted) creates it again.
     */
    const creatingGroups = new Map<string, Deferred.Deferred<Exit.Exit<void, UploadError>>>()

    /**
     * Runs `create` for `group`, unless a creation of it is in flight: then waits for that one's outcome,
     * its failure made the waiter's own by `asMine`. A creation given up (interrupted) is no outcome: the
     * waiters go on, one of them creating.
     */
    const createGroupOnce = (
      group: string,
      create: Effect.Effect<void, UploadError>,
      asMine: (error: UploadError) => Effect.Effect<never, UploadError>
    ): Effect.Effect<void, UploadError> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Deferred.make<Exit.Exit<void, UploadError>>(), (mine) =>
          Effect.suspend(() => {
            const inFlight = creatingGroups.get(group)
            if (inFlight === undefined) {
              creatingGroups.set(group, mine)
              return Effect.onExit(restore(create), (exit) =>
                Effect.suspend(() => {
                  if (creatingGroups.get(group) === mine) creatingGroups.delete(group)
                  return Deferred.succeed(mine, exit)
                }))
            }
            return Effect.flatMap(restore(Deferred.await(inFlight)), (exit) =>
              Exit.isSuccess(exit)
                ? Effect.void
                : Cause.isInterruptedOnly(exit.cause)
                ? restore(createGroupOnce(group, create, asMine))
                : Either.match(Cause.failureOrCause(exit.cause), {
                  onLeft: asMine,
                  onRight: (cause) => Effect.failCause(cause)
                }))
          }))
      )

    const modeOf = (destination: Destination): TokenMode =>
      typeof options.tokens === "function" ? options.tokens(destination) : options.tokens ?? "auto"

    const stateOf = (destination: Destination): DestinationState => {
      const k = Destinations.key(destination)
      let state = states.get(k)
      if (state === undefined) {
        state = {
          detected: "unknown",
          used: false,
          probed: false,
          lock: new Permits(1),
          parallel: new Permits(maxParallel),
          metrics: destinationMetrics(destination, options.metricLabels ?? "stream"),
          active: 0,
          released: false,
          unstored: undefined,
          lastRead: undefined
        }
        states.set(k, state)
      }
      return state
    }

    /**
     * The token the next put to the destination should carry: the store's, unless the store did not keep
     * the one we learnt last and has not changed since (`Unstored`).
     */
    const currentToken = (destination: Destination, state: DestinationState): Effect.Effect<Option.Option<string>> =>
      Effect.map(store.get(destination), (stored) => {
        state.lastRead = { token: stored }
        const unstored = state.unstored
        if (unstored === undefined) return stored
        if (
          !sameToken(stored, unstored.token) && unstored.storeHad !== undefined &&
          sameToken(stored, unstored.storeHad.token)
        ) {
          return unstored.token
        }
        state.unstored = undefined
        return stored
      })

    /**
     * Adopts the token the next put should carry (none: a new stream, or a stream never written): given to
     * the store, and kept here with what the store gave at its last read, until a read shows the store
     * kept it (no read back: a put reads the store anyway).
     */
    const learnToken = (
      destination: Destination,
      state: DestinationState,
      token: Option.Option<string>
    ): Effect.Effect<void> =>
      Effect.gen(function*() {
        yield* Option.match(token, {
          onNone: () => store.invalidate(destination),
          onSome: (t) => store.set(destination, t)
        })
        state.unstored = { token, storeHad: state.lastRead }
      })

    const upload = (
      destination: Destination,
      batch: ReadonlyArray<LogEvent>,
      options?: UploadOptions
    ): Effect.Effect<UploadResult, UploadError> => {
      if (batch.length === 0) {
        return Effect.succeed({ accepted: 0, rejected: [], retries: 0, possibleDuplicates: 0, bytes: 0 })
      }
      const bytes = options?.bytes ?? Protocol.batchBytes(batch)
      const forced = modeOf(destination)
      const body = (state: DestinationState) =>
        Effect.gen(function*() {
          const start = yield* Clock.currentTimeMillis
          const effective = (): Detected =>
            forced !== "auto" ? forced : state.detected === "unknown" ? serviceDetected : state.detected
          // A state made afresh (the destination released, then written to again) does not know its stream
          // was written: a token in the store says so, and the probe is not put off past this put.
          if (
            forced === "auto" && effective() === "unknown" && !state.used &&
            Option.isSome(yield* store.get(destination))
          ) state.used = true
          const attempts = new Attempts(destination, batch, bytes, forced, state, effective, options)
          const run = attempts.run
          const guarded = effective() === "ignored" ? state.parallel.withPermit(run) : state.lock.withPermit(run)
          const result = yield* guarded.pipe(
            Effect.tapError((error) =>
              Effect.zipRight(
                // not lost when the caller ships the batch again
                options?.redelivers === true
                  ? Effect.void
                  : Metric.incrementBy(state.metrics.rejected("Failed"), batch.length),
                // a failed upload's span tells what it cost too (its outcome is the error)
                Effect.annotateCurrentSpan({
                  "cwlogs.accepted": 0,
                  "cwlogs.rejected": batch.length,
                  "cwlogs.retries": error.retries ?? 0,
                  "cwlogs.possibly_stored": error.possiblyStored ?? 0
                })
              )
            )
          )
          const end = yield* Clock.currentTimeMillis
          yield* record(state.metrics, result, end - start)
          yield* Effect.annotateCurrentSpan({
            "cwlogs.accepted": result.accepted,
            "cwlogs.rejected": result.rejected.length,
            "cwlogs.retries": result.retries,
            "cwlogs.possible_duplicates": result.possibleDuplicates
          })
          return result
        })
      // counted and its uncounting installed in one uninterruptible step: an interruption in between
      // would leave the destination counted, its state kept for ever
      const tracked = Effect.uninterruptibleMask((restore) =>
        Effect.suspend(() => {
          const state = stateOf(destination)
          state.active++
          // an upload begun after a release is another user's: the state is kept for it
          state.released = false
          return Effect.ensuring(
            restore(body(state)),
            Effect.sync(() => {
              state.active--
              if (state.active === 0 && state.released) forget(destination, state)
            })
          )
        })
      )
      return Effect.withSpan(tracked, "cwlogs.upload", {
        attributes: {
          "cwlogs.log_group": destination.logGroupName,
          "cwlogs.log_stream": destination.logStreamName,
          "cwlogs.events": batch.length,
          "cwlogs.bytes": bytes,
          "cwlogs.token_mode": forced
        }
      })
    }

    const record = (metrics: DestinationMetrics, result: UploadResult, latency: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        const byReason = new Map<string, number>()
        for (const r of result.rejected) byReason.set(r.reason, (byReason.get(r.reason) ?? 0) + 1)
        return Effect.all([
          result.accepted > 0 ? Metric.increment(metrics.uploads) : Effect.void,
          Metric.incrementBy(metrics.accepted, result.accepted),
          result.accepted > 0 ? Metric.update(metrics.batchBytes, result.bytes) : Effect.void,
          Metric.update(metrics.latency, latency),
          Effect.forEach(byReason, ([reason, n]) => Metric.incrementBy(metrics.rejected(reason), n), { discard: true })
        ], { discard: true })
      })

    /** The attempts of one upload: the retry loop with its schedules and its bookkeeping. */
    class Attempts {
      private retries = 0
      /** Tokens carried by attempts that failed in a way that may have stored the batch. */
      private lostUnder: Array<string | undefined> = []
      /** When the first attempt that may have stored the batch was sent, and the last one ended (our clock). */
      private lostFrom = Number.POSITIVE_INFINITY
      private lostTo = Number.NEGATIVE_INFINITY
      private readonly drivers = new Map<RetryClass, Schedule.ScheduleDriver<unknown, CloudWatchLogsError>>()
      /** The bound of the token resends at once after a wait (`resendAtOnce`), made at the first. */
      private atOnce: Schedule.ScheduleDriver<unknown, CloudWatchLogsError> | undefined = undefined
      /** This upload is the probe: its puts go without a token until a token error answers. */
      private probe = false
      /** A token error answered although tokens are taken as ignored (forced): send the adopted token. */
      private tokenDemanded = false
      /**
       * This upload waited since it last adopted a token: the next put's token is likely stale. Its token
       * error only refreshes the token, so the resend goes at once and is no step of the token schedule
       * (only a put under a fresh token that still loses the race is a lost round, and backs off).
       */
      private tokenStale = false
      /**
       * The token of the last attempt whose answer was lost, when tokens are sent: the next attempts are its
       * replay, under that very token (DataAlreadyAccepted if it was stored), not under the store's, which
       * another uploader sharing the store may have moved on meanwhile. It holds until the service answers
       * a replay: one throttled, or that never reached the service, leaves the next attempt a replay still.
       */
      private replayUnder: { readonly token: string } | undefined = undefined

      constructor(
        readonly destination: Destination,
        readonly batch: ReadonlyArray<LogEvent>,
        readonly bytes: number,
        readonly forced: TokenMode,
        readonly state: DestinationState,
        readonly effective: () => Detected,
        readonly options: UploadOptions | undefined
      ) {}

      /** The token the next put should carry, as far as we know (see `currentToken`). */
      private currentToken(): Effect.Effect<Option.Option<string>> {
        return currentToken(this.destination, this.state)
      }

      /** Adopts the token the next put should carry (see `learnToken`). */
      private learn(token: Option.Option<string>): Effect.Effect<void> {
        return learnToken(this.destination, this.state, token)
      }

      /** Copies the puts whose answer was lost may have stored (an enforcing service: one per token). */
      private lostCopies(): number {
        return this.effective() === "enforced" ? new Set(this.lostUnder).size : this.lostUnder.length
      }

      /** Tells the caller what an interruption now would leave possibly stored. */
      private tellPossiblyStored(putInFlight: boolean): void {
        this.options?.onPossiblyStored?.(this.lostCopies() + (putInFlight ? 1 : 0))
      }

      private fail(
        reason: UploadError["reason"],
        cause: UploadError["cause"],
        what: string
      ): Effect.Effect<never, UploadError> {
        // each put whose answer was lost may have stored the batch (an enforcing service once per token)
        const copies = this.lostCopies()
        return Effect.fail(
          new UploadError({
            destination: this.destination,
            events: this.batch,
            cause,
            reason,
            retries: this.retries,
            ...(copies > 0 ? { possiblyStored: copies } : {}),
            message: `${what} for ${
              Destinations.show(this.destination)
            } failed (${reason}): ${cause._tag}: ${cause.message}`
          })
        )
      }

      /**
       * A put failed with an error of class `cls`. A token error (or DataAlreadyAccepted), an answer of a
       * healthy service, starts the transient, throttling and not-found schedules again from the top. A
       * failure of one of those classes restarts none of them: their budgets hold for the whole upload
       * between token errors (restarting each other, failures that alternated between them, 5xx and
       * throttling say, were retried for ever). The token schedule is never restarted (its bound is the
       * time since the first token error of the upload), and token errors use none of the others' retries.
       */
      private putEndedIn(cls: ErrorClass): void {
        if (cls === "token" || cls === "alreadyAccepted") { for (const c of SERVICE_CLASSES) this.drivers.delete(c) }
      }

      /**
       * Waits as the class's schedule says, or fails when it is exhausted (for the calls that make a
       * missing group or stream as for puts: they share the upload's schedules).
       */
      private retry(cls: RetryClass, error: CloudWatchLogsError, what: string): Effect.Effect<void, UploadError> {
        return Effect.gen(this, function*() {
          let driver = this.drivers.get(cls)
          if (driver === undefined) {
            driver = yield* Schedule.driver(policy[cls satisfies keyof RetryPolicyShape])
            this.drivers.set(cls, driver)
          }
          const before = yield* Clock.currentTimeMillis
          const next = yield* Effect.either(driver.next(error))
          if (Either.isLeft(next)) return yield* this.fail("RetriesExhausted", error, what)
          // after a wait the token we hold is likely stale (other writers went on meanwhile)
          if ((yield* Clock.currentTimeMillis) > before) this.tokenStale = true
          this.retries++
          this.options?.onRetry?.()
          yield* Metric.increment(this.state.metrics.retries(cls))
        })
      }

      /**
       * The resend at once after a put that waited and then lost to a moved token: no step of the token
       * schedule (no delay), but bounded by the token schedule with its delays dropped (as many resends, or
       * as long a time). Unbounded, 5xx (a wait) and token errors (a resend at once, which restarts the
       * transient schedule) alternating for ever were retried for ever.
       */
      private resendAtOnce(error: CloudWatchLogsError): Effect.Effect<void, UploadError> {
        return Effect.gen(this, function*() {
          this.atOnce ??= yield* Schedule.driver(Schedule.modifyDelay(policy.token, () => 0))
          const next = yield* Effect.either(this.atOnce.next(error))
          if (Either.isLeft(next)) return yield* this.fail("RetriesExhausted", error, "PutLogEvents")
          this.retries++
          this.options?.onRetry?.()
          yield* Metric.increment(this.state.metrics.retries("token"))
        })
      }

      /** One call of an operation other than the put, retried on throttling and server faults. */
      private call(
        operation: Operation,
        effect: Effect.Effect<void, CloudWatchLogsError>
      ): Effect.Effect<CallAnswer, UploadError> {
        return Effect.gen(this, function*() {
          const what = OPERATION_LABEL[operation]
          // an attempt failed in a way that may have been carried out (a lost answer, a 5xx): a later
          // "already exists" may be its own doing
          let mayHaveMade = false
          while (true) {
            const result = yield* Effect.either(limiter.withPermit(this.destination, operation)(effect))
            if (Either.isRight(result)) {
              yield* limiter.succeeded(this.destination, operation)
              return "done" as const
            }
            const error = result.left
            if (error._tag === "ResourceAlreadyExistsException") return mayHaveMade ? "done" : "alreadyExists"
            if (error._tag === "ResourceNotFoundException") return error
            const cls = Errors.classify(error)
            if (cls === "throttled") {
              yield* limiter.throttled(this.destination, operation)
              yield* this.retry("throttled", error, what)
            } else if (cls === "transient") {
              mayHaveMade = true
              yield* this.retry("transient", error, what)
            } else {
              return yield* this.fail("Fatal", error, what)
            }
          }
        })
      }

      /**
       * One page of a read the uploader can do without (the describe after a token error, the replay
       * check): tried once, under the limiter. `undefined` on any error (a throttle is counted), so that the
       * next put tells again rather than the read failing the upload.
       */
      private read<A>(
        operation: "describeLogStreams" | "getLogEvents",
        effect: Effect.Effect<A, CloudWatchLogsError>
      ): Effect.Effect<A | undefined> {
        return Effect.gen(this, function*() {
          const result = yield* Effect.either(limiter.withPermit(this.destination, operation)(effect))
          if (Either.isLeft(result)) {
            if (Errors.classify(result.left) === "throttled") yield* limiter.throttled(this.destination, operation)
            return undefined
          }
          yield* limiter.succeeded(this.destination, operation)
          return result.right
        })
      }

      private missing(error: ResourceNotFoundException, what: "group" | "stream"): Effect.Effect<never, UploadError> {
        const d = this.destination
        return Effect.fail(
          new UploadError({
            destination: d,
            events: this.batch,
            cause: error,
            reason: "DestinationMissing",
            retries: this.retries,
            message: what === "group"
              ? `The log group ${d.logGroupName} does not exist and createGroup is false`
              : `The log stream ${Destinations.show(d)} does not exist and createStream is false`
          })
        )
      }

      private createGroup(error: ResourceNotFoundException): Effect.Effect<void, UploadError> {
        return Effect.gen(this, function*() {
          const d = this.destination
          if (d.createGroup === false) return yield* this.missing(error, "group")
          if (d.createStream === false) return yield* this.missing(error, "stream")
          // a retention the service refuses would fail after the group was made, leaving it without one
          const retention = Names.validateRetention(d.retentionInDays)
          if (Either.isLeft(retention)) {
            return yield* Effect.fail(
              new UploadError({
                destination: d,
                events: this.batch,
                cause: retention.left,
                reason: "Fatal",
                retries: this.retries,
                message: `The log group ${d.logGroupName} was not created: ${retention.left.message}`
              })
            )
          }
          yield* createGroupOnce(
            d.logGroupName,
            this.makeGroup(retention.right),
            (shared) => this.fail(shared.reason, shared.cause, `Creating the log group ${d.logGroupName}`)
          )
        })
      }

      /**
       * CreateLogGroup, then its retention, unless the group was there already (another writer made it:
       * its retention is not ours to set).
       */
      private makeGroup(retentionInDays: number | undefined): Effect.Effect<void, UploadError> {
        return Effect.gen(this, function*() {
          const logGroupName = this.destination.logGroupName
          const created = yield* this.call("createLogGroup", api.createLogGroup({ logGroupName }))
          if (created === "done" && retentionInDays !== undefined) yield* this.setRetention(retentionInDays)
        })
      }

      /**
       * PutRetentionPolicy on a group just made, sent again under the not-found schedule while the group is
       * not visible yet. When the schedule runs out, the events are still sent: the group keeps no
       * retention, and a warning says so.
       */
      private setRetention(retentionInDays: number): Effect.Effect<void, UploadError> {
        return Effect.gen(this, function*() {
          const logGroupName = this.destination.logGroupName
          let driver: Schedule.ScheduleDriver<unknown, CloudWatchLogsError> | undefined
          while (true) {
            const answer = yield* this.call(
              "putRetentionPolicy",
              api.putRetentionPolicy({ logGroupName, retentionInDays })
            )
            if (typeof answer === "string") return
            driver ??= yield* Schedule.driver(policy.notFound)
            const next = yield* Effect.either(driver.next(answer))
            if (Either.isLeft(next)) {
              return yield* Effect.logWarning(
                `cwlogs: the retention of ${retentionInDays} days was not set on the log group ${logGroupName}, ` +
                  `created without it: PutRetentionPolicy still found no such group (${answer.message})`
              )
            }
            this.retries++
            this.options?.onRetry?.()
            yield* Metric.increment(this.state.metrics.retries("notFound"))
          }
        })
      }

      /** Makes the missing group and/or stream exist, as the destination allows. */
      private ensure(error: ResourceNotFoundException): Effect.Effect<void, UploadError> {
        return Effect.gen(this, function*() {
          const d = this.destination
          const createStream = api.createLogStream({ logGroupName: d.logGroupName, logStreamName: d.logStreamName })
          if (error.resource === "logGroup") {
            yield* this.createGroup(error)
            yield* this.call("createLogStream", createStream)
          } else {
            if (d.createStream === false) return yield* this.missing(error, "stream")
            const groupMissing = yield* this.call("createLogStream", createStream)
            if (typeof groupMissing !== "string") {
              yield* this.createGroup(groupMissing)
              yield* this.call("createLogStream", createStream)
            }
          }
          // a new stream is empty: it takes no token, and is not "used" for the probe
          this.state.used = false
          // nor is a put without a token to it a probe: accepted by any service, it proves nothing (taken as
          // proof, tokens were taken as ignored, for the service, against one that enforces them)
          if (this.probe) {
            this.probe = false
            this.state.probed = false
          }
          yield* this.learn(Option.none())
        })
      }

      /**
       * The token error carried no token: DescribeLogStreams, matching the name exactly. Never fails; true
       * when it found the stream (its token adopted).
       */
      private describe(): Effect.Effect<boolean> {
        return Effect.gen(this, function*() {
          const d = this.destination
          let nextToken: string | undefined = undefined
          for (let page = 0; page < MAX_DESCRIBE_PAGES; page++) {
            const result: DescribeLogStreamsResponse | undefined = yield* this.read(
              "describeLogStreams",
              api.describeLogStreams({
                logGroupName: d.logGroupName,
                logStreamNamePrefix: d.logStreamName,
                ...(nextToken !== undefined ? { nextToken } : {})
              })
            )
            // the next put will tell again; a failing describe must not fail the upload
            if (result === undefined) return false
            const stream = Protocol.exactStream(result.logStreams, d.logStreamName)
            if (stream !== undefined) {
              yield* this.learn(Option.fromNullable(stream.uploadSequenceToken))
              return true
            }
            if (result.nextToken === undefined || result.nextToken === nextToken) break
            nextToken = result.nextToken
          }
          yield* this.learn(Option.none())
          return false
        })
      }

      /**
       * The stream moved on (a token error) after attempts whose answer was lost: reads the stream back to
       * tell whether one of them stored the batch. Some result when it did (a success, nothing to resend).
       * When it did not, those attempts are settled (a put under a token the stream has passed can no
       * longer be stored) and the batch is resent as no copy; when the check could not tell, they stay
       * counted as possible copies.
       */
      private settleLost(): Effect.Effect<Option.Option<UploadResult>> {
        return Effect.gen(this, function*() {
          if (this.lostUnder.length === 0) return Option.none()
          const expected = Option.getOrUndefined(yield* this.currentToken())
          if (this.lostUnder.every((t) => t === expected)) return Option.none() // the stream has not moved past them
          // a legacy service stores at most one put per token: as many copies as tokens the stream passed
          const maxCopies = new Set(this.lostUnder.filter((t) => t !== expected)).size
          const verdict = yield* this.check(maxCopies)
          if (Option.isNone(verdict)) return Option.none()
          if (verdict.value._tag === "NotStored") {
            this.lostUnder = this.lostUnder.filter((t) => t === expected)
            this.tellPossiblyStored(false)
            return Option.none()
          }
          // every attempt that may have stored the batch did so before the stream moved on: the read saw
          // them all, and each copy beyond the first is a duplicate (after an earlier read that failed)
          const { copies, end, start } = verdict.value
          yield* limiter.succeeded(this.destination, "putLogEvents")
          return Option.some(this.storedSlice(start, end, copies - 1))
        })
      }

      /**
       * The result of a put whose answer was lost and that stored the slice `[start, end)` of the batch:
       * the events before it refused as too old (or expired), those after it as too new.
       */
      private storedSlice(start: number, end: number, duplicates: number): UploadResult {
        if (end > start) this.state.used = true
        const tooOldBefore = this.lostTo - limits.maxEventAgeMillis
        const rejected: Array<UploadResult["rejected"][number]> = []
        for (let index = 0; index < this.batch.length; index++) {
          if (index < start) {
            rejected.push({ index, reason: this.batch[index].timestamp < tooOldBefore ? "TooOld" : "Expired" })
          } else if (index >= end) rejected.push({ index, reason: "TooNew" })
        }
        return {
          accepted: end - start,
          rejected,
          retries: this.retries,
          possibleDuplicates: (end - start) * duplicates,
          bytes: this.bytes
        }
      }

      /** The batch, the service's limits and the time the lost puts may have been taken: what the rules read. */
      private lostWindow() {
        return [
          this.batch,
          limits,
          this.destination.retentionInDays,
          this.lostFrom,
          this.lostTo,
          CLOCK_SKEW_MILLIS
        ] as const
      }

      /**
       * DataAlreadyAccepted for a put whose answer was lost under `token`: that put stored the batch. Which
       * of its events the service refused is unknown near its time bounds: there the stream is read back;
       * if the read fails, the events past a bound at every moment the put may have been taken are
       * refused. Each other token a put was lost under may have stored a copy.
       */
      private alreadyAccepted(token: string | undefined): Effect.Effect<UploadResult> {
        return Effect.gen(this, function*() {
          const others = new Set(this.lostUnder.filter((t) => t !== token)).size
          const count = this.batch.length
          const near = ReplayCheck.rejectable(...this.lostWindow())
          if (near.leading === 0 && near.trailing === 0) return this.storedSlice(0, count, others)
          const verdict = yield* this.check(others + 1)
          if (Option.isSome(verdict) && verdict.value._tag === "Stored") {
            return this.storedSlice(verdict.value.start, verdict.value.end, others)
          }
          const { end, start } = ReplayCheck.storedForSure(...this.lostWindow())
          return this.storedSlice(start, end, others)
        })
      }

      /**
       * GetLogEvents over the batch's time range, bounded; none when the check failed or gave up. Reads on
       * until `maxCopies` copies are found or the stream's end.
       */
      private check(maxCopies: number): Effect.Effect<Option.Option<ReplayCheck.Verdict>> {
        return Effect.gen(this, function*() {
          const d = this.destination
          const now = yield* Clock.currentTimeMillis
          const readAt = this.lostTo + READ_DELAY_MILLIS
          if (now < readAt) {
            yield* Effect.sleep(readAt - now)
            // the stream may have moved on meanwhile (this wait follows a lost answer, a bounded retry: the
            // free resend it allows cannot repeat without a new one)
            this.tokenStale = true
          }
          const { leading, trailing } = ReplayCheck.rejectable(...this.lostWindow())
          const expectation: ReplayCheck.Expectation = {
            batch: this.batch,
            notBefore: this.lostFrom - CLOCK_SKEW_MILLIS,
            mayRejectLeading: leading,
            mayRejectTrailing: trailing
          }
          const range = ReplayCheck.timeRange(this.batch)
          const events: Array<OutputLogEvent> = []
          let nextToken: string | undefined = undefined
          for (let page = 0; page < MAX_READ_PAGES; page++) {
            const result: GetLogEventsResponse | undefined = yield* this.read(
              "getLogEvents",
              api.getLogEvents({
                logGroupName: d.logGroupName,
                logStreamName: d.logStreamName,
                startTime: range.startTime,
                endTime: range.endTime,
                startFromHead: true,
                ...(nextToken !== undefined ? { nextToken } : {})
              })
            )
            if (result === undefined) return Option.none()
            for (const event of result.events) events.push(event)
            const verdict = ReplayCheck.match(expectation, events)
            const capped: ReplayCheck.Verdict = verdict._tag === "Stored"
              ? { ...verdict, copies: Math.min(verdict.copies, maxCopies) }
              : verdict
            if (capped._tag === "Stored" && capped.copies >= maxCopies) return Option.some(capped)
            const next: string | undefined = result.nextForwardToken
            if (next === undefined || next === nextToken) return Option.some(capped)
            nextToken = next
            // past the bound: a copy found stands, the others it may not have seen are counted
            if (page === MAX_READ_PAGES - 1 && capped._tag === "Stored") {
              return Option.some({ ...capped, copies: maxCopies })
            }
          }
          return Option.none()
        })
      }

      private success(
        response: PutLogEventsResponse,
        token: string | undefined,
        wasProbe: boolean
      ): Effect.Effect<UploadResult> {
        return Effect.gen(this, function*() {
          const d = this.destination
          yield* limiter.succeeded(d, "putLogEvents")
          if (wasProbe && this.forced === "auto") detect(this.state, "ignored")
          const mode = this.effective()
          if ((mode !== "ignored" || this.tokenDemanded) && response.nextSequenceToken !== undefined) {
            yield* this.learn(Option.some(response.nextSequenceToken))
          }
          const rejected = Protocol.rejectedIndexes(response.rejectedLogEventsInfo, this.batch.length)
          const accepted = this.batch.length - rejected.length
          if (accepted > 0) this.state.used = true
          // each lost answer may have stored a copy, except that an enforcing service resent the batch
          // under the same token would have answered DataAlreadyAccepted (and stores once per token)
          const copies = mode === "enforced"
            ? new Set(this.lostUnder.filter((t) => t !== token)).size
            : this.lostUnder.length
          return {
            accepted,
            rejected,
            retries: this.retries,
            possibleDuplicates: accepted * copies,
            bytes: this.bytes
          }
        })
      }

      readonly run: Effect.Effect<UploadResult, UploadError> = Effect.ensuring(
        Effect.suspend(() => this.loop()),
        // a probe that ended without a verdict may be tried again by a later upload
        Effect.sync(() => {
          if (this.probe && this.state.detected === "unknown") this.state.probed = false
        })
      )

      private loop(): Effect.Effect<UploadResult, UploadError> {
        return Effect.gen(this, function*() {
          const d = this.destination
          const state = this.state
          while (true) {
            const mode = this.effective()
            if (
              mode === "unknown" && this.forced === "auto" && state.used && !state.probed && !this.probe
            ) {
              this.probe = true
              state.probed = true
            }
            const replay = this.replayUnder
            const token = (mode === "ignored" && !this.tokenDemanded) || this.probe
              ? undefined
              : replay !== undefined
              ? replay.token
              : Option.getOrUndefined(yield* this.currentToken())
            const result = yield* Effect.either(
              limiter.withPermit(d, "putLogEvents")(
                Effect.flatMap(Clock.currentTimeMillis, (sentAt) =>
                  Effect.tapError(
                    Effect.zipRight(
                      Effect.sync(() => this.tellPossiblyStored(true)),
                      api.putLogEvents({
                        logGroupName: d.logGroupName,
                        logStreamName: d.logStreamName,
                        logEvents: this.batch,
                        ...(token !== undefined ? { sequenceToken: token } : {})
                      })
                    ),
                    (error) =>
                      Protocol.possiblyApplied(error)
                        ? Effect.map(Clock.currentTimeMillis, (endedAt) => {
                          this.lostFrom = Math.min(this.lostFrom, sentAt)
                          this.lostTo = Math.max(this.lostTo, endedAt)
                        })
                        : Effect.void
                  ))
              )
            )
            if (Either.isRight(result)) return yield* this.success(result.right, token, this.probe)
            const error: CloudWatchLogsError = result.left
            const cls: ErrorClass = Errors.classify(error)
            // the put is answered: what is possibly stored now, this put counted if its answer was lost
            const onPossiblyStored = this.options?.onPossiblyStored
            if (onPossiblyStored !== undefined) {
              const lost = cls === "transient" && Protocol.possiblyApplied(error)
              onPossiblyStored(
                !lost
                  ? this.lostCopies()
                  : this.effective() === "enforced"
                  ? new Set([...this.lostUnder, token]).size
                  : this.lostUnder.length + 1
              )
            }
            this.putEndedIn(cls)
            if (cls === "token" || cls === "alreadyAccepted" || cls === "notFound") {
              // an answer settles the replay (DataAlreadyAccepted, a token error and its read-back, a new stream)
              this.replayUnder = undefined
            }
            switch (error._tag) {
              case "DataAlreadyAcceptedException": {
                // proof that tokens are enforced
                if (this.forced === "auto") detect(state, "enforced")
                this.probe = false
                this.tokenDemanded = true
                const hint = Protocol.tokenHint(error)
                if (!this.lostUnder.includes(token)) {
                  // No attempt of ours under this token may have stored the batch: the service took an
                  // identical batch sent before (e.g. the same events uploaded twice, or the probe repeating
                  // the first batch). These events are not stored: adopt the token and send them.
                  if (hint._tag === "Unknown") yield* this.describe()
                  else yield* this.learn(Protocol.hintedToken(hint))
                  yield* this.retry("token", error, "PutLogEvents")
                  continue
                }
                // the batch was stored by the attempt whose answer was lost: a success
                yield* this.learn(hint._tag === "Token" ? Option.some(hint.token) : Option.none())
                yield* limiter.succeeded(d, "putLogEvents")
                state.used = true
                return yield* this.alreadyAccepted(token)
              }
              case "InvalidSequenceTokenException": {
                if (this.forced === "auto") detect(state, "enforced")
                this.probe = false
                this.tokenDemanded = true
                const hint = Protocol.tokenHint(error)
                let learned = true
                if (hint._tag === "Unknown") learned = yield* this.describe()
                else yield* this.learn(Protocol.hintedToken(hint))
                const settled = yield* this.settleLost()
                if (Option.isSome(settled)) return settled.value
                if (this.tokenStale && learned) {
                  // a put after a wait lost to a token that moved meanwhile: resend at once under the new one
                  this.tokenStale = false
                  yield* this.resendAtOnce(error)
                  continue
                }
                yield* this.retry("token", error, "PutLogEvents")
                continue
              }
              case "ResourceNotFoundException": {
                yield* this.ensure(error)
                yield* this.retry("notFound", error, "PutLogEvents")
                continue
              }
            }
            if (cls === "throttled") {
              yield* limiter.throttled(d, "putLogEvents")
              yield* this.retry("throttled", error, "PutLogEvents")
            } else if (cls === "transient") {
              if (Protocol.possiblyApplied(error)) {
                this.lostUnder.push(token)
                if (token !== undefined) this.replayUnder = { token }
              }
              yield* this.retry("transient", error, "PutLogEvents")
            } else {
              return yield* this.fail("Fatal", error, "PutLogEvents")
            }
          }
        })
      }
    }

    /** Drops the destination's state, if it is still the one kept for it. */
    const forget = (destination: Destination, state: DestinationState): void => {
      const k = Destinations.key(destination)
      if (states.get(k) === state) states.delete(k)
    }

    const release = (destination: Destination): Effect.Effect<void> =>
      Effect.sync(() => {
        const state = states.get(Destinations.key(destination))
        if (state === undefined) return
        if (state.active === 0) forget(destination, state)
        else state.released = true
      })

    return { upload, release, destinationsKept: () => states.size }
  })
