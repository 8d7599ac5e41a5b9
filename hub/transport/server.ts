// The hub's WebSocket server: admission (scenario 20) before the upgrade, then one PeerConnection per
// socket, and a registry that keeps exactly one session per node id — a second connection that
// proves the same key replaces the first (the old one is closed with 'replaced' and detached before
// the new one is announced, so the hub's logic never sees two sessions for one node).
//
// TLS: production runs over wss:// (DESIGN.md "Authentication"). Pass `tls` (node:https server
// options: key, cert, …) and the same code serves wss://; the handshake does not depend on it, TLS
// only hides the traffic. The tests use plain ws:// on loopback.
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http'
import { createServer as createHttpsServer, type ServerOptions as HttpsOptions } from 'node:https'
import type { Duplex } from 'node:stream'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import type { NodeId } from '../../protocol/types.ts'
import { nodeIdOf } from '../../protocol/auth/signature.ts'
import { CLOSE } from '../../protocol/auth/close-codes.ts'
import { MAX_FRAME_BYTES } from '../../protocol/limits.ts'
import { Admission, type Refusal } from './admission.ts'
import { parseTransportConfig, type TransportConfig, type TransportConfigInput } from './config.ts'
import { PeerConnection, type PeerSession, type SessionHandler } from './peer-connection.ts'

export interface HubTransportOptions {
  /** The hub's node key (32-byte secret). Its public key is the hub id clients authenticate. */
  nodeKey: Uint8Array
  handler: SessionHandler
  config?: TransportConfigInput
  /** Serve wss:// with these TLS options instead of ws://. */
  tls?: HttpsOptions
  /** Clock for the rate limiter (ms). */
  now?: () => number
  /** The handler threw on a message (a bug): the peer has been disconnected. Default: rethrow
   *  outside the socket's callback, which ends the process unless the host handles it. */
  onHandlerError?: (error: unknown, nodeId: NodeId) => void
}

export class HubTransport {
  readonly hubId: NodeId
  readonly config: TransportConfig
  private readonly http: HttpServer
  private readonly wss: WebSocketServer
  private readonly admission: Admission
  private readonly sessions = new Map<NodeId, PeerConnection>()
  private readonly connections = new Set<PeerConnection>()
  /** Refusals by reason since start, for operators and tests. */
  readonly refused: Record<Refusal, number> = { rate_limited: 0, too_many_unauthenticated: 0, too_many_connections: 0 }

  private constructor (private readonly opts: HubTransportOptions, config: TransportConfig) {
    this.config = config
    this.hubId = nodeIdOf(opts.nodeKey)
    this.admission = new Admission(config, opts.now ?? Date.now)
    this.http = opts.tls === undefined ? createHttpServer(notWebSocket) : createHttpsServer(opts.tls, notWebSocket)
    // `maxPayload`: `ws` refuses a larger frame while reading it (closing with 1009), before it is
    // buffered whole; the codec checks the size again on its own.
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false })
    this.http.on('upgrade', this.onUpgrade)
  }

  /** Validates the settings and listens. */
  static async start (opts: HubTransportOptions): Promise<HubTransport> {
    const parsed = parseTransportConfig(opts.config ?? {})
    if (!parsed.ok) throw new TypeError(`transport config: ${parsed.error}`)
    if (opts.nodeKey.length !== 32) throw new TypeError('transport: nodeKey must be 32 bytes')
    const t = new HubTransport(opts, parsed.config)
    await new Promise<void>((resolve, reject) => {
      t.http.once('error', reject)
      t.http.listen(parsed.config.port, parsed.config.host, () => { t.http.off('error', reject); resolve() })
    })
    return t
  }

  get port (): number { return (this.http.address() as AddressInfo).port }
  get url (): string { return `${this.opts.tls === undefined ? 'ws' : 'wss'}://${this.config.host}:${this.port}` }

  /** The live session of `nodeId`, if it is connected. */
  session (nodeId: NodeId): PeerSession | undefined { return this.sessions.get(nodeId)?.session }
  get sessionCount (): number { return this.sessions.size }
  get counts (): { open: number; unauthenticated: number; sessions: number } {
    return { ...this.admission.counts, sessions: this.sessions.size }
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
    socket.on('error', noop)
    const admitted = this.admission.admit(ip)
    if (!admitted.ok) {
      this.refused[admitted.reason]++
      socket.end(`HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${admitted.reason.length}\r\n\r\n${admitted.reason}`)
      return
    }
    // If the upgrade itself fails (a malformed request), `ws` answers 400 and destroys the socket
    // without calling back: the slot is freed here instead.
    let accepted = false
    socket.once('close', () => {
      if (!accepted) { this.admission.leftHandshake(ip); this.admission.closed() }
    })
    this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      accepted = true
      this.accept(ws, ip)
    })
  }

  private accept (ws: WebSocket, ip: string): void {
    const conn: PeerConnection = new PeerConnection(ws, ip, {
      config: this.config,
      hubId: this.hubId,
      hubSecret: this.opts.nodeKey,
      handler: this.opts.handler,
      onHandlerError: this.opts.onHandlerError ?? (e => { queueMicrotask(() => { throw e }) }),
      leftHandshake: () => this.admission.leftHandshake(ip),
      authenticated: c => this.register(c),
      ended: c => {
        this.connections.delete(c)
        this.admission.closed()
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
    this.opts.handler.opened(session)
  }
}

function notWebSocket (_req: IncomingMessage, res: import('node:http').ServerResponse): void {
  res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' })
  res.end('this is a WebSocket endpoint\n')
}

function noop (): void {}

export { CLOSE }
export type { PeerSession, SessionHandler }
