// Group commit on a real LevelDB: concurrent writes share one synced batch, every batch is synced,
// nobody is acknowledged before its batch is durable, and a failed batch rejects all of its callers
// and stops the store until it is reopened.
import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GroupCommitter, StoreError, put, parseJsonValue, type StoreOp } from '../../../../host/store/index.ts'
import { LevelStore } from '../../../../host/store/node/level-store.ts'

interface BatchSpy { calls: Array<{ ops: number; sync: unknown }> }

/** A LevelStore whose underlying db.batch is observed: every call and the options it was given. */
async function spiedStore (teardown: (fn: () => Promise<void>) => void): Promise<{ store: LevelStore; spy: BatchSpy; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'group-commit-'))
  const store = await LevelStore.open(dir)
  const db = (store as unknown as { db: { batch: (ops: unknown[], o: { sync?: boolean }) => Promise<void> } }).db
  const spy: BatchSpy = { calls: [] }
  const original = db.batch.bind(db)
  db.batch = async (ops, o) => { spy.calls.push({ ops: ops.length, sync: o?.sync }); return original(ops, o) }
  teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) })
  return { store, spy, dir }
}

t.test('N writes submitted together cost one synced batch', async t => {
  const { store, spy } = await spiedStore(fn => t.teardown(fn))
  await Promise.all(Array.from({ length: 500 }, (_, i) => store.write([put(`a/${i}`, i), put(`b/${i}`, i)])))
  t.equal(spy.calls.length, 1, 'one db.batch for 500 writes')
  t.same(spy.calls[0], { ops: 1000, sync: true })
  t.match(store.stats, { batches: 1, writes: 500, ops: 1000, maxWritesPerBatch: 500 })
})

t.test('writes arriving while a batch is syncing leave together in the next one', async t => {
  const { store, spy } = await spiedStore(fn => t.teardown(fn))
  const first = store.write([put('first', 1)])
  await new Promise(resolve => setImmediate(resolve)) // the first batch is now on its way to disk
  const rest = Array.from({ length: 100 }, (_, i) => store.write([put(`r/${i}`, i)]))
  await Promise.all([first, ...rest])
  t.equal(spy.calls.length, 2)
  t.same(spy.calls.map(c => c.ops), [1, 100])
})

t.test('16 writers writing in a loop: far fewer syncs than writes, all of them synced', async t => {
  const { store, spy } = await spiedStore(fn => t.teardown(fn))
  const writers = 16
  const each = 25
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; i < each; i++) await store.write([put(`w/${w}/${i}`, i)])
  }))
  t.equal(store.stats.writes, writers * each)
  t.ok(spy.calls.length <= each + 1, `${spy.calls.length} batches for ${writers * each} writes`)
  t.ok(spy.calls.every(c => c.sync === true), 'every batch was written with sync: true')
  t.equal(spy.calls.length, store.stats.batches)
})

t.test('a caller is acknowledged only after the batch holding its write is durable', async t => {
  let release!: () => void
  const durable: string[] = []
  const acked: string[] = []
  const committer = new GroupCommitter(async ops => {
    await new Promise<void>(resolve => { release = resolve })
    for (const op of ops) durable.push(op.key)
  })
  const p = ['x', 'y'].map(k => committer.submit([{ type: 'del', key: k }]).then(() => { acked.push(k) }))
  await new Promise(resolve => setImmediate(resolve))
  await new Promise(resolve => setImmediate(resolve))
  t.same(acked, [], 'not acknowledged while the batch is in flight')
  release()
  await Promise.all(p)
  t.same(durable, ['x', 'y'])
  t.same(acked, ['x', 'y'])
})

t.test('a failed batch rejects every caller in it; queued and later writes are refused', async t => {
  let calls = 0
  let failNow!: (e: Error) => void
  const committer = new GroupCommitter((_ops: StoreOp[]) => {
    calls++
    if (calls === 1) return Promise.resolve()
    return new Promise<void>((_resolve, reject) => { failNow = reject })
  })
  const ok = await Promise.allSettled([committer.submit([{ type: 'del', key: 'a' }])])
  t.equal(ok[0]!.status, 'fulfilled')
  const batch = [1, 2, 3].map(i => committer.submit([{ type: 'del', key: `b${i}` }]))
  await new Promise(resolve => setImmediate(resolve)) // batch 2 in flight
  const queued = committer.submit([{ type: 'del', key: 'queued' }])
  failNow(new Error('disk on fire'))
  const results = await Promise.allSettled([...batch, queued])
  for (const r of results.slice(0, 3)) t.match(r, { status: 'rejected', reason: { name: 'StoreError', reason: 'write_failed' } })
  t.match(results[3], { status: 'rejected', reason: { reason: 'store_failed' } }, 'the queued write was never attempted and is refused')
  await t.rejects(committer.submit([{ type: 'del', key: 'later' }]), { name: 'StoreError', reason: 'store_failed' })
  t.equal(calls, 2, 'nothing was written after the failure')
  t.ok(committer.failed instanceof StoreError)
})

t.test('LevelDB failing under the store: all callers of the batch rejected, nothing of it on disk, reopen works', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'group-commit-fail-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const store = await LevelStore.open(dir)
  await store.write([put('before', 1)])
  // Make the next batch fail for real: the database underneath is closed behind the store's back.
  await (store as unknown as { db: { close: () => Promise<void> } }).db.close()
  const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => store.write([put(`x/${i}`, i)])))
  t.ok(
    results.every(r => r.status === 'rejected' && (r.reason as StoreError).reason === 'write_failed'), 'all 10 rejected with write_failed',
  )
  await t.rejects(store.write([put('after', 1)]), { name: 'StoreError', reason: 'store_failed' })
  await store.close()
  const reopened = await LevelStore.open(dir)
  t.teardown(() => reopened.close())
  t.equal(parseJsonValue((await reopened.get('before'))!), 1)
  t.equal(await reopened.get('x/0'), undefined)
  await reopened.write([put('after', 2)])
  t.equal(parseJsonValue((await reopened.get('after'))!), 2, 'a reopened store accepts writes again')
})

t.test('one database per data directory: a second open of the same dir fails', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'group-commit-lock-'))
  const store = await LevelStore.open(dir)
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) })
  await t.rejects(LevelStore.open(dir))
})

t.test('a batch is capped in operations, but one large write is never split', async t => {
  const spyOps: number[] = []
  const committer = new GroupCommitter(async ops => { spyOps.push(ops.length) }, 10)
  const big = Array.from({ length: 25 }, (_, i): StoreOp => ({ type: 'del', key: `big/${i}` }))
  await Promise.all([
    ...Array.from({ length: 6 }, (_, i) => committer.submit([{ type: 'del', key: `a/${i}` }, { type: 'del', key: `b/${i}` }])),
    committer.submit(big),
  ])
  t.same(spyOps, [10, 2, 25])
})
