// btcd's websocket endpoint (/ws): after `notifyblocks`, btcd pushes `blockconnected` and
// `blockdisconnected` notifications (rpcwebsocket.go). They are used only as a signal that the chain
// changed; followers then ask the node what the chain is (follower.ts). The connection is re-opened
// whenever it drops (a restarted node, scenario 12), and every (re)open counts as a change too, since
// notifications may have been missed meanwhile.
import WebSocket from 'ws'
import { z } from 'zod'

/** Frames from btcd are small notifications; anything bigger is not one of ours. */
const MAX_FRAME_BYTES = 1024 * 1024
const RECONNECT_MIN_MS = 100
const RECONNECT_MAX_MS = 2000

const NOTIFY_ID = 1
const notification = z.object({ method: z.string().max(100) }).or(z.object({ id: z.unknown(), error: z.unknown() }))

export interface WsConfig { host: string; port: number; user: string; pass: string }

export class BtcdBlockNotifier {
  private ws: WebSocket | null = null
  private closed = false
  private retryMs = RECONNECT_MIN_MS
  private timer: NodeJS.Timeout | null = null
  /** True once btcd acknowledged `notifyblocks` on the current connection. */
  connected = false

  constructor (private readonly config: WsConfig, private readonly onChange: (why: string) => void) {}

  start (): void { this.open() }

  close (): void {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    this.ws?.terminate()
    this.ws = null
  }

  private open (): void {
    if (this.closed) return
    const auth = 'Basic ' + Buffer.from(`${this.config.user}:${this.config.pass}`).toString('base64')
    const ws = new WebSocket(
      `ws://${this.config.host}:${this.config.port}/ws`, { headers: { authorization: auth }, maxPayload: MAX_FRAME_BYTES },
    )
    this.ws = ws
    ws.on('open', () => {
      this.retryMs = RECONNECT_MIN_MS
      ws.send(JSON.stringify({ jsonrpc: '1.0', id: NOTIFY_ID, method: 'notifyblocks', params: [] }))
    })
    ws.on('message', (data: WebSocket.RawData) => {
      let parsed: unknown
      try { parsed = JSON.parse(data.toString()) } catch { return }
      const n = notification.safeParse(parsed)
      if (!n.success) return
      if (!('method' in n.data)) {
        // btcd's answer to notifyblocks: from here on every block is notified.
        if (n.data.id === NOTIFY_ID && n.data.error === null) { this.connected = true; this.onChange('ws subscribed') }
        return
      }
      if (n.data.method === 'blockconnected' || n.data.method === 'blockdisconnected') this.onChange(n.data.method)
    })
    ws.on('error', () => { /* 'close' follows and reconnects */ })
    ws.on('close', () => {
      this.connected = false
      if (this.ws === ws) this.ws = null
      if (this.closed) return
      this.timer = setTimeout(() => { this.timer = null; this.open() }, this.retryMs)
      this.timer.unref()
      this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS)
    })
  }
}
