// Scenario 15: fees. The funder cannot afford an update_fee; absurd feerates are refused; only the
// funder may send update_fee; an update_fee racing a commitment_signed; a fee rise that trims HTLCs;
// both channel types (static_remotekey and anchors).
import t from 'tap'
import { step } from '../../../../protocol/channel/index.ts'
import type { UpdateFee } from '../../../../protocol/wire/index.ts'
import { Pair, kinds, type Party } from './fixtures/harness.ts'
import { AMOUNT, finish } from './fixtures/flow.ts'

const fee = (p: Pair, to: Party, feerate: number): UpdateFee => ({
  type: 'update_fee', channel_id: to.state.channelId, feerate_per_kw: feerate,
})
const feeCommand = (p: Pair, who: Party, feerate: number): string | undefined => {
  const before = who.events.length
  p.run(who, { kind: 'command', cmd: { type: 'update_fee', feeratePerKw: feerate } })
  const e = who.events.slice(before).find(e => e.type === 'command_failed')
  return e?.type === 'command_failed' ? e.error.reason : undefined
}
const warnedWith = (effects: ReturnType<typeof step>['effects'], reason: string): boolean =>
  kinds(effects).join() === 'send:warning,disconnect' && effects[0]?.kind === 'send' && effects[0].msg.type === 'warning' &&
    effects[0].msg.data.startsWith(reason)

// A (funder) keeps 50,000 sat; its reserve (set by B) is 10,000 sat. Base fee = 724 × feerate / 1000.
const poorFunder = (): Pair => { const p = new Pair({ seed: 51, pushMsat: 9_950_000_000 }); p.open(); return p }

t.test('send update_fee the funder cannot afford is refused', t => {
  const p = poorFunder()
  t.equal(feeCommand(p, p.a, 60_000), 'fee_unaffordable', '43,440 sat of fee would leave 6,560 sat, below the reserve')
  t.equal(feeCommand(p, p.a, 50_000), undefined, '36,200 sat of fee leaves 13,800 sat: allowed')
  p.settle()
  t.equal(p.b.state.localCommit!.spec.feeratePerKw, 50_000)
  t.same(p.check(), [])
  t.end()
})

t.test('recv update_fee the funder cannot afford', t => {
  const p = poorFunder()
  t.ok(warnedWith(step(p.b.state, { kind: 'peer', msg: fee(p, p.b, 60_000) }, p.b.signer).effects, 'fee_unaffordable'))
  t.end()
})

t.test('recv update_fee (absurd feerates: below the floor, above the ceiling)', t => {
  const p = new Pair({ seed: 52 }); p.open()
  t.ok(
    warnedWith(step(p.b.state, { kind: 'peer', msg: fee(p, p.b, 252) }, p.b.signer).effects, 'fee_out_of_range'), '252 < 253 sat/kw floor',
  )
  t.ok(
    warnedWith(step(p.b.state, { kind: 'peer', msg: fee(p, p.b, 250_001) }, p.b.signer).effects, 'fee_out_of_range'), 'above the ceiling',
  )
  t.same(kinds(step(p.b.state, { kind: 'peer', msg: fee(p, p.b, 253) }, p.b.signer).effects), [], 'the floor itself is fine')
  t.equal(feeCommand(p, p.a, 1_000_000), 'fee_out_of_range', 'and we never send one')
  t.end()
})

t.test('update_fee from the side that does not pay the fee', t => {
  const p = new Pair({ seed: 53 }); p.open()
  t.ok(warnedWith(step(p.a.state, { kind: 'peer', msg: fee(p, p.a, 1000) }, p.a.signer).effects, 'fee_update_not_funder'))
  t.equal(feeCommand(p, p.b, 1000), 'fee_update_not_funder')
  t.end()
})

t.test('update_fee racing a commitment_signed from the other side', t => {
  const p = new Pair({ seed: 54 }); p.open()
  p.add(p.b, AMOUNT)
  p.sign(p.b)                 // B: add + commitment_signed in flight
  feeCommand(p, p.a, 2_000)   // A: update_fee in flight at the same time
  p.sign(p.a)                 // ... and A signs it
  p.flush()
  p.settle()
  t.same(p.check(), [], 'both agree')
  t.equal(p.a.state.localCommit!.spec.feeratePerKw, 2_000)
  t.equal(p.b.state.localCommit!.spec.feeratePerKw, 2_000)
  t.equal(p.a.state.localCommit!.spec.htlcs.length, 1)
  finish(p)
  t.same(p.check(), [])
  t.end()
})

t.test('a fee rise that trims an HTLC changes the HTLC-signature count, and both sides agree', t => {
  const p = new Pair({ seed: 55 }); p.open()
  // 1,000 sat: untrimmed at 253 sat/kw (546 + 177 = 723), trimmed at 1,000 sat/kw (546 + 703 = 1,249).
  p.add(p.a, 1_000_000)
  p.settle()
  const sigs = (x: Party): number => x.state.localCommit!.htlcSignatures.length
  t.equal(sigs(p.b), 1)
  feeCommand(p, p.a, 1_000)
  p.settle()
  t.equal(sigs(p.b), 0, 'B\'s commitment no longer has the HTLC output')
  t.equal(p.b.state.localCommit!.spec.htlcs.length, 1, 'but the HTLC is still committed')
  finish(p)
  t.same(p.check(), [])
  t.end()
})

for (const channelType of ['static_remotekey', 'anchors'] as const) {
  t.test(`${channelType}: pay both ways, update the fee, close cooperatively`, t => {
    const p = new Pair({ seed: 56, channelType }); p.open()
    p.add(p.a, AMOUNT); p.add(p.b, AMOUNT * 2)
    finish(p)
    t.equal(feeCommand(p, p.a, 5_000), undefined)
    p.settle()
    t.same(p.check(), [])
    t.equal(p.a.state.localCommit!.spec.toLocalMsat, 6_000_000_000 + AMOUNT)
    p.run(p.a, { kind: 'command', cmd: { type: 'shutdown' } })
    p.flush()
    t.equal(p.a.state.phase, 'closing')
    t.equal(p.b.state.phase, 'closing')
    t.end()
  })
}
