// The failure/stall injection hook that scenario 1 (persist-before-send) uses: failed writes never
// reach the store, stalled writes reach it only when released and in order, and every write is logged.
import t from 'tap'
import { FaultyStore, MemoryStore, put, parseJsonValue } from '../../../hub/store/index.ts'

t.test('failNext(n): the next n writes reject and are not stored; later ones go through', async t => {
  const store = new FaultyStore(new MemoryStore())
  store.failNext(2)
  await t.rejects(store.write([put('a', 1)]), { name: 'StoreError', reason: 'write_failed' })
  await t.rejects(store.write([put('b', 1)]), { name: 'StoreError', reason: 'write_failed' })
  await store.write([put('c', 1)])
  t.equal(await store.get('a'), undefined)
  t.equal(await store.get('b'), undefined)
  t.equal(parseJsonValue((await store.get('c'))!), 1)
  t.same(store.log.map(e => e.outcome), ['failed', 'failed', 'committed'])
  t.equal(store.committedWrites, 1)
})

t.test('stall(): writes are held, not stored, until release(); then they land in order', async t => {
  const store = new FaultyStore(new MemoryStore())
  store.stall()
  let settled = 0
  const writes = [1, 2, 3].map(i => store.write([put('k', i)]).then(() => { settled++ }))
  await store.waitForStalled(3)
  t.equal(store.stalledCount, 3)
  t.equal(await store.get('k'), undefined, 'nothing stored while stalled')
  t.equal(settled, 0, 'nobody acknowledged while stalled')
  t.same(store.log.map(e => e.outcome), ['pending', 'pending', 'pending'])
  store.release()
  await Promise.all(writes)
  t.equal(parseJsonValue((await store.get('k'))!), 3, 'last write wins: applied in order')
  t.same(store.log.map(e => e.outcome), ['committed', 'committed', 'committed'])
})

t.test('onWrite sees each write at its index before it is passed on', async t => {
  const store = new FaultyStore(new MemoryStore())
  const seen: Array<[number, string]> = []
  store.onWrite = (ops, i) => { seen.push([i, ops[0]!.key]) }
  await store.write([put('x', 1)])
  await store.write([put('y', 1)])
  t.same(seen, [[0, 'x'], [1, 'y']])
})
