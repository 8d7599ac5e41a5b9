// Force close at the protocol level: it is an input of the channel machine. The
// force_close command fails the channel first — nothing held behind a write ever leaves (no update,
// commitment_signed or revoke_and_ack), `force_close` is stored, and the `error` to the peer leaves
// with that write — and the monitor broadcasts from that durable update. So the commitment the monitor broadcasts (our newest
// durable local commitment) is never revoked by anything the channel sends, at every step of the
// payment dance, in both directions, by either party, with or without a write in flight. A party
// that knows it is behind refuses the command, whatever write is in flight.
import t, { type Test } from 'tap'
import { step, type ChannelEvent } from '../../../../protocol/channel/index.ts'
import { Pair, kinds, type Party } from './fixtures/harness.ts'
import { AMOUNT, FAIL_FLOW, PAYMENT_FLOW, finish, reversed, type Action } from './fixtures/flow.ts'

const who = (p: Pair, a: 'A' | 'B'): Party => (a === 'A' ? p.a : p.b)
const forceClose = (p: Pair, x: Party): ReturnType<Pair['run']> => p.run(
  x, { kind: 'command', cmd: { type: 'force_close', reason: 'test' } },
)
const failedWith = (
  events: ChannelEvent[], reason: string,
): boolean => events.some(e => e.type === 'command_failed' && e.command === 'force_close' && e.error.reason === reason)

/** The commitment our monitor broadcasts: the newest local_commitment among the durable updates. */
function broadcastable (x: Party): number {
  return Math.max(...x.monitor.filter(m => m.kind === 'local_commitment').map(m => (m.kind === 'local_commitment' ? m.number : -1)))
}

/** Everything the closer sends after the force close is the error; it never reveals the secret of
 *  the commitment its monitor broadcasts; the peer learns of the failure. */
function checkClosed (t: Test, p: Pair, x: Party, sentBefore: number): void {
  t.equal(x.state.phase, 'failed')
  const n = broadcastable(x)
  t.ok(x.monitor.at(-1)?.kind === 'force_close', 'the last durable update is force_close: the monitor broadcasts from it')
  // Whatever was in flight now arrives, both ways.
  p.flush()
  t.same(x.sent.slice(sentBefore).map(m => m.type), ['error'], 'after the force close only the error leaves')
  const secret = x.signer.perCommitmentSecret(n)
  t.notOk(
    x.sent.some(m => m.type === 'revoke_and_ack' && m.per_commitment_secret === secret),
    `commitment ${n} (the one broadcast) was never revoked`,
  )
  t.equal(p.other(x).state.phase, 'failed', 'the peer failed the channel on our error')
}

const FLOWS: Array<[string, Action[]]> = [
  ['A pays B', PAYMENT_FLOW], ['B pays A', reversed(PAYMENT_FLOW)], ['A pays B, B fails it', FAIL_FLOW],
]

