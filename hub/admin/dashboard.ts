// The operator's live dashboard: a page served by the admin server, behind its tokens. A browser cannot
// send a bearer header when it opens a page, so the page's login form posts the token once and gets it
// back as an HttpOnly, SameSite=Strict cookie (hub/admin/auth.ts), which opens GET routes only. The page
// (plain HTML and one script, no framework) polls the JSON routes every second: GET /info, /channels,
// /stats, /payments, /metrics (held payments, HTLCs in flight), /settlement, /audit/anchors and
// /node-key (the key proved by default and a rotation's grace; each shown as not available on a hub
// without it). Everything it shows is set as text, never as HTML.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { accessOf, authorize, SESSION_COOKIE } from './auth.ts'
import { DASHBOARD_HTML, DASHBOARD_JS, LOGIN_HTML } from './dashboard-page.ts'
import type { ExtraRoute, PublicRoute } from './server.ts'
import type { AdminTokens } from './tokens.ts'

/** Largest login form: a token is 64 characters. */
const MAX_LOGIN_BODY = 1_024
/** Only this page's own files and the API: no inline script, nothing from elsewhere. */
const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'"

function page (res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'Content-Type': type, 'Content-Length': Buffer.byteLength(body), 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff', ...headers,
  })
  res.end(body)
}

const redirect = (res: ServerResponse, to: string, headers: Record<string, string> = {}): void => {
  res.writeHead(303, { Location: to, 'Cache-Control': 'no-store', ...headers })
  res.end()
}

async function formToken (req: IncomingMessage): Promise<string | undefined> {
  let text = ''
  for await (const c of req) {
    text += (c as Buffer).toString('utf8')
    if (text.length > MAX_LOGIN_BODY) return undefined
  }
  return new URLSearchParams(text).get('token')?.trim() ?? undefined
}

/** The login form and its answer, and the page's redirect to it: before the token check. */
export function dashboardPublic (tokens: AdminTokens, secure: boolean): PublicRoute {
  return async (req, res, path) => {
    if (path === '/dashboard/login' && req.method === 'GET') { page(res, 200, 'text/html; charset=utf-8', LOGIN_HTML(false)); return true }
    if (path === '/dashboard/login' && req.method === 'POST') {
      const token = await formToken(req)
      if (token === undefined || accessOf(tokens, token) === undefined) {
        page(res, 401, 'text/html; charset=utf-8', LOGIN_HTML(true))
        return true
      }
      const cookie = `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}`
      redirect(res, '/dashboard', { 'Set-Cookie': cookie })
      return true
    }
    if (path === '/dashboard/logout') {
      redirect(res, '/dashboard/login', { 'Set-Cookie': `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0` })
      return true
    }
    if (path === '/dashboard' && req.method === 'GET') {
      const auth = authorize(tokens, 'GET', { authorization: req.headers.authorization, cookie: req.headers.cookie })
      if (!auth.ok) { redirect(res, '/dashboard/login'); return true }
    }
    return false
  }
}

/** The page and its script (behind the token check). */
export const dashboardRoute: ExtraRoute = (req, res, path) => {
  if (req.method !== 'GET') return false
  if (path === '/dashboard') { page(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML); return true }
  if (path === '/dashboard/app.js') { page(res, 200, 'text/javascript; charset=utf-8', DASHBOARD_JS); return true }
  return false
}
