// One WebSocket connection on the hub: first the authentication handshake (protocol/auth), then a
// PeerSession scoped to the node id the peer proved. Everything a peer sends after that reaches the
// hub's logic as (session.nodeId, msg): messages carry no sender id, so a connection can only ever
// speak for the key it proved (scenario 19).
//
// Limits enforced here (scenario 20): the handshake timeout, a ping/pong liveness check, a cap on the
// memory held for a peer that does not read, a message rate limit per session, and a count of bad
// frames before disconnecting.
import type { WebSocket, RawData } from 'ws'
import type { NodeId } from '../../protocol/types.ts'
import { hubReceive, startHubHandshake, type HubHandshake } from '../../protocol/auth/handshake.ts'
import { CLOSE, type CloseReason } from '../../protocol/auth/close-codes.ts'
import { decodeFrame, encodeMessage, type PeerMessage } from '../../protocol/wire/index.ts'
import { MAX_ERROR_TEXT_CHARS } from '../../protocol/limits.ts'
import { SEND_FRAME_OVERHEAD_BYTES, type TransportConfig } from './config.ts'
import type { AdmissionTicket } from './admission.ts'
import { MessageRate } from './message-rate.ts'
import { random32 } from '../../host/random.ts'

/** What the hub's logic (router, channel manager) implements to hear from peers. */
export interface SessionHandler {
  /** A node proved its key. If it had a session, that one has already been closed ('replaced'). */
  opened (session: PeerSession): void
  /** A message from `nodeId`, the id this connection proved. Never a handshake, ping or pong. */
  message (nodeId: NodeId, msg: PeerMessage, session: PeerSession): void
  /** The session ended; nothing more will arrive from it and sends to it return 'closed'. */
  closed (session: PeerSession, reason: CloseReason): void
}

export type SendResult = 'sent' | 'closed' | 'overflow'

/** The all-zero channel id: BOLT #1 "refers to all channels" (here: the connection itself). */
const CONNECTION_LEVEL = '00'.repeat(32)
/** RFC 6455 §5.5: a control frame carries at most 125 bytes, 2 of them the close code. */
const MAX_CLOSE_REASON_BYTES = 123

/** What the transport gives a connection: its settings and hooks into the session registry. */
export interface ConnectionContext {
  config: TransportConfig
  hubId: NodeId
  hubSecret: Uint8Array
  handler: SessionHandler
  /** The handler threw while handling a message from `nodeId`. */
  onHandlerError (error: unknown, nodeId: NodeId): void
  /** The connection's admission slots (admission.ts): freed through it, each once. */
  ticket: AdmissionTicket
  /** The node id of the admission token this connection came with: the handshake must prove it. */
  claimed: NodeId | undefined
  /** Whether the hub has a channel with `nodeId`. */
  isKnownPeer (nodeId: NodeId): boolean
  /** Clock for the message rate limit (ms). */
  now (): number
  /** The peer proved `nodeId` and accepted the hub: register, replacing an older session. */
  authenticated (conn: PeerConnection): void
  /** The connection is gone. */
  ended (conn: PeerConnection): void
  /** A frame was not a valid message (`reason`: the codec's, e.g. malformed_frame); for the metrics. */
  rejectedFrame? (reason: string): void
}

type Phase =
  | { name: 'handshake'; auth: HubHandshake }
  | { name: 'session'; session: PeerSession }
  | { name: 'closed' }

/** Text for a peer's error/warning: bounded and free of control characters, as the schema requires. */
function peerText (s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, MAX_ERROR_TEXT_CHARS)
}

