// BOLT #2 "Channel Quiescence": stfu waits for the sender's own updates, no update is sent after it,
// the peer's violations are refused, simultaneous stfu makes the funder the initiator, the host's
// timeout disconnects, and a disconnection ends quiescence.
import t from 'tap'
import { Pair } from '../fixtures/harness.ts'
import { finish } from '../fixtures/flow.ts'
import { SpliceHosts, spliceOut } from '../fixtures/splice.ts'
import type { ChannelId } from '../../../../../protocol/types.ts'

const types = (ms: Array<{ type: string }>) => ms.map(m => m.type)
const warned = (p: Pair, x: 'a' | 'b', reason: string): boolean => p[x].sent.some(m => m.type === 'warning' && m.data.startsWith(reason))

t.test('our stfu waits until our own updates are settled on both sides; no new HTLC of ours meanwhile', t => {
  const p = new Pair({ seed: 61 })
  p.open()
  const h = new SpliceHosts(p)
  const pay = p.add(p.a, 4_000_000)
  p.sign(p.a)
  t.ok(h.request(p.a, spliceOut(100_000)))
  t.notOk(p.a.sent.some(m => m.type === 'stfu'), 'no stfu while our HTLC is not irrevocably committed')
  const refused = p.add(p.a, 1_000_000)
  t.notOk(refused.ok, 'a new HTLC is refused')
  t.match(p.a.events.at(-1), { type: 'command_failed', command: 'add_htlc', error: { reason: 'channel_quiescent', action: 'ignore' } })
  p.flush()
  p.sign(p.b)
  p.flush()
  const sent = types(p.a.sent)
  t.same(
    sent.slice(sent.lastIndexOf('revoke_and_ack')), ['revoke_and_ack', 'stfu', 'splice_init'],
    'the stfu leaves once B\'s revocation is in and A\'s revoke_and_ack is out; splice_init follows B\'s stfu',
  )
  h.drive()
  t.ok(p.a.state.splice!.candidates.length === 1, 'the splice then completes')
  p.fulfill(p.b, pay.id)
  finish(p)
  t.same(p.check(), [])
  t.end()
})

t.test('the receiver of stfu replies once its own updates settle; its fulfill waits until quiescence ends', t => {
  const p = new Pair({ seed: 62 })
  p.open()
  const h = new SpliceHosts(p)
  h.respond.set(p.b, null) // B's host does not answer the splice request: quiescence lasts
  const pay = p.add(p.a, 4_000_000)
  p.settle()
  t.ok(h.request(p.a, spliceOut(100_000)))
  p.deliver(p.b) // stfu
  t.same(types(p.b.sent).slice(-1), ['stfu'], 'B has nothing pending: it replies at once')
  p.fulfill(p.b, pay.id)
  t.notOk(p.b.sent.some(m => m.type === 'update_fulfill_htlc'), 'B sends no update after its stfu')
  t.equal(p.b.state.holding.length, 1, 'the fulfill is held')
  t.equal(p.b.monitor.at(-1)!.kind, 'preimage', 'its preimage is stored at once')
  p.flush()
  t.equal(p.a.state.splice!.session?.stage, 'awaiting_ack')
  // B rejects: tx_abort both ways, quiescence ends, the held fulfill leaves.
  p.run(p.b, { kind: 'command', cmd: { type: 'splice_reject', reason: 'no' } })
  p.flush()
  t.ok(p.b.sent.some(m => m.type === 'update_fulfill_htlc'), 'the fulfill leaves once quiescence ends')
  t.match(p.a.events.find(e => e.type === 'splice_aborted'), { byPeer: true })
  finish(p)
  t.same(p.check(), [])
  t.equal(p.a.state.localCommit!.spec.htlcs.length, 0)
  t.end()
})

