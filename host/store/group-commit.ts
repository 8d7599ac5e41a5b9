// Group commit: writes that arrive while a synced batch is on its way to disk (or in the same turn of
// the event loop) are merged into ONE batch, so N concurrent callers cost one fsync, not N. Each
// caller's promise resolves only after the batch holding its write is durable.
//
// Within a batch, an op whose key a later op of the same batch writes again is dropped (lastPerKey):
// the batch is atomic, so that value could never be read.
//
// Create-only ops (store.ts contract): before a batch is committed, each of its writes with `create`
// ops is checked against the store and against the writes ahead of it in the batch; a write with a
// key that already has a value is refused (StoreConflict) and left out, the others go on. Batches are
// committed one at a time and nothing else writes the store, so no write can land between a check and
// the commit it guards.
//
// Why no timer: the first write of an idle store goes out on the next setImmediate (after the current
// I/O phase, so every socket message handled in this turn joins it); while that batch syncs, new
// writes queue up and leave together as the next batch. Latency stays one fsync when idle, and
// throughput grows with load.
import { StoreConflict, StoreError, assertOps, type StoreOp } from './store.ts'
import { observer } from '../observe.ts'

interface Pending {
  readonly ops: readonly StoreOp[]
  readonly resolve: () => void
  readonly reject: (e: StoreError | StoreConflict) => void
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
  /** Writes refused because a `create` op's key had a value. */
  conflicts: number
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
  readonly stats: GroupCommitStats = { batches: 0, writes: 0, ops: 0, superseded: 0, maxWritesPerBatch: 0, conflicts: 0 }

  /** `commit` must write all ops atomically and durably, or reject (it is only ever given put and del
   *  ops). `exists` reads the committed store; without it, `create` ops are refused as a programmer
   *  error. */
  constructor (
    private readonly commit: (ops: StoreOp[]) => Promise<void>,
    private readonly maxBatchOps = MAX_BATCH_OPS,
    private readonly exists?: (key: string) => Promise<boolean>,
  ) {}

  get failed (): StoreError | null { return this.failure }

  submit (ops: readonly StoreOp[]): Promise<void> {
    assertOps(ops)
    if (this.exists === undefined && ops.some(o => o.type === 'create')) throw new TypeError(
      'store.write: this store has no create-only writes'
    )
    if (this.failure !== null) return Promise.reject(new StoreError(
      'store_failed', 'an earlier batch failed; reopen the store', { cause: this.failure },
    ))
    if (this.closed) return Promise.reject(new StoreError('closed', 'store is closed'))
    if (ops.length === 0) return Promise.resolve()
    const copy = ops.slice() // the caller may reuse its array; what was submitted is what is written
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ops: copy, resolve, reject })
      this.kick()
    })
  }

  /** Refuse new writes and wait until every submitted write is durable or refused. */
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
      let group: Pending[]
      try {
        group = await this.refuseConflicts(this.takeGroup())
      } catch (e) {
        // The store could not be read: like a failed commit, the outcome of what follows is unknown.
        this.fail(this.queue.splice(0), e)
        break
      }
      if (group.length === 0) continue
      const ops = lastPerKey(asPuts(group.length === 1 ? group[0]!.ops as StoreOp[] : group.flatMap(p => p.ops)))
      const superseded = group.reduce((n, p) => n + p.ops.length, 0) - ops.length
      const started = performance.now()
      try {
        await this.commit(ops)
        observer().storeCommit(performance.now() - started, ops.length)
      } catch (e) {
        this.fail(group, e)
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

  /** Rejects `group` (its outcome is unknown) and every queued write; the store accepts no more. */
  private fail (group: Pending[], e: unknown): void {
    this.failure = new StoreError(
      'write_failed', `batch of ${group.length} writes failed: ${(e as Error)?.message ?? String(e)}`, { cause: e },
    )
    for (const p of group) p.reject(this.failure)
    // Queued writes were never attempted, but the store no longer accepts any.
    const rest = this.queue
    this.queue = []
    for (const p of rest) p.reject(new StoreError('store_failed', 'an earlier batch failed; reopen the store', { cause: this.failure }))
  }

  /** The writes of `group` whose `create` keys have no value (in the store, or from a write ahead of
   *  them in the group); the others are refused with StoreConflict. */
  private async refuseConflicts (group: Pending[]): Promise<Pending[]> {
    if (!group.some(p => p.ops.some(o => o.type === 'create'))) return group
    /** Keys the accepted writes of this group give a value (true) or delete (false). */
    const ahead = new Map<string, boolean>()
    const accepted: Pending[] = []
    for (const p of group) {
      const mine = new Map<string, boolean>()
      let conflict: string | undefined
      for (const o of p.ops) {
        if (o.type === 'create') {
          const has = mine.get(o.key) ?? ahead.get(o.key) ?? await this.exists!(o.key)
          if (has) { conflict = o.key; break }
        }
        mine.set(o.key, o.type !== 'del')
      }
      if (conflict !== undefined) {
        this.stats.conflicts++
        p.reject(new StoreConflict(conflict))
        continue
      }
      for (const [k, v] of mine) ahead.set(k, v)
      accepted.push(p)
    }
    return accepted
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

/** `create` ops, once checked, are written as puts. */
function asPuts (ops: StoreOp[]): StoreOp[] {
  return ops.some(o => o.type === 'create') ? ops.map(o => (o.type === 'create' ? { type: 'put', key: o.key, value: o.value } : o)) : ops
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
