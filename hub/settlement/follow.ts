// The confirmation follower of broadcast payout batches (docs/DESIGN.md "Batched settlement", reorgs):
// at each block and each reorg it asks our node for every broadcast batch's depth. A batch is done at
// settlement.finalityDepth (stage confirmed); one no longer in the chain (reorged) or lost by our node
// is not done, and is broadcast again from its stored transaction.
import { batchChainState } from '../../protocol/settlement/schedule.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import { broadcastTx } from '../../host/chain/broadcast.ts'
import type { BatchRecord } from './record.ts'

export interface FollowerOptions {
  chain: Pick<ChainBackend, 'getRawTransaction' | 'broadcast'>
  finalityDepth: number
  height: () => number
  /** Every batch record, oldest first (the coordinator's, read at each pass). */
  records: () => readonly BatchRecord[]
  save: (b: BatchRecord, point: string) => Promise<void>
  log: (event: Record<string, unknown>) => void
  ended?: (b: { outcome: 'confirmed' | 'failed'; vbytes: number; channels: number }) => void
}

export class BatchFollower {
  /** The depth each broadcast batch was last seen at. */
  private readonly depths = new Map<string, number>()
  /** The pass running now, if any (passes run one after another). */
  private following: Promise<void> = Promise.resolve()

  constructor (private readonly opts: FollowerOptions) {}

  /** One pass over the broadcast batches. One pass at a time: blocks arrive while a pass waits for
   *  our node, and two passes would both find a batch at depth and record (and count) its
   *  confirmation twice. */
  follow (): Promise<void> {
    const pass = this.following.then(async () => { await this.followOnce() })
    this.following = pass.catch(() => {})
    return pass
  }

  private async followOnce (): Promise<void> {
    const o = this.opts
    for (const b of o.records()) {
      if (b.stage !== 'broadcast' || b.tx_hex === null) continue
      const r = await o.chain.getRawTransaction(b.txid)
      if (!r.ok) return
      const depth = r.value?.confirmations ?? 0
      const previous = this.depths.get(b.txid) ?? 0
      this.depths.set(b.txid, depth)
      const state = batchChainState(depth, previous, o.finalityDepth)
      if (state === 'reorged') o.log({ event: 'settlement_reorged', batch: b.id, txid: b.txid, depth: previous })
      if (r.value === null) {
        const sent = await broadcastTx(o.chain, b.tx_hex)
        o.log({ event: 'settlement_rebroadcast', batch: b.id, txid: b.txid, ok: sent.ok })
        continue
      }
      if (state !== 'done') continue
      const done: BatchRecord = { ...b, stage: 'confirmed', confirmed_height: r.value.block?.height ?? o.height() - depth + 1 }
      await o.save(done, 'confirmed')
      o.log({ event: 'settlement_confirmed', batch: b.id, txid: b.txid, depth, channels: b.payouts.length })
      o.ended?.({ outcome: 'confirmed', vbytes: b.vbytes, channels: b.payouts.length })
    }
  }
}
