// The hub's automatic top-up (config splices.autoTopUp): when its balance in a payee's channel falls
// below the floor, the hub splices its own wallet funds in at the next block, without the operator,
// and the creator keeps receiving. Real btcd, the hub process, SDK clients.
import t from 'tap'
import { useBtcd } from '../../helpers/btcd.ts'
import { startHubPlatformCreator, waitFor } from '../../helpers/hub.ts'
import { admin } from '../monitor/helpers.ts'
import { DEFAULT_SPLICE_MINIMUM_DEPTH } from '../../../protocol/limits.ts'

const PAYEE_CHANNEL_SAT = 100_000
const FLOOR_SAT = 50_000
const TOP_UP_SAT = 300_000

t.test('e2e: the hub tops up a payee\'s channel by itself once its balance falls below splices.autoTopUp.belowSat', async t => {
  const btc = await useBtcd(t)
  const { hub, platform, creator } = await startHubPlatformCreator(btc, t, {
    name: 'e2e-auto-topup', hubSat: 3_000_000, platformCapacitySat: 1_000_000,
    hubConfig: { channels: { fundingSat: PAYEE_CHANNEL_SAT }, splices: { autoTopUp: { belowSat: FLOOR_SAT, amountSat: TOP_UP_SAT } } },
  })
  const hubBalanceSat = async (): Promise<number> => {
    const chans = (await admin(hub, '/channels')).body as Array<{ channel_id: string; local_msat: number }>
    return Math.floor(chans.find(c => c.channel_id === creator.channels()[0]!.channelId)!.local_msat / 1000)
  }
  await btc.mine(1)
  t.same(creator.channels()[0]!.pendingSplices, [], 'above the floor: no top-up')
  for (let i = 0; i < 3; i++) {
    const r = await platform.pay((await creator.createInvoice({ amountMsat: 20_000_000 })).invoice)
    t.ok(r.ok, `payment ${i}`)
  }
  await waitFor(() => creator.channels()[0]!.settled, 'settled')
  t.ok(await hubBalanceSat() < FLOOR_SAT, `the hub's balance in the creator's channel fell below ${FLOOR_SAT} sat`)

  await btc.mine(1) // the hub looks at its balances each block
  await waitFor(() => creator.channels()[0]!.pendingSplices.length === 1, 'the hub\'s top-up is signed')
  const txid = creator.channels()[0]!.pendingSplices[0]!
  await waitFor(async () => { const r = await btc.chain.getRawTransaction(txid); return r.ok && r.value !== null }, 'broadcast')
  await btc.mine(DEFAULT_SPLICE_MINIMUM_DEPTH)
  const locked = await creator.untilSpliceLocked({ txid, timeoutMs: 60_000 })
  t.equal(locked.capacitySat, PAYEE_CHANNEL_SAT + TOP_UP_SAT, 'the channel grew by the top-up')
  const splices = (await admin(hub, '/splices')).body as Array<{ txid: string; kind: string; amount_sat: number }>
  t.match(splices.find(s => s.txid === txid), { kind: 'topup', amount_sat: TOP_UP_SAT }, 'the hub records it as a top-up')
  t.ok(hub.lines.some(l => l.event === 'auto_top_up'), 'and logged why')

  await waitFor(() => creator.channels()[0]!.link === 'up' && creator.channels()[0]!.settled, 'ready')
  const before = creator.channels()[0]!.localMsat
  for (let i = 0; i < 5; i++) {
    const r = await platform.pay((await creator.createInvoice({ amountMsat: 50_000_000 })).invoice)
    t.ok(r.ok, `payment ${i} after the top-up${r.ok ? '' : `: ${r.reason} ${r.detail}`}`)
  }
  await waitFor(() => creator.channels()[0]!.settled, 'settled')
  t.equal(creator.channels()[0]!.localMsat - before, 250_000_000, 'the creator received 250,000 sat more, beyond its old channel')
  await btc.mine(1)
  t.equal((await admin(hub, '/splices')).body.filter((s: { kind: string }) => s.kind === 'topup').length, 1, 'one top-up only')
})
