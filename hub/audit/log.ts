// The hub's append-only, hash-chained audit log of committed state updates, kept in the Store.
// Each entry is written in the same atomic batch as the head, and can ride in the caller's own batch
// (prepare), so a state update and its audit entry are durable together or not at all. Each entry
// carries the time and the chain height at which it was written (protocol/audit/entry.ts).
import { keys } from '../../host/store/keys.ts'
import { parseJsonValue, putJsonText, type Store, type StoreOp } from '../../host/store/store.ts'
import { EMPTY_ROOT, nextEntryWithJson, type AuditEntry, type AuditRoot } from '../../protocol/audit/entry.ts'
import { parseAuditRoot } from './verify.ts'

/** Where an entry's time and height come from: the hub's clock and its chain tip. */
export interface AuditClock {
  /** ms since 1970. */
  now (): number
  height (): number
}

const NO_CHAIN_CLOCK: AuditClock = { now: () => Date.now(), height: () => 0 }

export class AuditLog {
  private head: AuditRoot

  private constructor (private readonly store: Store, private readonly clock: AuditClock, head: AuditRoot) {
    this.head = head
  }

  /** Without a clock: the wall clock and height 0 (a log with no chain under it: tests, benchmarks). */
  static async open (store: Store, clock: AuditClock = NO_CHAIN_CLOCK): Promise<AuditLog> {
    return new AuditLog(store, clock, await readRoot(store))
  }

  /**
   * The entry for `record` and the ops that store it (entry + new head). Advances the in-memory head,
   * so the caller MUST pass the ops to store.write() in the same synchronous step (before any await):
   * the store commits writes in call order, so entries reach disk in chain order. If that write fails,
   * the store refuses all writes until reopened, and reopening reloads the head from disk.
   */
  prepare (record: unknown): { entry: AuditEntry; ops: StoreOp[] } {
    const { entry, json } = nextEntryWithJson(this.head, { time_ms: this.clock.now(), height: this.clock.height(), record })
    this.head = { hash: entry.hash, count: entry.n + 1 }
    return {
      entry,
      ops: [putJsonText(keys.auditEntry(entry.n), json), putJsonText(keys.auditHead, `{"hash":"${entry.hash}","count":${entry.n + 1}}`)],
    }
  }

  /** Append on its own batch; resolves when durable. */
  async append (record: unknown): Promise<AuditEntry> {
    const { entry, ops } = this.prepare(record)
    await this.store.write(ops)
    return entry
  }

  /** Head including entries prepared but maybe not yet durable. */
  get pendingRoot (): AuditRoot { return this.head }

  /** The durable root (what a transaction would carry to commit to the log on-chain). */
  root (): Promise<AuditRoot> { return readRoot(this.store) }

  /** Every entry, in order: the input of verifyAuditLog. */
  async export (): Promise<AuditEntry[]> {
    const out: AuditEntry[] = []
    for await (const [, v] of this.store.iterate(keys.auditEntryPrefix)) out.push(parseJsonValue(v) as AuditEntry)
    return out
  }

  /** The durable entries n with from ≤ n < to, in order, as stored (each one JSON text). */
  async range (from: number, to: number): Promise<string[]> {
    const out: string[] = []
    for (let n = from; n < to; n++) {
      const v = await this.store.get(keys.auditEntry(n))
      if (v === undefined) break
      out.push(new TextDecoder().decode(v))
    }
    return out
  }

  /** Entry n as stored, or undefined. */
  async entry (n: number): Promise<AuditEntry | undefined> {
    const v = await this.store.get(keys.auditEntry(n))
    return v === undefined ? undefined : parseJsonValue(v) as AuditEntry
  }
}

async function readRoot (store: Store): Promise<AuditRoot> {
  const v = await store.get(keys.auditHead)
  if (v === undefined) return EMPTY_ROOT
  const r = parseAuditRoot(parseJsonValue(v))
  if (r === null) throw new Error('audit/head in the store is malformed') // our own write: corruption
  return r
}
