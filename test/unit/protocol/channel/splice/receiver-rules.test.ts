// Every splice receiver rule of BOLT #2 on the channel: a bad splice message from the peer is refused
// with its reason and the spec's answer — tx_abort (the negotiation ends; nothing signed, no candidate
// kept), a warning and a disconnection, or an error and a failed channel — and the channel goes on
// where the spec lets it. The interactive transaction's own rules, one by one, are
// test/unit/protocol/interactive-tx/receiver-rules.test.ts; here each kind of answer is shown end to end.
import t, { type Test } from 'tap'
import { Pair, type Party } from '../fixtures/harness.ts'
import { finish } from '../fixtures/flow.ts'
import { SpliceHosts, coin, lastSplice, spliceIn, spliceOut, until } from '../fixtures/splice.ts'
import { legacyPrevtx } from '../../interactive-tx/fixtures.ts'
import type { PeerMessage } from '../../../../../protocol/wire/index.ts'

function pair (seed: number): { p: Pair; h: SpliceHosts } {
  const p = new Pair({ seed })
  p.open()
  return { p, h: new SpliceHosts(p) }
}
const inbox = (p: Pair, to: 'A' | 'B'): PeerMessage[] => (to === 'A' ? p.toA : p.toB)
const party = (p: Pair, to: 'A' | 'B'): Party => (to === 'A' ? p.a : p.b)
/** Replaces the next message in flight to `to`. */
// eslint-disable-line @typescript-eslint/no-explicit-any
const replace = (p: Pair, to: 'A' | 'B', f: (m: any) => PeerMessage): void => { inbox(p, to)[0] = f(inbox(p, to)[0]) }
const sentSince = (x: Party, n: number) => x.sent.slice(n)

function aborted (t: Test, p: Pair, who: 'A' | 'B', reason: string, since: number): void {
  const x = party(p, who)
  const sent = sentSince(x, since)
  t.ok(sent.some(m => m.type === 'tx_abort' && m.data.startsWith(reason)), `${who} answers with tx_abort: ${reason}`)
  t.notOk(sent.some(m => m.type === 'tx_signatures'), `${who} signed nothing of the splice`)
  t.equal(p.connected, true, 'the connection stays')
}
function continues (t: Test, h: SpliceHosts): void {
  const p = h.p
  h.drive()
  t.same(p.a.state.splice?.candidates ?? [], [], 'no splice is pending on A')
  t.same(p.b.state.splice?.candidates ?? [], [], 'nor on B')
  t.notOk(p.a.state.splice?.session ?? p.b.state.splice?.session, 'no negotiation is left')
  const pay = p.add(p.a, 1_500_000)
  t.ok(pay.ok, 'the channel pays again')
  p.settle(); p.fulfill(p.b, pay.id); finish(p)
  t.same(p.check(), [])
}
function disconnected (t: Test, p: Pair, who: 'A' | 'B', reason: string): void {
  t.ok(party(p, who).sent.some(m => m.type === 'warning' && m.data.startsWith(reason)), `${who} warns: ${reason}`)
  t.equal(p.connected, false, 'and disconnects')
}
function failed (t: Test, p: Pair, who: 'A' | 'B', reason: string): void {
  t.match(party(p, who).events.find(e => e.type === 'channel_failed'), { error: { reason } }, `${who} fails the channel: ${reason}`)
  t.equal(party(p, who).state.phase, 'failed')
}

t.test('splice_init outside quiescence: warning and disconnect', t => {
  const { p } = pair(71)
  p.run(p.b, { kind: 'peer', msg: {
    type: 'splice_init', channel_id: p.a.state.channelId, funding_contribution_satoshis: -1000, funding_feerate_perkw: 1000, locktime: 0,
    funding_pubkey: p.a.state.setup.local.fundingPubkey,
  } })
  disconnected(t, p, 'B', 'splice_not_quiescent')
  t.end()
})

t.test('splice_init from the side that did not initiate quiescence: warning and disconnect', t => {
  const { p, h } = pair(72)
  h.request(p.a, spliceOut(100_000))
  const init = until(h, 'B', 'splice_init') as PeerMessage & { type: 'splice_init' }
  t.ok(init)
  p.run(p.a, { kind: 'peer', msg: { ...init } })
  disconnected(t, p, 'A', 'splice_not_quiescent')
  t.end()
})

