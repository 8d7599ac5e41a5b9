// Scenario 1: the persist-before-send barrier. With the store stalling or failing at each step of the
// commitment dance, no commitment_signed / revoke_and_ack leaves before its write; once the write
// completes, the held messages leave in order (byte-identical to an unstalled run) and the channel
// continues; a store that fails (the host dies) restarts from its last durable state, reconnects, and
// the channel still settles without a force close. The number of durable writes per step is asserted.
import t from 'tap'
import { fundingAsAgreed } from '../../../../protocol/channel/index.ts'
import { Pair, type Party } from './fixtures/harness.ts'
import { AMOUNT, FAIL_FLOW, PAYMENT_FLOW, finish, reversed, type Action } from './fixtures/flow.ts'

const who = (p: Pair, a: 'A' | 'B'): Party => (a === 'A' ? p.a : p.b)
const GATED = new Set(['commitment_signed', 'revoke_and_ack', 'update_fulfill_htlc', 'funding_signed'])

function reference (flow: Action[]): Array<{ sent: unknown[]; writes: number }> {
  const p = new Pair({ seed: 11 })
  p.open()
  return flow.map(a => {
    const actor = who(p, a.actor)
    const sent = actor.sent.length
    const writes = actor.writesDone
    a.run(p)
    return { sent: actor.sent.slice(sent), writes: actor.writesDone - writes }
  })
}

for (const [label, flow] of [['A pays B', PAYMENT_FLOW], ['A pays B, B fails', FAIL_FLOW], ['B pays A', reversed(PAYMENT_FLOW)]] as const) {
  const ref = reference(flow)

  t.test(`${label}: durable writes per step`, t => {
    flow.forEach((a, i) => t.equal(ref[i]!.writes, a.writes, `${a.name}: ${a.writes} write(s)`))
    t.end()
  })

  t.test(`${label}: store stalled at each step`, t => {
    flow.forEach((a, i) => {
      const p = new Pair({ seed: 11 })
      p.open()
      for (const b of flow.slice(0, i)) b.run(p)
      const actor = who(p, a.actor)
      const sent = actor.sent.length
      actor.stalled = true
      a.run(p)
      const leaked = actor.sent.slice(sent).map(m => m.type)
      if (a.writes > 0) {
        t.same(leaked, [], `${a.name}: nothing leaves while its write is pending`)
        t.equal(actor.queued.length, a.writes, `${a.name}: ${a.writes} write(s) waiting`)
      } else {
        t.notOk(leaked.some(m => GATED.has(m)), `${a.name}: no gated message without a write`)
      }
      p.unstall(actor)
      t.same(actor.sent.slice(sent), ref[i]!.sent, `${a.name}: after the write, the same messages leave in the same order`)
      for (const b of flow.slice(i + 1)) b.run(p)
      t.same(p.check(), [], `${a.name}: both sides agree after the flow`)
      t.equal(p.a.state.localCommit!.spec.htlcs.length, 0)
    })
    t.end()
  })

  t.test(`${label}: store fails at each step (the host dies and restarts from its store)`, t => {
    flow.forEach((a, i) => {
      const p = new Pair({ seed: 11 })
      p.serialize = true
      p.open()
      const start = p.a.state.localCommit!.spec.toLocalMsat
      for (const b of flow.slice(0, i)) b.run(p)
      const actor = who(p, a.actor)
      const sent = actor.sent.length
      actor.stalled = true
      a.run(p)
      t.notOk(actor.sent.slice(sent).some(m => GATED.has(m.type)), `${a.name}: nothing gated left before the failed write`)
      p.crash(actor)
      p.reconnect()
      finish(p)
      t.same(p.check(), [], `${a.name}: no force close, both sides agree after restart`)
      const end = p.a.state.localCommit!.spec.toLocalMsat
      const paid = label === 'B pays A' ? end - start : start - end
      t.ok(paid === 0 || paid === AMOUNT, `${a.name}: the payment happened once or not at all (moved ${paid})`)
      t.equal(end, p.b.state.localCommit!.spec.toRemoteMsat, `${a.name}: both agree on the balances`)
    })
    t.end()
  })
}

