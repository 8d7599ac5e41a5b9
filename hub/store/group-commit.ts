// Group commit: writes that arrive while a synced batch is on its way to disk (or in the same turn of
// the event loop) are merged into ONE batch, so N concurrent callers cost one fsync, not N. Each
// caller's promise resolves only after the batch holding its write is durable.
//
// Why no timer: the first write of an idle store goes out on the next setImmediate (after the current
// I/O phase, so every socket message handled in this turn joins it); while that batch syncs, new
// writes queue up and leave together as the next batch. Latency stays one fsync when idle, and
// throughput grows with load.
import { StoreError, assertOps, type StoreOp } from './store.ts'

interface Pending {
  readonly ops: readonly StoreOp[]
  readonly resolve: () => void
  readonly reject: (e: StoreError) => void
}

export interface GroupCommitStats {
  /** Synced batches issued (== fsyncs). */
  batches: number
  /** write() calls committed. */
  writes: number
  /** Operations committed. */
  ops: number
  /** Most write() calls merged into one batch. */
  maxWritesPerBatch: number
}

/** Cap on operations per batch: bounds memory and the size of one LevelDB write. A single write()
 * larger than this still goes out whole (atomicity beats the cap). */
export const MAX_BATCH_OPS = 10_000

export class GroupCommitter {
  private queue: Pending[] = []
  private running = false
  private scheduled = false
  private failure: StoreError | null = null
  private closed = false
  private idleWaiters: Array<() => void> = []
  readonly stats: GroupCommitStats = { batches: 0, writes: 0, ops: 0, maxWritesPerBatch: 0 }

  /** `commit` must write all ops atomically and durably, or reject. */
  constructor (private readonly commit: (ops: StoreOp[]) => Promise<void>, private readonly maxBatchOps = MAX_BATCH_OPS) {}

  get failed (): StoreError | null { return this.failure }

  submit (ops: readonly StoreOp[]): Promise<void> {
    assertOps(ops)
    if (this.failure !== null) return Promise.reject(new StoreError('store_failed', 'an earlier batch failed; reopen the store', { cause: this.failure }))
    if (this.closed) return Promise.reject(new StoreError('closed', 'store is closed'))
    if (ops.length === 0) return Promise.resolve()
    const copy = ops.slice() // the caller may reuse its array; what was submitted is what is written
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops: copy, resolve, reject })
      this.kick()
    })
  }

  /** Refuse new writes and wait until every submitted write has settled. */
  async close (): Promise<void> {
    this.closed = true
    await this.idle()
  }

  idle (): Promise<void> {
    if (!this.running && !this.scheduled && this.queue.length === 0) return Promise.resolve()
    return new Promise(resolve => this.idleWaiters.push(resolve))
  }

  private kick (): void {
    if (this.running || this.scheduled) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      void this.drain()
    })
  }

  private async drain (): Promise<void> {
    this.running = true
    while (this.queue.length > 0) {
      const group = this.takeGroup()
      const ops = group.flatMap(p => p.ops)
      try {
        await this.commit(ops)
      } catch (e) {
        this.failure = new StoreError('write_failed', `batch of ${group.length} writes failed: ${(e as Error)?.message ?? String(e)}`, { cause: e })
        for (const p of group) p.reject(this.failure)
        // Queued writes were never attempted, but the store no longer accepts any.
        const rest = this.queue
        this.queue = []
        for (const p of rest) p.reject(new StoreError('store_failed', 'an earlier batch failed; reopen the store', { cause: this.failure }))
        break
      }
      this.stats.batches++
      this.stats.writes += group.length
      this.stats.ops += ops.length
      this.stats.maxWritesPerBatch = Math.max(this.stats.maxWritesPerBatch, group.length)
      for (const p of group) p.resolve()
    }
    this.running = false
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const w of waiters) w()
  }

  /** Writes from the head of the queue, in order, up to maxBatchOps operations (at least one write). */
  private takeGroup (): Pending[] {
    let n = 0
    let count = 0
    while (n < this.queue.length) {
      const size = this.queue[n]!.ops.length
      if (n > 0 && count + size > this.maxBatchOps) break
      count += size
      n++
    }
    return this.queue.splice(0, n)
  }
}