for (const [label, flow] of FLOWS) {
  t.test(`${label}: force_close by either party after every step of the dance`, t => {
    for (let i = 0; i <= flow.length; i++) {
      for (const closer of ['A', 'B'] as const) {
        const p = new Pair({ seed: 91 })
        p.open()
        for (const a of flow.slice(0, i)) a.run(p)
        const x = who(p, closer)
        const at = i === 0 ? 'before the add' : `after "${flow[i - 1]!.name}"`
        t.test(`${closer} force-closes ${at}`, t => {
          const sent = x.sent.length
          const effects = forceClose(p, x)
          t.same(kinds(effects), ['persist'], 'force_close is stored first')
          t.same(x.sent.slice(sent).map(m => m.type), ['error'], 'the error leaves once it is durable')
          const persist = effects[0]
          t.ok(
            persist?.kind === 'persist' && persist.monitor.map(m => m.kind).join() === 'force_close', 'one write: the force_close update',
          )
          t.ok(
            x.events.some(e => e.type === 'channel_failed' && e.broadcastOurCommitment && e.error.reason === 'force_close'),
            'the host is told, once it is stored',
          )
          checkClosed(t, p, x, sent)
          t.end()
        })
      }
    }
    t.end()
  })

  t.test(`${label}: force_close while the actor's write is in flight: what it held never leaves`, t => {
    flow.forEach((a, i) => {
      if (a.writes === 0) return
      const p = new Pair({ seed: 92 })
      p.open()
      for (const b of flow.slice(0, i)) b.run(p)
      const x = who(p, a.actor)
      const sent = x.sent.length
      x.stalled = true
      a.run(p)
      const held = x.state.outbox.filter(o => o.effect.kind === 'send').map(o => (o.effect.kind === 'send' ? o.effect.msg.type : ''))
      t.comment(`${a.name}: held behind the write: ${kinds(x.state.outbox.map(o => o.effect)).join(', ') || 'nothing'}`)
      const effects = forceClose(p, x)
      t.same(kinds(effects), ['persist'], `${a.name}: nothing held is released by the force close`)
      t.equal(x.queued.length, a.writes + 1, 'the force_close write comes after the one in flight')
      p.unstall(x)
      t.same(
        x.sent.slice(sent).filter(m => held.includes(m.type)), [],
        `${a.name}: ${held.join(', ')} never leaves, even once its write is durable`,
      )
      if (a.message === 'update_fulfill_htlc' && a.actor === 'B' && label !== 'B pays A') {
        t.ok(x.monitor.some(m => m.kind === 'preimage'), 'the preimage of the fulfill is stored: the monitor claims on-chain')
      }
      checkClosed(t, p, x, sent)
    })
    t.end()
  })
}

t.test('force_close: durable writes and what the host hears (persist-before-send)', t => {
  const p = new Pair({ seed: 93 })
  p.open()
  const w = p.a.writesDone
  forceClose(p, p.a)
  t.equal(p.a.writesDone - w, 1, 'funded: 1 write (force_close)')
  const again = forceClose(p, p.a)
  t.same(kinds(again), [], 'a second force_close does nothing (already failed)')
  // Unfunded (opener before funding_signed): nothing on-chain, nothing stored; the channel fails.
  const q = new Pair({ seed: 94 })
  q.flush()
  const effects = forceClose(q, q.a)
  t.same(kinds(effects), ['send:error', 'emit:channel_failed'], 'unfunded: 0 writes; the peer is told')
  t.equal(q.a.state.phase, 'failed')
  t.ok(q.a.events.some(e => e.type === 'channel_failed' && !e.broadcastOurCommitment), 'nothing to broadcast')
  t.end()
})

t.test('force_close is refused where our commitment must not (or need not) go on-chain', t => {
  // Mutually closed: the closing transaction is agreed.
  const p = new Pair({ seed: 95 })
  p.open()
  p.run(p.a, { kind: 'command', cmd: { type: 'shutdown' } })
  p.flush()
  t.equal(p.a.state.phase, 'closing')
  const r = step(p.a.state, { kind: 'command', cmd: { type: 'force_close', reason: 'test' } }, p.a.signer)
  t.same(kinds(r.effects), ['emit:command_failed'], 'closing: refused, nothing stored or sent')
  t.end()
})

t.test('data-loss race: the reestablish proving we are behind is in flight (do_not_broadcast not yet durable); force_close then is refused', t => {
  const p = new Pair({ seed: 96 })
  p.open()
  p.add(p.a, AMOUNT); finish(p)
  const backup = p.a.durable!
  p.add(p.a, AMOUNT); finish(p)
  p.add(p.b, AMOUNT); finish(p)
  p.disconnect()
  p.a.state = backup
  p.run(p.a, { kind: 'restored' })
  p.reconnect()
  p.a.stalled = true
  p.deliver(p.a) // B's channel_reestablish: A learns it is behind; do_not_broadcast is queued, not durable
  t.equal(p.a.state.phase, 'awaiting_remote_close')
  t.equal(p.a.queued.length, 1, 'the do_not_broadcast write is in flight')
  const effects = forceClose(p, p.a)
  t.same(kinds(effects), [], 'nothing is stored or sent (the refusal is told once the earlier write is durable)')
  p.unstall(p.a)
  t.ok(failedWith(p.a.events, 'we_are_behind'), 'the command is refused: we_are_behind')
  t.ok(p.a.monitor.some(m => m.kind === 'do_not_broadcast'), 'do_not_broadcast is durable')
  t.notOk(p.a.monitor.some(m => m.kind === 'force_close' && m.seq > backup.monitorSeq), 'no force_close ever reaches the monitor')
  t.end()
})