export class PeerConnection {
  private phase: Phase
  private handshakeTimer: NodeJS.Timeout | undefined
  private pingTimer: NodeJS.Timeout | undefined
  private pongDeadline: NodeJS.Timeout | undefined
  private badFrames = 0
  /** Liveness counters, for operators and tests. */
  readonly liveness = { pingsSent: 0, pongsReceived: 0 }
  /** The node id this connection proved; kept after the session ends so the registry can find it. */
  private proven: NodeId | undefined
  /** Peer pings answered since the last hub ping: a peer may not make us send pongs without bound. */
  private pongsOwed = 0
  private readonly rate: MessageRate
  /** Frames the socket could not hand to the kernel at once and still holds: each costs memory
   *  beyond its bytes. (A frame the kernel takes at once is not counted, however many are sent in
   *  one burst: the hub holds nothing of it.) */
  private heldFrames = 0

  constructor (private readonly ws: WebSocket, readonly remoteAddress: string, private readonly ctx: ConnectionContext) {
    const { state, send } = startHubHandshake(ctx.hubId, random32())
    this.phase = { name: 'handshake', auth: state }
    this.rate = new MessageRate(ctx.config.peerMessagesPerSecond, ctx.config.peerMessageBurst, ctx.now)
    ws.on('message', this.onFrame)
    ws.on('close', this.onSocketClose)
    // `ws` reports protocol violations (e.g. a frame past maxPayload: it closes with 1009 itself) as
    // 'error' then 'close'. Without a listener an 'error' would crash the hub.
    ws.on('error', noop)
    this.handshakeTimer = setTimeout(() => this.end('handshake_timeout', 'no proof of key in time'), ctx.config.handshakeTimeoutMs)
    this.write(encodeMessage(send))
  }

  get nodeId (): NodeId | undefined { return this.proven }
  /** The hub key this connection proves (or proved). */
  get hubId (): NodeId { return this.ctx.hubId }
  get session (): PeerSession | undefined { return this.phase.name === 'session' ? this.phase.session : undefined }

  // ── receiving ──

  private readonly onFrame = (data: RawData, isBinary: boolean): void => {
    if (this.phase.name === 'closed') return
    if (this.phase.name === 'session' && !this.withinRate()) return
    if (isBinary) return this.badFrame('malformed_frame: binary frames are not accepted; send JSON text')
    // The codec checks the size again, refuses invalid UTF-8, and names the field that is wrong.
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data
    const decoded = decodeFrame(bytes)
    if (!decoded.ok) return this.badFrame(`${decoded.error.reason}: ${decoded.error.detail}`)
    const msg = decoded.value
    if (this.phase.name === 'handshake') return this.onHandshake(this.phase.auth, msg)
    const session = this.phase.session
    switch (msg.type) {
      case 'ping':
        // BOLT #1: "A node receiving a ping message: if num_pong_bytes is less than 65532: MUST
        // respond by sending a pong message, with byteslen equal to num_pong_bytes" … "MAY ignore
        // pings sent too frequently" — we answer a bounded number per ping interval.
        if (this.pongsOwed++ < MAX_PONGS_PER_INTERVAL) session.send({ type: 'pong', ignored: '00'.repeat(msg.num_pong_bytes) })
        return
      case 'pong':
        // Any pong proves the peer reads; one without a ping outstanding is harmless and ignored.
        if (this.pongDeadline !== undefined) {
          clearTimeout(this.pongDeadline)
          this.pongDeadline = undefined
          this.liveness.pongsReceived++
        }
        return
      case 'hub_hello': case 'client_auth': case 'hub_auth': case 'auth_ok':
        return this.badFrame(`unexpected_message: ${msg.type} after the handshake`)
      default:
        try {
          this.ctx.handler.message(session.nodeId, msg, session)
        } catch (e) {
          // A throw is a bug in the hub's logic, not the peer's fault, but it happened on this peer's
          // input: cut this peer off (its channels resume from storage on reconnect) and let the host
          // decide what a bug means (the default rethrows: crash loudly, restart from durable state).
          this.end('disconnected', 'internal error')
          this.ctx.onHandlerError(e, session.nodeId)
        }
    }
  }

