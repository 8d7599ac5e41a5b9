// Create-only writes (host/store/store.ts contract), against both stores: a `create` of a key that has a
// value refuses the whole write with a StoreConflict, writes nothing of it, and leaves the store
// working; within one group-commit batch the write that comes first wins.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelStore } from '../../../../host/store/node/level-store.ts'
import { MemoryStore, StoreConflict, StoreError, create, del, parseJsonValue, put, type Store } from '../../../../host/store/index.ts'

const impls: Array<[string, () => Promise<{ store: Store; cleanup: () => Promise<void> }>]> = [
  ['LevelStore', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'store-create-'))
    const store = await LevelStore.open(dir)
    return { store, cleanup: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) } }
  }],
  ['MemoryStore', async () => {
    const store = new MemoryStore()
    return { store, cleanup: async () => { await store.close() } }
  }],
]

const read = async (s: Store, key: string): Promise<unknown> => {
  const v = await s.get(key); return v === undefined ? undefined : parseJsonValue(v)
}

for (const [name, make] of impls) {
  t.test(`${name}: create writes a new key; over an existing one the whole write is refused and nothing of it lands`, async t => {
    const { store, cleanup } = await make()
    t.teardown(cleanup)
    await store.write([create('chan/a/state', { owner: 'victim' }), put('chan-index/a', { owner: 'victim' })])
    t.same(await read(store, 'chan/a/state'), { owner: 'victim' }, 'created')
    const refused = await store.write([
      create('chan/a/state', { owner: 'thief' }), put('chan-index/a', { owner: 'thief' }), put('other', 1),
    ]).then(() => undefined, (e: unknown) => e)
    t.ok(refused instanceof StoreConflict, 'rejected with a StoreConflict')
    t.notOk(refused instanceof StoreError, 'not a store failure')
    t.equal((refused as StoreConflict).key, 'chan/a/state', 'naming the key')
    t.same(await read(store, 'chan/a/state'), { owner: 'victim' }, 'the record is untouched')
    t.same(await read(store, 'chan-index/a'), { owner: 'victim' }, 'the other ops of the refused write did not land')
    t.equal(await read(store, 'other'), undefined, 'not even unrelated ones')
    await store.write([put('after', 2)])
    t.equal(await read(store, 'after'), 2, 'the store keeps accepting writes')
  })

  t.test(`${name}: two creates of one key in the same batch: the first wins, the second is refused`, async t => {
    const { store, cleanup } = await make()
    t.teardown(cleanup)
    // Handed in the same turn: group commit merges them into one batch.
    const first = store.write([create('chan/b/state', 'first'), put('first-extra', 1)])
    const second = store.write([create('chan/b/state', 'second'), put('second-extra', 1)]).then(() => 'written', (e: unknown) => e)
    const third = store.write([put('unrelated', 3)])
    await first
    t.ok(await second instanceof StoreConflict, 'the second create is refused')
    await third
    t.equal(await read(store, 'chan/b/state'), 'first')
    t.equal(await read(store, 'first-extra'), 1)
    t.equal(await read(store, 'second-extra'), undefined, 'nothing of the refused write')
    t.equal(await read(store, 'unrelated'), 3, 'the other writes of the batch landed')
  })

  t.test(`${name}: a key deleted by an earlier write (same batch or before) may be created again`, async t => {
    const { store, cleanup } = await make()
    t.teardown(cleanup)
    await store.write([put('k', 'old'), put('j', 'old')])
    await store.write([del('k')])
    await store.write([create('k', 'new')])
    t.equal(await read(store, 'k'), 'new', 'after a delete in an earlier batch')
    const d = store.write([del('j')])
    const c = store.write([create('j', 'new')])
    await Promise.all([d, c])
    t.equal(await read(store, 'j'), 'new', 'after a delete ahead of it in the same batch')
  })
}
