// One round of a payout batch, planned (docs/DESIGN.md "Batched settlement", planning): the due
// payouts at the feerate with each payout's fee share (protocol/settlement/plan.ts), each channel's
// new funding script, the one transaction every session builds (protocol/settlement/build.ts), the
// funding transactions every session adds as prevtx, and the record of the round (stage negotiating)
// the coordinator writes before the first splice_init.
import { buildBatchTx, type BatchTx, type FundedPayout } from '../../protocol/settlement/build.ts'
import { planBatch, type DueCandidate } from '../../protocol/settlement/plan.ts'
import type { Deferred, ExtraOutput } from '../../protocol/settlement/types.ts'
import { vbytes as vbytesOf } from '../../protocol/settlement/weight.ts'
import { fundingScriptPubkey } from '../../protocol/tx/funding.ts'
import { bytesToHex, hexToBytes } from '../../protocol/types.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import type { ChannelManager } from '../channels/manager.ts'
import type { SettlementConfig } from './config.ts'
import type { BatchRecord } from './record.ts'

/** Dust limit of the payouts: BOLT #3's 546 sat of a P2PKH output, the largest standard payout script's. */
const PAYOUT_DUST_LIMIT_SAT = 546

export interface RoundInput {
  id: number; round: number; height: number; due: DueCandidate[]; extra: ExtraOutput[]; nodes: Map<string, string>
  dropped: BatchRecord['dropped']; anchor: BatchRecord['anchor']; startedHeight?: number
}

export type PlannedRound =
  | { record: BatchRecord; batch: BatchTx; payouts: FundedPayout[]; prevtx: Map<string, string>; deferred: Deferred[] }
  | { record?: undefined; reason: string; deferred: Deferred[] }

export async function planRound (
  deps: { manager: Pick<ChannelManager, 'get'>; chain: Pick<ChainBackend, 'getRawTransaction'>; config: SettlementConfig },
  o: RoundInput,
): Promise<PlannedRound> {
  const c = deps.config
  const plan = planBatch(o.due, {
    feeratePerKw: c.feeratePerKw, dustLimitSat: PAYOUT_DUST_LIMIT_SAT, maxFeeSharePercent: c.maxFeeSharePercent,
    maxChannels: c.maxChannelsPerBatch, extraOutputs: o.extra,
  })
  if (plan.payouts.length === 0) return { reason: 'every due payout is deferred', deferred: plan.deferred }
  const payouts: FundedPayout[] = []
  for (const p of plan.payouts) {
    const s = deps.manager.get(p.channelId)!.state.setup
    payouts.push({
      ...p, newFundingScript: bytesToHex(fundingScriptPubkey(hexToBytes(s.local.fundingPubkey), hexToBytes(s.remote!.fundingPubkey))),
    })
  }
  const locktime = o.height
  const batch = buildBatchTx(payouts, o.extra, locktime)
  // Every session adds the other channels' funding outputs with their whole transactions (prevtx).
  const prevtx = new Map<string, string>()
  for (const p of payouts) {
    if (prevtx.has(p.funding.txid)) continue
    const r = await deps.chain.getRawTransaction(p.funding.txid)
    if (!r.ok || r.value === null) return {
      reason: `the funding transaction ${p.funding.txid} is not on our node`, deferred: plan.deferred,
    }
    prevtx.set(p.funding.txid, r.value.tx.hex)
  }
  const record: BatchRecord = {
    id: o.id, stage: 'negotiating', round: o.round, started_height: o.startedHeight ?? o.height, round_height: o.height,
    feerate_per_kw: c.feeratePerKw, locktime,
    payouts: payouts.map(p => ({
      channel_id: p.channelId, node_id: o.nodes.get(p.channelId)!, funding_txid: p.funding.txid, funding_vout: p.funding.vout,
      capacity_sat: p.capacitySat, new_capacity_sat: p.newCapacitySat, payout_script: p.payoutScript, payout_sat: p.payoutSat,
      fee_sat: p.feeSat,
    })),
    anchor: o.anchor, txid: batch.txid, vbytes: vbytesOf(plan.weight), tx_hex: null, dropped: o.dropped,
    broadcast_height: null, confirmed_height: null, reason: null,
  }
  return { record, batch, payouts, prevtx, deferred: plan.deferred }
}