t.test('splice_init with a splice-out larger than the sender\'s balance: warning and disconnect', t => {
  const { p, h } = pair(73)
  h.request(p.a, spliceOut(100_000))
  until(h, 'B', 'splice_init')
  replace(p, 'B', m => ({ ...m, funding_contribution_satoshis: -(Math.floor(p.a.state.localCommit!.spec.toLocalMsat / 1000) + 1) }))
  p.deliver(p.b)
  disconnected(t, p, 'B', 'splice_contribution_exceeds_balance')
  t.end()
})

t.test('splice_init at an unacceptable feerate: tx_abort, and the channel goes on', t => {
  const { p, h } = pair(74)
  h.request(p.a, spliceOut(100_000))
  until(h, 'B', 'splice_init')
  replace(p, 'B', m => ({ ...m, funding_feerate_perkw: 100 }))
  const n = p.b.sent.length
  p.deliver(p.b)
  aborted(t, p, 'B', 'splice_feerate_unacceptable', n)
  p.flush()
  t.match(p.a.events.find(e => e.type === 'splice_aborted'), { byPeer: true })
  continues(t, h)
  t.end()
})

t.test('splice_init while a splice is pending (not locked): warning and disconnect', t => {
  const { p, h } = pair(75)
  h.request(p.a, spliceOut(100_000))
  h.drive()
  t.ok(lastSplice(p.a))
  const chan = p.a.state.channelId
  p.run(p.b, { kind: 'peer', msg: { type: 'stfu', channel_id: chan, initiator: true } })
  p.toA.length = 0 // B's stfu reply is not delivered: only B is under test
  p.run(p.b, { kind: 'peer', msg: {
    type: 'splice_init', channel_id: chan, funding_contribution_satoshis: 0, funding_feerate_perkw: 1000, locktime: 0,
    funding_pubkey: p.a.state.setup.local.fundingPubkey,
  } })
  disconnected(t, p, 'B', 'splice_pending')
  t.end()
})

t.test('splice_ack without our splice_init: warning and disconnect', t => {
  const { p } = pair(76)
  p.run(p.a, { kind: 'peer', msg: {
    type: 'splice_ack', channel_id: p.a.state.channelId, funding_contribution_satoshis: 0,
    funding_pubkey: p.b.state.setup.local.fundingPubkey,
  } })
  disconnected(t, p, 'A', 'unexpected_message')
  t.end()
})

t.test('the peer adds an output it does not pay for: tx_abort at tx_complete, nothing signed', t => {
  const { p, h } = pair(77)
  h.request(p.a, spliceOut(100_000))
  until(h, 'A', 'tx_complete')
  replace(
    p, 'A',
    m => ({ type: 'tx_add_output', channel_id: m.channel_id, serial_id: 1, sats: 50_000 as never, script: '0014' + '99'.repeat(20) }),
  )
  const n = p.a.sent.length
  for (let i = 0; i < 20 && !p.a.sent.slice(n).some(m => m.type === 'tx_abort'); i++) {
    if (p.toA.length > 0) p.deliver(p.a); else if (p.toB.length > 0) p.deliver(p.b); else break
  }
  aborted(t, p, 'A', 'tx_peer_underpays', n)
  t.notOk(sentSince(p.a, n).some(m => m.type === 'commitment_signed'), 'A sent no commitment_signed for it')
  t.notOk(p.a.monitor.some(u => u.kind === 'splice_candidate'), 'A stored no candidate')
  continues(t, h)
  t.end()
})

t.test('the peer adds an input whose prevtx output is not segwit: tx_abort', t => {
  const { p, h } = pair(78)
  h.request(p.a, spliceOut(100_000))
  until(h, 'A', 'tx_complete')
  replace(
    p, 'A',
    m => ({ type: 'tx_add_input', channel_id: m.channel_id, serial_id: 3, prevtx: legacyPrevtx(), prevtx_vout: 0, sequence: 0xfffffffd }),
  )
  const n = p.a.sent.length
  p.deliver(p.a)
  aborted(t, p, 'A', 'tx_input_not_segwit', n)
  continues(t, h)
  t.end()
})

