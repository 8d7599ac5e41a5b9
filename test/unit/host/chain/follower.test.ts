// ChainFollower against an in-memory chain (pure logic; the btcd-backed behaviour is covered in
// test/integration/chain/backend.test.ts): fork points, replay order, deep reorgs and the guard as
// fatal errors with no disconnects delivered, coalesced concurrent syncs.
import t from 'tap'
import type { BlockRef, ChainBlock, ChainWiped } from '../../../../host/chain/backend.ts'
import { ok } from '../../../../protocol/result.ts'
import { ChainFollower, type ChainSource } from '../../../../host/chain/follower.ts'
import type { Height } from '../../../../protocol/types.ts'

/** A main chain of hashes; `fork` replaces everything above a height with new blocks. */
class MemChain implements ChainSource {
  hashes: string[] = ['g']
  calls = 0
  private n = 0
  extend (k: number, tag = 'b'): void { for (let i = 0; i < k; i++) this.hashes.push(`${tag}${this.n++}`) }
  fork (height: number, k: number): void { this.hashes.length = height + 1; this.extend(k, 'f') }
  async tip () { this.calls++; return ok({ height: (this.hashes.length - 1) as Height, hash: this.hashes[this.hashes.length - 1]! }) }
  async getBlockHash (h: number) { this.calls++; return ok(this.hashes[h] ?? null) }
  async getBlock (at: number | string) {
    this.calls++
    const h = typeof at === 'number' ? at : this.hashes.indexOf(at)
    const hash = this.hashes[h]
    if (hash === undefined) return ok(null)
    const b: ChainBlock = { height: h as Height, hash, prevHash: this.hashes[h - 1] ?? '0', time: h, txs: [] }
    return ok(b)
  }
}

function recorder (): { log: string[]; fatal: ChainWiped[]; listener: ConstructorParameters<typeof ChainFollower>[1] } {
  const log: string[] = []
  const fatal: ChainWiped[] = []
  return {
    log,
    fatal,
    listener: {
      connected: (b: ChainBlock) => { log.push(`+${b.height}${b.hash}`) },
      disconnected: (b: BlockRef) => { log.push(`-${b.height}${b.hash}`) },
      synced: (b: BlockRef) => { log.push(`=${b.height}`) },
      fatal: (e: ChainWiped) => { fatal.push(e) }
    }
  }
}

t.test('starts at the tip without history, then delivers new blocks in order and a synced mark', async t => {
  const c = new MemChain(); c.extend(5)
  const r = recorder()
  const f = new ChainFollower(c, r.listener)
  await f.init()
  await f.sync()
  t.same(r.log, [])
  c.extend(2)
  await f.sync()
  t.same(r.log, ['+6b5', '+7b6', '=7'])
})

t.test('resumes from known headers: undoes the stale ones, then connects the new branch', async t => {
  const c = new MemChain(); c.extend(6)
  const known = [4, 5, 6].map(h => ({ height: h as Height, hash: c.hashes[h]! }))
  c.fork(4, 3) // heights 5..7 replaced
  const r = recorder()
  const f = new ChainFollower(c, r.listener)
  await f.init(known)
  await f.sync()
  t.same(r.log, ['-6b5', '-5b4', '+5f6', '+6f7', '+7f8', '=7'])
  t.same(f.tip, { height: 7, hash: 'f8' })
})

t.test('a reorg deeper than maxReorgDepth is fatal chain_wiped and nothing is disconnected', async t => {
  const c = new MemChain(); c.extend(10)
  const r = recorder()
  const f = new ChainFollower(c, r.listener, { maxReorgDepth: 3 })
  await f.init([{ height: 0 as Height, hash: 'g' }])
  await f.sync()
  r.log.length = 0
  c.fork(5, 6)
  await f.sync()
  t.same(r.log, [], 'no disconnects delivered')
  t.equal(r.fatal.length, 1)
  t.match(r.fatal[0]?.detail, /^chain wiped: the node's chain forks 5 blocks below our tip 10/)
  c.extend(1)
  await f.sync()
  t.same(r.log, [], 'a stopped follower delivers nothing more')
})

t.test('a wiped chain (back to genesis, no common block in the window) is fatal', async t => {
  const c = new MemChain(); c.extend(10)
  const r = recorder()
  const f = new ChainFollower(c, r.listener)
  await f.init([{ height: 10 as Height, hash: c.hashes[10]! }])
  c.hashes.length = 1
  await f.sync()
  t.same(r.log, [])
  t.match(r.fatal[0]?.detail, /none of the 1 blocks we followed/)
})

t.test('the guard is asked before disconnecting and can turn a reorg into a fatal stop', async t => {
  const c = new MemChain(); c.extend(4)
  const r = recorder()
  let asked = 0
  const f = new ChainFollower(
    c, r.listener, { guard: async () => { asked++; return ok({ kind: 'chain_wiped' as const, detail: 'chain wiped: funding tx gone' }) } },
  )
  await f.init()
  c.extend(1)
  await f.sync()
  t.equal(asked, 0, 'not asked when only connecting')
  c.fork(3, 2)
  await f.sync()
  t.equal(asked, 1)
  t.same(r.log, ['+5b4', '=5'])
  t.same(r.fatal.map(e => e.detail), ['chain wiped: funding tx gone'])
})

t.test('concurrent syncs coalesce: each block is delivered once', async t => {
  const c = new MemChain(); c.extend(2)
  const r = recorder()
  const f = new ChainFollower(c, r.listener)
  await f.init()
  c.extend(3)
  await Promise.all([f.sync(), f.sync(), f.sync(), f.sync()])
  t.same(r.log, ['+3b2', '+4b3', '+5b4', '=5'])
})

t.test('a chain that moves during a sync is followed to its new tip', async t => {
  const c = new MemChain(); c.extend(2)
  const log: string[] = []
  let once = true
  const f = new ChainFollower(c, {
    connected: (b: ChainBlock) => {
      log.push(`+${b.height}${b.hash}`)
      // While block 3 is being delivered, it is replaced by a longer branch.
      if (once) { once = false; c.fork(2, 3) }
    },
    disconnected: (b: BlockRef) => { log.push(`-${b.height}${b.hash}`) }
  })
  await f.init()
  c.extend(2)
  await f.sync()
  t.same(log, ['+3b2', '-3b2', '+3f4', '+4f5', '+5f6'])
  t.same(f.tip, { height: 5, hash: 'f6' })
})
