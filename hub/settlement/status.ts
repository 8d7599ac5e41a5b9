// GET /settlement (hub/admin/settlement-routes.ts): the schedule, the batch in progress and the last
// batches, in the shape hubctl (hub/ctl/commands.ts) and the dashboard read: each batch with its
// stage, txid, channels, total and per-channel payouts, vbytes, anchor root and whether it is confirmed,
// its feerate and the transactions its replacements (RBF) replaced; a broadcast batch also says when
// and at which feerate it is replaced next, or that it is at the operator's cap.
import type { ReplacementDecision } from '../../protocol/settlement/schedule.ts'
import type { SettlementConfig } from './config.ts'
import type { BatchRecord } from './record.ts'
import { replacementOf } from './replace.ts'

/** Batches shown in last_batches, newest first. */
const LAST_BATCHES_SHOWN = 10

export function settlementStatus (
  c: SettlementConfig, height: number, records: readonly BatchRecord[],
  active: { record: BatchRecord; roundStage: string; complete: number; signed: number } | undefined,
): Record<string, unknown> {
  const next = height + (c.windowBlocks - (height % c.windowBlocks))
  const unconfirmed = [...records].reverse().find(x => x.stage === 'broadcast')
  return {
    height,
    window_blocks: c.windowBlocks,
    next_window_height: next,
    feerate_per_kw: c.feeratePerKw,
    max_feerate_per_kw: c.maxFeeratePerKw,
    schedule: `every ${c.windowBlocks} blocks; next at ${next}`,
    // The batch being negotiated, else the last one broadcast and not yet at depth.
    in_progress: active !== undefined
      ? {
          ...batchView(active.record), round_stage: active.roundStage, complete: active.complete, signed: active.signed,
          channels_count: active.record.payouts.length,
        }
      : unconfirmed === undefined ? null : batchView(unconfirmed, replacementOf(unconfirmed, c, height)),
    last_batches: records.slice(-LAST_BATCHES_SHOWN).reverse()
      .map(b => batchView(b, b.stage === 'broadcast' ? replacementOf(b, c, height) : undefined)),
  }
}

/** `rbf`: a broadcast batch's next replacement. */
export function batchView (b: BatchRecord, rbf?: ReplacementDecision): Record<string, unknown> {
  return {
    id: b.id, stage: b.stage, round: b.round, txid: b.txid, channels: b.payouts.map(p => p.channel_id),
    payouts_sat: b.payouts.reduce((s, p) => s + p.payout_sat, 0),
    payouts: b.payouts.map(p => ({
      channel_id: p.channel_id, node_id: p.node_id, payout_script: p.payout_script, payout_sat: p.payout_sat, fee_sat: p.fee_sat,
    })),
    fee_sat: b.payouts.reduce((s, p) => s + p.fee_sat, 0), vbytes: b.vbytes, anchor_root: b.anchor?.root ?? null,
    confirmed: b.stage === 'confirmed', started_height: b.started_height, broadcast_height: b.broadcast_height,
    confirmed_height: b.confirmed_height, dropped: b.dropped, ...(b.reason !== null ? { reason: b.reason } : {}),
    feerate_per_kw: b.feerate_per_kw,
    // Oldest first; each replaced by the next, the last by this one (`txid`). Still valid until one confirms.
    replacements: b.replaced.map(x => ({
      txid: x.txid, feerate_per_kw: x.feerate_per_kw, fee_sat: x.payouts.reduce((s, p) => s + p.fee_sat, 0),
      payouts_sat: x.payouts.reduce((s, p) => s + p.payout_sat, 0), vbytes: x.vbytes, broadcast_height: x.broadcast_height,
    })),
    ...(b.replace_failed !== null ? { replace_failed: b.replace_failed } : {}),
    ...(rbf !== undefined ? { rbf: rbfView(rbf) } : {}),
  }
}

function rbfView (d: ReplacementDecision): Record<string, unknown> {
  switch (d.kind) {
    case 'wait': return { at_cap: false, at_height: d.atHeight, next_feerate_per_kw: d.feeratePerKw }
    case 'replace': return { at_cap: false, next_feerate_per_kw: d.feeratePerKw }
    case 'at_cap': return { at_cap: true, next_feerate_per_kw: d.nextFeeratePerKw, max_feerate_per_kw: d.maxFeeratePerKw }
  }
}
