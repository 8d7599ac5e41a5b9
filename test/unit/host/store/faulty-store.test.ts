// The failure/stall injection hook that scenario 1 (persist-before-send) uses: failed writes never
// reach the store, stalled writes reach it only when released and in order, and every write is logged.
import t from 'tap'
import { FaultyStore } from '../../../fixtures/faulty-store.ts'
import { MemoryStore, put, parseJsonValue } from '../../../../host/store/index.ts'

t.test('failNext(): the next write rejects and is not stored; as in a real store, every later write is refused too', async t => {
  const store = new FaultyStore(new MemoryStore())
  await store.write([put('a', 1)])
  store.failNext()
  await t.rejects(store.write([put('b', 1)]), { name: 'StoreError', reason: 'write_failed' })
  await t.rejects(store.write([put('c', 1)]), { name: 'StoreError', reason: 'store_failed' })
  t.equal(parseJsonValue((await store.get('a'))!), 1)
  t.equal(await store.get('b'), undefined)
  t.equal(await store.get('c'), undefined, 'a write issued after the failed one never lands')
  t.same(store.log.map(e => e.outcome), ['committed', 'failed', 'failed'])
  t.equal(store.committedWrites, 1)
  const reopened = new FaultyStore(store.inner)
  await reopened.write([put('d', 1)])
  t.equal(parseJsonValue((await reopened.get('d'))!), 1, 'a new FaultyStore over the same inner store (a reopen) writes again')
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
