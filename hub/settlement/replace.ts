// When a broadcast payout batch is replaced (RBF), and how a replacement that does not complete is
// undone (docs/DESIGN.md "Batched settlement", reorgs and RBF). A batch none of whose transactions is
// in the chain settlement.rbfAfterBlocks after its broadcast (or after the last replacement that did
// not complete) is replaced at the next feerate of protocol/settlement/schedule.ts, up to the
// operator's cap settlement.maxFeeratePerKw; the coordinator plans it (round.ts planReplacement) and
// runs it through tx_init_rbf in every channel's session. A replacement that does not complete leaves
// the batch as it was: its last signed transaction current, stage broadcast.
import { replacementDecision, type ReplacementDecision } from '../../protocol/settlement/schedule.ts'
import type { SettlementConfig } from './config.ts'
import type { BatchRecord } from './record.ts'

/** The height a batch's next replacement is counted from. */
const sinceHeight = (b: BatchRecord): number => Math.max(b.broadcast_height ?? b.round_height, b.replace_failed?.height ?? 0)

/** Where broadcast batch `b` stands on replacement, at `height`. */
export const replacementOf = (b: BatchRecord, c: Pick<SettlementConfig, 'rbfAfterBlocks' | 'maxFeeratePerKw'>, height: number):
ReplacementDecision => replacementDecision(b.feerate_per_kw, sinceHeight(b), height, c.rbfAfterBlocks, c.maxFeeratePerKw)

/** The first broadcast batch due for a replacement now (none of its transactions in the chain:
 *  `depthOf` 0), with its feerate. */
export function dueReplacement (
  records: readonly BatchRecord[], depthOf: (id: number) => number, c: Pick<SettlementConfig, 'rbfAfterBlocks' | 'maxFeeratePerKw'>,
  height: number,
): { batch: BatchRecord; feeratePerKw: number } | undefined {
  for (const b of records) {
    if (b.stage !== 'broadcast' || depthOf(b.id) > 0) continue
    const d = replacementOf(b, c, height)
    if (d.kind === 'replace') return { batch: b, feeratePerKw: d.feeratePerKw }
  }
  return undefined
}

/** A replacement being negotiated or signed (the record's current transaction replaces others). */
export const isReplacement = (b: BatchRecord): boolean => b.replaced.length > 0 && (b.stage === 'negotiating' || b.stage === 'signed')

/** The record of a replacement that did not complete: its last replaced transaction current again,
 *  stage broadcast, and why (the next replacement waits settlement.rbfAfterBlocks from `height`). */
export function withoutReplacement (b: BatchRecord, height: number, reason: string): BatchRecord {
  const last = b.replaced.at(-1)
  if (last === undefined) throw new Error(`settlement: batch ${b.id} replaces nothing`)
  return {
    ...b, stage: 'broadcast', txid: last.txid, feerate_per_kw: last.feerate_per_kw, locktime: last.locktime, vbytes: last.vbytes,
    tx_hex: last.tx_hex, payouts: last.payouts, broadcast_height: last.broadcast_height, replaced: b.replaced.slice(0, -1),
    replace_failed: { height, reason: reason.slice(0, 500) },
  }
}
