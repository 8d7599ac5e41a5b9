// A batched settlement through BOLT #2 interactive construction: one session per channel, the hub the
// initiator of each, adding the other channels' inputs and outputs as its own with the planned serial
// ids; every session must build the same transaction, and each peer refuses one that does not pay its
// payout as agreed.
import t from 'tap'
import {
  buildTx, receiveTxMessage, replyMessage, startNegotiation, type Negotiation, type NegotiationParams, type NegotiationStep,
  type OwnContribution, type TxConstructionMessage,
} from '../../../../protocol/interactive-tx/index.ts'
import { MAX_INTERACTIVE_INPUT_SEQUENCE } from '../../../../protocol/limits.ts'
import { buildBatchTx, type BatchTx, type FundedPayout } from '../../../../protocol/settlement/build.ts'
import { planBatch } from '../../../../protocol/settlement/plan.ts'
import { verifyInput } from '../../../../protocol/tx/sign.ts'
import { fundingOutput } from '../../../../protocol/tx/funding.ts'
import { SIGHASH_ALL } from '../../../../protocol/tx/serialize.ts'
import { parseWitnessSig } from '../../../../protocol/tx/sign.ts'
import type { Sat } from '../../../../protocol/types.ts'
import type { ExtraOutput } from '../../../../protocol/settlement/types.ts'
import { anchorScript } from '../../../../protocol/audit/anchor.ts'
import { dueOf, funded, signBatch, testChannels, type TestChannel } from '../../../../scripts/lib/settlement-batch.ts'
import { CHANNEL } from './fixtures.ts'

const params = { feeratePerKw: 2_500, dustLimitSat: 546, maxFeeSharePercent: 10, maxChannels: 100, extraOutputs: [] }

/** The hub's side (initiator) and the peer's (non-initiator) of channel `k`'s session. */
function session (channels: TestChannel[], payouts: FundedPayout[], batch: BatchTx, k: number): {
  hub: NegotiationParams; peer: NegotiationParams; own: OwnContribution
} {
  const p = payouts[k]!
  const funding = batch.outputs.find(o => o.role.kind === 'funding' && o.role.channelId === p.channelId)!
  const payout = batch.outputs.find(o => o.role.kind === 'payout' && o.role.channelId === p.channelId)!
  const contribution = -(p.payoutSat + p.feeSat)
  const hub: NegotiationParams = {
    role: 'initiator', feeratePerKw: params.feeratePerKw, locktime: 0, dustLimitSat: 546 as Sat,
    sharedInput: { txid: p.funding.txid, vout: p.funding.vout, valueSat: p.capacitySat, script: channels[k]!.fundingScript },
    sharedOutput: { script: p.newFundingScript, valueSat: p.newCapacitySat },
    contributionSat: { local: 0, remote: contribution },
    batch: { payoutSerialId: payout.serialId, payoutScript: p.payoutScript, payoutSat: p.payoutSat },
  }
  const peer: NegotiationParams = { ...hub, role: 'non_initiator', contributionSat: { local: contribution, remote: 0 } }
  const others = batch.inputs.filter(i => i.channelId !== p.channelId)
  const otherOutputs = batch.outputs.filter(o => o !== funding)
  const byId = new Map(channels.map(c => [c.channelId, c]))
  const own: OwnContribution = {
    inputs: others.map(i => ({ prevtx: byId.get(i.channelId)!.fundingTx, prevtxVout: i.vout, sequence: MAX_INTERACTIVE_INPUT_SEQUENCE })),
    outputs: otherOutputs.map(o => ({ script: o.script, sats: o.sats })),
    entropy: '00'.repeat(32),
    serialIds: {
      sharedInput: batch.inputs[k]!.serialId, sharedOutput: funding.serialId,
      inputs: others.map(i => i.serialId), outputs: otherOutputs.map(o => o.serialId),
    },
  }
  return { hub, peer, own }
}

