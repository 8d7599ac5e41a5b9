// Violations and force close in the real ChannelDriver (the runner the hub and the SDK share), with B's
// writes held in its store: B has received A's commitment_signed (its revoke_and_ack waits for the
// local_commitment write) and signed A's next commitment (its commitment_signed waits for the
// remote_commitment write). Then a violation arrives: the warning and the disconnect leave before any
// of those writes is durable. Or the owner force-closes: the error leaves with the force_close write.
// Either way neither the revoke_and_ack nor the commitment_signed ever leaves, even once the writes
// complete.
import t from 'tap'
import { DriverPair } from './fixtures/driver-pair.ts'
import type { Msat } from '../../../../protocol/types.ts'
import type { PeerMessage, UpdateAddHtlc } from '../../../../protocol/wire/index.ts'
import { untrimmedHtlcs, type ChannelState, type MonitorUpdate } from '../../../../protocol/channel/index.ts'
import { nextLocalSpec } from '../../../../protocol/channel/updates.ts'
import { parseJsonValue } from '../../../../host/store/index.ts'

async function twoWritesInFlight (): Promise<{ p: DriverPair; from: number }> {
  const p = new DriverPair()
  await p.open()
  p.b.store.stall()
  const inv = DriverPair.invoice()
  void p.a.driver!.command({ type: 'add_htlc', amountMsat: 50_000 as Msat, paymentHash: inv.hash, cltvExpiry: 200, recipient: p.nodeB })
  await p.b.store.waitForStalled(2)
  // From here on the test speaks for A: nothing more is delivered either way.
  p.a.connected = false
  p.b.connected = false
  return { p, from: p.trace.length }
}

const gated = (trace: string[]): string[] => trace.filter(e => e === 'B:send:revoke_and_ack' || e === 'B:send:commitment_signed')

const add = (s: ChannelState, p: DriverPair, over: Partial<UpdateAddHtlc> = {}): UpdateAddHtlc =>
  ({
    type: 'update_add_htlc', channel_id: s.channelId, id: s.nextRemoteHtlcId, amount_msat: 20_000 as Msat, payment_hash: 'aa'.repeat(32),
    cltv_expiry: 300 as never, recipient: p.nodeB, ...over
  })
/** A's balance in B's next commitment. */
const senderMsat = (s: ChannelState): number => nextLocalSpec(s).toRemoteMsat
/** A commitment_signed for B's next commitment once `extraAdd` is in it, with a real (wrong) signature. */
function commitSig (s: ChannelState, p: DriverPair, extraHtlcSigs: number): PeerMessage {
  const withAdd = nextLocalSpec(s, [{ kind: 'add', htlc: {
    offerer: 'remote', id: s.nextRemoteHtlcId, amountMsat: 20_000 as Msat, paymentHash: 'aa'.repeat(32), cltvExpiry: 300,
    recipient: p.nodeB,
  } }])
  const n = untrimmedHtlcs(s.setup.channelType, withAdd, 'local', s.setup.local.dustLimitSat).length + extraHtlcSigs
  const sig = p.a.sent.filter(m => m.type === 'commitment_signed').at(-1)
  if (sig?.type !== 'commitment_signed') throw new Error('no commitment_signed of A')
  return {
    type: 'commitment_signed', channel_id: s.channelId, signature: sig.signature,
    htlc_signatures: Array.from({ length: n }, () => sig.signature),
  }
}

