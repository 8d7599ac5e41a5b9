// TCP connections that have not asked for the WebSocket upgrade yet (scenario 20). Admission
// (admission.ts) decides on the upgrade request, which carries the admission token; before it, a
// socket is only a file descriptor the hub holds. Without a bound, one address opening sockets and
// sending nothing (or a request line a byte at a time) holds descriptors until the process runs out
// of them, and then the hub can accept no one, known peers included, and open no file or RPC
// connection of its own.
//
// So such sockets are bounded like handshakes (they are the first part of one), and a full count
// makes room by closing the OLDEST socket, never by turning the new one away: who is on the other end
// is unknown until its request arrives, and an honest client sends that request within a round trip
// of its connect, so a flood pushes it out only by opening a whole cap of sockets within that round
// trip, while a silent socket is pushed out by the next one:
//   - per address (`maxUnauthenticatedPerIp`): a new socket closes the oldest waiting socket of its
//     own address. One address cannot push out anyone else's sockets, and a client behind the same
//     address as a flood (a NAT, a shared proxy) is not kept out by sockets the flood opened earlier;
//   - overall (`maxUnauthenticated`): a new socket closes the oldest waiting socket of any address;
//   - in time (`handshakeTimeoutMs`, the time a whole handshake may take): closed when it passes.
// A socket leaves this count when its upgrade request arrives (admission takes over) or it closes.
import type { Socket } from 'node:net'
import type { TransportConfig } from './config.ts'

type Limits = Pick<TransportConfig, 'maxUnauthenticated' | 'maxUnauthenticatedPerIp' | 'handshakeTimeoutMs'>

interface Waiting { socket: Socket; ip: string; timer: ReturnType<typeof setTimeout> }

/** A live TCP connection's key: its remote address and port. The same for the TCP socket and, under
 *  wss://, the TLS socket the upgrade request arrives on. */
export const connectionKey = (s: { remoteAddress?: string | undefined; remotePort?: number | undefined }): string =>
  `${s.remoteAddress ?? 'unknown'}|${s.remotePort ?? 0}`

export class PreRequestSockets {
  /** In accept order: the first is the oldest. */
  private readonly waiting = new Map<string, Waiting>()
  /** The keys of each address's waiting sockets, in accept order. */
  private readonly perIp = new Map<string, Set<string>>()
  /** Sockets closed by a cap or the deadline, by reason, since start. */
  readonly closed = { per_ip: 0, overall: 0, timeout: 0 }

  constructor (private readonly limits: Limits) {}

  get count (): number { return this.waiting.size }

  /** A TCP connection was accepted. */
  accepted (socket: Socket): void {
    const ip = socket.remoteAddress ?? 'unknown'
    const key = connectionKey(socket)
    // A socket of the same address and port that closed without its 'close' seen yet.
    this.forget(key)
    const own = this.perIp.get(ip)
    if (own !== undefined && own.size >= this.limits.maxUnauthenticatedPerIp) {
      const [oldest] = own
      if (oldest !== undefined) this.close(oldest, 'per_ip')
    }
    if (this.waiting.size >= this.limits.maxUnauthenticated) {
      const [oldest] = this.waiting.keys()
      if (oldest !== undefined) this.close(oldest, 'overall')
    }
    const timer = setTimeout(() => {
      if (this.waiting.get(key)?.socket === socket) this.close(key, 'timeout')
    }, this.limits.handshakeTimeoutMs)
    timer.unref()
    this.waiting.set(key, { socket, ip, timer })
    const keys = this.perIp.get(ip) ?? new Set<string>()
    keys.add(key)
    this.perIp.set(ip, keys)
    socket.once('close', () => { if (this.waiting.get(key)?.socket === socket) this.forget(key) })
  }

  /** The upgrade request of the connection `key` (connectionKey) arrived: admission decides from here on. */
  requested (key: string): void {
    this.forget(key)
  }

  private close (key: string, why: keyof PreRequestSockets['closed']): void {
    const w = this.waiting.get(key)
    if (w === undefined) return
    this.closed[why]++
    this.forget(key)
    w.socket.destroy()
  }

  private forget (key: string): void {
    const w = this.waiting.get(key)
    if (w === undefined) return
    clearTimeout(w.timer)
    this.waiting.delete(key)
    const keys = this.perIp.get(w.ip)
    keys?.delete(key)
    if (keys?.size === 0) this.perIp.delete(w.ip)
  }
}
