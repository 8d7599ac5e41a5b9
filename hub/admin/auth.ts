// Who may call the admin API: every request carries `Authorization: Bearer <token>` (hub/admin/tokens.ts).
// The read-only token opens GET routes; the admin token opens every route. The dashboard's browser
// session carries the same token in an HttpOnly, SameSite=Strict cookie, which opens GET routes only:
// a request that changes anything must carry the header, which another site's page cannot make a
// browser send (no cross-site request forgery).
import { createHash, timingSafeEqual } from 'node:crypto'
import type { AdminTokens } from './tokens.ts'

export type Access = 'read' | 'admin'
export type Authorized = { ok: true; access: Access } | { ok: false; status: 401 | 403; error: string }

/** The cookie of a dashboard session. */
export const SESSION_COOKIE = 'hub_admin'

/** What a request needs: reading (GET, HEAD) or acting (anything else). */
export const accessNeeded = (method: string): Access => (method === 'GET' || method === 'HEAD' ? 'read' : 'admin')

/** Equal strings, in a time that does not depend on where they differ (both are hashed to 32 bytes
 *  first, so neither does it leak the token's length). */
function sameSecret (given: string, token: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(token).digest()
  return timingSafeEqual(a, b)
}

/** The access a token grants, checking it against both tokens always (no early exit). */
export function accessOf (tokens: AdminTokens, given: string): Access | undefined {
  const isAdmin = sameSecret(given, tokens.admin)
  const isRead = sameSecret(given, tokens.read)
  return isAdmin ? 'admin' : isRead ? 'read' : undefined
}

/** The bearer token of an Authorization header, if it is one. */
export function bearer (header: string | undefined): string | undefined {
  const m = /^Bearer ([\x21-\x7e]{1,256})$/.exec(header ?? '')
  return m?.[1]
}

/** The session cookie's token, if the Cookie header has one. */
export function sessionToken (cookie: string | undefined): string | undefined {
  for (const part of (cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=')
    if (name === SESSION_COOKIE) return value.join('=')
  }
  return undefined
}

export function authorize (
  tokens: AdminTokens, method: string, headers: { authorization?: string | undefined; cookie?: string | undefined },
): Authorized {
  const needed = accessNeeded(method)
  const fromHeader = bearer(headers.authorization)
  const fromCookie = needed === 'read' ? sessionToken(headers.cookie) : undefined
  const given = fromHeader ?? fromCookie
  if (given === undefined) {
    return {
      ok: false, status: 401,
      error: headers.authorization !== undefined
        ? 'authorization: expected "Bearer <token>"'
        : 'authorization: missing (send "Authorization: Bearer <token>", the token in <data-dir>/admin.token or read.token)',
    }
  }
  const access = accessOf(tokens, given)
  if (access === undefined) return { ok: false, status: 401, error: 'authorization: unknown token' }
  if (needed === 'admin' && access !== 'admin') {
    return { ok: false, status: 403, error: `authorization: the read-only token cannot ${method}; this route needs the admin token` }
  }
  return { ok: true, access }
}

/** Hosts the admin API may listen on without TLS: loopback only (its tokens would cross the network
 *  in clear otherwise). */
export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
