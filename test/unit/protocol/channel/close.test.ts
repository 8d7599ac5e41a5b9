// Cooperative close (BOLT #2 shutdown / closing_signed with fee_range): with HTLCs still pending,
// interrupted by a reconnect, and with a bad shutdown script (part of scenario 22 at the protocol level).
import t from 'tap'
import { step } from '../../../../protocol/channel/index.ts'
import { Pair, P2WPKH_A, kinds } from './fixtures/harness.ts'
import { AMOUNT, finish } from './fixtures/flow.ts'

t.test('shutdown with an HTLC pending: no new HTLCs, the pending one drains, then closing_signed agrees', t => {
  const p = new Pair({ seed: 81 })
  p.open()
  const h = p.add(p.a, AMOUNT)
  p.settle()
  p.run(p.b, { kind: 'command', cmd: { type: 'shutdown' } })
  p.flush()
  t.equal(p.a.state.phase, 'shutting_down')
  t.equal(p.b.state.phase, 'shutting_down')
  const n = p.a.events.length
  p.add(p.a, AMOUNT)
  t.ok(
    p.a.events.slice(n).some(e => e.type === 'command_failed' && e.error.reason === 'update_after_shutdown'), 'no new HTLC after shutdown',
  )
  p.fulfill(p.b, h.id)
  p.settle()
  p.flush()
  t.equal(p.a.state.phase, 'closing')
  t.equal(p.b.state.phase, 'closing')
  const agreed = p.a.events.find(e => e.type === 'closing_agreed')
  const bAgreed = p.b.events.find(e => e.type === 'closing_agreed')
  t.ok(agreed?.type === 'closing_agreed' && bAgreed?.type === 'closing_agreed' && agreed.feeSat === bAgreed.feeSat, 'both agree on one fee')
  if (agreed?.type === 'closing_agreed' && bAgreed?.type === 'closing_agreed') {
    t.equal(agreed.toLocalSat, bAgreed.toRemoteSat)
    t.equal(agreed.toLocalSat + agreed.toRemoteSat + agreed.feeSat, p.capacitySat, 'the closing tx spends the whole funding output')
  }
  t.ok(p.a.monitor.some(m => m.kind === 'closing_signed'), 'the closing tx is stored for the monitor')
  t.end()
})

t.test('negotiation interrupted by a reconnect: shutdown is retransmitted, negotiation restarts and agrees', t => {
  const p = new Pair({ seed: 82 })
  p.open()
  p.add(p.a, AMOUNT); finish(p)
  p.run(p.a, { kind: 'command', cmd: { type: 'shutdown' } })
  p.deliver(p.b)     // B gets A's shutdown and answers; B is now negotiating
  p.disconnect()     // A never hears B's shutdown
  p.reconnect()
  p.flush()
  t.equal(p.a.state.phase, 'closing')
  t.equal(p.b.state.phase, 'closing')
  t.end()
})

t.test('recv shutdown (script not P2WPKH, P2WSH or segwit v1+)', t => {
  const p = new Pair({ seed: 83 })
  p.open()
  const r = step(
    p.b.state,
    { kind: 'peer', msg: { type: 'shutdown', channel_id: p.b.state.channelId, scriptpubkey: '76a914' + '00'.repeat(20) + '88ac' } },
    p.b.signer,
  )
  t.same(kinds(r.effects), ['send:warning', 'disconnect'])
  t.end()
})

t.test('recv shutdown differing from upfront_shutdown_script', t => {
  const p = new Pair({ seed: 84, a: { upfrontShutdownScript: P2WPKH_A } })
  p.open()
  const r = step(
    p.b.state, { kind: 'peer', msg: { type: 'shutdown', channel_id: p.b.state.channelId, scriptpubkey: '0014' + '33'.repeat(20) } },
    p.b.signer,
  )
  t.same(kinds(r.effects), ['send:warning', 'disconnect'])
  t.end()
})

t.test('recv closing_signed with a bad signature', t => {
  const p = new Pair({ seed: 85 })
  p.open()
  p.run(p.a, { kind: 'command', cmd: { type: 'shutdown' } })
  p.deliver(p.b)     // B answers shutdown, both negotiate; A (funder) will send closing_signed
  p.deliver(p.a)     // A receives B's shutdown → closing_signed
  const cs = p.toB.find(m => m.type === 'closing_signed')
  if (cs?.type !== 'closing_signed') throw new Error('expected closing_signed')
  const bad = { ...cs, signature: cs.signature.slice(0, 60) + (cs.signature[60] === '0' ? '1' : '0') + cs.signature.slice(61) }
  const r = step(p.b.state, { kind: 'peer', msg: bad }, p.b.signer)
  t.same(kinds(r.effects), ['send:warning', 'disconnect'])
  t.end()
})
