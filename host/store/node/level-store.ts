// The embedded store: LevelDB through `level`, one database per data directory, every batch written
// with `sync: true` (DESIGN.md rule 2: persist durably before send) and merged by group commit.
import { Level } from 'level'
import { GroupCommitter, type GroupCommitStats } from '../group-commit.ts'
import { keyRange, type IterateOptions, type Store, type StoreOp } from '../store.ts'

export class LevelStore implements Store {
  private readonly committer: GroupCommitter

  private constructor (private readonly db: Level<string, Uint8Array>, maxBatchOps?: number) {
    // StoreOps are already { type, key, value } (abstract-level clones each op itself): no mapping.
    this.committer = new GroupCommitter(
      ops => this.db.batch(ops as Array<{ type: 'put'; key: string; value: Uint8Array } | { type: 'del'; key: string }>, { sync: true }),
      maxBatchOps,
      async key => (await this.db.get(key)) !== undefined,
    )
  }

  /** Opens (creating if needed) the database in `dir`. LevelDB's LOCK file makes a second open of
   * the same directory fail, so two processes can never write one store. */
  static async open (dir: string, opts: { maxBatchOps?: number } = {}): Promise<LevelStore> {
    const db = new Level<string, Uint8Array>(dir, { keyEncoding: 'utf8', valueEncoding: 'view' })
    await db.open()
    return new LevelStore(db, opts.maxBatchOps)
  }

  get stats (): Readonly<GroupCommitStats> { return this.committer.stats }

  get (key: string): Promise<Uint8Array | undefined> {
    return this.db.get(key)
  }

  write (ops: readonly StoreOp[]): Promise<void> {
    return this.committer.submit(ops)
  }

  async * iterate (prefix: string, opts: IterateOptions = {}): AsyncIterable<readonly [string, Uint8Array]> {
    const it = this.db.iterator({ ...keyRange(prefix, opts.after), reverse: opts.reverse ?? false, limit: opts.limit ?? -1 })
    try {
      for await (const [k, v] of it) yield [k, v] as const
    } finally {
      await it.close()
    }
  }

  async close (): Promise<void> {
    await this.committer.close()
    await this.db.close()
  }
}