/** name, reason, valid messages that come first (they need no write), the violation. */
const RULES: Array<[string, string, (s: ChannelState, p: DriverPair) => PeerMessage[], (s: ChannelState, p: DriverPair) => PeerMessage]> = [
  ['update_add_htlc (amount 0)', 'amount_below_minimum', () => [], (s, p) => add(s, p, { amount_msat: 0 as Msat })],
  ['update_add_htlc (cltv_expiry ≥ 500000000)', 'bad_cltv', () => [], (s, p) => add(s, p, { cltv_expiry: 500_000_000 as never })],
  ['update_add_htlc (wrong HTLC id)', 'bad_htlc_id', () => [], (s, p) => add(s, p, { id: s.nextRemoteHtlcId + 2 })],
  [
    'update_add_htlc (the sender would go below its reserve)', 'reserve', () => [],
    (s, p) => add(s, p, { amount_msat: senderMsat(s) as Msat }),
  ],
  [
    'update_add_htlc (the funder could not pay the fee above its reserve)', 'insufficient_funds', () => [],
    (s, p) => add(s, p, { amount_msat: (senderMsat(s) - s.setup.local.channelReserveSat * 1000 - 1000) as Msat }),
  ],
  [
    'update_fee (above the ceiling)', 'fee_out_of_range', () => [],
    s => ({ type: 'update_fee', channel_id: s.channelId, feerate_per_kw: 250_001 }),
  ],
  ['commitment_signed (bad signature)', 'bad_signature', (s, p) => [add(s, p)], (s, p) => commitSig(s, p, 0)],
  [
    'commitment_signed (wrong number of HTLC signatures)', 'wrong_htlc_signature_count', (s, p) => [add(s, p)],
    (s, p) => commitSig(s, p, 1),
  ],
  [
    'closing_signed (no shutdown yet)', 'unexpected_message', () => [],
    s => ({ type: 'closing_signed', channel_id: s.channelId, fee_satoshis: 1000 as never, signature: '11'.repeat(64) }),
  ],
  [
    'update_fulfill_htlc (an HTLC not in our commitment)', 'unknown_htlc', () => [],
    s => ({ type: 'update_fulfill_htlc', channel_id: s.channelId, id: 7, payment_preimage: '00'.repeat(32) }),
  ],
  [
    'update_fail_htlc (unknown id)', 'unknown_htlc', () => [],
    s => ({ type: 'update_fail_htlc', channel_id: s.channelId, id: 7, reason: 'temporary_channel_failure' }),
  ],
  [
    'update_fee (below the floor)', 'fee_out_of_range', () => [],
    s => ({ type: 'update_fee', channel_id: s.channelId, feerate_per_kw: 252 }),
  ],
  [
    'commitment_signed (no update to sign)', 'empty_commitment', () => [],
    s => ({ type: 'commitment_signed', channel_id: s.channelId, signature: '11'.repeat(64), htlc_signatures: [] }),
  ],
  ['revoke_and_ack (next point not on the curve)', 'invalid_field', () => [], (s, p) => ({
    type: 'revoke_and_ack', channel_id: s.channelId, per_commitment_secret: p.a.signer.perCommitmentSecret(s.remoteCommit!.index),
    next_per_commitment_point: '02' + 'ff'.repeat(32),
  })],
  [
    'shutdown (scriptpubkey not allowed)', 'bad_shutdown_script', () => [],
    s => ({ type: 'shutdown', channel_id: s.channelId, scriptpubkey: '6a' }),
  ],
]

for (const [name, reason, first, make] of RULES) {
  t.test(`driver: recv ${name} with two writes in flight: warning + disconnect at once, nothing held leaves`, async t => {
    const { p, from } = await twoWritesInFlight()
    const tr = (): string[] => p.trace.slice(from)
    const s = p.b.driver!.state
    for (const m of first(s, p)) void p.b.driver!.peer(m)
    void p.b.driver!.peer(make(s, p))
    await p.until(() => tr().includes('B:disconnect'))
    t.ok(
      tr().indexOf('B:send:warning') >= 0 && tr().indexOf('B:send:warning') < tr().indexOf('B:disconnect'),
      'the warning, then the disconnect',
    )
    t.equal(p.b.store.stalledCount, 3, 'both writes are still in flight, and the withdrawal of the commitment_signed that never left')
    t.notOk(tr().some(e => /^B:persist:\d+:done$/.test(e)), 'no write of B completed before')
    const w = p.b.sent.find(m => m.type === 'warning')
    t.ok(w?.type === 'warning' && w.data.startsWith(`${reason}:`), `the warning names ${reason}`)
    p.b.store.release()
    await p.until(() => p.b.driver!.writesInFlight === 0)
    await p.b.driver!.idle()
    t.same(gated(tr()), [], 'neither the revoke_and_ack nor the commitment_signed ever left')
    t.equal(p.b.driver!.state.link, 'down')
    t.same(p.violations, [])
  })
}

t.test('driver: force_close with two writes in flight: nothing held leaves, force_close stored last, then the error', async t => {
  const { p, from } = await twoWritesInFlight()
  const tr = (): string[] => p.trace.slice(from)
  let settled = false
  const done = p.b.driver!.command({ type: 'force_close', reason: 'test' }).then(o => { settled = true; return o })
  await p.b.store.waitForStalled(3)
  t.notOk(settled, 'the command waits for its force_close write')
  t.notOk(tr().some(e => e.startsWith('B:send:')), 'nothing left B')
  p.b.store.release()
  t.equal(await done, 'done')
  const n = p.b.driver!.state.writes.issued
  t.ok(tr().indexOf(`B:persist:${n}:done`) < tr().indexOf('B:send:error'), 'the error leaves once force_close is durable')
  t.same(gated(tr()), [], 'neither the revoke_and_ack nor the commitment_signed ever left')
  t.equal(p.b.driver!.state.phase, 'failed')
  const kinds: string[] = []
  for await (
    const [, v] of p.b.store.iterate(`chan/${p.b.driver!.channelId}/monitor/`)
  ) kinds.push((parseJsonValue(v) as MonitorUpdate).kind)
  t.same(
    kinds.slice(-3), ['local_commitment', 'remote_commitment', 'force_close'],
    'the monitor acts on force_close, after the newest local commitment',
  )
  t.ok(p.b.events.some(e => e.type === 'channel_failed' && e.error.reason === 'force_close'), 'the host is told')
  t.same(p.violations, [])
})
