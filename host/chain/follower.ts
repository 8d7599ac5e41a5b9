// Follows the node's main chain for one listener: keeps the recent headers it has delivered
// (height → hash), and on every poke reconciles them with the node: finds the fork point, replays
// disconnects (highest first) then connects (lowest first), awaiting the listener at each step.
//
// Notifications only say "something changed"; the follower always asks the node what the chain is,
// so a missed, duplicated or reordered notification cannot desynchronize it.
import { ok, type Result } from '../../protocol/result.ts'
import type { BlockRef, ChainBackend, ChainFailure, ChainListener, FollowOptions } from './backend.ts'
import type { Height } from '../../protocol/types.ts'

/** A reorg deeper than this is not a reorg on regtest: it is a wiped or replaced chain. */
export const DEFAULT_MAX_REORG_DEPTH = 100
/** Headers kept to find fork points; must exceed the deepest reorg we handle. */
export const HEADER_WINDOW = 2 * DEFAULT_MAX_REORG_DEPTH + 16
/** Headers fetched below the tip when a follower starts without history (deeper than the usual 6-block finality). */
const SEED_DEPTH = 12
/** A sync that keeps seeing the chain move under it gives up after this many rounds (and retries on the next poke). */
const MAX_ROUNDS = 20

export type ChainSource = Pick<ChainBackend, 'tip' | 'getBlockHash' | 'getBlock'>

export type FollowerOptions = Pick<FollowOptions, 'maxReorgDepth' | 'guard'>

export class ChainFollower {
  private readonly known = new Map<number, string>()
  private tipHeight = -1
  /** Events delivered so far; `synced` is called when a sync delivered any. */
  private delivered = 0
  private stopped = false
  private queue: Promise<void> = Promise.resolve()
  private queued: Promise<Result<void, ChainFailure>> | null = null
  private readonly maxReorgDepth: number

  constructor (
    private readonly source: ChainSource, private readonly listener: ChainListener, private readonly opts: FollowerOptions = {},
  ) {
    this.maxReorgDepth = opts.maxReorgDepth ?? DEFAULT_MAX_REORG_DEPTH
  }

  /** Seeds the headers: the given ones, or the node's tip and SEED_DEPTH blocks below it. */
  async init (known: BlockRef[] = []): Promise<Result<void, ChainFailure>> {
    if (known.length === 0) {
      const recent = await recentHeaders(this.source)
      if (!recent.ok) return recent
      known = recent.value
    }
    for (const b of known) this.remember(b.height, b.hash)
    return ok(undefined)
  }

  get tip (): BlockRef | undefined {
    const hash = this.known.get(this.tipHeight)
    return hash === undefined ? undefined : { height: this.tipHeight as Height, hash }
  }

  get isStopped (): boolean { return this.stopped }

  stop (): void { this.stopped = true }

  /**
   * Reconciles with the node now. Syncs run one at a time; a call made while one runs gets the next
   * one (shared with other callers until it starts), so it returns having seen a chain at least as
   * new as when it was called.
   */
  sync (): Promise<Result<void, ChainFailure>> {
    if (this.queued !== null) return this.queued
    const run = this.queue.then(async () => { this.queued = null; return await this.syncOnce() })
    this.queued = run
    this.queue = run.then(() => undefined, () => undefined)
    return run
  }

  private async syncOnce (): Promise<Result<void, ChainFailure>> {
    const before = this.delivered
    const r = await this.reconcile()
    const now = this.tip
    if (!this.stopped && now !== undefined && this.delivered !== before) await this.listener.synced?.(now)
    return r
  }

  private async reconcile (): Promise<Result<void, ChainFailure>> {
    for (let round = 0; round < MAX_ROUNDS && !this.stopped; round++) {
      const tip = await this.source.tip()
      if (!tip.ok) return tip
      if (this.known.get(tip.value.height) === tip.value.hash && tip.value.height === this.tipHeight) break

      const fork = await this.findFork(tip.value.height)
      if (!fork.ok) return fork
      if (fork.value === null) {
        await this.die(`none of the ${this.known.size} blocks we followed (up to height ${this.tipHeight}) is in the node's chain (tip ` +
          `${tip.value.height})`)
        return ok(undefined)
      }
      const depth = this.tipHeight - fork.value
      if (depth > 0) {
        if (depth > this.maxReorgDepth) {
          await this.die(`the node's chain forks ${depth} blocks below our tip ${this.tipHeight} (more than ${this.maxReorgDepth}): ` +
            `chain replaced or wiped`)
          return ok(undefined)
        }
        if (this.opts.guard !== undefined) {
          const wiped = await this.opts.guard()
          if (!wiped.ok) return wiped
          if (wiped.value !== null) { await this.die(wiped.value.detail); return ok(undefined) }
        }
        for (let h = this.tipHeight; h > fork.value; h--) {
          const hash = this.known.get(h)
          this.known.delete(h)
          this.tipHeight = h - 1
          this.delivered++
          if (hash !== undefined) await this.listener.disconnected?.({ height: h as Height, hash })
          if (this.stopped) return ok(undefined)
        }
      }
      const moved = await this.connectUpTo(tip.value.height)
      if (!moved.ok) return moved
      if (moved.value) break
      // The chain changed while we were connecting: go around again.
    }
    return ok(undefined)
  }

  /** Highest height where our header equals the node's, or null if none in our window. */
  private async findFork (nodeTip: number): Promise<Result<number | null, ChainFailure>> {
    const lowest = Math.min(...this.known.keys())
    for (let h = Math.min(this.tipHeight, nodeTip); h >= lowest; h--) {
      const ours = this.known.get(h)
      if (ours === undefined) continue
      const theirs = await this.source.getBlockHash(h)
      if (!theirs.ok) return theirs
      if (theirs.value === ours) return ok(h)
    }
    return ok(null)
  }

  /** Connects blocks above our tip up to `target`. Returns false if the chain moved under us. */
  private async connectUpTo (target: number): Promise<Result<boolean, ChainFailure>> {
    for (let h = this.tipHeight + 1; h <= target && !this.stopped; h++) {
      const block = await this.source.getBlock(h)
      if (!block.ok) return block
      if (block.value === null) return ok(false)
      if (block.value.prevHash !== this.known.get(h - 1)) return ok(false)
      await this.listener.connected?.(block.value)
      this.remember(h, block.value.hash)
      this.delivered++
    }
    return ok(true)
  }

  private remember (height: number, hash: string): void {
    this.known.set(height, hash)
    if (height > this.tipHeight) this.tipHeight = height
    for (const h of this.known.keys()) if (h <= this.tipHeight - HEADER_WINDOW) this.known.delete(h)
  }

  private async die (detail: string): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await this.listener.fatal?.({ kind: 'chain_wiped', detail: detail.startsWith('chain wiped') ? detail : `chain wiped: ${detail}` })
  }
}

/**
 * The node's tip and SEED_DEPTH blocks below it: a starting point from which a reorg of the blocks
 * just below the start still finds its fork point (with the tip alone it would look like a wipe).
 */
export async function recentHeaders (source: Pick<ChainSource, 'tip' | 'getBlockHash'>): Promise<Result<BlockRef[], ChainFailure>> {
  const tip = await source.tip()
  if (!tip.ok) return tip
  const out: BlockRef[] = [tip.value]
  for (let h = tip.value.height - 1; h >= Math.max(0, tip.value.height - SEED_DEPTH); h--) {
    const hash = await source.getBlockHash(h)
    if (!hash.ok) return hash
    if (hash.value !== null) out.push({ height: h as Height, hash: hash.value })
  }
  return ok(out.reverse())
}