  private onHandshake (auth: HubHandshake, msg: PeerMessage): void {
    const r = hubReceive(auth, msg, this.ctx.hubSecret, random32())
    if (!r.ok) return this.end('auth_failed', `auth_failed: ${r.error.detail}`)
    if (r.state.phase === 'awaiting_auth_ok' && this.ctx.claimed !== undefined && r.state.clientId !== this.ctx.claimed) {
      // It came in on a slot kept for the token's node id: it must be that node.
      return this.end(
        'auth_failed', `auth_failed: client_auth.client_id: ${r.state.clientId} is not the admission token's node id ${this.ctx.claimed}`,
      )
    }
    if (r.send !== undefined) this.write(encodeMessage(r.send))
    if (r.state.phase !== 'authenticated') {
      this.phase = { name: 'handshake', auth: r.state }
      return
    }
    clearTimeout(this.handshakeTimer)
    this.handshakeTimer = undefined
    this.ctx.ticket.handshakeEnded(r.state.clientId, this.ctx.isKnownPeer(r.state.clientId))
    this.proven = r.state.clientId
    this.phase = { name: 'session', session: new PeerSession(this, r.state.clientId) }
    this.pingTimer = setInterval(this.pingTick, this.ctx.config.pingIntervalMs)
    this.ctx.authenticated(this)
  }

  /** Takes a frame from the session's rate budget; false once the peer has been cut off for it. */
  private withinRate (): boolean {
    const verdict = this.rate.take()
    if (verdict === 'warn') {
      const { peerMessagesPerSecond: r, peerMessageBurst: b } = this.ctx.config
      this.sendNow({
        type: 'warning', channel_id: CONNECTION_LEVEL,
        data: `rate_limited: more than ${r} messages/s (burst ${b}); slow down or be disconnected`,
      } as PeerMessage)
    }
    if (verdict !== 'cut') return true
    this.end('rate_limited', 'message rate limit exceeded after a warning')
    return false
  }

  /** A frame that is not a valid message. Before authentication it ends the connection; after, the
   *  peer is told what was wrong and disconnected only when it keeps doing it. */
  private badFrame (detail: string): void {
    this.ctx.rejectedFrame?.(/^[a-z_]{1,40}(?=:)/.exec(detail)?.[0] ?? 'other')
    if (this.phase.name !== 'session') return this.end('auth_failed', detail)
    this.badFrames++
    if (this.badFrames > this.ctx.config.maxBadFrames) return this.end('bad_frames', `too many bad frames; last: ${detail}`)
    this.sendNow({ type: 'warning', channel_id: CONNECTION_LEVEL, data: peerText(detail) } as PeerMessage)
  }

  // ── liveness ──

  private readonly pingTick = (): void => {
    this.pongsOwed = 0
    if (this.pongDeadline !== undefined) return // still waiting for the last one
    this.sendNow({ type: 'ping', num_pong_bytes: 0, ignored: '' } as PeerMessage)
    this.liveness.pingsSent++
    this.pongDeadline = setTimeout(() => this.end('ping_timeout', 'no pong in time'), this.ctx.config.pongTimeoutMs)
  }

  // ── sending ──

  /** Sends, refusing (and disconnecting the peer) past the send-buffer cap. */
  sendNow (msg: PeerMessage): SendResult {
    if (this.phase.name === 'closed') return 'closed'
    const frame = encodeMessage(msg)
    // What the hub holds for this peer only grows when the peer does not read. Refusing past the cap
    // is what keeps hub memory per peer bounded.
    if (this.bufferedAmount + Buffer.byteLength(frame) + SEND_FRAME_OVERHEAD_BYTES > this.ctx.config.maxSendBufferBytes) {
      this.end('send_buffer_full', 'peer does not read')
      return 'overflow'
    }
    this.write(frame)
    return 'sent'
  }

  /** Memory held for this peer's outgoing frames: the bytes `ws` and the socket still hold, and
   *  SEND_FRAME_OVERHEAD_BYTES for each frame among them. */
  get bufferedAmount (): number { return this.ws.bufferedAmount + this.heldFrames * SEND_FRAME_OVERHEAD_BYTES }

