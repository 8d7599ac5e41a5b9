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

/** Node's codes for a server certificate that did not verify (OpenSSL's X509 verify results, and the
 *  host name check). Browsers do not say why a wss:// connection failed; Node's `ws` does. */
const CERTIFICATE_ERROR_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'CERT_REVOKED', 'CERT_UNTRUSTED',
  'CERT_REJECTED', 'CERT_CHAIN_TOO_LONG', 'INVALID_CA', 'INVALID_PURPOSE', 'PATH_LENGTH_EXCEEDED', 'HOSTNAME_MISMATCH',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** What a socket's error event says, with a certificate the client refused named as such. */
export function socketErrorText (ev: { message?: string; error?: unknown }): string {
  const message = ev.message ?? String(ev.error ?? 'socket error')
  const code = (ev.error as { code?: unknown } | undefined)?.code
  if (typeof code === 'string' && CERTIFICATE_ERROR_CODES.has(code)) {
    return `the hub's TLS certificate was refused (${code}): ${message}`
  }
  return message
}
