// A batched settlement through the channel machine (docs/DESIGN.md "Batched settlement"): one hub, three
// peers, a splice session per channel with the hub as initiator. Every session builds the planned
// transaction; each peer signs first; the hub gives a session its witnesses only once every peer's
// shared input signature is in; each channel ends with the same fully signed transaction as its
// candidate, with its peer's payout in it.
import t from 'tap'
import type { ChannelEvent } from '../../../../../protocol/channel/index.ts'
import { MAX_INTERACTIVE_INPUT_SEQUENCE } from '../../../../../protocol/limits.ts'
import { buildBatchTx, type BatchTx, type FundedPayout } from '../../../../../protocol/settlement/build.ts'
import { planBatch } from '../../../../../protocol/settlement/plan.ts'
import {
  coordinate, newRound, type CoordinatorCommand, type CoordinatorInput,
} from '../../../../../protocol/settlement/coordinate.ts'
import { batchInputWitnesses, sessionWitnesses } from '../../../../../protocol/settlement/witnesses.ts'
import { fundingScriptPubkey } from '../../../../../protocol/tx/funding.ts'
import { parseTx } from '../../../../../protocol/tx/serialize.ts'
import { verifyInput, parseWitnessSig } from '../../../../../protocol/tx/sign.ts'
import { SIGHASH_ALL } from '../../../../../protocol/tx/serialize.ts'
import { bytesToHex, hexToBytes, type Sat } from '../../../../../protocol/types.ts'
import type { TxSignatures } from '../../../../../protocol/wire/index.ts'
import { Pair, type Party } from '../fixtures/harness.ts'

const FEERATE = 1_000
const LOCKTIME = 800_000
const KEEP = 200_000
const LIMITS = { signTimeoutBlocks: 2, maxRounds: 3 }

interface Ch { pair: Pair; script: string; payout: string }

function channels (n: number): Ch[] {
  return Array.from({ length: n }, (_, k) => {
    const pair = new Pair({ seed: 40 + k })
    pair.open({ realFundingTx: true })
    const s = pair.a.state.setup
    const script = bytesToHex(fundingScriptPubkey(hexToBytes(s.local.fundingPubkey), hexToBytes(s.remote!.fundingPubkey)))
    return { pair, script, payout: '0014' + (k + 1).toString(16).padStart(2, '0').repeat(20) }
  })
}

function plan (chs: Ch[]): { payouts: FundedPayout[]; batch: BatchTx } {
  const due = chs.map(c => {
    const s = c.pair.a.state
    return {
      channelId: s.channelId, funding: { txid: s.setup.funding!.txid, vout: s.setup.funding!.outputIndex },
      capacitySat: s.setup.capacitySat,
      balanceSat: Math.floor(s.localCommit!.spec.toRemoteMsat / 1000), keepSat: KEEP, payoutScript: c.payout, thresholdSat: 1_000,
    }
  })
  const p = planBatch(due, { feeratePerKw: FEERATE, dustLimitSat: 546, maxFeeSharePercent: 5, maxChannels: 10, extraOutputs: [] })
  const byId = new Map<string, Ch>(chs.map(c => [c.pair.a.state.channelId, c]))
  const payouts = p.payouts.map(x => ({ ...x, newFundingScript: byId.get(x.channelId)!.script }))
  return { payouts, batch: buildBatchTx(payouts, [], LOCKTIME) }
}

/** The hub's `splice` command for channel `c` of the batch. */
function hubCommand (chs: Ch[], payouts: FundedPayout[], batch: BatchTx, c: Ch) {
  const id = c.pair.a.state.channelId
  const p = payouts.find(x => x.channelId === id)!
  const funding = batch.outputs.find(o => o.role.kind === 'funding' && o.role.channelId === id)!
  const payout = batch.outputs.find(o => o.role.kind === 'payout' && o.role.channelId === id)!
  const others = batch.inputs.filter(i => i.channelId !== id)
  const otherOutputs = batch.outputs.filter(o => o !== funding)
  const prevtx = new Map<string, string>(chs.map(x => [x.pair.a.state.channelId, x.pair.fundingTx!]))
  return {
    type: 'splice' as const, feeratePerKw: FEERATE, locktime: LOCKTIME, nodeIds: { local: c.pair.nodeA, remote: c.pair.nodeB },
    contribution: {
      contributionSat: 0,
      inputs: others.map(i => ({ prevtx: prevtx.get(i.channelId)!, prevtxVout: i.vout, sequence: MAX_INTERACTIVE_INPUT_SEQUENCE })),
      outputs: otherOutputs.map(o => ({ script: o.script, sats: o.sats })),
      entropy: '00'.repeat(32),
      serialIds: {
        sharedInput: batch.inputs.find(i => i.channelId === id)!.serialId, sharedOutput: funding.serialId,
        inputs: others.map(i => i.serialId), outputs: otherOutputs.map(o => o.serialId),
      },
      batch: {
        payoutSerialId: payout.serialId, payoutScript: p.payoutScript, payoutSat: p.payoutSat,
        expect: { remoteContributionSat: -(p.payoutSat + p.feeSat), sharedOutputScript: p.newFundingScript },
      },
    },
  }
}

