// The admin API's tokens and who they let in (hub/admin/auth.ts, hub/admin/tokens.ts), and the config
// rule that keeps the API on loopback unless it has TLS (hub/config.ts `admin`).
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { accessNeeded, authorize, isLoopback, SESSION_COOKIE } from '../../../../hub/admin/auth.ts'
import { ADMIN_TOKEN_FILE, READ_TOKEN_FILE, loadAdminTokens } from '../../../../hub/admin/tokens.ts'
import { parseHubConfig } from '../../../../hub/config.ts'

const tokens = { admin: 'a'.repeat(64), read: 'b'.repeat(64) }

t.test('authorize: the admin token opens everything, the read-only token GETs only, anything else nothing', async t => {
  const cases: Array<[string, string | undefined, string | undefined, { ok: boolean; status?: number; access?: string }]> = [
    ['GET', `Bearer ${tokens.admin}`, undefined, { ok: true, access: 'admin' }],
    ['POST', `Bearer ${tokens.admin}`, undefined, { ok: true, access: 'admin' }],
    ['GET', `Bearer ${tokens.read}`, undefined, { ok: true, access: 'read' }],
    ['POST', `Bearer ${tokens.read}`, undefined, { ok: false, status: 403 }],
    ['GET', undefined, undefined, { ok: false, status: 401 }],
    ['GET', `Bearer ${'c'.repeat(64)}`, undefined, { ok: false, status: 401 }],
    ['GET', `Bearer ${tokens.admin.slice(1)}`, undefined, { ok: false, status: 401 }],
    ['GET', `Basic ${tokens.admin}`, undefined, { ok: false, status: 401 }],
    ['GET', tokens.admin, undefined, { ok: false, status: 401 }],
    // The dashboard's session cookie: GET only.
    ['GET', undefined, `x=1; ${SESSION_COOKIE}=${tokens.read}`, { ok: true, access: 'read' }],
    ['POST', undefined, `${SESSION_COOKIE}=${tokens.admin}`, { ok: false, status: 401 }],
    ['GET', undefined, `${SESSION_COOKIE}=nope`, { ok: false, status: 401 }],
  ]
  for (const [method, authorization, cookie, want] of cases) {
    t.match(authorize(tokens, method, { authorization, cookie }), want, `${method} ${authorization ?? ''} ${cookie ?? ''}`)
  }
  const missing = authorize(tokens, 'GET', {})
  t.match(!missing.ok && missing.error, /^authorization: missing \(send "Authorization: Bearer <token>"/, 'the refusal says what to send')
  const readPost = authorize(tokens, 'POST', { authorization: `Bearer ${tokens.read}` })
  t.match(!readPost.ok && readPost.error, /read-only token cannot POST/, 'and why the read-only token is not enough')
  t.same(['GET', 'HEAD', 'POST', 'DELETE'].map(accessNeeded), ['read', 'read', 'admin', 'admin'])
})

t.test('tokens: created at the first start with mode 0600, the same on the next, refused when others may read them', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'admin-tokens-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const first = loadAdminTokens(dir)
  t.match(first, { admin: /^[0-9a-f]{64}$/, read: /^[0-9a-f]{64}$/ }, 'two 32-byte hex tokens')
  t.not(first.admin, first.read, 'different tokens')
  for (const f of [ADMIN_TOKEN_FILE, READ_TOKEN_FILE]) t.equal(fs.statSync(path.join(dir, f)).mode & 0o777, 0o600, `${f}: mode 0600`)
  t.same(loadAdminTokens(dir), first, 'read back on the next start')
  fs.chmodSync(path.join(dir, ADMIN_TOKEN_FILE), 0o644)
  t.throws(() => loadAdminTokens(dir), /admin\.token: mode 644 lets others read the token; chmod 600 it/)
  fs.chmodSync(path.join(dir, ADMIN_TOKEN_FILE), 0o600)
  fs.writeFileSync(path.join(dir, READ_TOKEN_FILE), 'short\n', { mode: 0o600 })
  t.throws(() => loadAdminTokens(dir), /read\.token: expected 32 bytes of lowercase hex/)
})

t.test('config: the admin API leaves loopback only with TLS', async t => {
  t.ok(['127.0.0.1', '127.3.4.5', '::1', 'localhost'].every(isLoopback), 'loopback hosts')
  t.notOk(['0.0.0.0', '10.0.0.1', '::', 'hub.example'].some(isLoopback), 'others')
  t.match(parseHubConfig({ dataDir: '/d' }), { ok: true, config: { admin: { host: '127.0.0.1' } } }, 'loopback by default')
  const open = parseHubConfig({ dataDir: '/d', admin: { host: '0.0.0.0' } })
  t.match(open, { ok: false, error: /^admin\.host: a host other than loopback needs admin\.tls/ }, 'another interface without TLS: refused')
  t.match(parseHubConfig({ dataDir: '/d', admin: { host: '0.0.0.0', tls: { certFile: 'c.pem', keyFile: 'k.pem' } } }), { ok: true })
})