/** Runs one session; `tamper` may change a message the hub sends. The last step of each side. */
function run (
  s: ReturnType<typeof session>, tamper: (m: TxConstructionMessage) => TxConstructionMessage = m => m,
): { hub: NegotiationStep; peer: NegotiationStep } {
  let hub = startNegotiation(s.hub, s.own)
  let peer = startNegotiation(s.peer, { inputs: [], outputs: [], entropy: '11'.repeat(32) })
  if (!hub.ok || !peer.ok) return { hub, peer }
  let toPeer: TxConstructionMessage | undefined = hub.reply === undefined ? undefined : tamper(replyMessage(hub.reply, CHANNEL))
  let toHub: TxConstructionMessage | undefined
  for (let i = 0; i < 2_000 && (toPeer !== undefined || toHub !== undefined); i++) {
    if (toPeer !== undefined) {
      peer = receiveTxMessage((peer as { negotiation: Negotiation }).negotiation, toPeer)
      toPeer = undefined
      if (!peer.ok) break
      toHub = peer.reply === undefined ? undefined : replyMessage(peer.reply, CHANNEL)
    } else if (toHub !== undefined) {
      hub = receiveTxMessage((hub as { negotiation: Negotiation }).negotiation, toHub)
      toHub = undefined
      if (!hub.ok) break
      toPeer = hub.reply === undefined ? undefined : tamper(replyMessage(hub.reply, CHANNEL))
    }
  }
  return { hub, peer }
}

function setup (n: number, extraOutputs: ExtraOutput[] = []): { channels: TestChannel[]; payouts: FundedPayout[]; batch: BatchTx } {
  const channels = testChannels(n)
  const plan = planBatch(dueOf(channels, 400_000), { ...params, extraOutputs })
  const payouts = funded(plan, channels)
  // The sessions follow the plan's order (largest payout first; equal here, then by channel id).
  const ordered = payouts.map(p => channels.find(c => c.channelId === p.channelId)!)
  return { channels: ordered, payouts, batch: buildBatchTx(payouts, extraOutputs, 0) }
}

t.test('three sessions, one per channel, each build the planned batch transaction, with the same txid', async t => {
  const { channels, payouts, batch } = setup(3)
  for (let k = 0; k < 3; k++) {
    const r = run(session(channels, payouts, batch, k))
    if (!r.hub.ok || !r.peer.ok) {
      t.fail(`session ${k}: ${JSON.stringify(!r.hub.ok ? r.hub.error : (r.peer as { error: unknown }).error)}`); continue
    }
    t.ok(r.hub.negotiation.done && r.peer.negotiation.done, `session ${k} complete on both sides`)
    t.equal(buildTx(r.hub.negotiation).txid, batch.txid, `session ${k}: the hub built the batch`)
    t.equal(buildTx(r.peer.negotiation).txid, batch.txid, `session ${k}: the peer built the batch`)
    const built = buildTx(r.peer.negotiation)
    t.equal(built.sharedInputIndex, k, `session ${k}: its funding input is input ${k}`)
    t.equal(built.sharedOutputIndex, 2 * k, `session ${k}: its new funding output is output ${2 * k}`)
  }
  // The transaction every session agreed on, signed with both keys of every channel, is valid.
  const signed = signBatch(batch, channels)
  signed.inputs.forEach((input, k) => {
    const c = channels[k]!
    const f = fundingOutput(c.funding.txid, c.funding.vout, c.capacitySat, c.hubPubkey, c.peerPubkey)
    const sig = parseWitnessSig(input.witness[1]!)!
    const keys = [c.hubPubkey, c.peerPubkey]
    t.ok(keys.some(key => verifyInput(signed, k, f.witnessScript, c.capacitySat, sig.sig64, key, SIGHASH_ALL)), `input ${k} signed`)
  })
})

