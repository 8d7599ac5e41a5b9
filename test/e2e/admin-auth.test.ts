// The admin API behind its bearer tokens, on a real hub process: the token files (mode 0600), every
// route refused without a valid token (401), the read-only token refused a POST (403); and the payment
// figures (GET /stats, GET /payments with failures and their reasons) kept across a restart.
import t from 'tap'
import fs from 'node:fs'
import { useBtcd } from '../helpers/btcd.ts'
import { startHubPlatformCreator, waitFor } from '../helpers/hub.ts'

type Stats = { forwarded: number; fulfilled: number; failed: number; fees_msat: number; failed_by_reason: Record<string, number> }
type Payment = { status: string; amount_msat: number | null; fee_msat: number | null; reason: string | null; latency_ms: number | null }

t.test('admin API: tokens in 0600 files, 401 without one, 403 for a read-only POST; payment figures survive a restart', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(btc, t, {
    name: 'admin-auth', hubSat: 2_000_000, platformCapacitySat: 500_000, hubConfig: { channels: { fundingSat: 100_000 } },
  })
  for (const f of [hub.info.admin_token_file, hub.info.read_token_file]) {
    t.equal(fs.statSync(String(f)).mode & 0o777, 0o600, `${String(f)}: mode 0600`)
  }
  t.not(hub.adminToken, hub.readToken, 'two tokens')
  const as = (token: string | undefined, route: string, method = 'GET'): Promise<Response> =>
    hub.adminFetch(route, { method, headers: { authorization: token === undefined ? '' : `Bearer ${token}` } })

  // ── Who gets in ──
  for (const route of ['/', '/info', '/channels', '/stats', '/payments', '/peers', '/nope']) {
    t.equal((await as(undefined, route)).status, 401, `GET ${route} without a token: 401`)
    t.equal((await as('f'.repeat(64), route)).status, 401, `GET ${route} with a wrong token: 401`)
  }
  const bare = await fetch(String(hub.info.rpc) + '/info')
  t.equal(bare.status, 401, 'no Authorization header at all: 401')
  t.equal(bare.headers.get('www-authenticate'), 'Bearer realm="hub-admin"', 'which says the scheme')
  t.match(await bare.json(), { error: /authorization: missing/ }, 'and why')
  t.equal((await as(hub.readToken, '/info')).status, 200, 'the read-only token reads')
  const readPost = await as(hub.readToken, '/wallet/address', 'POST')
  t.equal(readPost.status, 403, 'the read-only token may not POST')
  t.match(await readPost.json(), { error: /needs the admin token/ })
  t.equal((await as(hub.adminToken, '/wallet/address', 'POST')).status, 200, 'the admin token may')
  t.equal((await as(undefined, '/wallet/address', 'POST')).status, 401, 'a POST without a token: 401')
  t.equal(fs.readFileSync(`${hub.dataDir}/admin.url`, 'utf8').trim(), hub.info.rpc, '<data-dir>/admin.url says where the API is')

  // ── Payments, one failing for want of liquidity ──
  for (const sat of [10_000, 20_000]) {
    const r = await platform.pay((await creator.createInvoice({ amountMsat: sat * 1000 })).invoice)
    t.ok(r.ok, `paid ${sat} sat`)
  }
  const tooBig = await platform.pay((await creator.createInvoice({ amountMsat: 150_000_000 })).invoice)
  t.notOk(tooBig.ok, 'a payment beyond the hub\'s side of the creator\'s channel fails')
  const stats = async (): Promise<Stats> => await (await as(hub.readToken, '/stats')).json() as Stats
  await waitFor(async () => (await stats()).failed === 1 && (await stats()).fulfilled === 2, 'the figures count the payments')
  const before = await stats()
  t.match(before, { forwarded: 2, fulfilled: 2, failed: 1, failed_by_reason: { temporary_channel_failure: 1 } }, 'GET /stats')
  t.ok(before.fees_msat > 0, 'fees earned')
  const failed = await (await as(hub.readToken, '/payments?failed=true')).json() as Payment[]
  t.match(failed, [{ status: 'failed', reason: 'temporary_channel_failure' }], 'GET /payments?failed=true: the failure and its reason')
  const all = await (await as(hub.readToken, '/payments?limit=2')).json() as Payment[]
  t.match(all, [
    { status: 'failed', amount_msat: 150_000_000 + 1_000 + 15_000, payment_hash: /^[0-9a-f]{64}$/ }, { status: 'fulfilled' },
  ], 'newest first, limit')
  t.ok(all.length === 2 && all[1]!.amount_msat! > 20_000_000 && all[1]!.fee_msat! > 0, 'the last fulfilled one, its amount and fee')
  t.ok(typeof all[1]!.latency_ms === 'number' && all[1]!.latency_ms >= 0, 'a forwarded payment has its latency')
  t.equal((await as(hub.readToken, '/payments?limit=0')).status, 400, 'a bad query is refused')

  // ── A restart keeps the figures and the list ──
  const list = await (await as(hub.readToken, '/payments')).json() as Payment[]
  await hub.stop()
  await hub.restart()
  t.same(await stats(), before, 'GET /stats is the same after a restart')
  t.same(await (await as(hub.readToken, '/payments')).json(), list, 'GET /payments too')
})
