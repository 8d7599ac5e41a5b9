// step() never modifies the state it is given (so a stored snapshot, or the state a test keeps, can
// never change behind the host's back), and the same inputs give the same outputs. Every input state
// is deep-frozen: an in-place write throws in strict mode.
import t from 'tap'
import { step } from '../../../../protocol/channel/index.ts'
import { Pair } from './fixtures/harness.ts'
import { FAIL_FLOW, PAYMENT_FLOW, finish, reversed } from './fixtures/flow.ts'

t.test('a full payment, a failed one, disconnects and a close with frozen inputs', t => {
  const p = new Pair({ seed: 101 })
  p.freeze = true
  p.serialize = true
  p.open()
  for (const a of [...PAYMENT_FLOW, ...reversed(FAIL_FLOW)]) a.run(p)
  p.add(p.a, 3_000_000)
  p.sign(p.a)
  p.disconnect(); p.reconnect()
  finish(p)
  p.b.stalled = true
  p.add(p.b, 2_000_000); p.sign(p.b)
  p.crash(p.b); p.reconnect()
  finish(p)
  p.run(p.b, { kind: 'command', cmd: { type: 'shutdown' } })
  p.flush()
  t.equal(p.a.state.phase, 'closing')
  t.same(p.check(), [])
  t.end()
})

t.test('deterministic: stepping the same state twice gives equal results', t => {
  const p = new Pair({ seed: 102 })
  p.open()
  p.add(p.a, 4_000_000)
  p.sign(p.a)
  p.deliver(p.b)
  const msg = p.toB[0]!
  const x = step(p.b.state, { kind: 'peer', msg }, p.b.signer)
  const y = step(p.b.state, { kind: 'peer', msg }, p.b.signer)
  t.same(JSON.parse(JSON.stringify(x)), JSON.parse(JSON.stringify(y)))
  t.end()
})
