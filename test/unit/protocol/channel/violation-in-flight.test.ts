// At the protocol level: every disconnect-class receiver rule (BOLT #2 "send a
// `warning` and close the connection"), violated while the receiver has a durable write in flight —
// its commitment_signed, revoke_and_ack or update_fulfill_htlc held behind the write (store stalled).
// The warning naming the reason and the disconnect leave in the same step, whatever is in flight; what
// was held behind the write never leaves (it is dropped with the link; reestablish regenerates it);
// a commitment_signed that never left is withdrawn (stored first) and our add in it is handed back to
// the host with the violation; after reconnection the channel carries on, with no force close.
import t from 'tap'
import type { Msat, NodeId } from '../../../../protocol/types.ts'
import { untrimmedHtlcs } from '../../../../protocol/channel/index.ts'
import { nextLocalSpec } from '../../../../protocol/channel/updates.ts'
import type { PeerMessage, UpdateAddHtlc } from '../../../../protocol/wire/index.ts'
import { Pair, kinds, type PairOptions, type Party } from './fixtures/harness.ts'
import { AMOUNT, finish } from './fixtures/flow.ts'

const HASH = 'aa'.repeat(32)
const HELD: Record<Setup, string> = { signing: 'commitment_signed', revoking: 'revoke_and_ack', fulfilling: 'update_fulfill_htlc' }
/** What the receiver is doing when the violation arrives: each leaves one message held behind a write. */
type Setup = 'signing' | 'revoking' | 'fulfilling'
const SETUPS: Setup[] = ['signing', 'revoking', 'fulfilling']

interface Prepared { p: Pair; v: Party; peer: Party; ours: number; theirs: number }

/** A channel with one committed HTLC each way; the victim `v`'s store stalls, then it starts `setup`. */
function prepare (opts: PairOptions, victim: 'A' | 'B', setup: Setup): Prepared {
  const p = new Pair({ seed: 81, ...opts })
  p.open()
  const fromA = p.add(p.a, AMOUNT); p.settle()
  const fromB = p.add(p.b, AMOUNT); p.settle()
  const v = victim === 'A' ? p.a : p.b
  const peer = p.other(v)
  // `ours`: an HTLC the victim offered (committed); `theirs`: one the peer offered (committed).
  const ours = v === p.a ? fromA.id : fromB.id
  const theirs = v === p.a ? fromB.id : fromA.id
  v.stalled = true
  switch (setup) {
    case 'signing': p.add(v, AMOUNT); p.sign(v); break
    case 'revoking': p.add(peer, AMOUNT); p.sign(peer); p.deliver(v); p.deliver(v); break
    case 'fulfilling': p.fulfill(v, theirs); break
  }
  return { p, v, peer, ours, theirs }
}

const add = (x: Prepared, over: Partial<UpdateAddHtlc> = {}): UpdateAddHtlc => ({
  type: 'update_add_htlc', channel_id: x.v.state.channelId, id: x.v.state.nextRemoteHtlcId, amount_msat: AMOUNT as Msat,
  payment_hash: HASH, cltv_expiry: (x.v.state.height + 144) as UpdateAddHtlc['cltv_expiry'],
  recipient: (x.v === x.p.b ? x.p.nodeB : x.p.nodeA) as NodeId, ...over,
})
/** The sender's balance in the receiver's next commitment, before a new add. */
const senderMsat = (x: Prepared): number => nextLocalSpec(x.v.state).toRemoteMsat
const reserveMsat = (x: Prepared): number => x.v.state.setup.local.channelReserveSat * 1000
/** A commitment_signed shaped for the victim's next commitment, with a real (but wrong) signature. */
function commitSig (x: Prepared, extraHtlcSigs = 0): PeerMessage {
  const s = x.v.state
  const n = untrimmedHtlcs(s.setup.channelType, nextLocalSpec(s), 'local', s.setup.local.dustLimitSat).length + extraHtlcSigs
  const old = x.peer.sent.filter(m => m.type === 'commitment_signed').at(-1)
  if (old?.type !== 'commitment_signed') throw new Error('no commitment_signed to borrow a signature from')
  return {
    type: 'commitment_signed', channel_id: s.channelId, signature: old.signature,
    htlc_signatures: Array.from({ length: n }, () => old.signature),
  }
}

interface Rule {
  name: string
  reason: string
  victim: 'A' | 'B'
  opts?: PairOptions
  setups?: Setup[]
  /** Valid inputs that bring the victim to the edge of the rule (no writes). */
  before?: (x: Prepared, setup: Setup) => void
  msg: (x: Prepared) => PeerMessage
}

const BIG_IN_FLIGHT = { maxHtlcValueInFlightMsat: 10_000_000_000 as Msat }

