// Atomic revenue-share splits (paySplit, DESIGN.md "Splits"), real everything: a btcd regtest node,
// the hub as a child process, the platform and three recipients as SDK clients over WebSockets. In
// order:
//   - a 3-way split by ppm is paid: every recipient gets its share (the rounding rule's remainder to
//     the first leg), the platform pays the total and the hub's fee on each leg, exact to the msat;
//   - a split with a recipient that refuses split legs is aborted: every balance is back;
//   - a split with a recipient that is offline is aborted at its lock timeout (the hub fails the held
//     leg on the payer's signed abort): every balance is back, nothing was paid to anyone.
import path from 'node:path'
import t from 'tap'
import { forwardingFee } from '../../protocol/forwarding.ts'
import type { HubClient } from '../../client-sdk/index.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../helpers/hub.ts'

const CAPACITY_SAT = 1_000_000

t.test('e2e: a 3-way split is paid exactly; a refusing or offline recipient aborts it and every balance is back', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-split')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, config: { router: { holdMs: 120_000 } } }, t)
  await fundHub(btc, hub, 5_000_000)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform', payTimeoutMs: 60_000 }, t)
  await openFundedChannel(btc, platform, CAPACITY_SAT)
  const recipient = async (name: string, o: { acceptSplits?: boolean } = {}): Promise<HubClient> => {
    const c = await startClient({ hub, btc, dataDir: path.join(dir, name), role: 'creator', ...o }, t)
    await requestHubChannel(btc, c)
    return c
  }
  const [creator, treasury, fee] = [await recipient('creator'), await recipient('treasury'), await recipient('platform-fee')]
  const refuser = await recipient('refuser', { acceptSplits: false })
  const everyone = [platform, creator, treasury, fee, refuser]
  const policy = platform.hubPolicyInfo!
  const balance = (c: HubClient): number => c.channels()[0]!.localMsat
  const settled = async (): Promise<void> => {
    await waitFor(() => everyone.every(c => c.channels()[0]!.settled), 'every channel settled', 60_000)
  }
  const received = new Map<HubClient, Array<{ amountMsat: number; splitId?: string; reference?: string }>>()
  for (const c of everyone) {
    received.set(c, [])
    c.on('payment_received', e => { received.get(c)!.push(e) })
  }
  const before = new Map(everyone.map(c => [c, balance(c)]))

  // ── 1. a 3-way split: 70% creator, 20% treasury, 10% platform fee of 100,001 msat ──
  const total = 100_001
  const paid = await platform.paySplit({
    total, reference: 'sale 1',
    shares: [{ to: creator.nodeId, ppm: 700_000 }, { to: treasury.nodeId, ppm: 200_000 }, { to: fee.nodeId, ppm: 100_000 }],
  })
  // floor(100001 · 0.7) = 70000, floor(· 0.2) = 20000, floor(· 0.1) = 10000: 1 msat left, to the first leg.
  const shares = [70_001, 20_000, 10_000]
  t.match(paid, { ok: true, totalMsat: total }, 'the split succeeded')
  if (!paid.ok) return
  t.same(paid.legs.map(l => [l.to, l.amountMsat, l.status]), [
    [creator.nodeId, 70_001, 'succeeded'], [treasury.nodeId, 20_000, 'succeeded'], [fee.nodeId, 10_000, 'succeeded'],
  ], 'every leg claimed, the remainder msat on the first leg')
  const fees = shares.reduce((s, m) => s + forwardingFee(m, policy), 0)
  t.equal(paid.feeMsat, fees, 'the fee is the hub\'s fee on each leg')
  await settled()
  t.equal(balance(platform), before.get(platform)! - total - fees, 'platform: paid the total and the fees, exactly')
  for (const [i, c] of [creator, treasury, fee].entries()) {
    t.equal(balance(c), before.get(c)! + shares[i]!, `recipient ${i}: received its share, exactly`)
    await waitFor(() => received.get(c)!.length === 1, `payment_received at recipient ${i}`)
    t.match(
      received.get(c)![0], { amountMsat: shares[i], splitId: paid.splitId, reference: 'sale 1' }, `recipient ${i}: one leg, of this split`,
    )
  }
  const afterFirst = new Map(everyone.map(c => [c, balance(c)]))
  const unchanged = async (what: string): Promise<void> => {
    await settled()
    for (const [i, c] of everyone.entries()) t.equal(balance(c), afterFirst.get(c), `${what}: balance ${i} is back where it was`)
  }

  // ── 2. a recipient that refuses split legs: aborted, nobody paid ──
  const refused = await platform.paySplit({
    total: 50_000, reference: 'sale 2', shares: [{ to: creator.nodeId, msat: 30_000 }, { to: refuser.nodeId, msat: 20_000 }],
  })
  t.match(refused, { ok: false, reason: 'aborted', detail: /leg 1 failed before the release/ }, 'aborted')
  t.same(refused.legs.map(l => l.status), ['failed', 'failed'], 'both legs failed back')
  await unchanged('after the refused split')
  t.equal(received.get(creator)!.length, 1, 'the creator was not paid its leg of the refused split')

  // ── 3. a recipient offline: the hub holds its leg; at the lock timeout the payer aborts ──
  await treasury.stop()
  await waitFor(async () => !treasury.connected, 'the treasury gone')
  const offline = await platform.paySplit({
    total: 40_000, reference: 'sale 3', lockTimeoutMs: 5_000,
    shares: [{ to: creator.nodeId, ppm: 500_000 }, { to: treasury.nodeId, ppm: 250_000 }, { to: fee.nodeId, ppm: 250_000 }],
  })
  t.match(offline, { ok: false, reason: 'aborted', detail: /not every leg was locked by release_by/ }, 'aborted at the lock timeout')
  t.same(offline.legs.map(l => l.status), ['failed', 'failed', 'failed'], 'every leg failed back')
  const heldFail = hub.lines.find(l => l.event === 'payment_failed' && l.reason === 'mpp_timeout')
  t.ok(heldFail, 'the hub failed the held leg on the payer\'s abort (mpp_timeout), not at the end of its hold')
  everyone.splice(everyone.indexOf(treasury), 1)
  await unchanged('after the offline split')
  t.equal(received.get(creator)!.length, 1, 'the creator was not paid its leg of the aborted split')
  t.equal(received.get(fee)!.length, 1, 'nor the platform fee account')
})