const newEvents = (who: Party, seen: Map<Party, number>): ChannelEvent[] => {
  const from = seen.get(who) ?? 0
  seen.set(who, who.events.length)
  return who.events.slice(from)
}

/** Runs every session: peers answer with their agreed terms (`answer` may change one), the hub's
 *  witnesses go out once every peer's tx_signatures is in. */
function runBatch (
  chs: Ch[], payouts: FundedPayout[], batch: BatchTx, answer: (k: number, contribution: number) => number | null = (_, c) => c,
): void {
  // Only the events of this batch: a rebuilt batch runs on channels that saw the last one.
  const seen = new Map<Party, number>(chs.flatMap(c => [[c.pair.a, c.pair.a.events.length], [c.pair.b, c.pair.b.events.length]]))
  const signRequests = new Map<number, string>()
  const peerSigs = new Map<number, TxSignatures>()
  let witnessesGiven = false
  let released = false
  for (const c of chs) c.pair.run(c.pair.a, { kind: 'command', cmd: hubCommand(chs, payouts, batch, c) })
  for (let round = 0; round < 200; round++) {
    let moved = false
    chs.forEach((c, k) => {
      const p = c.pair
      for (const msg of [...p.toA]) if (msg.type === 'tx_signatures') peerSigs.set(k, msg)
      if (p.toA.length > 0 || p.toB.length > 0) { p.flush(); moved = true }
      for (const e of newEvents(p.b, seen)) {
        if (e.type === 'splice_requested') {
          const pl = payouts.find(x => x.channelId === p.b.state.channelId)!
          const payout = batch.outputs.find(o => o.role.kind === 'payout' && o.role.channelId === pl.channelId)!
          const contributionSat = answer(k, -(pl.payoutSat + pl.feeSat))
          if (contributionSat === null) continue
          p.run(p.b, { kind: 'command', cmd: {
            type: 'splice_respond', nodeIds: { local: p.nodeB, remote: p.nodeA },
            contribution: {
              contributionSat, inputs: [], outputs: [], entropy: '11'.repeat(32),
              batch: { payoutSerialId: payout.serialId, payoutScript: pl.payoutScript, payoutSat: pl.payoutSat },
            },
          } })
          moved = true
        }
      }
      for (const e of newEvents(p.a, seen)) if (e.type === 'splice_sign_inputs') signRequests.set(k, e.txid)
    })
    // Every session complete: the hub's held commitment_signed go out, and the peers may sign.
    if (!released && signRequests.size === chs.length) {
      chs.forEach((c, k) => c.pair.run(
        c.pair.a, { kind: 'command', cmd: { type: 'splice_batch_release', txid: signRequests.get(k)! as never } },
      ))
      released = true
      moved = true
    }
    // Every peer signed: the hub's signatures on every input, and each session's witnesses.
    const hubSigned = chs.every((c, k) => c.pair.a.state.splice?.session?.signing?.received !== undefined || peerSigs.has(k))
    if (!witnessesGiven && signRequests.size === chs.length && hubSigned) {
      const tx = batch.tx
      const sigs = chs.map(c => {
        const a = c.pair.a
        const received = a.state.splice!.session!.signing!.received!
        const index = batch.inputs.findIndex(i => i.channelId === a.state.channelId)
        return {
          channelId: a.state.channelId,
          hub: { pubkey: a.state.setup.local.fundingPubkey, sig: a.signer.signFundingInput(a.state.setup, tx, index) },
          peer: { pubkey: a.state.setup.remote!.fundingPubkey, sig: received.shared_input_signature! },
        }
      })
      const all = batchInputWitnesses(batch, sigs)
      chs.forEach((c, k) => c.pair.run(c.pair.a, { kind: 'command', cmd: {
        type: 'splice_witnesses', txid: signRequests.get(k)! as never, witnesses: sessionWitnesses(batch, all, c.pair.a.state.channelId),
      } }))
      witnessesGiven = true
      moved = true
    }
    if (!moved) break
  }
}

