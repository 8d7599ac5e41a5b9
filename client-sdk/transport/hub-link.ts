// A client's lasting link to the hub: connect, and when the connection drops, reconnect with bounded
// exponential backoff and jitter (so a hub restart is not met by every client at the same instant).
// It gives up only when retrying cannot help: the hub refused our key or failed to prove its own
// (auth), another connection took over our node id ('replaced'), or `maxAttempts` failures in a row.
//
// Nothing is queued while disconnected: send() returns false, and the channel layer, on 'connected',
// runs channel_reestablish, which retransmits exactly what the peer is missing (BOLT #2).
import type { NodeId } from '../../protocol/types.ts'
import { nodeIdOf } from '../../protocol/auth/signature.ts'
import { FINAL_CLOSE_CODES } from '../../protocol/auth/close-codes.ts'
import type { PeerMessage, WireError } from '../../protocol/wire/index.ts'
import { connect, ConnectError, type CloseInfo, type ConnectFailure, type HubConnection } from './connection.ts'
import { randomUnit } from '../../host/random.ts'
import { Emitter } from './events.ts'
import { parseBackoff, parseConnectArgs, type BackoffOptions, type BackoffOptionsInput, type ConnectOptionsInput } from './options.ts'
import { nativeSocketFactory, type SocketFactory } from './socket.ts'

export type HubLinkEvents = {
  /** Authenticated (again). The channel layer reestablishes its channels here. */
  connected: [conn: HubConnection]
  /** The connection dropped; a retry is scheduled unless the link gave up or was stopped. */
  disconnected: [info: CloseInfo]
  /** One attempt failed; the next is in `retryInMs` (undefined: giving up). */
  attempt_failed: [failure: ConnectFailure, retryInMs: number | undefined]
  /** No more attempts: `why` is the last failure or close. */
  gave_up: [why: ConnectFailure | CloseInfo]
  message: [msg: PeerMessage]
  bad_frame: [error: WireError]
}

export interface HubLinkOptions extends ConnectOptionsInput {
  backoff?: BackoffOptionsInput
  /** Jitter source in [0, 1); defaults to crypto randomness. */
  random?: () => number
  socketFactory?: SocketFactory
  /** The hub ids to ask for and accept at each attempt, instead of `expectedHubId`/`acceptedHubIds`
   *  (a client following its hub's node-key rotations: client-sdk/hub-keys.ts). */
  hubIds?: () => { expected: NodeId; accepted: readonly NodeId[] }
}

/** The delay before retry number `attempt` (0-based): exponential, capped, with "equal jitter" —
 *  half fixed so a retry is never immediate, half random so clients spread out. */
export function backoffDelay (attempt: number, b: BackoffOptions, random: number): number {
  const exp = Math.min(b.maxMs, b.initialMs * Math.pow(b.factor, Math.min(attempt, 64)))
  return Math.round(exp / 2 + random * exp / 2)
}

/** What start() rejects with: the link gave up before it ever connected. */
export class LinkGaveUp extends Error {
  constructor (readonly why: ConnectFailure | CloseInfo) {
    super(`hub link gave up: ${'detail' in why ? `${why.reason}: ${why.detail}` : `closed with ${why.code} ${why.reason}`}`)
    this.name = 'LinkGaveUp'
  }
}

export class HubLink extends Emitter<HubLinkEvents> {
  readonly nodeId: NodeId
  private readonly backoff: BackoffOptions
  private conn: HubConnection | undefined
  private failures = 0
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private stopped = false
  private connecting = false
  /** The hub id the last connection proved: reconnects sign their admission token for it. */
  private lastHubId: NodeId | undefined
  /** Failed attempts since the link was made, and the last failure (since the last start()). */
  private attempts = 0
  private lastFailure: ConnectFailure | undefined
  /** Bumped when attempts are abandoned: an attempt of an older generation drops what it got. */
  private generation = 0

  constructor (private readonly url: string, private readonly nodeKey: Uint8Array, private readonly options: HubLinkOptions = {}) {
    super()
    const { backoff, random: _r, socketFactory: _f, hubIds: _h, ...connectOptions } = options
    parseConnectArgs(url, nodeKey, connectOptions) // refuse bad arguments now, not at the first retry
    this.backoff = parseBackoff(backoff)
    this.nodeId = nodeIdOf(nodeKey)
  }

  get connected (): boolean { return this.conn?.open === true }
  get connection (): HubConnection | undefined { return this.conn }
  get hubId (): NodeId | undefined { return this.conn?.hubId }