const RULES: Rule[] = [
  { name: 'update_add_htlc (amount 0)', reason: 'amount_below_minimum', victim: 'B', msg: x => add(x, { amount_msat: 0 as Msat }) },
  {
    name: 'update_add_htlc (cltv_expiry ≥ 500000000)', reason: 'bad_cltv', victim: 'B',
    msg: x => add(x, { cltv_expiry: 500_000_000 as UpdateAddHtlc['cltv_expiry'] }),
  },
  { name: 'update_add_htlc (wrong HTLC id)', reason: 'bad_htlc_id', victim: 'B', msg: x => add(x, { id: x.v.state.nextRemoteHtlcId + 3 }) },
  {
    name: 'update_add_htlc (the sender would go below its reserve)', reason: 'reserve', victim: 'B', opts: { b: BIG_IN_FLIGHT },
    msg: x => add(x, { amount_msat: senderMsat(x) as Msat }),
  },
  {
    name: 'update_add_htlc (the funder could not pay the fee above its reserve)', reason: 'insufficient_funds', victim: 'B',
    opts: { b: BIG_IN_FLIGHT }, msg: x => add(x, { amount_msat: (senderMsat(x) - reserveMsat(x) - 1000) as Msat }),
  },
  {
    name: 'update_add_htlc (more than max_accepted_htlcs)', reason: 'too_many_htlcs', victim: 'B', opts: { b: { maxAcceptedHtlcs: 4 } },
    before: x => {
      while (nextLocalSpec(x.v.state).htlcs.filter(h => h.offerer === 'remote').length < 4) x.p.run(x.v, { kind: 'peer', msg: add(x) })
    },
    msg: x => add(x),
  },
  {
    name: 'update_add_htlc (more than max_htlc_value_in_flight_msat)', reason: 'max_in_flight', victim: 'B',
    opts: { b: { maxHtlcValueInFlightMsat: 20_000_000 as Msat } }, msg: x => add(x, { amount_msat: 20_000_000 as Msat }),
  },
  {
    name: 'update_add_htlc (after the peer\'s shutdown)', reason: 'update_after_shutdown', victim: 'B',
    before: x => { x.p.run(
      x.v,
      { kind: 'peer', msg: { type: 'shutdown', channel_id: x.v.state.channelId, scriptpubkey: x.peer.state.setup.localShutdownScript } },
    ) },
    msg: x => add(x),
  },
  {
    // A payee that fulfils the hub's HTLC as soon as its update_add_htlc arrives.
    name: 'update_fulfill_htlc (before the HTLC is irrevocably committed)', reason: 'unknown_htlc', victim: 'B',
    before: (x, setup) => { if (setup !== 'signing') x.p.add(x.v, AMOUNT) },
    msg: x => {
      const h = x.v.state.localChanges.proposed.concat(x.v.state.localChanges.signed).flatMap(
        u => (u.kind === 'add' ? [u.htlc] : [])
      ).at(-1)!
      return { type: 'update_fulfill_htlc', channel_id: x.v.state.channelId, id: h.id, payment_preimage: x.p.preimages.get(h.paymentHash)! }
    },
  },
  {
    name: 'update_fulfill_htlc (unknown id)', reason: 'unknown_htlc', victim: 'B',
    msg: x => ({ type: 'update_fulfill_htlc', channel_id: x.v.state.channelId, id: 99, payment_preimage: '00'.repeat(32) }),
  },
  {
    name: 'update_fulfill_htlc (wrong preimage)', reason: 'bad_preimage', victim: 'B',
    msg: x => ({ type: 'update_fulfill_htlc', channel_id: x.v.state.channelId, id: x.ours, payment_preimage: '00'.repeat(32) }),
  },
  {
    name: 'update_fail_htlc (unknown id)', reason: 'unknown_htlc', victim: 'B',
    msg: x => ({ type: 'update_fail_htlc', channel_id: x.v.state.channelId, id: 99, reason: 'temporary_channel_failure' }),
  },
  {
    name: 'update_fee (from the side that does not pay the fee)', reason: 'fee_update_not_funder', victim: 'A',
    msg: x => ({ type: 'update_fee', channel_id: x.v.state.channelId, feerate_per_kw: 1000 }),
  },
  {
    name: 'update_fee (below the floor)', reason: 'fee_out_of_range', victim: 'B',
    msg: x => ({ type: 'update_fee', channel_id: x.v.state.channelId, feerate_per_kw: 252 }),
  },
  {
    name: 'update_fee (above the ceiling)', reason: 'fee_out_of_range', victim: 'B',
    msg: x => ({ type: 'update_fee', channel_id: x.v.state.channelId, feerate_per_kw: 250_001 }),
  },
  // A (the funder) keeps 100,000 sat: the fee at 250,000 sat/kw is over 181,000 sat.
  {
    name: 'update_fee (the funder cannot afford it)', reason: 'fee_unaffordable', victim: 'B', opts: { pushMsat: 9_900_000_000 },
    msg: x => ({ type: 'update_fee', channel_id: x.v.state.channelId, feerate_per_kw: 250_000 }),
  },
  {
    name: 'commitment_signed (no update to sign)', reason: 'empty_commitment', victim: 'B',
    msg: x => ({ type: 'commitment_signed', channel_id: x.v.state.channelId, signature: '11'.repeat(64), htlc_signatures: [] }),
  },
  {
    name: 'commitment_signed (bad signature)', reason: 'bad_signature', victim: 'B',
    before: x => { x.p.run(x.v, { kind: 'peer', msg: add(x) }) }, msg: x => commitSig(x),
  },
  {
    name: 'commitment_signed (wrong number of HTLC signatures)', reason: 'wrong_htlc_signature_count', victim: 'B',
    before: x => { x.p.run(x.v, { kind: 'peer', msg: add(x) }) }, msg: x => commitSig(x, 1),
  },
  {
    name: 'revoke_and_ack (no commitment awaiting one)', reason: 'unexpected_revocation', victim: 'B', setups: ['revoking', 'fulfilling'],
    msg: x => ({
      type: 'revoke_and_ack', channel_id: x.v.state.channelId, per_commitment_secret: '11'.repeat(32),
      next_per_commitment_point: x.v.state.remoteNextPoint!,
    }),
  },
  {
    name: 'revoke_and_ack (next_per_commitment_point not on the curve)', reason: 'invalid_field', victim: 'B', setups: ['signing'],
    msg: x => ({
      type: 'revoke_and_ack', channel_id: x.v.state.channelId,
      per_commitment_secret: x.peer.signer.perCommitmentSecret(x.v.state.remoteCommit!.index),
      next_per_commitment_point: '02' + 'ff'.repeat(32),
    }),
  },
  {
    name: 'shutdown (scriptpubkey not allowed)', reason: 'bad_shutdown_script', victim: 'B',
    msg: x => ({ type: 'shutdown', channel_id: x.v.state.channelId, scriptpubkey: '6a' }),
  },
  {
    name: 'closing_signed (no shutdown yet)', reason: 'unexpected_message', victim: 'B',
    msg: x => ({ type: 'closing_signed', channel_id: x.v.state.channelId, fee_satoshis: 1000 as never, signature: '11'.repeat(64) }),
  },
  { name: 'channel_reestablish (link already up)', reason: 'unexpected_message', victim: 'A', msg: x => ({
    type: 'channel_reestablish', channel_id: x.v.state.channelId, next_commitment_number: 1, next_revocation_number: 0,
    your_last_per_commitment_secret: '00'.repeat(32),
    my_current_per_commitment_point: x.peer.state.remoteNextPoint ?? x.v.state.remoteNextPoint!,
  }) },
]

