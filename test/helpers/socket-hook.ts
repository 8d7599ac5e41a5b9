// A client connection whose incoming messages pass through a hook first: the hook delivers a message
// to the client, drops it, or cuts the connection (the client reconnects). The e2e tests that stop a
// protocol at one message use it instead of wrapping the socket themselves.
import { wsSocketFactory } from '../../client-sdk/node/socket.ts'
import type { SocketFactory, SocketLike } from '../../client-sdk/transport/socket.ts'

export interface IncomingMessage {
  data: unknown
  /** The message's `type` field, if it is JSON with one. */
  type: string | undefined
  /** Hands the message to the client. */
  deliver (): void
  /** Closes the connection at once (terminate where the socket has it). */
  cut (): void
}

export function hookedSocketFactory (onMessage: (m: IncomingMessage) => void): SocketFactory {
  return async url => {
    const ws = await wsSocketFactory(url) as SocketLike & { terminate?: () => void }
    const cut = (): void => { if (ws.terminate !== undefined) ws.terminate(); else ws.close(4000, 'cut') }
    return {
      get readyState () { return ws.readyState },
      get bufferedAmount () { return ws.bufferedAmount },
      send: (data: string) => ws.send(data),
      close: (code?: number, reason?: string) => ws.close(code, reason),
      addEventListener (type: string, fn: (ev: never) => void) {
        if (type !== 'message') { (ws.addEventListener as (t: string, f: unknown) => void)(type, fn); return }
        ws.addEventListener('message', (ev: { data: unknown }) => {
          let msgType: string | undefined
          try {
            const t = (JSON.parse(String(ev.data)) as { type?: unknown }).type
            msgType = typeof t === 'string' ? t : undefined
          } catch { msgType = undefined }
          onMessage({ data: ev.data, type: msgType, deliver: () => { (fn as (e: { data: unknown }) => void)(ev) }, cut })
        })
      },
    } as SocketLike
  }
}
