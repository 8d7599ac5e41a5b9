// The WebSocket the SDK talks through: the WHATWG API (addEventListener, send, close), which browsers
// have natively and the `ws` package implements in Node. Only this file knows which one is used.
import { MAX_FRAME_BYTES } from '../../protocol/limits.ts'

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

/** Opens a socket to `url`. In Node: `ws`, with the frame-size cap enforced while reading
 *  (`maxPayload`) and compression off; in a browser: the native WebSocket (the codec checks sizes). */
export type SocketFactory = (url: string) => Promise<SocketLike>

export const defaultSocketFactory: SocketFactory = async (url) => {
  const native = (globalThis as { WebSocket?: new (url: string) => SocketLike }).WebSocket
  const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string'
  if (!isNode && native !== undefined) return new native(url)
  const { WebSocket } = await import('ws')
  return new WebSocket(url, { maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false }) as unknown as SocketLike
}

/** A text frame as a string, whichever implementation delivered it; undefined for binary data. */
export function frameText (data: unknown): string | Uint8Array | undefined {
  if (typeof data === 'string') return data
  if (data instanceof Uint8Array) return data
  if (data instanceof ArrayBuffer) return new Uint8Array(data)
  return undefined
}
