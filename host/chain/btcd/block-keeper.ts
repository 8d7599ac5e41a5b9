// Keeps the managed node's block archive (block-archive.ts) in step with its main chain: one chain
// follower of its own, woken by the node's block notifications, records every block the main chain
// gains (raw, as `getblock <hash> 0` gives it) and every block it loses, and syncs them to disk.
//
// Blocks mined by anyone (the hub, the auto-miner, another process through the node's RPC) are kept
// within a notification of their arrival. The hub's own chain backend asks `keep(hash)` before it hands
// out a block (BtcdChainBackend `keeper`), so nothing in the hub acts on a block that a restart would
// not bring back.
import { Block } from 'bitcoinjs-lib'
import type { ChainBlock, ChainFailure } from '../backend.ts'
import { err, ok, type Result } from '../../../protocol/result.ts'
import { BtcdChainBackend } from './backend.ts'
import { HEADER_WINDOW } from '../follower.ts'
import type { BlockArchive } from './block-archive.ts'
import type { RpcConfig } from './rpc.ts'
import { rawBlockSchema } from './schemas.ts'

export interface BlockKeeping {
  /** Resolves once the block is on disk (or provably not in the main chain any more). */
  keep (hash: string): Promise<Result<void, ChainFailure>>
}

export class BlockKeeper implements BlockKeeping {
  private stopFollowing: (() => void) | null = null
  /** Set when the node's chain stopped being one the archive can follow (a reorg deeper than the
   *  follower's window): nothing more is kept, and the hub's own followers see the same chain. */
  private lost: string | null = null

  private constructor (private readonly archive: BlockArchive, private readonly backend: BtcdChainBackend) {}

  /** Starts following from the archive's recorded tip (the node must hold that chain already). */
  static async start (archive: BlockArchive, rpc: RpcConfig): Promise<Result<BlockKeeper, ChainFailure>> {
    // A block whose raw bytes could not be fetched is fetched again at the next wake or keep().
    const backend = new BtcdChainBackend({ ...rpc, onListenerError: () => {} })
    const k = new BlockKeeper(archive, backend)
    const followed = await backend.follow({
      connected: b => k.onConnected(b),
      disconnected: b => { archive.disconnect(b) },
      synced: () => { archive.flush() },
      fatal: e => { k.lost = e.detail },
    }, { known: archive.recent(HEADER_WINDOW) })
    archive.flush()
    if (!followed.ok) { await backend.close(); return followed }
    k.stopFollowing = followed.value
    return ok(k)
  }

  async keep (hash: string): Promise<Result<void, ChainFailure>> {
    if (this.archive.has(hash) || this.lost !== null) return ok(undefined)
    try {
      const r = await this.backend.syncFollowers()
      if (!r.ok) return r
    } catch (e) {
      return err({ kind: 'unavailable', detail: `keeping block ${hash}: ${(e as Error).message}` })
    } finally {
      this.archive.flush()
    }
    // Not kept now means it is not in the main chain the node has now (reorganised away, or a stale
    // block asked for by hash): a restart would not bring it back either way.
    return ok(undefined)
  }

  async stop (): Promise<void> {
    this.stopFollowing?.()
    this.stopFollowing = null
    await this.backend.close()
    this.archive.flush()
  }

  private async onConnected (b: ChainBlock): Promise<void> {
    const r = await this.backend.rpc.request('getblock', [b.hash, 0], rawBlockSchema, { idempotent: true })
    // Throwing stops this sync before the follower counts the block: it is asked for again.
    if (!r.ok) throw new Error(`getblock ${b.hash} 0: ${r.error.detail}`)
    if (Block.fromHex(r.value).getId() !== b.hash) throw new Error(`getblock ${b.hash} 0: the bytes are another block`)
    this.archive.connect({ height: b.height, hash: b.hash, hex: r.value })
  }
}
