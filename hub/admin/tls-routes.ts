// POST /tls/rotate: the hub reads its certificate files now (hubctl rotate-cert) instead of waiting
// for the watch or the periodic stat, and answers what it did (hub/transport/tls-files.ts). Its
// documentation joins ROUTES in hub/admin/server.ts; it runs as an extra route, behind the tokens
// (a POST: the admin token).
import type { CertificateRotation } from '../transport/tls-files.ts'
import type { ServerResponse } from 'node:http'
import type { ExtraRoute, RouteDoc } from './server.ts'

export const TLS_ROUTES: readonly RouteDoc[] = [
  {
    method: 'POST', path: '/tls/rotate',
    answer: '{ok, changed, fingerprint256, previous_fingerprint256}: the certificate files read now and their pair served to new '
      + 'connections; 409 {ok: false, error, kept_fingerprint256} when the pair is refused (the one in use stays), or without TLS',
  },
]

export function tlsRotateRoute (rotation: () => CertificateRotation | undefined): ExtraRoute {
  return (req, res, path) => {
    if (path !== '/tls/rotate' || req.method !== 'POST') return false
    const r = rotation()
    if (r === undefined) {
      send(res, 409, { error: 'transport.tls: this hub does not serve TLS (no certificate files configured)' })
      return true
    }
    const answer = r.reloadNow()
    if (answer.ok) send(res, 200, answer)
    else send(res, 409, answer)
    return true
  }
}

function send (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}