t.test('a stalled store holds every later message behind the write, in order', t => {
  const p = new Pair({ seed: 12 })
  p.open()
  p.add(p.a, AMOUNT)
  p.a.stalled = true
  p.sign(p.a)            // write 1 pending: commitment_signed held
  p.add(p.a, AMOUNT + 1) // an add after it is held too, so it cannot overtake the commitment
  t.same(p.toB.map(m => m.type), ['update_add_htlc'], 'only the add sent before the write left')
  p.unstall(p.a)
  t.same(p.toB.map(m => m.type), ['update_add_htlc', 'commitment_signed', 'update_add_htlc'])
  finish(p)
  t.same(p.check(), [])
  t.end()
})

t.test('funding: the acceptor stores before funding_signed, the opener before broadcasting', t => {
  const p = new Pair({ seed: 13 })
  p.flush()
  p.b.stalled = true
  p.run(p.a, { kind: 'command', cmd: { type: 'funding_built', txid: 'ab'.repeat(32) as never, outputIndex: 0 } })
  p.deliver(p.b) // funding_created
  t.equal(p.toA.length, 0, 'no funding_signed before the acceptor\'s write')
  t.equal(p.b.queued.length, 1)
  t.same(p.b.queued[0]!.monitor.map(m => m.kind), ['funding', 'local_commitment', 'remote_commitment'])
  p.unstall(p.b)
  t.same(p.toA.map(m => m.type), ['funding_signed'])
  p.a.stalled = true
  p.deliver(p.a)
  t.same(p.a.broadcasts, [], 'no broadcast before the opener\'s write')
  p.unstall(p.a)
  t.equal(p.a.broadcasts.length, 1)
  t.end()
})

t.test('durable writes: establishment and cooperative close', t => {
  const p = new Pair({ seed: 14 })
  const writes = (x: Party, f: () => void): number => { const n = x.writesDone; f(); return x.writesDone - n }
  p.flush() // open_channel, accept_channel: nothing at stake, nothing stored
  t.equal(p.a.writesDone + p.b.writesDone, 0, 'open_channel / accept_channel: 0 writes')
  t.equal(
    writes(p.a, () => p.run(p.a, { kind: 'command', cmd: { type: 'funding_built', txid: '12'.repeat(32) as never, outputIndex: 0 } })), 0,
    'funding_built → funding_created: 0 (nothing broadcast yet)',
  )
  t.equal(writes(p.b, () => p.deliver(p.b)), 1, 'recv funding_created → funding_signed: 1')
  t.equal(writes(p.a, () => p.deliver(p.a)), 1, 'recv funding_signed → broadcast: 1')
  t.equal(
    writes(p.a, () => p.run(p.a, { kind: 'chain', event: fundingAsAgreed(p.a.state.setup, 3) })), 1, 'funding depth → channel_ready: 1',
  )
  t.equal(writes(p.b, () => p.deliver(p.b)), 1, 'recv channel_ready: 1')
  t.equal(
    writes(p.b, () => p.run(p.b, { kind: 'chain', event: fundingAsAgreed(p.b.state.setup, 3) })), 1, 'funding depth → channel_ready: 1',
  )
  t.equal(writes(p.a, () => p.deliver(p.a)), 1, 'recv channel_ready: 1')
  t.equal(p.a.state.phase, 'normal')
  t.equal(writes(p.a, () => p.run(p.a, { kind: 'command', cmd: { type: 'shutdown' } })), 1, 'shutdown: 1')
  t.equal(writes(p.b, () => p.deliver(p.b)), 1, 'recv shutdown → shutdown: 1')
  t.equal(writes(p.a, () => p.deliver(p.a)), 1, 'recv shutdown → closing_signed: 1 (shutdown and the signed close, one batch)')
  t.equal(writes(p.b, () => p.deliver(p.b)), 1, 'recv closing_signed → closing_signed (agreed): 1')
  t.equal(writes(p.a, () => p.deliver(p.a)), 1, 'recv closing_signed (agreed): 1')
  t.equal(p.a.state.phase, 'closing')
  t.equal(p.b.state.phase, 'closing')
  t.end()
})
