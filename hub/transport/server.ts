// The hub's WebSocket server: caps on TCP connections that have not sent their request yet
// (pre-request.ts), then admission (scenario 20) before the upgrade — with slots kept for the
// peers the hub has channels with, who prove their node id by an admission token in the request's
// query (protocol/auth/admission-token.ts) — then one PeerConnection per
// socket, and a registry that keeps exactly one session per node id — a second connection that
// proves the same key replaces the first (the old one is closed with 'replaced' and detached before
// the new one is announced, so the hub's logic never sees two sessions for one node).
//
// Node key: one, or during a rotation's grace two (key-ring.ts): a connection gets the one its client
// asks for in the upgrade request if it is served, and a session under the key on its way out hears
// the rotation first, before the hub's logic opens it.
//
// TLS: production runs over wss:// (DESIGN.md "Authentication"). Pass `tls` (node:https server
// options: key, cert, …) and the same code serves wss://; the handshake does not depend on it, TLS
// only hides the traffic. setSecureContext() swaps the certificate for new handshakes (rotation,
// tls-files.ts); established connections keep theirs. Most tests use plain ws:// on loopback.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer, type Server as HttpsServer, type ServerOptions as HttpsOptions } from 'node:https'
import type { SecureContextOptions } from 'node:tls'
import type { Duplex } from 'node:stream'
import type { AddressInfo, Socket } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import type { NodeId } from '../../protocol/types.ts'
import { isValidNodeId } from '../../protocol/auth/signature.ts'
import { EXPECTED_HUB_ID_PARAM } from '../../protocol/node-key/rotation.ts'
import type { NodeKeyRotationMessage } from '../../protocol/wire/index.ts'
import { CLOSE } from '../../protocol/auth/close-codes.ts'
import { MAX_FRAME_BYTES } from '../../protocol/limits.ts'
import { parseAdmissionQuery } from '../../protocol/auth/admission-token.ts'
import { Admission, type AdmissionTicket, type Refusal } from './admission.ts'
import { AdmissionTokens, type TokenIgnored } from './admission-tokens.ts'
import { parseTransportConfig, type TransportConfig, type TransportConfigInput } from './config.ts'
import { PeerConnection, type PeerSession, type SessionHandler } from './peer-connection.ts'
import { connectionKey, PreRequestSockets } from './pre-request.ts'
import { fixedKeyRing, type HubKeyRing } from './key-ring.ts'

export interface HubTransportOptions {
  /** The hub's node key (32-byte secret). Its public key is the hub id clients authenticate. */
  nodeKey?: Uint8Array
  /** The hub's node keys when it may rotate them (hub/identity/node-keys.ts); instead of `nodeKey`. */
  keyRing?: HubKeyRing
  handler: SessionHandler
  config?: TransportConfigInput
  /** Serve wss:// with these TLS options instead of ws://. */
  tls?: HttpsOptions
  /** Clock for the rate limits and admission tokens (ms since the Unix epoch). */
  now?: () => number
  /** Whether the hub has a channel with `nodeId`: such peers get the handshake slots kept for known
   *  peers, and are never refused for the strangers' caps. Default: nobody is known. */
  isKnownPeer?: (nodeId: NodeId) => boolean
  /** The handler threw on a message (a bug): the peer has been disconnected. Default: rethrow
   *  outside the socket's callback, which ends the process unless the host handles it. */
  onHandlerError?: (error: unknown, nodeId: NodeId) => void
  /** A peer's frame was not a valid message, by the codec's reason (the operator's metrics). */
  onRejectedFrame?: (reason: string) => void
}

export class HubTransport {
  readonly config: TransportConfig
  private readonly ring: HubKeyRing
  private readonly http: HttpServer
  private readonly wss: WebSocketServer
  private readonly admission: Admission
  /** TCP connections that have not sent their upgrade request yet (pre-request.ts). */
  readonly preRequest: PreRequestSockets
  private readonly tokens: AdmissionTokens
  private readonly now: () => number
  private readonly isKnownPeer: (nodeId: NodeId) => boolean
  private readonly sessions = new Map<NodeId, PeerConnection>()
  private readonly connections = new Set<PeerConnection>()
  /** Refusals by reason since start, for operators and tests. */
  readonly refused: Record<Refusal | 'bad_admission_token', number> = {
    rate_limited: 0, too_many_unauthenticated: 0, too_many_connections: 0, too_many_handshakes_for_peer: 0, bad_admission_token: 0,
  }
  /** Admission tokens that did not get a kept slot, by reason (their connections were admitted, or
   *  not, as strangers'). */
  readonly tokensIgnored: Record<TokenIgnored, number> = { unknown_peer: 0, stale: 0, replayed: 0, bad_signature: 0 }