t.test('a hub that pays a peer less than agreed: that peer aborts with batch_terms_violated', async t => {
  const { channels, payouts, batch } = setup(3)
  const payout = batch.outputs.find(o => o.role.kind === 'payout' && o.role.channelId === payouts[1]!.channelId)!
  const r = run(session(channels, payouts, batch, 1), m => (
    m.type === 'tx_add_output' && m.serial_id === payout.serialId ? { ...m, sats: (m.sats - 1) as Sat } : m
  ))
  t.notOk(r.peer.ok)
  if (!r.peer.ok) {
    t.equal(r.peer.error.reason, 'batch_terms_violated')
    t.equal(r.peer.error.action, 'abort')
    t.match(r.peer.error.detail, /not \d+/)
  }
})

t.test('a hub that sends the payout to another script: refused', async t => {
  const { channels, payouts, batch } = setup(2)
  const payout = batch.outputs.find(o => o.role.kind === 'payout' && o.role.channelId === payouts[0]!.channelId)!
  const r = run(session(channels, payouts, batch, 0), m => (
    m.type === 'tx_add_output' && m.serial_id === payout.serialId ? { ...m, script: '0014' + 'ee'.repeat(20) } : m
  ))
  t.notOk(r.peer.ok)
  if (!r.peer.ok) t.equal(r.peer.error.reason, 'batch_terms_violated')
})

t.test('a hub that leaves the payout out: refused', async t => {
  const { channels, payouts, batch } = setup(2)
  const s = session(channels, payouts, batch, 0)
  const payout = batch.outputs.find(o => o.role.kind === 'payout' && o.role.channelId === payouts[0]!.channelId)!
  const kept = s.own.outputs.map((o, i) => ({ o, id: s.own.serialIds!.outputs[i]! })).filter(x => x.id !== payout.serialId)
  // The fee it kept back would go to the miners; the peer still refuses a batch without its payout.
  const r = run({ ...s, own: { ...s.own, outputs: kept.map(x => x.o), serialIds: { ...s.own.serialIds!, outputs: kept.map(x => x.id) } } })
  t.notOk(r.peer.ok)
  if (!r.peer.ok) t.equal(r.peer.error.reason, 'batch_terms_violated')
})

t.test('a batch that pays less than the feerate overall: tx_peer_underpays', async t => {
  const { channels, payouts, batch } = setup(2)
  const s = session(channels, payouts, batch, 0)
  const r = run({ hub: { ...s.hub, feeratePerKw: 5 }, peer: { ...s.peer, feeratePerKw: 50_000 }, own: s.own })
  t.notOk(r.peer.ok)
  if (!r.peer.ok) t.equal(r.peer.error.reason, 'tx_peer_underpays')
})

t.test('fixed serial ids of the wrong parity are refused before anything is sent', async t => {
  const { channels, payouts, batch } = setup(2)
  const s = session(channels, payouts, batch, 0)
  const r = startNegotiation(s.hub, { ...s.own, serialIds: { ...s.own.serialIds!, sharedInput: 1 } })
  t.notOk(r.ok)
  if (!r.ok) t.equal(r.error.reason, 'tx_serial_id_parity')
})

t.test('a peer that adds an output to a batched settlement: the hub refuses it at tx_complete', async t => {
  const { channels, payouts, batch } = setup(2)
  const s = session(channels, payouts, batch, 0)
  let hub = startNegotiation(s.hub, s.own)
  let peer = startNegotiation(
    s.peer, { inputs: [], outputs: [{ script: '0014' + 'ee'.repeat(20), sats: 1_000 as Sat }], entropy: '11'.repeat(32) },
  )
  t.ok(hub.ok && peer.ok)
  let toPeer = hub.ok && hub.reply !== undefined ? replyMessage(hub.reply, CHANNEL) : undefined
  let toHub: TxConstructionMessage | undefined
  for (let i = 0; i < 2_000 && hub.ok && peer.ok && (toPeer !== undefined || toHub !== undefined); i++) {
    if (toPeer !== undefined) {
      peer = receiveTxMessage(peer.negotiation, toPeer); toPeer = undefined
      if (peer.ok) toHub = peer.reply === undefined ? undefined : replyMessage(peer.reply, CHANNEL)
    } else if (toHub !== undefined) {
      hub = receiveTxMessage(hub.negotiation, toHub); toHub = undefined
      if (hub.ok) toPeer = hub.reply === undefined ? undefined : replyMessage(hub.reply, CHANNEL)
    }
  }
  t.notOk(hub.ok, 'the hub refuses the transaction')
  if (!hub.ok) {
    t.equal(hub.error.reason, 'batch_terms_violated')
    t.match(hub.error.detail, /peer added/)
  }
})

