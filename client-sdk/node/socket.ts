// The SDK's WebSocket in Node: the `ws` package, with the frame-size cap enforced while reading
// (`maxPayload`: a larger frame is refused before it is buffered) and compression off. Over wss:// the
// hub's certificate is always verified: against the system's CAs, or against the CAs given in `tls.ca`
// (in their place), and it must name the URL's host. Verification is never turned off.
import { X509Certificate } from 'node:crypto'
import { WebSocket } from 'ws'
import { z } from 'zod'
import { MAX_FRAME_BYTES } from '../../protocol/limits.ts'
import type { SocketFactory, SocketLike } from '../transport/socket.ts'

/** A CA bundle larger than this is not a CA bundle (the system's whole store is about 200 KiB). */
const MAX_CA_PEM_CHARS = 1_000_000
const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** The PEM certificates in `pem`, or undefined if there is none or one does not parse. */
function pemCertificates (pem: string): string[] | undefined {
  const blocks = pem.match(PEM_CERTIFICATE)
  if (blocks === null) return undefined
  try {
    return blocks.every(b => new X509Certificate(b).raw.length > 0) ? blocks : undefined
  } catch { return undefined }
}

export const socketTlsSchema = z.strictObject({
  /** The CA certificates (PEM; one string may hold several) that the hub's certificate must chain
   *  to, in place of the system's CAs: for a hub whose certificate a private CA signed. */
  ca: z.string().max(MAX_CA_PEM_CHARS).refine(s => pemCertificates(s) !== undefined, {
    error: 'must be one or more PEM certificates (-----BEGIN CERTIFICATE----- …), each one valid',
  }).optional(),
})
export type SocketTls = z.output<typeof socketTlsSchema>

/** A `ws` socket factory that verifies a wss:// hub's certificate against `tls.ca` (default: the system's CAs). */
export function wsSocketFactoryWith (tls: SocketTls): SocketFactory {
  const ca = tls.ca === undefined ? undefined : pemCertificates(tls.ca)
  return async (url) => new WebSocket(url, {
    maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, ...(ca !== undefined ? { ca } : {}),
  }) as unknown as SocketLike
}

export const wsSocketFactory: SocketFactory = wsSocketFactoryWith({})
