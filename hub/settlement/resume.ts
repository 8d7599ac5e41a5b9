// The restart of payout batches (docs/DESIGN.md "Batched settlement", durable writes and crashes),
// once the channels are loaded. A batch in negotiating whose commitment_signed are all still held is
// abandoned (every session aborted: no peer can have signed); one released in any session goes on
// (its peers may have signed and send tx_signatures again after channel_reestablish); a batch in
// signed gives every session its witnesses from the stored transaction and is broadcast.
import { newRound, type BatchRound } from '../../protocol/settlement/coordinate.ts'
import { buildBatchTx, type BatchTx, type FundedPayout } from '../../protocol/settlement/build.ts'
import type { ExtraOutput } from '../../protocol/settlement/types.ts'
import { fundingScriptPubkey } from '../../protocol/tx/funding.ts'
import { parseTx } from '../../protocol/tx/serialize.ts'
import { bytesToHex, hexToBytes, type Sat, type Txid } from '../../protocol/types.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import { broadcastTx } from '../../host/chain/broadcast.ts'
import type { ChannelManager } from '../channels/manager.ts'
import { giveWitnesses, type Active } from './active.ts'
import type { BatchRecord } from './record.ts'

export interface ResumeContext {
  manager: Pick<ChannelManager, 'get'>
  chain: Pick<ChainBackend, 'broadcast'>
  height: () => number
  log: (event: Record<string, unknown>) => void
  save: (b: BatchRecord, point: string) => Promise<void>
  /** Ends the batch as abandoned (stage abandoned written). */
  abandon: (record: BatchRecord, reason: string) => Promise<void>
  /** The batch goes on as the coordinator's active one: set before any session is stepped, so the
   *  events of the peers' tx_signatures sent again are heard. */
  activate: (a: Active) => void
}

/** The batch transaction of a record, built again from its plan and the channels' funding keys; it
 *  must have the record's txid. */
export function rebuiltBatch (
  manager: Pick<ChannelManager, 'get'>, b: BatchRecord,
): { batch: BatchTx; payouts: FundedPayout[] } {
  const payouts: FundedPayout[] = b.payouts.map(p => {
    const ch = manager.get(p.channel_id)
    if (ch === undefined) throw new Error(`settlement: batch ${b.id} names channel ${p.channel_id}, which the hub does not have`)
    const s = ch.state.setup
    return {
      channelId: p.channel_id, funding: { txid: p.funding_txid as Txid, vout: p.funding_vout }, capacitySat: p.capacity_sat as Sat,
      payoutScript: p.payout_script, payoutSat: p.payout_sat as Sat, feeSat: p.fee_sat as Sat, newCapacitySat: p.new_capacity_sat as Sat,
      newFundingScript: bytesToHex(fundingScriptPubkey(hexToBytes(s.local.fundingPubkey), hexToBytes(s.remote!.fundingPubkey))),
    }
  })
  const extra: ExtraOutput[] = b.anchor === null ? [] : [{ script: b.anchor.script, value: 0 }]
  const batch = buildBatchTx(payouts, extra, b.locktime)
  if (batch.txid !== b.txid) throw new Error(`settlement: batch ${b.id} rebuilds to ${batch.txid}, its record says ${b.txid}`)
  return { batch, payouts }
}

/** A batch in negotiating at the restart: abandoned (undefined), or the active batch that goes on. */
export async function resumeNegotiating (c: ResumeContext, b: BatchRecord): Promise<Active | undefined> {
  let rebuilt: ReturnType<typeof rebuiltBatch>
  try {
    rebuilt = rebuiltBatch(c.manager, b)
  } catch (e) {
    // A channel of the batch is gone (abandoned, forgotten): no session of it can go on.
    await c.abandon(b, `at the restart: ${(e as Error).message}`)
    return undefined
  }
  const { batch, payouts } = rebuilt
  const signingOf = (id: string) => c.manager.get(id)!.state.splice?.session?.signing
  const released = payouts.some(p => {
    const sg = signingOf(p.channelId)
    return sg !== undefined && sg.candidate.txid === b.txid && sg.held !== true
  })
  if (!released) {
    // No commitment_signed of the batch left: no peer can have signed. Every session ends.
    for (const p of payouts) {
      const ch = c.manager.get(p.channelId)!
      if (ch.state.splice?.session !== undefined) await ch.driver.command({
        type: 'splice_abort', reason: `batch ${b.id} abandoned at a restart`,
      })
    }
    await c.abandon(b, 'the hub restarted while the batch was negotiated')
    return undefined
  }
  // Released: every session was complete and peers may have signed; they send tx_signatures again
  // after channel_reestablish (splice_peer_signed), and the batch goes on.
  const round: BatchRound = {
    ...newRound(b.txid, payouts.map(p => p.channelId), c.height(), b.round), stage: 'released',
    complete: payouts.map(p => p.channelId),
    peerSigned: payouts.filter(p => signingOf(p.channelId)?.received !== undefined).map(p => p.channelId),
  }
  const active: Active = { record: b, round, batch, payouts, prevtx: new Map(), stored: new Set(), deferred: [] }
  c.activate(active)
  for (const p of payouts) {
    if (signingOf(p.channelId)?.held === true) await c.manager.get(p.channelId)!.driver.command({
      type: 'splice_batch_release', txid: b.txid as Txid,
    })
  }
  c.log({ event: 'settlement_resumed', batch: b.id, stage: b.stage, released: true })
  return active
}

/** A batch in signed at the restart: every session still signing gets its witnesses, and it is broadcast. */
export async function resumeSigned (c: ResumeContext, b: BatchRecord): Promise<void> {
  const signed = parseTx(b.tx_hex!)
  const all = signed.inputs.map(i => i.witness.map(w => bytesToHex(w)))
  // The transaction is complete without them; a session still being signed needs its witnesses.
  const live = b.payouts.filter(p => c.manager.get(p.channel_id) !== undefined)
  if (live.length === b.payouts.length) giveWitnesses(c.manager, rebuiltBatch(c.manager, b).batch, all, live.map(p => p.channel_id))
  else c.log({ event: 'settlement_resume_channels_missing', batch: b.id, missing: b.payouts.length - live.length })
  const r = await broadcastTx(c.chain, b.tx_hex!)
  c.log({ event: 'settlement_resumed', batch: b.id, stage: b.stage, broadcast: r.ok })
  await c.save({ ...b, stage: 'broadcast', broadcast_height: c.height() }, 'broadcast')
}
