// An in-memory Store with the same contract and the same group commit as LevelStore, minus the disk:
// for unit tests of code above the store, and for a throwaway hub. Not durable across processes.
import { GroupCommitter, type GroupCommitStats } from './group-commit.ts'
import { keyRange, type IterateOptions, type Store, type StoreOp } from './store.ts'

export class MemoryStore implements Store {
  private readonly data = new Map<string, Uint8Array>()
  private readonly committer = new GroupCommitter(async ops => {
    for (const op of ops) {
      if (op.type === 'del') this.data.delete(op.key)
      else this.data.set(op.key, op.value.slice())
    }
  }, undefined, async key => this.data.has(key))

  get stats (): Readonly<GroupCommitStats> { return this.committer.stats }

  async get (key: string): Promise<Uint8Array | undefined> {
    return this.data.get(key)?.slice()
  }

  write (ops: readonly StoreOp[]): Promise<void> {
    return this.committer.submit(ops)
  }

  async * iterate (prefix: string, opts: IterateOptions = {}): AsyncIterable<readonly [string, Uint8Array]> {
    const r = keyRange(prefix, opts.after)
    const ks = [...this.data.keys()].filter(k => ('gt' in r ? k > r.gt : k >= r.gte) && k < r.lt).sort()
    if (opts.reverse === true) ks.reverse()
    const limit = opts.limit !== undefined && opts.limit >= 0 ? opts.limit : Infinity
    for (const k of ks.slice(0, limit)) {
      const v = this.data.get(k)
      if (v !== undefined) yield [k, v.slice()] as const
    }
  }

  close (): Promise<void> {
    return this.committer.close()
  }
}
