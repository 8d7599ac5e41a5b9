// The confirmation follower of broadcast payout batches (docs/DESIGN.md "Batched settlement", reorgs
// and RBF): at each block and each reorg it asks our node for the depth of every signed transaction of
// every batch not done yet — the current one and those a replacement (RBF) replaced, which double-spend
// each other: the first to confirm wins. A batch is done when one of them is at
// settlement.finalityDepth (stage confirmed, that transaction its current one, its payouts the ones
// counted); one no longer in the chain (reorged) or lost by our node is not done, and its newest
// signed transaction is broadcast again, unless a channel of it dropped it as double-spent: then it is
// abandoned, naming the channel, and the next batch plans the others again.
import { batchChainState } from '../../protocol/settlement/schedule.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import { broadcastTx } from '../../host/chain/broadcast.ts'
import { signedTxs, withCurrent, type BatchRecord } from './record.ts'

export interface FollowerOptions {
  chain: Pick<ChainBackend, 'getRawTransaction' | 'broadcast'>
  finalityDepth: number
  height: () => number
  /** Every batch record, oldest first (the coordinator's, read at each pass). */
  records: () => readonly BatchRecord[]
  save: (b: BatchRecord, point: string) => Promise<void>
  log: (event: Record<string, unknown>) => void
  ended?: (b: { outcome: 'confirmed' | 'failed'; vbytes: number; channels: number }) => void
  /** A transaction of batch `id` confirmed while a replacement of it is negotiated or signed: that
   *  replacement can no longer confirm (BOLT #2 tx_init_rbf: "the attempt MUST be aborted"). */
  confirmedWhileReplacing?: (id: number, txid: string) => Promise<void>
  /** The channel of batch `b` that dropped one of `txids` as double-spent, if any (its splice state's
   *  `dropped`, host/channel/splicing.ts: an input, another channel's funding output, is spent by that
   *  channel's commitment, final): the batch never confirms. A channel merely without the candidate is
   *  not proof: after a restart a session still signing has not stored it yet. */
  droppedBy?: (b: BatchRecord, txids: readonly string[]) => string | undefined
}

/** A batch whose transactions are followed: broadcast, or being replaced (the replaced ones are out). */
const followed = (b: BatchRecord): boolean =>
  b.stage === 'broadcast' || ((b.stage === 'negotiating' || b.stage === 'signed') && b.replaced.length > 0)

export class BatchFollower {
  /** The depth each batch was last seen at (its deepest transaction), by batch id. */
  private readonly depths = new Map<number, number>()
  /** The pass running now, if any (passes run one after another). */
  private following: Promise<void> = Promise.resolve()

  constructor (private readonly opts: FollowerOptions) {}

  /** The depth batch `id` was last seen at (0: none of its transactions in the chain). */
  depthOf (id: number): number { return this.depths.get(id) ?? 0 }

  /** One pass over the followed batches. One pass at a time: blocks arrive while a pass waits for
   *  our node, and two passes would both find a batch at depth and record (and count) its
   *  confirmation twice. */
  follow (): Promise<void> {
    const pass = this.following.then(async () => { await this.followOnce() })
    this.following = pass.catch(() => {})
    return pass
  }

  private async followOnce (): Promise<void> {
    const o = this.opts
    for (const first of o.records()) {
      if (!followed(first)) continue
      const txs = signedTxs(first)
      if (txs.length === 0) continue
      // The deepest of its transactions (at most one can be in the chain: they spend the same inputs).
      let best: { tx: (typeof txs)[number]; depth: number; height: number | undefined } | undefined
      const onNode = new Set<string>()
      for (const tx of txs) {
        const r = await o.chain.getRawTransaction(tx.txid)
        if (!r.ok) return
        if (r.value === null) continue
        onNode.add(tx.txid)
        const depth = r.value.confirmations ?? 0
        if (depth > 0 && (best === undefined || depth > best.depth)) best = { tx, depth, height: r.value.block?.height }
      }
      const b = o.records().find(x => x.id === first.id)!
      const depth = best?.depth ?? 0
      const previous = this.depths.get(b.id) ?? 0
      this.depths.set(b.id, depth)
      const state = batchChainState(depth, previous, o.finalityDepth)
      if (state === 'reorged') o.log({ event: 'settlement_reorged', batch: b.id, txid: b.txid, depth: previous })
      if (best === undefined) {
        // None in the chain: the newest broadcast one must be on our node (while a replacement is
        // negotiated or signed, the last one it replaces; the replacement goes out once every channel
        // stored it).
        const gone = b.stage === 'broadcast' ? o.droppedBy?.(b, txs.map(x => x.txid)) : undefined
        if (gone !== undefined) {
          const reason = `an input is spent elsewhere: channel ${gone} dropped the batch as double-spent`
          await o.save({ ...b, stage: 'abandoned', reason }, 'abandoned')
          o.log({ event: 'settlement_abandoned', batch: b.id, reason })
          o.ended?.({ outcome: 'failed', vbytes: b.vbytes, channels: b.payouts.length })
          continue
        }
        const newest = b.stage === 'broadcast' ? txs.at(-1) : b.replaced.at(-1)
        if (newest !== undefined && !onNode.has(newest.txid)) {
          const sent = await broadcastTx(o.chain, newest.tx_hex)
          o.log({ event: 'settlement_rebroadcast', batch: b.id, txid: newest.txid, ok: sent.ok })
        }
        continue
      }
      if (b.stage !== 'broadcast') await o.confirmedWhileReplacing?.(b.id, best.tx.txid)
      if (state !== 'done') continue
      const now = o.records().find(x => x.id === b.id)!
      if (now.stage === 'confirmed' || now.stage === 'abandoned') continue
      const won = withCurrent(now.tx_hex === null ? { ...now, ...signedOnly(now) } : now, best.tx)
      const done: BatchRecord = { ...won, stage: 'confirmed', confirmed_height: best.height ?? o.height() - depth + 1 }
      await o.save(done, 'confirmed')
      o.log({
        event: 'settlement_confirmed', batch: b.id, txid: best.tx.txid, depth, channels: done.payouts.length,
        replaced: done.replaced.map(x => x.txid),
      })
      o.ended?.({ outcome: 'confirmed', vbytes: done.vbytes, channels: done.payouts.length })
    }
  }
}

/** A record whose current transaction is an unsigned replacement, as its last signed transaction. */
function signedOnly (b: BatchRecord): Partial<BatchRecord> {
  const last = b.replaced.at(-1)!
  return { ...last, replaced: b.replaced.slice(0, -1) }
}
