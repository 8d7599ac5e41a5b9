// One round of a payout batch, planned (docs/DESIGN.md "Batched settlement", planning): the due
// payouts at the feerate with each payout's fee share (protocol/settlement/plan.ts), each channel's
// new funding script, the one transaction every session builds (protocol/settlement/build.ts), the
// funding transactions every session adds as prevtx, and the record of the round (stage negotiating)
// the coordinator writes before the first splice_init; or the replacement (RBF) of a broadcast batch
// at a higher feerate, written before the first tx_init_rbf.
import { buildBatchTx, type BatchTx, type FundedPayout } from '../../protocol/settlement/build.ts'
import { planBatch, type DueCandidate } from '../../protocol/settlement/plan.ts'
import type { BatchPlan, Deferred, ExtraOutput } from '../../protocol/settlement/types.ts'
import { vbytes as vbytesOf } from '../../protocol/settlement/weight.ts'
import { fundingScriptPubkey } from '../../protocol/tx/funding.ts'
import { bytesToHex, hexToBytes, type Sat, type Txid } from '../../protocol/types.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import type { ChannelManager } from '../channels/manager.ts'
import type { SettlementConfig } from './config.ts'
import { signedTxs, type BatchRecord } from './record.ts'

/** Dust limit of the payouts: BOLT #3's 546 sat of a P2PKH output, the largest standard payout script's. */
const PAYOUT_DUST_LIMIT_SAT = 546

export interface RoundInput {
  id: number; round: number; height: number; due: DueCandidate[]; extra: ExtraOutput[]; nodes: Map<string, string>
  dropped: BatchRecord['dropped']; anchor: BatchRecord['anchor']; startedHeight?: number
}

export type PlannedRound =
  | { record: BatchRecord; batch: BatchTx; payouts: FundedPayout[]; prevtx: Map<string, string>; deferred: Deferred[] }
  | { record?: undefined; reason: string; deferred: Deferred[] }

type RoundDeps = { manager: Pick<ChannelManager, 'get'>; chain: Pick<ChainBackend, 'getRawTransaction'>; config: SettlementConfig }

export async function planRound (deps: RoundDeps, o: RoundInput): Promise<PlannedRound> {
  const c = deps.config
  const plan = planBatch(o.due, {
    feeratePerKw: c.feeratePerKw, dustLimitSat: PAYOUT_DUST_LIMIT_SAT, maxFeeSharePercent: c.maxFeeSharePercent,
    maxChannels: c.maxChannelsPerBatch, extraOutputs: o.extra,
  })
  if (plan.payouts.length === 0) return { reason: 'every due payout is deferred', deferred: plan.deferred }
  const r = await funded(deps, plan, o.extra, o.height)
  if ('reason' in r) return { reason: r.reason, deferred: plan.deferred }
  const record: BatchRecord = {
    id: o.id, stage: 'negotiating', round: o.round, started_height: o.startedHeight ?? o.height, round_height: o.height,
    feerate_per_kw: c.feeratePerKw, locktime: o.height,
    payouts: payoutRecords(r.payouts, o.nodes), anchor: o.anchor, txid: r.batch.txid, vbytes: vbytesOf(plan.weight), tx_hex: null,
    dropped: o.dropped, broadcast_height: null, confirmed_height: null, reason: null, replaced: [], replace_failed: null,
  }
  return { record, batch: r.batch, payouts: r.payouts, prevtx: r.prevtx, deferred: plan.deferred }
}

/** The replacement (RBF) of broadcast batch `b` at `feeratePerKw`: the same channels, each taking the
 *  same amount out of its channel (payout and fee share), its fee share recomputed by the fee rule at
 *  the new feerate, so its payout is smaller by what the fee grew. A payout that can no longer pay its
 *  share (below the dust limit, or a share above settlement.maxFeeSharePercent) stops the replacement:
 *  leaving its channel out would leave that channel a candidate that can never confirm once the
 *  replacement does (its funding output unspent, the replaced transaction double-spent). */
