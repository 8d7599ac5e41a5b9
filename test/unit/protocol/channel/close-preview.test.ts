// What a cooperative close would pay, before it starts (protocol/channel/close-preview.ts), and what
// the closing transaction pays (protocol/tx/closing.ts closingAmounts): a balance below the dust
// limit is left out of the transaction and its amount goes to the fee (part of scenario 22).
import t from 'tap'
import { closingTrims } from '../../../../protocol/channel/index.ts'
import { closingAmounts } from '../../../../protocol/tx/index.ts'
import type { Msat, Sat } from '../../../../protocol/types.ts'
import { Pair } from './fixtures/harness.ts'

t.test('closingAmounts: rounding down, the fee from the funder, outputs below the dust limit left out and counted as trimmed', async t => {
  const base = { feeSat: 200 as Sat, localIsOpener: true, dustLimitSat: 546 as Sat }
  t.same(
    closingAmounts({ ...base, localMsat: 1_000_999 as Msat, remoteMsat: 545_999 as Msat }),
    { localSat: 800, remoteSat: 0, trimmedLocalSat: 0, trimmedRemoteSat: 545 },
  )
  t.same(
    closingAmounts({ ...base, localMsat: 745_000 as Msat, remoteMsat: 546_000 as Msat }),
    { localSat: 0, remoteSat: 546, trimmedLocalSat: 545, trimmedRemoteSat: 0 }, 'the funder\'s output is dust after the fee',
  )
  t.same(
    closingAmounts({ ...base, localIsOpener: false, localMsat: 0 as Msat, remoteMsat: 10_000_000 as Msat }),
    { localSat: 0, remoteSat: 9_800, trimmedLocalSat: 0, trimmedRemoteSat: 0 }, 'a zero balance is no output and nothing trimmed',
  )
  t.throws(() => closingAmounts({ ...base, localMsat: 199_999 as Msat, remoteMsat: 0 as Msat }), /cannot pay the closing fee/)
})

t.test('closingTrims: each side sees the other\'s dust balance; the close then leaves exactly that output out', async t => {
  // B (not the funder) holds only the 300 sat pushed at opening: below the 546 sat dust limit.
  const p = new Pair({ seed: 91, pushMsat: 300_000 })
  p.open()
  t.same(closingTrims(p.b.state), [{ side: 'local', amountSat: 300, dustLimitSat: 546 }], 'B: its own output would be trimmed')
  t.same(closingTrims(p.a.state), [{ side: 'remote', amountSat: 300, dustLimitSat: 546 }], 'A: the peer\'s output would be trimmed')
  p.run(p.b, { kind: 'command', cmd: { type: 'shutdown' } })
  p.flush()
  const agreed = p.a.events.find(e => e.type === 'closing_agreed')
  t.ok(agreed?.type === 'closing_agreed', 'the close agreed')
  if (agreed?.type !== 'closing_agreed') return
  const spec = p.a.state.localCommit!.spec
  const a = closingAmounts({
    localMsat: spec.toLocalMsat, remoteMsat: spec.toRemoteMsat, feeSat: agreed.feeSat, localIsOpener: true, dustLimitSat: 546 as Sat,
  })
  t.match(a, { remoteSat: 0, trimmedRemoteSat: 300 }, 'the closing transaction pays B nothing: what closingTrims said')
  t.equal(a.localSat + agreed.feeSat + a.trimmedRemoteSat, p.capacitySat, 'outputs + fee + trimmed = capacity')
})

t.test('closingTrims: balances at or above the dust limit trim nothing', async t => {
  const p = new Pair({ seed: 92, pushMsat: 546_000 })
  p.open()
  t.same(closingTrims(p.a.state), [])
  t.same(closingTrims(p.b.state), [])
  const q = new Pair({ seed: 93, pushMsat: 0 })
  q.open()
  t.same(closingTrims(q.b.state), [], 'a zero balance loses nothing')
})