  private constructor (private readonly opts: HubTransportOptions, config: TransportConfig) {
    this.config = config
    this.ring = opts.keyRing ?? fixedKeyRing(opts.nodeKey ?? new Uint8Array())
    this.now = opts.now ?? Date.now
    this.isKnownPeer = opts.isKnownPeer ?? (() => false)
    this.admission = new Admission(config, this.now)
    this.preRequest = new PreRequestSockets(config)
    this.tokens = new AdmissionTokens(() => this.ring.servedIds(), this.isKnownPeer, config.admissionTokenMaxAgeMs, this.now)
    this.http = opts.tls === undefined ? createHttpServer(notWebSocket) : createHttpsServer(opts.tls, notWebSocket)
    // `maxPayload`: `ws` refuses a larger frame while reading it (closing with 1009), before it is
    // buffered whole; the codec checks the size again on its own.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false })
    // Every TCP connection is bounded from its accept on, before it says anything (pre-request.ts).
    this.http.on('connection', (socket: Socket) => { this.preRequest.accepted(socket) })
    this.http.on('upgrade', this.onUpgrade)
  }

  /** Validates the settings and listens. */
  static async start (opts: HubTransportOptions): Promise<HubTransport> {
    const parsed = parseTransportConfig(opts.config ?? {})
    if (!parsed.ok) throw new TypeError(`transport config: ${parsed.error}`)
    if ((opts.nodeKey === undefined) === (opts.keyRing === undefined)) throw new TypeError('transport: give nodeKey or keyRing')
    if (opts.nodeKey !== undefined && opts.nodeKey.length !== 32) throw new TypeError('transport: nodeKey must be 32 bytes')
    const t = new HubTransport(opts, parsed.config)
    await new Promise<void>((resolve, reject) => {
      t.http.once('error', reject)
      t.http.listen(parsed.config.port, parsed.config.host, () => { t.http.off('error', reject); resolve() })
    })
    return t
  }

  /** The hub id a client that asks for no other key authenticates (the current node key's). */
  get hubId (): NodeId { return this.ring.keyFor(undefined).id }

  get port (): number { return (this.http.address() as AddressInfo).port }
  get url (): string { return `${this.opts.tls === undefined ? 'ws' : 'wss'}://${this.config.host}:${this.port}` }

  /** The live session of `nodeId`, if it is connected. */
  session (nodeId: NodeId): PeerSession | undefined { return this.sessions.get(nodeId)?.session }
  get sessionCount (): number { return this.sessions.size }
  get counts (): { open: number; unauthenticated: number; sessions: number } {
    const { open, unauthenticated } = this.admission.counts
    return { open, unauthenticated, sessions: this.sessions.size }
  }
  /** Connections of known peers (open, of which in kept handshake slots). */
  get knownCounts (): { open: number; handshakes: number } {
    const { known, knownHandshakes } = this.admission.counts
    return { open: known, handshakes: knownHandshakes }
  }

  /** Sends a rotation to every session under the key it rotates away from (`old_id`). */
  announce (msg: NodeKeyRotationMessage): number {
    let sent = 0
    for (const c of this.sessions.values()) if (c.hubId === msg.old_id && c.session?.send(msg) === 'sent') sent++
    return sent
  }

  /** Ends every session under `hubId` (a key no longer served): their clients reconnect under another. */
  endSessionsUnder (hubId: NodeId, detail: string): number {
    const under = [...this.sessions.values()].filter(c => c.hubId === hubId)
    for (const c of under) c.end('disconnected', detail)
    return under.length
  }

  /** New TLS handshakes use `options` (a rotated certificate and key); established connections keep
   *  the session they have. Throws if the transport does not serve TLS, or if TLS refuses `options`. */
  setSecureContext (options: SecureContextOptions): void {
    if (this.opts.tls === undefined) throw new Error('transport: not serving TLS')
    ;(this.http as unknown as HttpsServer).setSecureContext(options)
  }