export async function planReplacement (deps: RoundDeps, b: BatchRecord, feeratePerKw: number, height: number): Promise<PlannedRound> {
  const c = deps.config
  const extra: ExtraOutput[] = b.anchor === null ? [] : [{ script: b.anchor.script, value: 0 }]
  const due: DueCandidate[] = b.payouts.map(p => ({
    channelId: p.channel_id, funding: { txid: p.funding_txid as Txid, vout: p.funding_vout }, capacitySat: p.capacity_sat as Sat,
    balanceSat: p.payout_sat + p.fee_sat, keepSat: 0, payoutScript: p.payout_script, thresholdSat: 0,
  }))
  const plan = planBatch(due, {
    feeratePerKw, dustLimitSat: PAYOUT_DUST_LIMIT_SAT, maxFeeSharePercent: c.maxFeeSharePercent,
    maxChannels: b.payouts.length, extraOutputs: extra,
  })
  if (plan.deferred.length > 0) {
    const d = plan.deferred[0]!
    return { reason: `channel ${d.channelId} cannot pay its share at ${feeratePerKw} sat/kw (${d.reason}: ${d.detail})`, deferred: [] }
  }
  const r = await funded(deps, plan, extra, height)
  if ('reason' in r) return { reason: r.reason, deferred: [] }
  const nodes = new Map(b.payouts.map(p => [p.channel_id, p.node_id]))
  const record: BatchRecord = {
    ...b, stage: 'negotiating', round_height: height, feerate_per_kw: feeratePerKw, locktime: height,
    payouts: payoutRecords(r.payouts, nodes), txid: r.batch.txid, vbytes: vbytesOf(plan.weight), tx_hex: null,
    broadcast_height: null, replaced: signedTxs(b), replace_failed: null,
  }
  return { record, batch: r.batch, payouts: r.payouts, prevtx: r.prevtx, deferred: [] }
}

/** Each planned payout with its channel's new funding script, the one transaction, and the funding
 *  transactions every session adds as prevtx. */
async function funded (
  deps: RoundDeps, plan: BatchPlan, extra: ExtraOutput[], locktime: number,
): Promise<{ batch: BatchTx; payouts: FundedPayout[]; prevtx: Map<string, string> } | { reason: string }> {
  const payouts: FundedPayout[] = []
  for (const p of plan.payouts) {
    const ch = deps.manager.get(p.channelId)
    if (ch === undefined) return { reason: `channel ${p.channelId} is gone` }
    const s = ch.state.setup
    payouts.push({
      ...p, newFundingScript: bytesToHex(fundingScriptPubkey(hexToBytes(s.local.fundingPubkey), hexToBytes(s.remote!.fundingPubkey))),
    })
  }
  const batch = buildBatchTx(payouts, extra, locktime)
  // Every session adds the other channels' funding outputs with their whole transactions (prevtx).
  const prevtx = new Map<string, string>()
  for (const p of payouts) {
    if (prevtx.has(p.funding.txid)) continue
    const r = await deps.chain.getRawTransaction(p.funding.txid)
    if (!r.ok || r.value === null) return { reason: `the funding transaction ${p.funding.txid} is not on our node` }
    prevtx.set(p.funding.txid, r.value.tx.hex)
  }
  return { batch, payouts, prevtx }
}

function payoutRecords (payouts: readonly FundedPayout[], nodes: ReadonlyMap<string, string>): BatchRecord['payouts'] {
  return payouts.map(p => ({
    channel_id: p.channelId, node_id: nodes.get(p.channelId)!, funding_txid: p.funding.txid, funding_vout: p.funding.vout,
    capacity_sat: p.capacitySat, new_capacity_sat: p.newCapacitySat, payout_script: p.payoutScript, payout_sat: p.payoutSat,
    fee_sat: p.feeSat,
  }))
}