t.test('a fulfill on a failed channel stores the preimage for the on-chain claim, sends nothing', t => {
  const p = new Pair({ seed: 97 })
  p.open()
  const h = p.add(p.a, AMOUNT)
  p.settle()
  forceClose(p, p.b)
  p.flush()
  const sent = p.b.sent.length
  const w = p.b.writesDone
  p.run(p.b, { kind: 'command', cmd: { type: 'fulfill_htlc', id: h.id, preimage: h.preimage } })
  t.equal(p.b.writesDone - w, 1, 'one write')
  t.ok(p.b.monitor.some(m => m.kind === 'preimage' && m.preimage === h.preimage), 'the preimage is stored for the monitor')
  t.equal(p.b.sent.length, sent, 'nothing is sent')
  t.ok(
    p.b.events.some(e => e.type === 'command_failed' && e.command === 'fulfill_htlc'),
    'the command itself is refused (the channel is failed)',
  )
  t.end()
})

t.test('link down while our commitment_signed waits for its write: withdrawn (stored first), the add handed back, nothing retransmitted', t => {
  const p = new Pair({ seed: 98 })
  p.open()
  const h = p.add(p.a, AMOUNT)
  p.a.stalled = true
  p.sign(p.a)
  t.same(p.toB.map(m => m.type), ['update_add_htlc'], 'the commitment_signed is held')
  p.disconnect()
  t.equal(p.a.queued.length, 2, 'the sign\'s write, then the withdrawal\'s')
  t.same(p.a.queued[1]!.monitor.map(m => m.kind), ['remote_commitment_withdrawn'])
  t.notOk(p.a.events.some(e => e.type === 'add_rolled_back'), 'the host hears nothing before the withdrawal is durable')
  p.unstall(p.a)
  const back = p.a.events.find(e => e.type === 'add_rolled_back')
  t.ok(
    back?.type === 'add_rolled_back' && back.htlc.id === h.id && back.violation === undefined,
    'then the add is handed back (a plain disconnect: no violation)',
  )
  t.equal(p.a.state.nextRemoteCommit, undefined)
  p.reconnect()
  p.flush()
  t.notOk(p.a.sent.some(m => m.type === 'commitment_signed'), 'nothing to retransmit: B never had it')
  t.same(p.check(), [], 'in sync')
  p.add(p.a, AMOUNT)
  finish(p)
  t.equal(p.b.state.localCommit!.spec.toRemoteMsat, p.a.state.localCommit!.spec.toLocalMsat, 'the channel carries on')
  t.end()
})

t.test('after a restart a stored commitment is never withdrawn: it may have left before the crash', t => {
  const p = new Pair({ seed: 99 })
  p.open()
  p.add(p.a, AMOUNT)
  p.a.stalled = true
  p.sign(p.a)
  p.commitWrite(p.a, p.a.queued.shift()!) // durable; the host dies before it could tell the machine
  p.crash(p.a)
  t.ok(p.a.state.nextRemoteCommit !== undefined, 'the restored channel still has its commitment')
  p.reconnect()
  p.flush()
  t.ok(p.a.sent.some(m => m.type === 'commitment_signed'), 'and retransmits it on reestablish')
  finish(p)
  t.same(p.check(), [])
  t.end()
})
