// Group commit drops, within one atomic batch, every op whose key a later op of the batch writes
// again (a pipelined channel's state record and the audit head are rewritten by each write of a
// batch). What the store holds afterwards must be exactly what applying every write in order gives.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GroupCommitter, MemoryStore, parseJsonValue, put, type StoreOp } from '../../../../host/store/index.ts'
import { LevelStore } from '../../../../host/store/node/level-store.ts'
import { lastPerKey } from '../../../../host/store/group-commit.ts'

const del = (key: string): StoreOp => ({ type: 'del', key })

t.test('lastPerKey keeps the last op per key, in order', async t => {
  const ops = [put('a', 1), put('b', 1), del('a'), put('c', 1), put('b', 2), put('a', 3)]
  const kept = lastPerKey(ops)
  t.same(kept.map(o => `${o.type}:${o.key}`), ['put:c', 'put:b', 'put:a'])
  t.equal(parseJsonValue((kept[1] as { value: Uint8Array }).value), 2, 'b: the later value')
  t.equal(parseJsonValue((kept[2] as { value: Uint8Array }).value), 3, 'a: put after del after put')
  const distinct = [put('x', 1), put('y', 1)]
  t.equal(lastPerKey(distinct), distinct, 'nothing to drop: the same array')
  t.same(lastPerKey([put('d', 1), del('d')]).map(o => o.type), ['del'], 'a del after a put wins')
})

t.test('writes merged into one batch: the superseded ops are not written, the result is the same', async t => {
  const seen: StoreOp[][] = []
  const committer = new GroupCommitter(async ops => { seen.push(ops) })
  await Promise.all([
    committer.submit([put('chan/1/state', 'w1'), put('audit/head', 1), put('chan/1/monitor/1', 'm1')]),
    committer.submit([put('chan/1/state', 'w2'), put('audit/head', 2), put('chan/1/monitor/2', 'm2')]),
    committer.submit([del('tmp'), put('audit/head', 3)]),
  ])
  t.equal(seen.length, 1, 'one batch')
  t.same(seen[0]!.map(o => o.key), ['chan/1/monitor/1', 'chan/1/state', 'chan/1/monitor/2', 'tmp', 'audit/head'])
  t.match(committer.stats, { writes: 3, ops: 5, superseded: 3 })
})

for (const kind of ['memory', 'level'] as const) {
  t.test(`${kind} store: the final contents equal applying every write in order`, async t => {
    let store: MemoryStore | LevelStore
    if (kind === 'memory') store = new MemoryStore()
    else {
      const dir = mkdtempSync(join(tmpdir(), 'batch-dedup-'))
      store = await LevelStore.open(dir)
      t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    }
    const expect = new Map<string, number>()
    const writes: StoreOp[][] = []
    for (let i = 0; i < 200; i++) {
      const k = `k/${i % 7}`
      const op = i % 5 === 4 ? del(k) : put(k, i)
      if (op.type === 'del') expect.delete(k); else expect.set(k, i)
      writes.push([op, put('head', i)])
    }
    expect.set('head', 199)
    await Promise.all(writes.map(w => store.write(w)))
    const got = new Map<string, number>()
    for await (const [k, v] of store.iterate('')) got.set(k, parseJsonValue(v) as number)
    t.same([...got].sort(), [...expect].sort())
    t.ok(store.stats.superseded > 0, `${store.stats.superseded} superseded ops were not written`)
    await store.close()
  })
}
