// Scenario 12, "chain wiped under the hub": a regtest btcd deletes its chain when it restarts
// (btcd.go removeRegressionDB). Anything the hub built on that chain (funding transactions, final
// payouts) is gone, and carrying on would treat as final what no longer exists.
//
// The detector holds what we treat as final: checkpoints (blocks at least `finality` deep when we
// saw them) and transactions confirmed at that depth. A final block whose height is now above the
// tip or whose hash changed, or a final transaction the node no longer knows at all (a shallow reorg
// returns a transaction to the mempool; only a wipe or a deep replacement makes it unknown), means
// the chain under us is not the one we followed: a typed fatal error, never a reorg to undo.
import { ok, type Result } from '../../protocol/result.ts'
import type { BlockRef, ChainBackend, ChainFailure, ChainWiped } from './backend.ts'

/** Checking every checkpoint is wasteful; the newest few and the oldest one catch any wipe. */
const CHECKPOINTS_KEPT = 8
/** Likewise for transactions: a wipe loses all of them, so the most recent ones are enough to notice. */
const FINAL_TXIDS_KEPT = 32

export class ChainWipeDetector {
  private checkpoints: BlockRef[] = []
  private oldest: BlockRef | null = null
  private readonly finalTxids = new Set<string>()

  constructor (private readonly chain: Pick<ChainBackend, 'tip' | 'getBlockHash' | 'getRawTransaction'>) {}

  addCheckpoint (ref: BlockRef): void {
    if (this.oldest === null || ref.height < this.oldest.height) this.oldest = ref
    this.checkpoints = [...this.checkpoints.filter(c => c.height !== ref.height), ref]
      .sort((a, b) => b.height - a.height).slice(0, CHECKPOINTS_KEPT)
  }

  /** A transaction (e.g. a channel funding) that was confirmed deep enough to count as final. */
  addFinalTx (txid: string): void {
    this.finalTxids.delete(txid)
    this.finalTxids.add(txid)
    for (const old of this.finalTxids) {
      if (this.finalTxids.size <= FINAL_TXIDS_KEPT) break
      this.finalTxids.delete(old)
    }
  }
  removeFinalTx (txid: string): void { this.finalTxids.delete(txid) }

  get state (): { checkpoints: BlockRef[]; finalTxids: string[] } {
    const cps = this.oldest !== null && !this.checkpoints.some(c => c.height === this.oldest!.height) ? [
      ...this.checkpoints, this.oldest,
    ] : this.checkpoints
    return { checkpoints: cps, finalTxids: [...this.finalTxids] }
  }

  /** null: the chain still holds everything we treat as final. */
  async check (): Promise<Result<ChainWiped | null, ChainFailure>> {
    const tip = await this.chain.tip()
    if (!tip.ok) return tip
    for (const cp of this.state.checkpoints) {
      if (tip.value.height < cp.height) {
        return ok(wiped(`the node's tip is at height ${tip.value.height}, below final block ${cp.hash} at height ${cp.height}`))
      }
      const h = await this.chain.getBlockHash(cp.height)
      if (!h.ok) return h
      if (h.value !== cp.hash) return ok(
        wiped(`final block ${cp.hash} at height ${cp.height} is no longer in the node's chain (now ${h.value ?? 'none'})`)
      )
    }
    for (const txid of this.finalTxids) {
      const tx = await this.chain.getRawTransaction(txid)
      if (!tx.ok) return tx
      if (tx.value === null) return ok(wiped(`final transaction ${txid} is unknown to the node`))
    }
    return ok(null)
  }
}

function wiped (detail: string): ChainWiped {
  return { kind: 'chain_wiped', detail: `chain wiped: ${detail}. Stopping: nothing built on the old chain can be trusted.` }
}
