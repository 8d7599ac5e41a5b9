import t from 'tap'
import {
  batchChainState, isWindowEnd, nextReplacementFeerate, replacementDecision, windowDecision, type AccountChannel,
} from '../../../../protocol/settlement/schedule.ts'
import type { Sat, Txid } from '../../../../protocol/types.ts'

const account = (k: number, over: Partial<AccountChannel> = {}): AccountChannel => ({
  nodeId: '02' + String(k).padStart(64, '0'), channelId: String(k).padStart(64, '0'),
  policy: { payoutScript: '0014' + '11'.repeat(20), thresholdSat: 20_000, intervalBlocks: 10, keepSat: 10_000 },
  funding: { txid: String(k).padStart(64, 'f') as Txid, vout: 0 }, capacitySat: 1_000_000 as Sat, balanceSat: 100_000, reserveSat: 5_000,
  lastActivityHeight: 100, splicePending: false, ...over,
})

t.test('windows end at multiples of windowBlocks', async t => {
  t.ok(isWindowEnd(120, 6))
  t.notOk(isWindowEnd(121, 6))
})

t.test('due, waiting and idle closes at a window\'s end', async t => {
  const d = windowDecision([
    account(1),
    account(2, { lastPayoutHeight: 115 }),
    account(3, { lastPayoutHeight: 110 }),
    account(4, { balanceSat: 29_999 }),
    account(5, { splicePending: true }),
    account(6, { policy: { ...account(6).policy, closeIdleBlocks: 20 }, lastActivityHeight: 100 }),
    account(7, { policy: { ...account(7).policy, keepSat: 1_000 }, reserveSat: 15_000, balanceSat: 34_999 }),
  ], 120)
  t.same(d.due.map(x => x.channelId), [account(1).channelId, account(3).channelId], 'first payout, and one whose interval passed')
  t.equal(d.due[0]!.keepSat, 10_000)
  t.same(d.waiting.map(w => [w.channelId.slice(-1), w.reason]), [
    ['2', 'interval'], ['4', 'below_threshold'], ['5', 'splice_pending'], ['7', 'below_threshold'],
  ], 'the channel reserve counts as kept when the policy keeps less')
  t.same(d.closes, [{ channelId: account(6).channelId, idleBlocks: 20 }])
})

t.test('a batch is done only at the finality depth; one reorged out is not done', async t => {
  t.equal(batchChainState(0, 0, 6), 'unconfirmed')
  t.equal(batchChainState(3, 2, 6), 'confirming')
  t.equal(batchChainState(6, 5, 6), 'done')
  t.equal(batchChainState(0, 3, 6), 'reorged')
})

t.test('replacement: after rbfAfterBlocks, at least 25/24 rounded up and 260 sat/kw more, never above the cap', async t => {
  t.same(replacementDecision(1_000, 100, 105, 6, 10_000), { kind: 'wait', atHeight: 106, feeratePerKw: 1_260 }, 'not waited long enough')
  t.same(
    replacementDecision(1_000, 100, 106, 6, 10_000), { kind: 'replace', feeratePerKw: 1_260 }, 'BIP 125: 1 sat/vB more, and the rounding',
  )
  t.same(replacementDecision(12_000, 100, 106, 6, 20_000), { kind: 'replace', feeratePerKw: 12_500 }, '25/24')
  t.same(replacementDecision(12_001, 100, 106, 6, 20_000), { kind: 'replace', feeratePerKw: 12_502 }, '25/24 rounded up')
  t.same(
    replacementDecision(9_800, 100, 106, 6, 10_000), { kind: 'at_cap', nextFeeratePerKw: 10_209, maxFeeratePerKw: 10_000 },
    'above the operator\'s cap: it waits as it is',
  )
  t.equal(replacementDecision(9_800, 100, 101, 6, 10_000).kind, 'at_cap', 'at the cap whether or not it waited')
  t.equal(nextReplacementFeerate(24_000), 25_000)
})
