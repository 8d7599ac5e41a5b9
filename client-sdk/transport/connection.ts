// One authenticated connection from a client to the hub (DESIGN.md "Authentication"): open the socket,
// run the client's side of the handshake (protocol/auth), and only then hand out a HubConnection.
// After that: typed send/receive, answers to the hub's pings, and a ping of our own to notice a dead
// hub that TCP has not reported yet.
import type { NodeId } from '../../protocol/types.ts'
import { clientReceive, startClientHandshake, type AuthFailure, type ClientHandshake } from '../../protocol/auth/handshake.ts'
import { nodeIdOf } from '../../protocol/auth/signature.ts'
import { admissionQuery, signAdmissionToken } from '../../protocol/auth/admission-token.ts'
import { EXPECTED_HUB_ID_PARAM } from '../../protocol/node-key/rotation.ts'
import { CLOSE } from '../../protocol/auth/close-codes.ts'
import { decodeFrame, encodeMessage, type PeerMessage, type WireError } from '../../protocol/wire/index.ts'
import { random32 } from '../../host/random.ts'
import { Emitter } from './events.ts'
import { parseConnectArgs, type ConnectOptions, type ConnectOptionsInput } from './options.ts'
import { nativeSocketFactory, frameText, OPEN, socketErrorText, type SocketFactory, type SocketLike } from './socket.ts'

/** Why connect() failed. `final`: retrying the same thing will fail the same way. */
export type ConnectFailure =
  | { reason: 'unreachable'; detail: string; final: false }        // socket error, refused, HTTP 429, TLS certificate refused
  | { reason: 'timeout'; detail: string; final: false }            // no completed handshake in time
  | { reason: 'closed'; detail: string; code: number; final: boolean } // the hub closed during the handshake
  | { reason: 'auth'; failure: AuthFailure; detail: string; final: true } // the hub failed to prove its key, or sent nonsense

export class ConnectError extends Error {
  constructor (readonly failure: ConnectFailure) {
    super(`connect: ${failure.reason}: ${failure.detail}`)
    this.name = 'ConnectError'
  }
}

/** How the connection ended. `code` is the WebSocket close code (see protocol/auth/close-codes.ts). */
export interface CloseInfo { code: number; reason: string; byUs: boolean }

export type ConnectionEvents = {
  /** A message from the hub (never a handshake message, ping or pong). */
  message: [msg: PeerMessage]
  /** A frame from the hub that is not a valid message; it is dropped. */
  bad_frame: [error: WireError]
  close: [info: CloseInfo]
}

/** The SDK's randomness: the client's challenge and BIP-340 aux bytes. */
const CONNECTION_LEVEL = '00'.repeat(32)

export class HubConnection extends Emitter<ConnectionEvents> {
  private pingTimer: ReturnType<typeof setInterval> | undefined
  private pongDeadline: ReturnType<typeof setTimeout> | undefined
  private closed = false

  /** @internal — use connect(). */
  constructor (private readonly ws: SocketLike, readonly nodeId: NodeId, readonly hubId: NodeId, private readonly options: ConnectOptions) {
    super()
    this.pingTimer = setInterval(this.pingTick, options.pingIntervalMs)
  }

  get open (): boolean { return !this.closed && this.ws.readyState === OPEN }
  /** Bytes queued for the hub and not yet written: a sender can pace itself on this. */
  get bufferedAmount (): number { return this.ws.bufferedAmount }

  /** Sends a message; false if the connection is closed (nothing is queued for later: the channel
   *  layer retransmits through channel_reestablish). Throws if `msg` is not a valid message. */
  send (msg: PeerMessage): boolean {
    if (!this.open) return false
    this.ws.send(encodeMessage(msg))
    return true
  }

  close (code = 1000, reason = 'client closing'): void {
    this.finish({ code, reason, byUs: true })
  }

  /** @internal — frames after the handshake. */
  receive (msg: PeerMessage): void {
    if (this.closed) return
    switch (msg.type) {
      case 'ping':
        // BOLT #1: respond with a pong of `num_pong_bytes`.
        this.send({ type: 'pong', ignored: '00'.repeat(msg.num_pong_bytes) })
        return
      case 'pong':
        if (this.pongDeadline !== undefined) { clearTimeout(this.pongDeadline); this.pongDeadline = undefined }
        return
      case 'hub_hello': case 'client_auth': case 'hub_auth': case 'auth_ok':
        return // a handshake message after the handshake: nothing to do with it
      default:
        this.emit('message', msg)
    }
  }

  /** @internal — the socket closed under us. */
  socketClosed (code: number, reason: string): void { this.finish({ code, reason, byUs: false }) }

  private readonly pingTick = (): void => {
    if (this.pongDeadline !== undefined || !this.open) return
    this.send({ type: 'ping', num_pong_bytes: 0, ignored: '' })
    this.pongDeadline = setTimeout(() => this.close(CLOSE.ping_timeout, 'ping_timeout'), this.options.pongTimeoutMs)
  }