t.test('refused: an update from the peer after its stfu, a second stfu, stfu with its updates pending', t => {
  const p = new Pair({ seed: 63 })
  p.open()
  const h = new SpliceHosts(p)
  h.request(p.a, spliceOut(100_000))
  p.deliver(p.b) // B has A's stfu
  const chan = p.a.state.channelId
  p.run(p.b, { kind: 'peer', msg: { type: 'update_fee', channel_id: chan, feerate_per_kw: 300 } })
  t.ok(warned(p, 'b', 'quiescence_violation'), 'update_fee after stfu: warning')
  t.equal(p.connected, false, 'and disconnect')
  t.equal(p.b.state.splice!.quiescence.received, false, 'quiescence ends with the link')

  const q = new Pair({ seed: 64 })
  q.open()
  new SpliceHosts(q).request(q.a, spliceOut(100_000))
  q.deliver(q.b)
  q.run(q.b, { kind: 'peer', msg: { type: 'stfu', channel_id: q.a.state.channelId, initiator: true } })
  t.ok(warned(q, 'b', 'quiescence_violation'), 'a second stfu: warning and disconnect')

  const r = new Pair({ seed: 65 })
  r.open()
  r.add(r.a, 1_000_000) // A's update, not signed
  r.deliver(r.b)
  r.run(r.b, { kind: 'peer', msg: { type: 'stfu', channel_id: r.a.state.channelId, initiator: true } })
  t.ok(warned(r, 'b', 'quiescence_violation'), 'stfu with the sender\'s add pending: refused')

  const u = new Pair({ seed: 66 })
  u.open()
  u.run(u.b, { kind: 'peer', msg: { type: 'stfu', channel_id: u.a.state.channelId as ChannelId, initiator: false } })
  t.ok(warned(u, 'b', 'quiescence_violation'), 'stfu with initiator 0 answering no stfu: refused')
  t.end()
})

t.test('simultaneous stfu: the funder is the initiator; the other side\'s splice request is refused', t => {
  const p = new Pair({ seed: 67 })
  p.open()
  const h = new SpliceHosts(p)
  t.ok(h.request(p.a, spliceOut(100_000)))
  t.ok(h.request(p.b, spliceOut(100_000)))
  t.same([types(p.a.sent).at(-1), types(p.b.sent).at(-1)], ['stfu', 'stfu'])
  h.drive()
  t.equal(p.a.state.splice!.candidates.length, 1, 'A (the funder) spliced')
  t.match(
    p.b.events.find(e => e.type === 'command_failed'), { command: 'splice', error: { reason: 'channel_quiescent' } },
    'B is told to ask again',
  )
  t.same(p.b.state.splice!.candidates[0]!.contributionSat, { local: 0, remote: p.a.state.splice!.candidates[0]!.contributionSat.local })
  t.end()
})

t.test('the host\'s quiescence timeout disconnects a peer that never ends quiescence; a stale timer does nothing', t => {
  const p = new Pair({ seed: 68 })
  p.open()
  const h = new SpliceHosts(p)
  h.respond.set(p.b, null)
  h.request(p.a, spliceOut(100_000))
  p.flush()
  const started = p.a.events.find(e => e.type === 'quiescence_started')
  t.match(started, { type: 'quiescence_started', seq: 1 })
  p.run(p.a, { kind: 'command', cmd: { type: 'quiescence_timeout', seq: 0 } })
  t.equal(p.connected, true, 'a timer of another quiescence is ignored')
  p.run(p.a, { kind: 'command', cmd: { type: 'quiescence_timeout', seq: 1 } })
  t.equal(p.connected, false, 'the timer of this one disconnects')
  t.ok(warned(p, 'a', 'quiescence_timeout'))
  t.match(p.a.events.filter(e => e.type === 'splice_aborted').at(-1), { reason: /disconnected/ })
  p.reconnect()
  p.flush()
  const pay = p.add(p.a, 1_000_000)
  t.ok(pay.ok, 'after reconnection updates flow again')
  p.settle(); p.fulfill(p.b, pay.id); finish(p)
  t.same(p.check(), [])
  t.end()
})

t.test('shutdown is refused while a splice is in progress', t => {
  const p = new Pair({ seed: 69 })
  p.open()
  const h = new SpliceHosts(p)
  h.request(p.a, spliceOut(100_000))
  h.drive()
  p.run(p.a, { kind: 'command', cmd: { type: 'shutdown' } })
  t.match(
    p.a.events.at(-1), { type: 'command_failed', command: 'shutdown', error: { reason: 'channel_quiescent' } },
    'not with a splice unconfirmed',
  )
  h.confirm(p.a.state.splice!.candidates[0]!.txid)
  p.flush()
  p.run(p.a, { kind: 'command', cmd: { type: 'shutdown' } })
  p.flush()
  t.equal(p.a.state.phase, 'closing', 'once locked, the channel closes cooperatively on the new funding')
  t.end()
})
