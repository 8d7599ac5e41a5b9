// GET /settlement (hub/admin/settlement-routes.ts): the schedule, the batch in progress and the last
// batches, in the shape hubctl (hub/ctl/commands.ts) and the dashboard read: each batch with its
// stage, txid, channels, total and per-channel payouts, vbytes, anchor root and whether it is confirmed.
import type { SettlementConfig } from './config.ts'
import type { BatchRecord } from './record.ts'

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
    schedule: `every ${c.windowBlocks} blocks; next at ${next}`,
    // The batch being negotiated, else the last one broadcast and not yet at depth.
    in_progress: active !== undefined
      ? {
          ...batchView(active.record), round_stage: active.roundStage, complete: active.complete, signed: active.signed,
          channels_count: active.record.payouts.length,
        }
      : unconfirmed === undefined ? null : batchView(unconfirmed),
    last_batches: records.slice(-LAST_BATCHES_SHOWN).reverse().map(batchView),
  }
}

export function batchView (b: BatchRecord): Record<string, unknown> {
  return {
    id: b.id, stage: b.stage, round: b.round, txid: b.txid, channels: b.payouts.map(p => p.channel_id),
    payouts_sat: b.payouts.reduce((s, p) => s + p.payout_sat, 0),
    payouts: b.payouts.map(p => ({
      channel_id: p.channel_id, node_id: p.node_id, payout_script: p.payout_script, payout_sat: p.payout_sat, fee_sat: p.fee_sat,
    })),
    fee_sat: b.payouts.reduce((s, p) => s + p.fee_sat, 0), vbytes: b.vbytes, anchor_root: b.anchor?.root ?? null,
    confirmed: b.stage === 'confirmed', started_height: b.started_height, broadcast_height: b.broadcast_height,
    confirmed_height: b.confirmed_height, dropped: b.dropped, ...(b.reason !== null ? { reason: b.reason } : {}),
  }
}
