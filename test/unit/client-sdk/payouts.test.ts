// The client's side of a payout batch (client-sdk/payouts.ts): its policy is kept only once the hub
// stored it, and a hub splice preceded by a payout_proposal is answered with the proposal's terms only
// when they hold against that policy, the splice_init and the channel's own balance; a proposal is
// used once and forgotten when its session ends.
import t from 'tap'
import { Payouts } from '../../../client-sdk/payouts.ts'
import type { ClientChannel } from '../../../client-sdk/channels.ts'
import type { SpliceRequest } from '../../../host/channel/splicing.ts'
import { MemoryStore } from '../../../host/store/memory-store.ts'
import { feeShares } from '../../../protocol/settlement/plan.ts'
import type { PayoutPolicy } from '../../../protocol/settlement/types.ts'
import type { ChannelId, Sat } from '../../../protocol/types.ts'
import type { PayoutProposal, PeerMessage } from '../../../protocol/wire/index.ts'

const CHANNEL = 'aa'.repeat(32) as ChannelId
const SCRIPT = '0014' + '11'.repeat(20)
const POLICY: PayoutPolicy = { payoutScript: SCRIPT, thresholdSat: 20_000, intervalBlocks: 6, keepSat: 10_000 }
const FEE = feeShares([{ payoutScript: SCRIPT }, { payoutScript: SCRIPT }], { feeratePerKw: 1_000, extraOutputs: [] }).perPayout[0]!

/** A channel as respond() reads it: its id, our balance and the reserve we keep. */
const channel = (balanceSat: number, pendingTxids: string[] = []): ClientChannel => ({
  driver: { state: {
    channelId: CHANNEL, localCommit: { spec: { toLocalMsat: balanceSat * 1000 } }, setup: { remote: { channelReserveSat: 5_000 } },
    ...(pendingTxids.length > 0 ? { splice: { candidates: pendingTxids.map(txid => ({ txid })) } } : {}),
  } },
}) as unknown as ClientChannel

const request = (o: Partial<SpliceRequest> = {}): SpliceRequest => ({
  type: 'splice_requested', rbf: false, remoteContributionSat: 0, feeratePerKw: 1_000, capacitySat: 400_000 as Sat,
  requireConfirmedInputs: false, ...o,
})

const proposal = (o: Partial<PayoutProposal> = {}): PayoutProposal => ({
  type: 'payout_proposal', channel_id: CHANNEL, payout_script: SCRIPT, payout_sat: 100_000 as Sat, fee_sat: FEE as Sat,
  feerate_per_kw: 1_000, payout_serial_id: 2, ...o,
})

async function withPolicy (): Promise<{ p: Payouts; sent: PeerMessage[]; store: MemoryStore }> {
  const store = new MemoryStore()
  const sent: PeerMessage[] = []
  const p = new Payouts({ store, nodeId: '02' + '33'.repeat(32), send: m => { sent.push(m); return true }, warn: () => {} })
  const set = p.set(POLICY, new Promise<never>(() => {}))
  p.onPolicySet({ type: 'payout_policy_set', refused: false })
  await set
  return { p, sent, store }
}

t.test('the policy is sent, and kept (durably) only once the hub stored it', async t => {
  const { p, sent, store } = await withPolicy()
  t.match(sent[0], { type: 'payout_policy', payout_script: SCRIPT, threshold_sat: 20_000, keep_sat: 10_000 })
  t.same(p.current(), POLICY)
  const again = new Payouts({ store, nodeId: '02' + '33'.repeat(32), send: () => true, warn: () => {} })
  await again.load()
  t.same(again.current(), POLICY, 'read back after a restart')
  const refused = new Payouts({ store: new MemoryStore(), nodeId: '02' + '33'.repeat(32), send: () => true, warn: () => {} })
  const r = refused.set(POLICY, new Promise<never>(() => {}))
  refused.onPolicySet({ type: 'payout_policy_set', refused: true, detail: 'threshold_sat: too small' })
  t.equal((await r).refused, true)
  t.equal(refused.current(), undefined, 'a refused policy is not kept')
})

t.test('a proposal that holds: joined with the batch terms, contribution −(payout + fee share)', async t => {
  const { p } = await withPolicy()
  p.onProposal(proposal())
  const a = p.respond(channel(200_000), request())
  t.same(a, {
    accept: true, batch: { contributionSat: -(100_000 + FEE), terms: { payoutSerialId: 2, payoutScript: SCRIPT, payoutSat: 100_000 } },
  })
  t.equal(p.respond(channel(200_000), request()), undefined, 'used once: a later splice of the hub is an ordinary one')
})