  /** Starts connecting (and reconnecting). Resolves at the first successful connection, or rejects
   *  with a LinkGaveUp when the link gives up before ever connecting: a final failure, or, with
   *  `timeoutMs`, no connection by then (the link then stops trying: a scheduled retry is cancelled and
   *  an attempt under way is closed when it completes; start() begins again). */
  start (o: { timeoutMs?: number } = {}): Promise<HubConnection> {
    const attemptsBefore = this.attempts
    const first = new Promise<HubConnection>((resolve, reject) => {
      const timer = o.timeoutMs === undefined ? undefined : setTimeout(() => {
        this.abandonAttempts()
        const failure: ConnectFailure = {
          reason: 'timeout', final: false,
          detail: `${this.attempts - attemptsBefore} attempts ` +
            `failed${this.lastFailure !== undefined ? `, the last: ${this.lastFailure.reason}: ${this.lastFailure.detail}` : ''}`,
        }
        this.emit('gave_up', failure)
      }, o.timeoutMs)
      const offC = this.once('connected', c => { clearTimeout(timer); offG(); resolve(c) })
      const offG = this.once('gave_up', why => { clearTimeout(timer); offC(); reject(new LinkGaveUp(why)) })
    })
    this.lastFailure = undefined
    void this.attempt()
    return first
  }

  /** Stops trying to connect, leaving the link able to start() again. */
  private abandonAttempts (): void {
    this.generation++
    clearTimeout(this.retryTimer)
    this.connecting = false
  }

  send (msg: PeerMessage): boolean { return this.conn?.send(msg) ?? false }

  /** Closes the connection and connects again at once (the hub ids to ask for changed). */
  reconnect (reason: string): void {
    // Not 1000: onClose schedules the next attempt for any other code of ours.
    this.conn?.close(1001, reason)
  }

  /** Stops for good: closes the connection and cancels any retry. */
  stop (): void {
    this.stopped = true
    clearTimeout(this.retryTimer)
    this.conn?.close(1000, 'client stopping')
    this.conn = undefined
  }

  private async attempt (): Promise<void> {
    if (this.stopped || this.connecting) return
    this.connecting = true
    const generation = this.generation
    const { backoff: _b, random: _r, socketFactory, hubIds, ...options } = this.options
    const ids = hubIds?.()
    const connectOptions = ids === undefined ? options : { ...options, expectedHubId: ids.expected, acceptedHubIds: [...ids.accepted] }
    const admissionHubId = connectOptions.admissionHubId ?? connectOptions.expectedHubId ?? this.lastHubId
    try {
      const conn = await connect(
        this.url, this.nodeKey, { ...connectOptions, ...(admissionHubId !== undefined ? { admissionHubId } : {}) },
        socketFactory ?? nativeSocketFactory,
      )
      if (generation !== this.generation) { conn.close(1000, 'client stopped connecting'); return }
      this.connecting = false
      if (this.stopped) { conn.close(1000, 'client stopping'); return }
      this.failures = 0
      this.conn = conn
      this.lastHubId = conn.hubId
      conn.on('message', m => this.emit('message', m))
      conn.on('bad_frame', e => this.emit('bad_frame', e))
      conn.on('close', info => this.onClose(conn, info))
      this.emit('connected', conn)
    } catch (e) {
      if (generation !== this.generation) return
      this.connecting = false
      // Arguments were checked in the constructor, so anything else (e.g. a socket factory that
      // threw) is the environment: treat it like an unreachable hub.
      const failure: ConnectFailure = e instanceof ConnectError ? e.failure : { reason: 'unreachable', detail: String(e), final: false }
      this.failures++
      this.attempts++
      this.lastFailure = failure
      const giveUp = failure.final || (this.backoff.maxAttempts !== undefined && this.failures >= this.backoff.maxAttempts)
      if (giveUp || this.stopped) {
        this.emit('attempt_failed', failure, undefined)
        if (!this.stopped) this.emit('gave_up', failure)
        return
      }
      const delay = backoffDelay(this.failures - 1, this.backoff, (this.options.random ?? randomUnit)())
      this.emit('attempt_failed', failure, delay)
      this.retryTimer = setTimeout(() => { void this.attempt() }, delay)
    }
  }

  private onClose (conn: HubConnection, info: CloseInfo): void {
    if (this.conn !== conn) return
    this.conn = undefined
    this.emit('disconnected', info)
    if (this.stopped || info.byUs && info.code === 1000) return
    if (FINAL_CLOSE_CODES.has(info.code)) { this.emit('gave_up', info); return }
    // The first retry after a working connection comes quickly, but still jittered.
    const delay = backoffDelay(0, this.backoff, (this.options.random ?? randomUnit)())
    this.retryTimer = setTimeout(() => { void this.attempt() }, delay)
  }
}