const ANCHOR: ExtraOutput = { script: anchorScript('cd'.repeat(32)), value: 0 }

t.test('the audit anchor, a zero-value OP_RETURN the hub adds: every session builds the batch with it', async t => {
  const { channels, payouts, batch } = setup(3, [ANCHOR])
  t.equal(batch.outputs.at(-1)?.script, ANCHOR.script, 'the anchor is the last output')
  for (let k = 0; k < 3; k++) {
    const r = run(session(channels, payouts, batch, k))
    t.ok(r.hub.ok && r.peer.ok, `session ${k}: ${!r.peer.ok ? r.peer.error.detail : !r.hub.ok ? r.hub.error.detail : 'complete'}`)
    if (r.peer.ok) t.equal(buildTx(r.peer.negotiation).txid, batch.txid, `session ${k}: the peer built the batch with the anchor`)
  }
})

t.test('a zero-value output that is not exactly the anchor is still dust: refused', async t => {
  const { channels, payouts, batch } = setup(2, [ANCHOR])
  const cases: Array<[string, (m: TxConstructionMessage) => TxConstructionMessage]> = [
    ['another OP_RETURN', m => (m.type === 'tx_add_output' && m.script === ANCHOR.script ? { ...m, script: '6a04deadbeef' } : m)],
    [
      'a payout script of value 0',
      m => (m.type === 'tx_add_output' && m.script === ANCHOR.script ? { ...m, script: '0014' + 'ee'.repeat(20) } : m),
    ],
  ]
  for (const [name, tamper] of cases) {
    const r = run(session(channels, payouts, batch, 0), tamper)
    t.notOk(r.peer.ok, name)
    if (!r.peer.ok) t.equal(r.peer.error.reason, 'tx_output_dust', name)
  }
})

t.test('the anchor outside a batch session, or a second one in it: tx_output_dust', async t => {
  const { channels, payouts, batch } = setup(2, [ANCHOR])
  const s = session(channels, payouts, batch, 0)
  const { batch: _, ...plain } = s.peer
  const add = (serialId: number): TxConstructionMessage => ({
    type: 'tx_add_output', channel_id: CHANNEL, serial_id: serialId, sats: 0 as Sat, script: ANCHOR.script,
  })
  const outside = startNegotiation({ ...plain }, { inputs: [], outputs: [], entropy: '11'.repeat(32) })
  t.ok(outside.ok)
  if (outside.ok) {
    const r = receiveTxMessage(outside.negotiation, add(1_000))
    t.notOk(r.ok, 'not a batch session: refused')
    if (!r.ok) t.equal(r.error.reason, 'tx_output_dust')
  }
  const inside = startNegotiation(s.peer, { inputs: [], outputs: [], entropy: '11'.repeat(32) })
  t.ok(inside.ok)
  if (inside.ok) {
    const first = receiveTxMessage(inside.negotiation, add(1_000))
    t.ok(first.ok, 'the first anchor of a batch session is taken')
    if (first.ok) {
      const second = receiveTxMessage(first.negotiation, add(1_002))
      t.notOk(second.ok, 'a second one is refused')
      if (!second.ok) t.equal(second.error.reason, 'tx_output_dust')
    }
  }
})