  private finish (info: CloseInfo): void {
    if (this.closed) return
    this.closed = true
    clearInterval(this.pingTimer)
    clearTimeout(this.pongDeadline)
    if (info.byUs) {
      try { this.ws.close(info.code, info.reason) } catch { /* already closing */ }
    }
    this.emit('close', info)
  }
}

/** `url` with an admission token for `hubId` in its query (protocol/auth/admission-token.ts), signed
 *  now: a hub we have a channel with admits us to the slots it keeps for its channel partners. And the
 *  hub key we expect: a hub rotating its key proves that one while it serves it. */
function withAdmissionToken (url: string, nodeKey: Uint8Array, hubId: NodeId | undefined, expected: NodeId | undefined): string {
  if (hubId === undefined && expected === undefined) return url
  const u = new URL(url)
  if (hubId !== undefined) {
    const token = signAdmissionToken(hubId, nodeKey, Date.now(), random32())
    for (const [k, v] of Object.entries(admissionQuery(token))) u.searchParams.set(k, v)
  }
  if (expected !== undefined) u.searchParams.set(EXPECTED_HUB_ID_PARAM, expected)
  return u.toString()
}

/**
 * Opens an authenticated connection to the hub at `url` as the node whose secret key is `nodeKey`.
 * Resolves once both sides proved their keys; rejects with a ConnectError saying why not.
 */
export async function connect (
  url: string, nodeKey: Uint8Array, options?: ConnectOptionsInput, socketFactory: SocketFactory = nativeSocketFactory,
): Promise<HubConnection> {
  const args = parseConnectArgs(url, nodeKey, options)
  const nodeId = nodeIdOf(args.nodeKey)
  const { expectedHubId, acceptedHubIds } = args.options
  const ws = await socketFactory(withAdmissionToken(args.url, args.nodeKey, args.options.admissionHubId ?? expectedHubId, expectedHubId))
  return new Promise<HubConnection>((resolve, reject) => {
    let auth: ClientHandshake = startClientHandshake(
      nodeId, expectedHubId === undefined ? undefined : [expectedHubId, ...(acceptedHubIds ?? [])],
    )
    let conn: HubConnection | undefined
    /** The promise has resolved or rejected: nothing more changes its outcome. */
    let answered = false
    let lastError = ''
    let hubError = ''

    const fail = (f: ConnectFailure): void => {
      if (answered) return
      answered = true
      clearTimeout(timer)
      try { ws.close(f.reason === 'auth' ? CLOSE.auth_failed : 1000, f.reason) } catch { /* not open yet */ }
      reject(new ConnectError(f))
    }
    const timer = setTimeout(
      () => fail({ reason: 'timeout', detail: `no completed handshake within ${args.options.handshakeTimeoutMs} ms`, final: false }),
      args.options.handshakeTimeoutMs,
    )

    ws.addEventListener('error', ev => { lastError = socketErrorText(ev) })
    ws.addEventListener('close', ev => {
      if (conn !== undefined) return conn.socketClosed(ev.code, ev.reason)
      if (ev.code === 1006 && hubError === '') return fail({
        reason: 'unreachable', detail: lastError || 'connection failed', final: false,
      })
      // auth_failed and replaced mean the same attempt would fail again.
      const final = ev.code === CLOSE.auth_failed
      fail({ reason: 'closed', code: ev.code, detail: hubError || ev.reason || lastError || `closed with ${ev.code}`, final })
    })
    ws.addEventListener('message', ev => {
      const frame = frameText(ev.data)
      const decoded = frame === undefined ? undefined : decodeFrame(frame)
      if (conn !== undefined) {
        if (decoded?.ok === true) conn.receive(decoded.value)
        else conn.emit(
          'bad_frame', decoded?.ok === false ? decoded.error : { reason: 'malformed_frame', path: '', detail: 'frame: binary' },
        )
        return
      }
      if (answered) return
      if (decoded === undefined || !decoded.ok) {
        return fail({
          reason: 'auth', failure: 'unexpected_message', detail: decoded?.ok === false ? decoded.error.detail : 'binary frame', final: true,
        })
      }
      const msg = decoded.value
      // The hub says why it refuses us (e.g. "client_auth.signature: …") before closing: keep it.
      if (msg.type === 'error' && msg.channel_id === CONNECTION_LEVEL) { hubError = msg.data; return }
      if (msg.type === 'ping' || msg.type === 'warning') return
      const r = clientReceive(auth, msg, args.nodeKey, { challenge: random32(), auxRand: random32() })
      if (!r.ok) return fail({ reason: 'auth', failure: r.error.reason, detail: r.error.detail, final: true })
      auth = r.state
      if (r.send !== undefined) ws.send(encodeMessage(r.send))
      if (r.state.phase === 'authenticated') {
        // The hub sends nothing of the session before it reads our auth_ok, so no message can arrive
        // before the caller (awaiting this promise) has attached its listeners.
        answered = true
        clearTimeout(timer)
        conn = new HubConnection(ws, nodeId, r.state.hubId, args.options)
        resolve(conn)
      }
    })
  })
}
