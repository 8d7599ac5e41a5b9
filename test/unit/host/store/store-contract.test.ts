// The Store contract, run against both implementations: LevelStore (a real LevelDB in a temp dir)
// and MemoryStore. Round trip, prefix iteration, per-key order, atomic batches, close.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelStore } from '../../../../host/store/node/level-store.ts'
import { MemoryStore, keys, put, del, parseJsonValue, type Store } from '../../../../host/store/index.ts'

const impls: Array<[string, () => Promise<{ store: Store; cleanup: () => Promise<void> }>]> = [
  ['LevelStore', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-contract-'))
    const store = await LevelStore.open(dir)
    return { store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) } }
  }],
  ['MemoryStore', async () => {
    const store = new MemoryStore()
    return { store, cleanup: async () => { await store.close() } }
  }],
]

async function collect (it: AsyncIterable<readonly [string, Uint8Array]>): Promise<Array<[string, unknown]>> {
  const out: Array<[string, unknown]> = []
  for await (const [k, v] of it) out.push([k, parseJsonValue(v)])
  return out
}

for (const [name, make] of impls) {
  t.test(`${name}: put, get, delete round trip (bytes exact)`, async t => {
    const { store, cleanup } = await make()
    t.teardown(cleanup)
    const bytes = Uint8Array.from([0, 1, 2, 255, 254, 0])
    await store.write([{ type: 'put', key: 'raw/a', value: bytes }, put('json/b', { x: 1, y: 'two' })])
    t.same(await store.get('raw/a'), bytes)
    t.same(parseJsonValue((await store.get('json/b'))!), { x: 1, y: 'two' })
    t.equal(await store.get('missing'), undefined)
    await store.write([del('raw/a')])
    t.equal(await store.get('raw/a'), undefined)
  })

  t.test(`${name}: prefix iteration returns exactly the namespace, in key order`, async t => {
    const { store, cleanup } = await make()
    t.teardown(cleanup)
    await store.write([
      put(keys.channelState('a'), 'sa'), put(keys.monitorUpdate('a', 10), 10), put(keys.monitorUpdate('a', 2), 2),
      put(keys.monitorUpdate('a', 0), 0), put(keys.channelState('ab'), 'sab'), put(keys.channelState('b'), 'sb'),
      put('chan/a', 'no slash'), put(keys.forward('x', '1'), 'f'),
    ])
    t.same(await collect(store.iterate(keys.monitorPrefix('a'))), [
      [keys.monitorUpdate('a', 0), 0], [keys.monitorUpdate('a', 2), 2], [keys.monitorUpdate('a', 10), 10],
    ], 'monitor updates in numeric order')
    t.same((await collect(store.iterate(keys.channelPrefix('a')))).map(e => e[0]),
      [keys.monitorUpdate('a', 0), keys.monitorUpdate('a', 2), keys.monitorUpdate('a', 10), keys.channelState('a')],
      'chan/a/ does not include chan/ab/ or chan/a')
    t.same(
      await collect(store.iterate(keys.monitorPrefix('a'), { reverse: true, limit: 1 })), [[keys.monitorUpdate('a', 10), 10]],
      'latest update',
    )
    t.same(await collect(store.iterate('nothing/')), [])
  })

  t.test(`${name}: iteration after a key (a page cursor) stays inside the prefix`, async t => {
    const { store, cleanup } = await make()
    t.teardown(cleanup)
    await store.write([put('p/1', 1), put('p/2', 2), put('p/3', 3), put('o/9', 'before'), put('q/0', 'after')])
    t.same(await collect(store.iterate('p/', { after: 'p/1' })), [['p/2', 2], ['p/3', 3]], 'strictly after the key')
    t.same(await collect(store.iterate('p/', { after: 'p/1~' })), [['p/2', 2], ['p/3', 3]], 'after a key that is not stored')
    t.same(
      await collect(store.iterate('p/', { after: 'o/zzz' })), [['p/1', 1], ['p/2', 2], ['p/3', 3]],
      'a key before the prefix: the whole prefix',
    )
    t.same(await collect(store.iterate('p/', { after: 'p/3' })), [], 'after the last: nothing, and nothing of the next prefix')
    t.same(await collect(store.iterate('p/', { after: 'p/1', limit: 1 })), [['p/2', 2]], 'with a limit')
  })

  t.test(`${name}: concurrent writes to one key apply in call order`, async t => {
    const { store, cleanup } = await make()
    t.teardown(cleanup)
    await Promise.all(Array.from({ length: 100 }, (_, i) => store.write([put('k', i)])))
    t.equal(parseJsonValue((await store.get('k'))!), 99)
    // Across batches too: a write issued while the previous batch is on its way.
    const first = store.write([put('k', 'a')])
    await new Promise(resolve => setImmediate(resolve))
    const second = store.write([put('k', 'b')])
    await Promise.all([first, second])
    t.equal(parseJsonValue((await store.get('k'))!), 'b')
    // Within one write, later ops win.
    await store.write([put('k', 1), del('k'), put('k', 2)])
    t.equal(parseJsonValue((await store.get('k'))!), 2)
  })

  t.test(`${name}: a malformed batch is refused whole, before anything is written`, async t => {
    const { store, cleanup } = await make()
    t.teardown(cleanup)
    t.throws(() => store.write([put('ok/1', 1), put('bad\nkey', 2)]), TypeError)
    t.throws(() => store.write([put('ok/1', 1), { type: 'put', key: 'ok/2', value: 'str' as unknown as Uint8Array }]), TypeError)
    await store.write([put('after', 1)]) // the store still works
    t.equal(await store.get('ok/1'), undefined, 'no op of the refused batch was written')
  })

  t.test(`${name}: close waits for submitted writes; later writes are refused`, async t => {
    const { store, cleanup } = await make()
    t.teardown(async () => { try { await cleanup() } catch {} })
    const pending = Array.from({ length: 20 }, (_, i) => store.write([put(`w/${i}`, i)]))
    await store.close()
    const settled = await Promise.allSettled(pending)
    t.ok(settled.every(s => s.status === 'fulfilled'), 'every write submitted before close completed')
    await t.rejects(store.write([put('late', 1)]), { name: 'StoreError', reason: 'closed' })
  })
}