t.test('a serial id of the wrong parity: tx_abort', t => {
  const { p, h } = pair(79)
  h.request(p.a, spliceOut(100_000))
  until(h, 'A', 'tx_complete')
  replace(
    p, 'A',
    m => ({ type: 'tx_add_output', channel_id: m.channel_id, serial_id: 2, sats: 50_000 as never, script: '0014' + '99'.repeat(20) }),
  )
  const n = p.a.sent.length
  p.deliver(p.a)
  aborted(t, p, 'A', 'tx_serial_id_parity', n)
  continues(t, h)
  t.end()
})

t.test('the initiator\'s new funding output is not the capacity with both contributions: tx_abort', t => {
  const { p, h } = pair(80)
  h.request(p.a, spliceOut(100_000))
  const out = p.a.state.setup.funding!
  let shared: PeerMessage | undefined
  for (let i = 0; i < 5 && shared === undefined; i++) {
    const m = until(h, 'B', 'tx_add_output', 1)
    if (m?.type === 'tx_add_output' && m.sats > 1_000_000) shared = m
    else p.deliver(p.b)
  }
  t.ok(shared, 'the new funding output in flight')
  replace(p, 'B', m => ({ ...m, sats: m.sats + 10_000 }))
  const n = p.b.sent.length
  h.drive()
  aborted(t, p, 'B', 'splice_funding_output_invalid', n)
  t.equal(p.a.state.setup.funding!.txid, out.txid)
  continues(t, h)
  t.end()
})

t.test('a splice-out below the sender\'s reserve: tx_abort at tx_complete', t => {
  const { p, h } = pair(81)
  h.request(p.a, spliceOut(100_000))
  const init = until(h, 'B', 'splice_init') as PeerMessage & { type: 'splice_init' }
  // A's (forged) splice_init and funding output take its balance down to 1,000 sat.
  const big = -(Math.floor(p.a.state.localCommit!.spec.toLocalMsat / 1000) - 1_000)
  replace(p, 'B', m => ({ ...m, funding_contribution_satoshis: big }))
  t.ok(init)
  const n = p.b.sent.length
  for (let i = 0; i < 40 && !p.b.sent.slice(n).some(m => m.type === 'tx_abort'); i++) {
    if (p.toB[0]?.type === 'tx_add_output' && (p.toB[0] as { sats: number }).sats > 1_000_000) replace(
      p, 'B', m => ({ ...m, sats: p.a.state.setup.capacitySat + big }),
    )
    if (h.react()) continue
    if (p.toB.length > 0) p.deliver(p.b); else if (p.toA.length > 0) p.deliver(p.a); else break
  }
  aborted(t, p, 'B', 'splice_below_reserve', n)
  t.notOk(p.b.monitor.some(u => u.kind === 'splice_candidate'), 'B stored no candidate')
  t.end()
})

t.test('a bad commitment_signed for the new funding: tx_abort, the stored candidate dropped, no tx_signatures', t => {
  const { p, h } = pair(82)
  h.request(p.a, spliceOut(100_000))
  const cs = until(h, 'B', 'commitment_signed')
  t.ok(cs)
  replace(p, 'B', m => ({ ...m, signature: m.signature.slice(0, 10) + (m.signature[10] === '0' ? '1' : '0') + m.signature.slice(11) }))
  const n = p.b.sent.length
  p.deliver(p.b)
  aborted(t, p, 'B', 'bad_signature', n)
  t.equal(p.b.monitor.at(-1)!.kind, 'splice_dropped', 'the stored candidate is dropped (durably)')
  continues(t, h)
  t.end()
})

t.test('tx_signatures without shared_input_signature: error, the channel fails', t => {
  const { p, h } = pair(83)
  h.request(p.a, spliceOut(100_000))
  until(h, 'A', 'tx_signatures')
  replace(p, 'A', ({ shared_input_signature: _dropped, ...m }) => m)
  p.deliver(p.a)
  failed(t, p, 'A', 'splice_shared_signature_invalid')
  t.end()
})