  private write (frame: string): void {
    if (this.ws.readyState !== this.ws.OPEN) return
    let held = false
    let written = false
    // Called once the socket has written the frame out (or failed to, when it closes): never
    // before send() returns, but the flag keeps the count right even if it were.
    this.ws.send(frame, () => { written = true; if (held) this.heldFrames-- })
    if (!written && this.ws.bufferedAmount > 0) { held = true; this.heldFrames++ }
  }

  // ── ending ──

  private readonly onSocketClose = (): void => { this.end('peer_closed', 'socket closed') }

  /**
   * Ends the connection once: timers stopped, listeners detached (nothing more reaches the hub's
   * logic from this socket), the registry and the handler told, the socket closed with a code that
   * says why. Codes 4000–4005 carry the reason; a peer that does not read is cut off without a close
   * handshake (it would not read that either).
   */
  end (reason: CloseReason, detail: string): void {
    const was = this.phase
    if (was.name === 'closed') return
    this.phase = { name: 'closed' }
    clearTimeout(this.handshakeTimer)
    clearInterval(this.pingTimer)
    clearTimeout(this.pongDeadline)
    this.ws.off('message', this.onFrame)
    this.ws.off('close', this.onSocketClose)
    this.ctx.ticket.closed()
    this.ctx.ended(this)
    if (was.name === 'session') this.ctx.handler.closed(was.session, reason)

    if (reason === 'peer_closed') return
    if (reason === 'send_buffer_full') { this.ws.terminate(); return }
    if (reason === 'auth_failed' || reason === 'bad_frames' || reason === 'handshake_timeout' || reason === 'rate_limited') {
      // Say why before closing: the peer (or its developer) gets the field that was wrong.
      this.write(encodeMessage({ type: 'error', channel_id: CONNECTION_LEVEL, data: peerText(detail) } as PeerMessage))
    }
    const code = CLOSE[reason]
    this.ws.close(code, Buffer.from(reason).subarray(0, MAX_CLOSE_REASON_BYTES).toString())
  }
}

/** At most this many peer pings answered per hub ping interval (BOLT #1 allows ignoring floods). */
const MAX_PONGS_PER_INTERVAL = 10

function noop (): void {}

/**
 * What the hub's logic holds for one authenticated peer. It cannot change whose it is: `nodeId` is
 * the key the peer proved, and every message from this connection is delivered with it.
 */
export class PeerSession {
  constructor (private readonly conn: PeerConnection, readonly nodeId: NodeId) {}

  get remoteAddress (): string { return this.conn.remoteAddress }
  /** The hub key this session authenticated the hub under (during a node-key rotation, the client's choice). */
  get hubId (): NodeId { return this.conn.hubId }
  /** Bytes waiting to reach this peer. */
  get bufferedAmount (): number { return this.conn.bufferedAmount }
  /** Pings the hub sent this peer and pongs that answered them. */
  get liveness (): { readonly pingsSent: number; readonly pongsReceived: number } { return this.conn.liveness }
  get open (): boolean { return this.conn.session === this }

  /** 'overflow': the peer was not reading and has been disconnected; 'closed': it is gone. */
  send (msg: PeerMessage): SendResult {
    return this.open ? this.conn.sendNow(msg) : 'closed'
  }

  /** BOLT #1 warning (the connection stays), about `channelId` or the connection as a whole. */
  warn (detail: string, channelId: string = CONNECTION_LEVEL): SendResult {
    return this.send({ type: 'warning', channel_id: channelId, data: peerText(detail) } as PeerMessage)
  }

  /** BOLT #1 error about a channel; the connection stays (the channel logic decides the rest). */
  error (detail: string, channelId: string): SendResult {
    return this.send({ type: 'error', channel_id: channelId, data: peerText(detail) } as PeerMessage)
  }

  /** Ends the session from the hub's side: a warning saying why, then close. */
  disconnect (detail: string): void {
    if (!this.open) return
    this.warn(detail)
    this.conn.end('disconnected', detail)
  }
}
