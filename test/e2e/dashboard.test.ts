// The dashboard (hub/admin/dashboard.ts) in a real headless Chromium (Debian's, driven by
// playwright-core): the page sends a browser without a session to its login form and shows nothing
// before; a wrong token is refused; with the read-only token it shows the channel list, and a payment
// moves the counter; the node key tile shows the key and, once the operator rotates it, the grace. The screenshot is kept under .data/
// (gitignored) as the test's artifact.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { useBtcd } from '../helpers/btcd.ts'
import { startHubPlatformCreator, waitFor } from '../helpers/hub.ts'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = path.join(ROOT, '.data', 'dashboard.png')

t.test('dashboard in headless Chromium: log in with the token, see the channels, a payment moves the counter, a screenshot', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(
    btc, t, { name: 'dashboard', hubSat: 2_000_000, platformCapacitySat: 500_000 },
  )
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  const base = String(hub.info.rpc)

  // No session: the page is the login form, and the API refuses the browser.
  await page.goto(`${base}/dashboard`)
  t.equal(new URL(page.url()).pathname, '/dashboard/login', 'without a session, the dashboard sends the browser to log in')
  t.equal(await page.locator('#channels').count(), 0, 'and shows no data')
  t.equal((await page.request.get(`${base}/channels`)).status(), 401, 'the API refuses the browser without a session')
  await page.fill('#token', 'f'.repeat(64))
  await page.click('#login')
  t.equal(await page.locator('#login-error').count(), 1, 'a wrong token is refused')

  await page.fill('#token', hub.readToken)
  await page.click('#login')
  await page.waitForURL(`${base}/dashboard`)
  await page.locator('#channels tbody tr').nth(1).waitFor({ timeout: 30_000 })
  const rows = await page.locator('#channels tbody tr').allInnerTexts()
  t.equal(rows.length, 2, 'the channel list shows both channels')
  t.ok(rows.some(r => r.includes(creator.channels()[0]!.channelId.slice(0, 16)) && /\bopen\b/.test(r)), 'the creator\'s, open')
  t.equal(await page.textContent('#node-state'), 'serving', 'the node\'s state')
  const before = Number(await page.textContent('#fulfilled-count'))
  t.equal(before, 0, 'no payment yet')
  t.equal((await page.request.post(`${base}/wallet/address`)).status(), 401, 'the session cookie does not open a POST')

  const paid = await platform.pay((await creator.createInvoice({ amountMsat: 21_000_000 })).invoice)
  t.ok(paid.ok, 'a payment')
  await waitFor(async () => Number(await page.textContent('#fulfilled-count')) > before, 'the page shows the payment', 30_000)
  t.equal(Number(await page.textContent('#fulfilled-count')), 1, 'the counter moved')
  await page.locator('#payments tbody tr').first().waitFor({ timeout: 30_000 })
  t.match(await page.locator('#payments tbody tr').innerText(), /fulfilled\s+21,0\d\d/, 'the payment is listed')
  t.match(await page.textContent('#settlement'), /not available on this hub|\{/, 'the settlement panel says what it has')

  const anchored = await hub.adminFetch('/audit/anchor', { method: 'POST' })
  t.equal(anchored.status, 200, 'the operator anchors the audit log')
  await waitFor(async () => await page.locator('#anchors tbody tr').count() > 0, 'the page lists the anchor', 30_000)
  t.match(await page.textContent('#anchors-note'), /^\d+ of \d+ entries anchored$/, 'the anchors panel says how much is anchored')
  t.match(await page.locator('#anchors tbody tr').first().innerText(),
    /^\d+\s+\d+\.\.\d+\s+[0-9a-f]{64}\s+\w+/, 'the anchor: seq, entries, txid, status')

  t.equal(await page.textContent('#node-key'), hub.hubId.slice(0, 16), 'the node key tile shows the key the hub proves')
  t.equal(await page.textContent('#node-key-detail'), 'single key', '... alone')
  const r = await hub.adminFetch('/node-key/rotate', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grace_blocks: 10 }),
  })
  const rotated = await r.json() as { current: string; grace_until_height: number }
  t.equal(r.status, 200, 'the operator rotates the node key')
  await waitFor(async () => await page.textContent('#node-key') === rotated.current.slice(0, 16), 'the page shows the new key', 30_000)
  t.equal(await page.textContent('#node-key-detail'),
    `grace_rotate until height ${rotated.grace_until_height}, also ${hub.hubId.slice(0, 16)}`, '... and the grace, with the old key')

  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true })
  await page.screenshot({ path: SCREENSHOT, fullPage: true })
  t.ok(fs.statSync(SCREENSHOT).size > 10_000, `screenshot kept: ${path.relative(ROOT, SCREENSHOT)}`)
})
