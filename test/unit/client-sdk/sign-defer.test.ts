// The SDK signs a commitment at once while its store is idle (so the signature's write joins this
// turn's group-commit batch) and after the turn while a batch from an earlier turn is on its way
// (so every message of the turn goes into one commitment_signed).
import t from 'tap'
import { SignDefer } from '../../../client-sdk/sign-defer.ts'

/** Which ran first: the deferred fn, or the group-commit drain the step's own write scheduled
 *  (a setImmediate queued before the driver calls defer). */
function order (d: SignDefer): Promise<string[]> {
  const seen: string[] = []
  return new Promise(resolve => {
    setImmediate(() => { seen.push('batch'); setImmediate(() => resolve(seen)) })
    d.defer(() => { seen.push('sign') })
  })
}

const pendingWrite = (): { promise: Promise<void>; done: () => void } => {
  let done!: () => void
  const promise = new Promise<void>(resolve => { done = resolve })
  return { promise, done }
}

t.test('store idle: sign at once', async t => {
  t.same(await order(new SignDefer()), ['sign', 'batch'])
})

t.test('only writes handed in this turn: sign at once (its write joins their batch)', async t => {
  const d = new SignDefer()
  const w = pendingWrite()
  const writing = d.write(() => w.promise)
  t.same(await order(d).then(o => o), ['sign', 'batch'])
  w.done()
  await writing
})

t.test('a write from an earlier turn in flight: sign after the turn', async t => {
  const d = new SignDefer()
  const w = pendingWrite()
  const writing = d.write(() => w.promise)
  await new Promise(resolve => setImmediate(resolve))
  t.same(await order(d), ['batch', 'sign'])
  w.done()
  await writing
  t.same(await order(d), ['sign', 'batch'], 'durable: idle again')
})

t.test('a failed write still leaves the count', async t => {
  const d = new SignDefer()
  await t.rejects(d.write(async () => { throw new Error('disk') }))
  await new Promise(resolve => setImmediate(resolve))
  t.same(await order(d), ['sign', 'batch'])
})
