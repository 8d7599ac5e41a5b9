// Who may open a connection (scenario 20): a per-IP rate limit on connection attempts, caps on
// connections still in the handshake (overall and per IP), and a cap on all connections. Decided
// before the WebSocket upgrade, so a flood costs the hub an HTTP line, not a socket and a handshake.
import type { TransportConfig } from './config.ts'

export type Refusal = 'rate_limited' | 'too_many_unauthenticated' | 'too_many_connections'

type Limits = Pick<TransportConfig, 'maxConnectsPerIp' | 'rateWindowMs' | 'maxUnauthenticated' | 'maxUnauthenticatedPerIp' | 'maxConnections'>

export class Admission {
  /** Attempt times per IP within the current window (oldest first). */
  private readonly attempts = new Map<string, number[]>()
  private readonly unauthPerIp = new Map<string, number>()
  private unauth = 0
  private open = 0

  constructor (private readonly limits: Limits, private readonly now: () => number) {}

  /** Counts an attempt from `ip`; on acceptance the connection is open and unauthenticated. */
  admit (ip: string): { ok: true } | { ok: false; reason: Refusal } {
    const t = this.now()
    const recent = (this.attempts.get(ip) ?? []).filter(at => t - at < this.limits.rateWindowMs)
    recent.push(t)
    // Remember at most the window's worth of attempts: a flood does not grow this list.
    if (recent.length > this.limits.maxConnectsPerIp + 1) recent.splice(0, recent.length - this.limits.maxConnectsPerIp - 1)
    this.attempts.set(ip, recent)
    this.prune(t)
    if (recent.length > this.limits.maxConnectsPerIp) return { ok: false, reason: 'rate_limited' }
    if (this.open >= this.limits.maxConnections) return { ok: false, reason: 'too_many_connections' }
    const perIp = this.unauthPerIp.get(ip) ?? 0
    if (this.unauth >= this.limits.maxUnauthenticated || perIp >= this.limits.maxUnauthenticatedPerIp) {
      return { ok: false, reason: 'too_many_unauthenticated' }
    }
    this.open++
    this.unauth++
    this.unauthPerIp.set(ip, perIp + 1)
    return { ok: true }
  }

  /** The connection from `ip` finished its handshake (or closed during it). */
  leftHandshake (ip: string): void {
    this.unauth--
    const n = (this.unauthPerIp.get(ip) ?? 1) - 1
    if (n <= 0) this.unauthPerIp.delete(ip)
    else this.unauthPerIp.set(ip, n)
  }

  /** An admitted connection closed. */
  closed (): void { this.open-- }

  get counts (): { open: number; unauthenticated: number } { return { open: this.open, unauthenticated: this.unauth } }

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
