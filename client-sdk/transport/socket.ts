// The WebSocket the SDK talks through: the WHATWG API (addEventListener, send, close), which browsers
// have natively and the `ws` package implements in Node (client-sdk/node/socket.ts, which the Node
// entry client-sdk/node.ts passes in).

export interface SocketLike {
  readonly readyState: number
  readonly bufferedAmount: number
  send (data: string): void
  close (code?: number, reason?: string): void
  addEventListener (type: 'open', fn: () => void): void
  addEventListener (type: 'message', fn: (ev: { data: unknown }) => void): void
  addEventListener (type: 'close', fn: (ev: { code: number; reason: string }) => void): void
  addEventListener (type: 'error', fn: (ev: { message?: string; error?: unknown }) => void): void
}

export const OPEN = 1

/** Opens a socket to `url`: the native WebSocket in a browser; `ws` in Node (client-sdk/node/socket.ts),
 *  with the frame-size cap enforced while reading. */
export type SocketFactory = (url: string) => Promise<SocketLike>

/** The runtime's own WebSocket (browsers; the codec checks frame sizes). A runtime without one
 *  (Node 20) needs a factory passed in: client-sdk/node.ts passes `ws`. */
export const nativeSocketFactory: SocketFactory = async (url) => {
  const native = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket
  if (native === undefined) throw new TypeError('socketFactory: this runtime has no WebSocket; pass one (in Node, use client-sdk/node.ts)')
  return new native(url)
}

/** A text frame as a string, whichever implementation delivered it; undefined for binary data. */
export function frameText (data: unknown): string | Uint8Array | undefined {
  if (typeof data === 'string') return data
  if (data instanceof Uint8Array) return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return undefined
}
