// What a force close takes from a party's balance and what the holder's commitment pays it
// (protocol/accounting/force-close.ts): BOLT #3's commitment fee (and anchors) from the funder's side,
// rounded down to the satoshi, no output below the holder's dust limit.
import t from 'tap'
import { forceCloseAmounts } from '../../../../protocol/accounting/force-close.ts'
import type { CommitmentSpec } from '../../../../protocol/channel/state.ts'

const FEERATE = 2_500
const DUST = 546
const spec = (toLocalMsat: number, toRemoteMsat: number, htlcs: CommitmentSpec['htlcs'] = []): CommitmentSpec =>
  ({ toLocalMsat, toRemoteMsat, feeratePerKw: FEERATE, htlcs }) as unknown as CommitmentSpec

t.test('the funder\'s output is its balance less the commitment fee, rounded down; the other side\'s its balance', async t => {
  // static_remotekey without HTLC outputs: 724 × 2500 / 1000 = 1810 sat.
  t.same(forceCloseAmounts('static_remotekey', spec(1_234_567_891, 5_000_999), 'local', true, DUST),
    { balanceMsat: 1_234_567_891, onchainSat: 1_232_757 }, 'we funded: our balance − 1810 sat, rounded down')
  t.same(forceCloseAmounts('static_remotekey', spec(1_234_567_891, 5_000_999), 'remote', true, DUST),
    { balanceMsat: 5_000_999, onchainSat: 5_000 }, 'the peer did not: its balance, rounded down')
  t.same(forceCloseAmounts('static_remotekey', spec(5_000_999, 1_234_567_891), 'remote', false, DUST),
    { balanceMsat: 1_234_567_891, onchainSat: 1_232_757 }, 'the peer funded: its balance − the fee')
  // anchors: 1124 × 2500 / 1000 = 2810 sat, and two anchors of 330 sat.
  t.same(forceCloseAmounts('anchors', spec(10_000_000, 0), 'local', true, DUST), { balanceMsat: 10_000_000, onchainSat: 6_530 },
    'with anchors the funder pays both anchor outputs too')
})

t.test('an untrimmed HTLC raises the fee; a balance below the dust limit or the fee pays nothing', async t => {
  const htlc = { offerer: 'local', id: 0, amountMsat: 5_000_000, cltvExpiry: 500, paymentHash: '00'.repeat(32) }
  // (724 + 172) × 2500 / 1000 = 2240 sat.
  t.same(forceCloseAmounts('static_remotekey', spec(100_000_000, 0, [htlc] as unknown as CommitmentSpec['htlcs']), 'local', true, DUST),
    { balanceMsat: 100_000_000, onchainSat: 97_760 }, 'one HTLC output: 172 weight more')
  t.same(forceCloseAmounts('static_remotekey', spec(10_000_000, 545_999), 'remote', true, DUST), { balanceMsat: 545_999, onchainSat: 0 },
    'below the holder\'s dust limit: no output')
  t.same(forceCloseAmounts('static_remotekey', spec(1_000_000, 0), 'local', true, DUST), { balanceMsat: 1_000_000, onchainSat: 0 },
    'a funder that cannot pay the fee: nothing')
})
