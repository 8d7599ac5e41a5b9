// Who may open a connection (scenario 20), decided before the WebSocket upgrade, so a flood costs the
// hub an HTTP line, not a socket and a handshake.
//
// Two kinds of connection, counted apart:
//   - strangers: anyone. A per-IP rate limit on attempts, caps on those still in the handshake
//     (overall and per IP), and a cap on all of them.
//   - known peers: node ids the hub has a channel with. They prove who they are before the upgrade
//     with an admission token (admission-tokens.ts) and take handshake slots kept for them, a few per
//     node id; none of the strangers' caps apply, so no flood of strangers' sockets, however many
//     addresses it comes from, can keep a peer with a channel from reconnecting. A stranger whose
//     handshake proves a known node id moves over to the known peers' count.
// The per-IP rate limit applies to both: it is checked before a token's signature is verified, so it
// also bounds the verification work one address can cause.
//
// Each admitted connection gets an AdmissionTicket that frees exactly what it took, once.
import type { NodeId } from '../../protocol/types.ts'
import type { TransportConfig } from './config.ts'

export type Refusal = 'rate_limited' | 'too_many_unauthenticated' | 'too_many_connections' | 'too_many_handshakes_for_peer'

type Limits = Pick<TransportConfig,
'maxConnectsPerIp' | 'rateWindowMs' | 'maxUnauthenticated' | 'maxUnauthenticatedPerIp' | 'maxConnections' | 'maxHandshakesPerKnownPeer'>

export class Admission {
  /** Attempt times per IP within the current window (oldest first). */
  private readonly attempts = new Map<string, number[]>()
  private readonly unauthPerIp = new Map<string, number>()
  /** Strangers still in the handshake. */
  private unauth = 0
  /** Open connections of strangers (in the handshake, or authenticated as a node id without a channel). */
  private strangers = 0
  /** Handshakes in the slots kept for known peers, per node id. */
  private readonly keptHandshakes = new Map<NodeId, number>()
  /** Open connections of known peers. */
  private known = 0

  constructor (private readonly limits: Limits, private readonly now: () => number) {}

  /**
   * Counts an attempt from `ip`. `knownPeer`: the node id its admission token proved, if the hub has
   * a channel with it. On acceptance the connection is open and in its handshake.
   */
  admit (ip: string, knownPeer?: NodeId): { ok: true; ticket: AdmissionTicket } | { ok: false; reason: Refusal } {
    if (!this.withinRate(ip)) return { ok: false, reason: 'rate_limited' }
    if (knownPeer !== undefined) {
      const n = this.keptHandshakes.get(knownPeer) ?? 0
      if (n >= this.limits.maxHandshakesPerKnownPeer) return { ok: false, reason: 'too_many_handshakes_for_peer' }
      this.keptHandshakes.set(knownPeer, n + 1)
      this.known++
      return { ok: true, ticket: new AdmissionTicket(this, ip, knownPeer) }
    }
    if (this.strangers >= this.limits.maxConnections) return { ok: false, reason: 'too_many_connections' }
    const perIp = this.unauthPerIp.get(ip) ?? 0
    if (this.unauth >= this.limits.maxUnauthenticated || perIp >= this.limits.maxUnauthenticatedPerIp) {
      return { ok: false, reason: 'too_many_unauthenticated' }
    }
    this.strangers++
    this.unauth++
    this.unauthPerIp.set(ip, perIp + 1)
    return { ok: true, ticket: new AdmissionTicket(this, ip, undefined) }
  }

  get counts (): { open: number; unauthenticated: number; known: number; knownHandshakes: number } {
    let knownHandshakes = 0
    for (const n of this.keptHandshakes.values()) knownHandshakes += n
    return { open: this.strangers + this.known, unauthenticated: this.unauth, known: this.known, knownHandshakes }
  }

  /** @internal — the ticket's handshake ended; `becameKnown`: a stranger proved a known node id. */
  handshakeEnded (ip: string, keptFor: NodeId | undefined, becameKnown: boolean): void {
    if (keptFor !== undefined) {
      const n = (this.keptHandshakes.get(keptFor) ?? 1) - 1
      if (n <= 0) this.keptHandshakes.delete(keptFor)
      else this.keptHandshakes.set(keptFor, n)
      return
    }
    this.unauth--
    const n = (this.unauthPerIp.get(ip) ?? 1) - 1
    if (n <= 0) this.unauthPerIp.delete(ip)
    else this.unauthPerIp.set(ip, n)
    if (becameKnown) { this.strangers--; this.known++ }
  }

  /** @internal — an admitted connection closed. */
  connectionClosed (known: boolean): void {
    if (known) this.known--
    else this.strangers--
  }

  private withinRate (ip: string): boolean {
    const t = this.now()
    const recent = (this.attempts.get(ip) ?? []).filter(at => t - at < this.limits.rateWindowMs)
    recent.push(t)
    // Remember at most the window's worth of attempts: a flood does not grow this list.
    if (recent.length > this.limits.maxConnectsPerIp + 1) recent.splice(0, recent.length - this.limits.maxConnectsPerIp - 1)
    this.attempts.set(ip, recent)
    this.prune(t)
    return recent.length <= this.limits.maxConnectsPerIp
  }

  /** Drops IPs whose attempts are all older than the window, so the map stays bounded by the number
   *  of addresses seen in one window. Amortized: runs when the map has grown. */
  private lastPruneSize = 64
  private prune (t: number): void {
    if (this.attempts.size < 2 * this.lastPruneSize) return
    for (const [ip, times] of this.attempts) {
      if (times.length === 0 || t - times[times.length - 1]! >= this.limits.rateWindowMs) this.attempts.delete(ip)
    }
    this.lastPruneSize = Math.max(64, this.attempts.size)
  }
}

/** What one admitted connection holds: a handshake slot, then a connection slot. Each is freed once. */
export class AdmissionTicket {
  private inHandshake = true
  private open = true
  private known: boolean

  constructor (private readonly admission: Admission, private readonly ip: string, readonly keptFor: NodeId | undefined) {
    this.known = keptFor !== undefined
  }

  /** The handshake ended: `proven` is the node id it proved (undefined: it failed or the socket closed),
   *  `isKnown` whether the hub has a channel with it. */
  handshakeEnded (proven: NodeId | undefined, isKnown: boolean): void {
    if (!this.inHandshake) return
    this.inHandshake = false
    const becameKnown = !this.known && proven !== undefined && isKnown
    if (becameKnown) this.known = true
    this.admission.handshakeEnded(this.ip, this.keptFor, becameKnown)
  }

  /** The connection closed (frees its handshake slot too, if it closed during the handshake). */
  closed (): void {
    if (!this.open) return
    this.handshakeEnded(undefined, false)
    this.open = false
    this.admission.connectionClosed(this.known)
  }
}
