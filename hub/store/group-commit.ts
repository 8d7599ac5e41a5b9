// Group commit: writes that arrive while a synced batch is on its way to disk (or in the same turn of
// the event loop) are merged into ONE batch, so N concurrent callers cost one fsync, not N. Each
// caller's promise resolves only after the batch holding its write is durable.
//
// Within a batch, an op whose key a later op of the same batch writes again is dropped (lastPerKey):
// the batch is atomic, so that value could never be read.
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
  /** Operations written (after dropping superseded ones). */
  ops: number
  /** Operations not written because a later one in the same batch wrote the same key. */
  superseded: number
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
  readonly stats: GroupCommitStats = { batches: 0, writes: 0, ops: 0, superseded: 0, maxWritesPerBatch: 0 }

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
      const ops = lastPerKey(group.length === 1 ? group[0]!.ops as StoreOp[] : group.flatMap(p => p.ops))
      const superseded = group.reduce((n, p) => n + p.ops.length, 0) - ops.length
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
      this.stats.superseded += superseded
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

/** The ops of one atomic batch with every op dropped whose key a later op of the batch writes again
 *  (a put or del of the same key): the batch is applied all at once, so the dropped values could never
 *  be read. Under load a batch holds several writes of one channel (its state record rewritten by each)
 *  and one audit head per entry; LevelDB then copies and logs each key once. Order is kept. */
export function lastPerKey (ops: StoreOp[]): StoreOp[] {
  if (ops.length < 2) return ops
  const seen = new Set<string>()
  const keep: StoreOp[] = []
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i]!
    if (seen.has(op.key)) continue
    seen.add(op.key)
    keep.push(op)
  }
  if (keep.length === ops.length) return ops
  return keep.reverse()
}