  /** Stops accepting, closes every connection with 1001 (going away), and stops listening. */
  async close (): Promise<void> {
    this.http.off('upgrade', this.onUpgrade)
    for (const c of [...this.connections]) c.end('going_away', 'hub shutting down')
    this.http.closeAllConnections()
    await new Promise<void>(resolve => this.http.close(() => resolve()))
    this.wss.close()
  }

  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const ip = req.socket.remoteAddress ?? 'unknown'
    this.preRequest.requested(connectionKey(req.socket))
    socket.on('error', noop)
    // The request line is at most what node:http accepts (16 KiB of headers); the query is parsed by
    // a strict schema. A malformed token is refused with the parameter named: the client is ours
    // (the SDK) or broken, and a silent fallback would hide it.
    const params = new URL(req.url ?? '/', 'http://hub').searchParams
    const query = parseAdmissionQuery(params)
    if (!query.ok) {
      this.refused.bad_admission_token++
      return refuse(socket, 400, 'Bad Request', query.error)
    }
    const asked = params.get(EXPECTED_HUB_ID_PARAM) ?? undefined
    if (asked !== undefined && !isValidNodeId(asked)) {
      return refuse(socket, 400, 'Bad Request', `${EXPECTED_HUB_ID_PARAM}: must be a node id (33-byte compressed key, lowercase hex)`)
    }
    let knownPeer: NodeId | undefined
    if (query.value !== undefined) {
      const verdict = this.tokens.check(query.value)
      if (verdict.kind === 'known') knownPeer = verdict.nodeId
      else this.tokensIgnored[verdict.why]++
    }
    const admitted = this.admission.admit(ip, knownPeer)
    if (!admitted.ok) {
      this.refused[admitted.reason]++
      return refuse(socket, 429, 'Too Many Requests', admitted.reason)
    }
    const ticket = admitted.ticket
    // If the upgrade itself fails (a malformed request), `ws` answers 400 and destroys the socket
    // without calling back: the slots are freed here instead.
    let accepted = false
    socket.once('close', () => { if (!accepted) ticket.closed() })
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      accepted = true
      this.accept(ws, ip, ticket, knownPeer, asked)
    })
  }

  private accept (ws: WebSocket, ip: string, ticket: AdmissionTicket, claimed: NodeId | undefined, asked: NodeId | undefined): void {
    const key = this.ring.keyFor(asked)
    const conn: PeerConnection = new PeerConnection(ws, ip, {
      config: this.config,
      hubId: key.id,
      hubSecret: key.secret,
      handler: this.opts.handler,
      onHandlerError: this.opts.onHandlerError ?? (e => { queueMicrotask(() => { throw e }) }),
      ticket,
      claimed,
      isKnownPeer: this.isKnownPeer,
      now: this.now,
      authenticated: c => this.register(c),
      ...(this.opts.onRejectedFrame !== undefined ? { rejectedFrame: this.opts.onRejectedFrame } : {}),
      ended: c => {
        this.connections.delete(c)
        const id = c.nodeId
        if (id !== undefined && this.sessions.get(id) === c) this.sessions.delete(id)
      },
    })
    this.connections.add(conn)
  }

  private register (conn: PeerConnection): void {
    const session = conn.session
    if (session === undefined) return
    const old = this.sessions.get(session.nodeId)
    // The old session is ended first: its listeners are detached and the handler hears 'closed'
    // before 'opened', so at no moment do two connections speak for one node id.
    if (old !== undefined && old !== conn) old.end('replaced', 'a newer connection proved this node id')
    this.sessions.set(session.nodeId, conn)
    // A client under a key on its way out hears it before anything of the session.
    const rotation = this.ring.announcementFor(conn.hubId)
    if (rotation !== undefined) session.send(rotation)
    this.opts.handler.opened(session)
  }
}

function notWebSocket (_req: IncomingMessage, res: import('node:http').ServerResponse): void {
  res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' })
  res.end('this is a WebSocket endpoint\n')
}

/** Answers an upgrade request with an HTTP error and closes the socket. */
function refuse (socket: Duplex, status: number, text: string, body: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ` +
    `${Buffer.byteLength(body)}\r\n\r\n${body}`)
}

function noop (): void {}

export { CLOSE }
export type { PeerSession, SessionHandler }