t.test('each claim that does not hold is refused with batch_terms_violated, naming it', async t => {
  const cases: Array<[string, Partial<PayoutProposal>, Partial<SpliceRequest>, number, RegExp]> = [
    ['another payout script', { payout_script: '0014' + '22'.repeat(20) }, {}, 200_000, /payout script/],
    ['the hub contributing', {}, { remoteContributionSat: 1_000 }, 200_000, /contributes 1000/],
    ['another feerate in splice_init', {}, { feeratePerKw: 2_000 }, 200_000, /feerate 2000/],
    ['an RBF with no pending batch transaction', {}, { rbf: true }, 200_000, /RBF without a pending/],
    ['less than we keep left', { payout_sat: 195_000 as Sat }, {}, 200_000, /we keep/],
    ['a fee share above a payout alone', { fee_sat: 100_000 as Sat }, {}, 400_000, /payout alone/],
  ]
  for (const [name, over, req, balance, detail] of cases) {
    const { p } = await withPolicy()
    p.onProposal(proposal(over))
    const a = p.respond(channel(balance), request(req))
    t.equal(a?.accept, false, name)
    t.match(a !== undefined && !a.accept ? a.reason : '', /^batch_terms_violated/, name)
    t.match(a !== undefined && !a.accept ? a.reason : '', detail, name)
  }
  const none = new Payouts({ store: new MemoryStore(), nodeId: '02' + '33'.repeat(32), send: () => true, warn: () => {} })
  none.onProposal(proposal())
  t.match((none.respond(channel(200_000), request()) as { reason: string }).reason, /no payout policy/, 'no policy of ours: refused')
})

t.test('a replacement (tx_init_rbf) of a pending batch transaction: its new terms checked again the same way', async t => {
  const { p } = await withPolicy()
  const fee = feeShares([{ payoutScript: SCRIPT }, { payoutScript: SCRIPT }], { feeratePerKw: 1_250, extraOutputs: [] }).perPayout[0]!
  p.onProposal(proposal({ payout_sat: (100_000 + FEE - fee) as Sat, fee_sat: fee as Sat, feerate_per_kw: 1_250 }))
  const a = p.respond(channel(200_000, ['bb'.repeat(32)]), request({ rbf: true, feeratePerKw: 1_250 }))
  t.same(a, {
    accept: true,
    batch: { contributionSat: -(100_000 + FEE), terms: { payoutSerialId: 2, payoutScript: SCRIPT, payoutSat: 100_000 + FEE - fee } },
  }, 'the same amount out of the channel, the higher fee share from the payout')
  const bad = await withPolicy()
  bad.p.onProposal(proposal({ payout_script: '0014' + '22'.repeat(20), feerate_per_kw: 1_250 }))
  const refused = bad.p.respond(channel(200_000, ['bb'.repeat(32)]), request({ rbf: true, feeratePerKw: 1_250 }))
  t.match(refused !== undefined && !refused.accept ? refused.reason : '', /^batch_terms_violated.*payout script/, 'another script: refused')
  const late = await withPolicy()
  late.p.onProposal(proposal({ feerate_per_kw: 1_250 }))
  const other = late.p.respond(channel(200_000, ['bb'.repeat(32)]), request({ rbf: true, feeratePerKw: 2_000 }))
  t.match(other !== undefined && !other.accept ? other.reason : '', /feerate 2000/, 'a tx_init_rbf feerate not the proposal\'s: refused')
})

t.test('a proposal whose session ended is forgotten', async t => {
  const { p } = await withPolicy()
  p.onProposal(proposal())
  p.forget(CHANNEL)
  t.equal(p.respond(channel(200_000), request()), undefined)
})

t.test('a close the hub starts pays our own policy\'s script only when our policy asks for idle closes', async t => {
  const store = new MemoryStore()
  const p = new Payouts({ store, nodeId: '02' + '33'.repeat(32), send: () => true, warn: () => {} })
  t.equal(p.closeScript(), undefined, 'no policy: the channel\'s own shutdown script (our wallet)')
  const set = async (policy: PayoutPolicy): Promise<void> => {
    const done = p.set(policy, new Promise<never>(() => {}))
    p.onPolicySet({ type: 'payout_policy_set', refused: false })
    await done
  }
  await set(POLICY)
  t.equal(p.closeScript(), undefined, 'a policy without closeIdleBlocks: our wallet still')
  await set({ ...POLICY, closeIdleBlocks: 144 })
  t.equal(p.closeScript(), SCRIPT, 'with closeIdleBlocks: our policy\'s payout script')
  const refused = p.set({ ...POLICY, payoutScript: '0014' + '99'.repeat(20), closeIdleBlocks: 144 }, new Promise<never>(() => {}))
  p.onPolicySet({ type: 'payout_policy_set', refused: true, detail: 'no' })
  await refused
  t.equal(p.closeScript(), SCRIPT, 'a policy the hub refused changes nothing: the script is the one we stored')
})