for (const rule of RULES) {
  for (const setup of rule.setups ?? SETUPS) {
    t.test(`recv ${rule.name} while ${HELD[setup]} waits for a write: warning + disconnect at once`, t => {
      const x = prepare(rule.opts ?? {}, rule.victim, setup)
      const { p, v } = x
      rule.before?.(x, setup)
      const pending = v.queued.length
      t.ok(pending >= 1, `${pending} write(s) in flight`)
      t.ok(v.state.outbox.some(o => o.effect.kind === 'send' && o.effect.msg.type === HELD[setup]), `${HELD[setup]} is held behind it`)
      const sent = v.sent.length
      const effects = p.run(v, { kind: 'peer', msg: rule.msg(x) })
      t.same(kinds(effects).slice(0, 2), ['send:warning', 'disconnect'], 'the warning and the disconnect leave in the same step')
      const w = effects[0]
      t.ok(w?.kind === 'send' && w.msg.type === 'warning' && w.msg.data.startsWith(`${rule.reason}:`), `the warning names ${rule.reason}`)
      t.same(effects.slice(2).filter(e => e.kind === 'send'), [], 'nothing else is sent')
      t.equal(v.state.link, 'down')
      p.unstall(v)
      t.same(v.sent.slice(sent).map(m => m.type), ['warning'], `${HELD[setup]} never leaves, even once its write is durable`)
      if (setup === 'signing') {
        t.ok(
          v.monitor.some(m => m.kind === 'remote_commitment_withdrawn'),
          'the commitment whose commitment_signed never left is withdrawn, durably',
        )
        const back = v.events.filter(e => e.type === 'add_rolled_back')
        t.ok(
          back.length > 0 && back.every(e => e.type === 'add_rolled_back' && e.violation?.reason === rule.reason),
          'our add in it is handed back, naming the violation',
        )
      }
      p.reconnect()
      finish(p)
      t.same(p.check(), [], 'no force close; both sides agree after reestablish')
      t.end()
    })
  }
}