t.test('three channels, one batch: every session builds and signs the planned transaction', async t => {
  const chs = channels(3)
  const { payouts, batch } = plan(chs)
  t.equal(payouts.length, 3)
  runBatch(chs, payouts, batch)
  for (const [k, c] of chs.entries()) {
    for (const who of [c.pair.a, c.pair.b]) {
      const cand = who.state.splice?.candidates.at(-1)
      t.equal(cand?.txid, batch.txid, `${who.name}${k}: the batch is its channel's candidate`)
      t.ok(cand?.signedTx !== undefined, `${who.name}${k}: fully signed`)
    }
    t.ok(c.pair.a.broadcasts.includes(batch.txid), `hub session ${k} broadcasts the batch`)
  }
  // The signed transaction: every input's 2-of-2 witness verifies, the payouts are as planned.
  const signed = parseTx(chs[0]!.pair.a.state.splice!.candidates.at(-1)!.signedTx!)
  t.equal(signed.inputs.length, 3)
  signed.inputs.forEach((input, k) => {
    const ch = chs.find(c => c.pair.a.state.channelId === batch.inputs[k]!.channelId)!
    const s = ch.pair.a.state.setup
    const script = input.witness[3]!
    for (const item of [1, 2]) {
      const sig = parseWitnessSig(input.witness[item]!)!
      const ok = [s.local.fundingPubkey, s.remote!.fundingPubkey].some(key =>
        verifyInput(signed, k, script, s.capacitySat, sig.sig64, hexToBytes(key), SIGHASH_ALL))
      t.ok(ok, `input ${k}, signature ${item} verifies`)
    }
  })
  for (const p of payouts) {
    const out = signed.outputs.find(o => bytesToHex(o.script) === p.payoutScript)
    t.equal(out?.valueSat, p.payoutSat, `payout of ${p.channelId.slice(0, 8)}`)
    const ch = chs.find(c => c.pair.a.state.channelId === p.channelId)!
    const cand = ch.pair.b.state.splice!.candidates.at(-1)!
    t.equal(cand.capacitySat, p.newCapacitySat as Sat, 'the new capacity is the old less payout and fee')
    t.same(cand.contributionSat, { local: -(p.payoutSat + p.feeSat), remote: 0 }, 'the peer pays its payout and fee share, the hub nothing')
  }
})

t.test('one channel, one batch: the hub asks for witnesses (none to sign) and waits for them before its tx_signatures', async t => {
  const chs = channels(1)
  const { payouts, batch } = plan(chs)
  t.equal(payouts.length, 1)
  const hub = chs[0]!.pair.a
  runBatch(chs, payouts, batch)
  const asked = hub.events.filter(e => e.type === 'splice_sign_inputs')
  t.equal(asked.length, 1, 'splice_sign_inputs: the coordinator learns the session is complete')
  t.same(asked[0]?.type === 'splice_sign_inputs' ? asked[0].inputs : undefined, [], 'with no input of the hub\'s to sign')
  const cand = hub.state.splice?.candidates.at(-1)
  t.equal(cand?.txid, batch.txid, 'the batch is the channel\'s candidate')
  t.ok(cand?.signedTx !== undefined, 'fully signed')
  t.ok(hub.broadcasts.includes(batch.txid), 'and broadcast')
})

t.test('a peer that contributes other than planned: the hub aborts that session with batch_terms_violated', async t => {
  const chs = channels(2)
  const { payouts, batch } = plan(chs)
  runBatch(chs, payouts, batch, (k, c) => (k === 1 ? c + 1_000 : c))
  const hub1 = chs[1]!.pair.a
  t.ok(hub1.events.some(e => e.type === 'splice_aborted' && /batch_terms_violated/.test(e.reason)), 'session 1 aborted by the hub')
  t.equal(hub1.state.splice?.candidates.length ?? 0, 0, 'nothing signed on channel 1')
  t.equal(chs[0]!.pair.a.state.splice?.candidates.length ?? 0, 0, 'nor on channel 0: the hub never gave its witnesses')
  t.notOk(chs[0]!.pair.a.broadcasts.includes(batch.txid))
})

t.test('the hub holds its commitment_signed until every session is complete: no peer signs before', async t => {
  const chs = channels(2)
  const { payouts, batch } = plan(chs)
  runBatch(chs, payouts, batch, (k, c) => (k === 1 ? null : c))
  const hub0 = chs[0]!.pair.a
  t.equal(hub0.state.splice?.session?.stage, 'signing', 'session 0 is complete')
  t.equal(hub0.state.splice?.session?.signing?.held, true, 'its commitment_signed held')
  t.notOk(hub0.sent.some(m => m.type === 'commitment_signed'), 'not sent')
  t.notOk(chs[0]!.pair.b.sent.some(m => m.type === 'tx_signatures'), 'so peer 0 has not signed')
})

