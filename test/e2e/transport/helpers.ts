// Shared by the transport e2e tests: a hub transport on 127.0.0.1 (random port) with a recording
// handler, and a "raw" client that speaks the handshake by hand so a test can misbehave on purpose.
import { randomBytes } from 'node:crypto'
import { WebSocket } from 'ws'
import type { NodeId } from '../../../protocol/types.ts'
import { nodeIdOf } from '../../../protocol/auth/signature.ts'
import { clientReceive, startClientHandshake } from '../../../protocol/auth/handshake.ts'
import { decodeFrame, encodeMessage, type PeerMessage } from '../../../protocol/wire/index.ts'
import { HubTransport, type PeerSession, type SessionHandler } from '../../../hub/transport/server.ts'
import type { TransportConfigInput } from '../../../hub/transport/config.ts'
import type { CloseReason } from '../../../protocol/auth/close-codes.ts'

export const newKey = (): { secret: Uint8Array; id: NodeId } => {
  const secret = new Uint8Array(randomBytes(32))
  return { secret, id: nodeIdOf(secret) }
}

export type HubEvent =
  | { kind: 'opened'; nodeId: NodeId; session: PeerSession }
  | { kind: 'message'; nodeId: NodeId; msg: PeerMessage }
  | { kind: 'closed'; nodeId: NodeId; reason: CloseReason; session: PeerSession }

/** A handler that records everything in order, and lets a test wait for an event. */
export class Recorder implements SessionHandler {
  readonly events: HubEvent[] = []
  private waiters: Array<{ pred: (e: HubEvent) => boolean; resolve: (e: HubEvent) => void }> = []
  opened (session: PeerSession): void { this.push({ kind: 'opened', nodeId: session.nodeId, session }) }
  message (nodeId: NodeId, msg: PeerMessage): void { this.push({ kind: 'message', nodeId, msg }) }
  closed (session: PeerSession, reason: CloseReason): void { this.push({ kind: 'closed', nodeId: session.nodeId, reason, session }) }
  private push (e: HubEvent): void {
    this.events.push(e)
    this.waiters = this.waiters.filter(w => { if (w.pred(e)) { w.resolve(e); return false } return true })
  }
  /** The first event (already recorded or to come) matching `pred`. */
  wait<E extends HubEvent> (pred: (e: HubEvent) => e is E): Promise<E>
  wait (pred: (e: HubEvent) => boolean): Promise<HubEvent>
  wait (pred: (e: HubEvent) => boolean): Promise<HubEvent> {
    const found = this.events.find(pred)
    if (found !== undefined) return Promise.resolve(found)
    return new Promise(resolve => this.waiters.push({ pred, resolve }))
  }
}

export async function startHub (config: TransportConfigInput = {}, key = newKey()): Promise<{ hub: HubTransport; rec: Recorder; key: { secret: Uint8Array; id: NodeId } }> {
  const rec = new Recorder()
  const hub = await HubTransport.start({ nodeKey: key.secret, handler: rec, config: { host: '127.0.0.1', port: 0, ...config } })
  return { hub, rec, key }
}

/** A WebSocket client that records decoded messages and how it closed; no automatic behaviour. */
export class RawClient {
  readonly received: PeerMessage[] = []
  closed: Promise<{ code: number; reason: string }>
  private waiters: Array<{ pred: (m: PeerMessage) => boolean; resolve: (m: PeerMessage) => void }> = []
  private constructor (readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const d = decodeFrame(data)
      if (!d.ok) return
      this.received.push(d.msg)
      this.waiters = this.waiters.filter(w => { if (w.pred(d.msg)) { w.resolve(d.msg); return false } return true })
    })
    this.closed = new Promise(resolve => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })))
    ws.on('error', () => {})
  }

  /** Opens a socket; rejects with the HTTP status if the upgrade is refused (e.g. 429). */
  static open (url: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 })
      const c = new RawClient(ws)
      ws.once('open', () => resolve(c))
      ws.once('unexpected-response', (_req, res) => { reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })); ws.terminate() })
      ws.once('error', reject)
    })
  }

  next<T extends PeerMessage['type']> (type: T): Promise<Extract<PeerMessage, { type: T }>> {
    const pred = (m: PeerMessage): boolean => m.type === type
    const found = this.received.find(pred)
    if (found !== undefined) { this.received.splice(this.received.indexOf(found), 1); return Promise.resolve(found as Extract<PeerMessage, { type: T }>) }
    return new Promise(resolve => this.waiters.push({
      pred,
      resolve: m => { this.received.splice(this.received.indexOf(m), 1); resolve(m as Extract<PeerMessage, { type: T }>) },
    }))
  }

  send (msg: PeerMessage): void { this.ws.send(encodeMessage(msg, { validate: false })) }
  sendText (text: string): void { this.ws.send(text) }

  /** Runs the client's side of the handshake by hand. Returns the hub_hello and the client_auth sent. */
  async authenticate (key: { secret: Uint8Array; id: NodeId }): Promise<{ hello: PeerMessage & { type: 'hub_hello' }; clientAuth: PeerMessage }> {
    const hello = await this.next('hub_hello')
    const r = clientReceive(startClientHandshake(key.id), hello, key.secret, { challenge: randomBytes(32), auxRand: randomBytes(32) })
    if (!r.ok || r.send === undefined) throw new Error('raw client: hub_hello refused')
    const clientAuth = r.send
    this.send(clientAuth)
    const hubAuth = await this.next('hub_auth')
    const r2 = clientReceive(r.state, hubAuth, key.secret, { challenge: randomBytes(32), auxRand: randomBytes(32) })
    if (!r2.ok || r2.send === undefined) throw new Error('raw client: hub_auth refused')
    this.send(r2.send)
    return { hello, clientAuth }
  }
}

/** Sleep for event-driven tests that must let a socket settle; never used to assert timing. */
export const tick = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))