t.test('tx_signatures with a bad witness before ours: tx_abort; the peer, which signed, fails the channel', t => {
  const { p, h } = pair(84)
  // B splices in with a coin and A splices out: A holds the old funding, so B signs first, with its
  // coin's witness; A has signed nothing yet when the bad witness arrives.
  const cb = coin(91, 700_000)
  h.respond.set(p.b, spliceIn(500_000, cb, false))
  h.request(p.a, spliceOut(100_000))
  const sigs = until(h, 'A', 'tx_signatures') as PeerMessage & { type: 'tx_signatures' }
  t.equal(sigs.witnesses.length, 1)
  replace(p, 'A', m => ({ ...m, witnesses: [[
    m.witnesses[0][0].slice(0, 20) + (m.witnesses[0][0][20] === '0' ? '1' : '0') + m.witnesses[0][0].slice(21), m.witnesses[0][1],
  ]] }))
  const n = p.a.sent.length
  p.deliver(p.a)
  aborted(t, p, 'A', 'tx_signatures_invalid', n)
  p.flush()
  failed(t, p, 'B', 'splice_aborted_after_signing')
  t.end()
})

t.test('splice_locked for no pending splice: warning and disconnect', t => {
  const { p } = pair(85)
  p.run(p.a, { kind: 'peer', msg: { type: 'splice_locked', channel_id: p.a.state.channelId, splice_txid: 'ab'.repeat(32) as never } })
  disconnected(t, p, 'A', 'splice_locked_unknown')
  t.end()
})

function withPendingSplice (seed: number) {
  const { p, h } = pair(seed)
  h.request(p.a, spliceOut(100_000))
  h.drive()
  const pay = p.add(p.a, 2_000_000)
  p.sign(p.a)
  t.same(p.toB.map(m => m.type), ['update_add_htlc', 'start_batch', 'commitment_signed', 'commitment_signed'])
  p.deliver(p.b)
  return { p, h, pay }
}

t.test('a lone commitment_signed while a splice is pending: error, the channel fails', t => {
  const { p } = withPendingSplice(86)
  p.toB.splice(0, 1) // start_batch dropped
  p.toB.splice(1, 1) // the splice's commitment_signed dropped
  p.deliver(p.b)
  failed(t, p, 'B', 'commitment_batch_missing')
  t.end()
})

t.test('a batch without the splice\'s commitment_signed: error, the channel fails', t => {
  const { p } = withPendingSplice(87)
  replace(p, 'B', m => m)
  p.toB[2] = { ...p.toB[1]! } // the current funding's twice, the splice's missing
  p.flush()
  failed(t, p, 'B', 'commitment_batch_missing')
  t.end()
})

t.test('start_batch: too large → disconnect; of one → warning, ignored; interrupted → disconnect', t => {
  const a = withPendingSplice(88)
  replace(a.p, 'B', m => ({ ...m, batch_size: 21 }))
  a.p.deliver(a.p.b)
  disconnected(t, a.p, 'B', 'commitment_batch_invalid')
  const b = withPendingSplice(89)
  b.p.run(b.p.b, { kind: 'peer', msg: { type: 'start_batch', channel_id: b.p.a.state.channelId, batch_size: 1, message_type: 132 } })
  t.ok(b.p.b.sent.some(m => m.type === 'warning' && m.data.startsWith('commitment_batch_invalid')), 'batch_size 1: a warning')
  t.equal(b.p.connected, true, 'and nothing else')
  b.p.flush()
  t.same(b.p.check(), [], 'the real batch is processed as usual')
  const c = withPendingSplice(90)
  c.p.deliver(c.p.b) // start_batch
  c.p.run(c.p.b, { kind: 'peer', msg: { type: 'update_fee', channel_id: c.p.a.state.channelId, feerate_per_kw: 400 } })
  disconnected(t, c.p, 'B', 'commitment_batch_invalid')
  t.end()
})

t.test('tx_add_input with no negotiation in progress: tx_abort', t => {
  const { p } = pair(92)
  const n = p.b.sent.length
  p.run(p.b, { kind: 'peer', msg: { type: 'tx_complete', channel_id: p.a.state.channelId } })
  aborted(t, p, 'B', 'interactive_tx_failed', n)
  t.end()
})