t.test('a peer that stalls before the batch is complete is dropped: every session aborts, the batch is rebuilt without it', async t => {
  const chs = channels(3)
  const first = plan(chs)
  runBatch(chs, first.payouts, first.batch, (k, c) => (k === 2 ? null : c))
  // The coordinator hears of the complete sessions, then the timeout: it drops the stalled peer.
  let round = newRound(first.batch.txid, chs.map(c => c.pair.a.state.channelId), 100)
  const commands: CoordinatorCommand[] = []
  const feed = (i: CoordinatorInput): void => { const r = coordinate(round, i, LIMITS); round = r.round; commands.push(...r.commands) }
  for (const c of chs) {
    const signing = c.pair.a.state.splice?.session?.signing
    if (signing !== undefined) feed({ type: 'session_complete', channelId: c.pair.a.state.channelId, txid: signing.candidate.txid })
  }
  t.same(commands, [], 'two of three complete: nothing released')
  feed({ type: 'block', height: 100 + LIMITS.signTimeoutBlocks })
  const rebuild = commands.find(c => c.type === 'rebuild')
  t.same(rebuild, { type: 'rebuild', channels: chs.slice(0, 2).map(c => c.pair.a.state.channelId), round: 2 })
  // Its aborts, done: tx_abort in every session (the complete ones too: nothing of them is signed).
  for (const cmd of commands) {
    if (cmd.type !== 'abort') continue
    const c = chs.find(x => x.pair.a.state.channelId === cmd.channelId)!
    c.pair.run(c.pair.a, { kind: 'command', cmd: { type: 'splice_abort', reason: cmd.reason } })
    c.pair.flush()
  }
  for (const [k, c] of chs.entries()) {
    t.equal(c.pair.a.state.splice?.session, undefined, `session ${k} ended at the hub`)
    t.equal(c.pair.b.state.splice?.session, undefined, `session ${k} ended at the peer`)
    t.equal(c.pair.b.state.splice?.candidates.length ?? 0, 0, `peer ${k} holds no candidate`)
    t.notOk(c.pair.b.state.phase === 'closing', `channel ${k} stays open`)
  }
  const rest = chs.filter(c => (rebuild as { channels: string[] }).channels.includes(c.pair.a.state.channelId))
  const second = plan(rest)
  t.equal(second.payouts.length, 2)
  t.not(second.batch.txid, first.batch.txid, 'a new transaction')
  runBatch(rest, second.payouts, second.batch)
  for (const [k, c] of rest.entries()) {
    t.equal(c.pair.b.state.splice?.candidates.at(-1)?.txid, second.batch.txid, `peer ${k} signed the rebuilt batch`)
    t.ok(c.pair.a.state.splice?.candidates.at(-1)?.signedTx !== undefined, `hub ${k} holds it fully signed`)
  }
  t.equal(chs[2]!.pair.b.state.splice?.candidates.length ?? 0, 0, 'the dropped channel is untouched; its payout waits')
  t.equal(chs[2]!.pair.b.state.setup.capacitySat, chs[2]!.pair.a.state.setup.capacitySat)
})

t.test('a held commitment_signed is not retransmitted on reconnection; the release is stored before it leaves', async t => {
  const chs = channels(2)
  const { payouts, batch } = plan(chs)
  runBatch(chs, payouts, batch, (k, c) => (k === 1 ? null : c))
  const p = chs[0]!.pair
  const hub0 = p.a
  t.equal(hub0.state.splice?.session?.signing?.held, true, 'session 0 complete, its commitment_signed held')
  t.equal(p.b.state.splice?.session?.stage, 'signing', 'peer 0 completed too, waiting for our commitment_signed')
  // The peer asks for our commitment_signed again (BOLT #2 next_funding, retransmit_flags bit 0).
  p.disconnect()
  p.reconnect()
  p.flush()
  const commitSigs = (): number => hub0.sent.filter(m => m.type === 'commitment_signed' && m.funding_txid === batch.txid).length
  t.equal(commitSigs(), 0, 'still held: the reestablish did not send it')
  t.notOk(p.b.sent.some(m => m.type === 'tx_signatures'), 'so peer 0 has not signed')
  // Released: stored, then sent; a restart of the hub from its store knows it was released.
  p.run(hub0, { kind: 'command', cmd: { type: 'splice_batch_release', txid: batch.txid } })
  p.flush()
  t.equal(commitSigs(), 1, 'sent once released')
  t.equal(hub0.durable?.splice?.session?.signing?.held, undefined, 'the stored session is released')
})
