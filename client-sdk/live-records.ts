// The latest value of the PaymentBook's records (records.ts) that are in use: read from memory instead
// of the store, and written either at once or in the next persist batch of a channel ("carried": the
// channel's own synced write takes them along, so a payment costs no fsync of its own).
//
// The store stays the truth after a restart. An entry is only dropped once nothing about it is left
// unwritten (no carrier pending, no write in flight) and it is not `live` any more (a payment still
// pending, an invoice still unpaid): reading the store then gives the same value. Entries kept only
// as a cache (live, but the cache is over `cap`) are dropped oldest first, again only when written.
//
// A value may come with operations that must be durable together with it ("attached": the event
// the change causes, event-outbox.ts). They go into the next write of the entry, whichever writes
// it (its carrier's batch or a write of its own), exactly once.
import { put, type StoreOp } from '../host/store/index.ts'

/** Operations to write atomically with a value, and what to do once that write is durable. */
export interface Attached { ops: StoreOp[]; durable: () => void }

interface Entry<T> {
  value: T
  /** The channel whose next persist batch writes this value (undefined: nothing waits for a carrier). */
  carrier: string | undefined
  /** Writes holding some value of this entry that are not durable yet. */
  writing: number
  /** Callers of whenWritten(). */
  waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }>
  /** A write holding it failed: it never becomes durable in this run. */
  error?: unknown
  /** Attached to values set since the entry was last taken into a write. */
  attached: Attached[]
}

export class LiveRecords<T> {
  private readonly entries = new Map<string, Entry<T>>()

  constructor (
    /** The store key of a record. */
    private readonly keyOf: (id: string) => string,
    /** Whether the record must stay in memory while nothing of it is unwritten (or is only cached). */
    private readonly live: (value: T) => boolean,
    /** More entries than this: written, non-essential ones are dropped, oldest first. */
    private readonly cap = Infinity,
    /** Extra operations that go with every write of a record (e.g. an index entry). */
    private readonly extraOps: (value: T) => StoreOp[] = () => [],
    /** An entry left memory (its record is read from the store from now on). */
    private readonly dropped: (id: string, value: T) => void = () => {},
  ) {}

  get size (): number { return this.entries.size }
  get (id: string): T | undefined { return this.entries.get(id)?.value }
  has (id: string): boolean { return this.entries.has(id) }

  /** Remembers a value that is already durable (just written, or read from the store). */
  remember (id: string, value: T): void {
    const e = this.entries.get(id)
    if (e !== undefined) { e.value = value; return }
    this.entries.set(id, { value, carrier: undefined, writing: 0, waiters: [], attached: [] })
    this.trim()
  }

  /** Sets the latest value, to be written by `carrier`'s next persist batch (take()), or by own(),
   *  with `attach` in the same write. */
  set (id: string, value: T, carrier: string, attach?: Attached): void {
    const e = this.entries.get(id)
    if (e === undefined) this.entries.set(id, { value, carrier, writing: 0, waiters: [], attached: attach !== undefined ? [attach] : [] })
    else { e.value = value; e.carrier = carrier; if (attach !== undefined) e.attached.push(attach) }
  }

  /** The operations writing every value `channelId` carries (and what is attached to them); they are
   *  now in that batch. Call written(ids) and each attached durable() once the batch is durable,
   *  failed(ids, e) if it failed. */
  take (channelId: string): { ids: string[]; ops: StoreOp[]; attached: Attached[] } {
    const ids: string[] = []
    const ops: StoreOp[] = []
    const attached: Attached[] = []
    for (const [id, e] of this.entries) {
      if (e.carrier !== channelId) continue
      e.carrier = undefined
      e.writing++
      ids.push(id)
      ops.push(put(this.keyOf(id), e.value), ...this.extraOps(e.value), ...e.attached.flatMap(a => a.ops))
      attached.push(...e.attached.splice(0))
    }
    return { ids, ops, attached }
  }

  /** The operations writing the latest value of `id` in a write of its own (whatever its carrier:
   *  that batch then carries nothing for it), with what is attached. Call written([id]) and each
   *  attached durable() after, or failed([id], e). */
  own (id: string): { ops: StoreOp[]; attached: Attached[] } {
    const e = this.entries.get(id)
    if (e === undefined) return { ops: [], attached: [] }
    e.carrier = undefined
    e.writing++
    const attached = e.attached.splice(0)
    return { ops: [put(this.keyOf(id), e.value), ...this.extraOps(e.value), ...attached.flatMap(a => a.ops)], attached }
  }

  /** The writes that took `ids` are durable. */
  written (ids: readonly string[]): void {
    for (const id of ids) {
      const e = this.entries.get(id)
      if (e === undefined) continue
      e.writing--
      if (!this.unwritten(e)) {
        for (const w of e.waiters.splice(0)) w.resolve()
        if (!this.live(e.value)) this.drop(id, e)
      }
    }
    this.trim()
  }

  /** The writes that took `ids` failed: the store refuses every write from now on (host/store
   *  contract), so waiters are told and nothing is retried. */
  failed (ids: readonly string[], error: unknown): void {
    for (const id of ids) {
      const e = this.entries.get(id)
      if (e === undefined) continue
      e.writing--
      e.error = error
      for (const w of e.waiters.splice(0)) w.reject(error)
    }
  }

  /** Whether the latest value of `id` waits for a carrier's batch (not in any write yet). */
  waitsForCarrier (id: string): boolean { return this.entries.get(id)?.carrier !== undefined }

  /** Resolves once the latest value of `id` is durable (at once if nothing of it is unwritten);
   *  rejects if a write holding it failed. It does not write anything itself: a value waiting for a
   *  carrier waits for that carrier's batch. */
  whenWritten (id: string): Promise<void> {
    const e = this.entries.get(id)
    if (e?.error !== undefined) return Promise.reject(e.error)
    if (e === undefined || !this.unwritten(e)) return Promise.resolve()
    return new Promise((resolve, reject) => { e.waiters.push({ resolve, reject }) })
  }

  values (): T[] { return [...this.entries.values()].map(e => e.value) }
  /** Ids whose latest value waits for a carrier's batch. */
  waiting (): string[] { return [...this.entries].filter(([, e]) => e.carrier !== undefined).map(([id]) => id) }

  private unwritten (e: Entry<T>): boolean { return e.carrier !== undefined || e.writing > 0 }

  private trim (): void {
    if (this.entries.size <= this.cap) return
    for (const [id, e] of this.entries) {
      if (this.entries.size <= this.cap) break
      if (!this.unwritten(e)) this.drop(id, e)
    }
  }

  private drop (id: string, e: Entry<T>): void {
    this.entries.delete(id)
    this.dropped(id, e.value)
  }
}
