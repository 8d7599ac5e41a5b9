// The settlement scheduler is driven by blocks (docs/DESIGN.md "Batched settlement", planning): at a
// block whose height is a multiple of settlement.windowBlocks the hub plans and runs a batch by itself;
// an account paid less than its policy's interval ago waits, and so does one below its threshold.
// Real btcd, the hub process, SDK clients.
import t from 'tap'
import { useBtcd } from '../../helpers/btcd.ts'
import { tipHeight } from '../../../scripts/lib/btcd.ts'
import { FINALITY_DEPTH, KEEP_SAT, setting, settlement, untilStage } from './fixture.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../../protocol/limits.ts'
import { waitFor } from '../../helpers/hub.ts'

const WINDOW = 5
const INTERVAL = 50

t.test('e2e: a window end starts the batch by itself; an account within its interval waits for a later window', async t => {
  const btc = await useBtcd(t)
  const s = await setting(btc, t, { name: 'e2e-settle-window', creators: 2, settlement: { windowBlocks: WINDOW } })
  const { hub, platform, creators } = s
  for (const c of creators) {
    await c.client.setPayoutPolicy({ address: c.address, thresholdSat: 20_000, intervalBlocks: INTERVAL, keepSat: KEEP_SAT })
  }
  t.same((await settlement(hub)).last_batches, [], 'no batch before a window ends')
  // Up to the block before the next window end: nothing starts.
  const h = await tipHeight(btc)
  const end = h + (WINDOW - (h % WINDOW))
  if (end - h > 1) await btc.mine(end - h - 1)
  t.same((await settlement(hub)).last_batches, [], 'nothing between windows')
  const started = hub.waitLine(l => l.event === 'settlement_started', 60_000)
  await btc.mine(1)
  const line = await started
  t.equal(line.trigger, 'window', 'the window end started it')
  t.equal(line.height, end, `at height ${end}`)
  const b = await untilStage(hub, line.batch as number, 'broadcast')
  t.equal(b.channels.length, 2, 'both creators paid in it')
  await btc.mine(Math.max(FINALITY_DEPTH, DEFAULT_SPLICE_MINIMUM_DEPTH))
  await untilStage(hub, b.id, 'confirmed')
  for (const c of creators) await c.client.untilSpliceLocked({ txid: b.txid, timeoutMs: 60_000 })

  // Paid again above the threshold, but within the interval: the next window plans nothing for them.
  for (const c of creators) {
    const r = await platform.pay((await c.client.createInvoice({ amountMsat: 50_000_000 })).invoice)
    t.ok(r.ok, 'paid again')
    await waitFor(() => c.client.channels()[0]!.settled, 'settled')
  }
  const h2 = await tipHeight(btc)
  const waited = hub.waitLine(l => l.event === 'settlement_window' && l.started === false, 60_000)
  await btc.mine(WINDOW - (h2 % WINDOW))
  t.match((await waited).reason, /no payout is due/, 'the next window starts nothing')
  const run = await (await hub.adminFetch('/settlement/run', { method: 'POST', body: '{}' })).json() as any
  t.equal(run.started, false, 'settle now neither')
  t.same(run.waiting.map((w: any) => w.reason).sort(), ['interval', 'interval'], 'both wait for their interval')
  t.equal((await settlement(hub)).last_batches.length, 1, 'one batch only')
})
