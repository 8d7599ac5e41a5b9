// ChannelDriver pipelining: the next inputs are stepped while a write is in flight and their
// writes are handed to the host at once; acknowledgements come strictly in write order; no send leaves
// before the write it depends on is durable; a failed write stops everything behind it. And autoSign
// makes one commitment_signed per burst of inputs, bounded by maxUnsignedInputs.
import t from 'tap'
import { DriverPair } from './fixtures/driver-pair.ts'
import { MemoryStore, type IterateOptions, type Store, type StoreOp } from '../../../../host/store/index.ts'
import type { Msat } from '../../../../protocol/types.ts'

/** A store whose writes complete only when the test says so (or at once while `auto`). */
class ManualStore implements Store {
  auto = true
  readonly inner = new MemoryStore()
  readonly held: Array<{ ops: readonly StoreOp[]; resolve: () => void; reject: (e: Error) => void }> = []
  write (ops: readonly StoreOp[]): Promise<void> {
    if (this.auto) return this.inner.write(ops)
    return new Promise((resolve, reject) => {
      this.held.push({ ops, resolve: () => { void this.inner.write(ops).then(resolve) }, reject })
    })
  }
  get (key: string): Promise<Uint8Array | undefined> { return this.inner.get(key) }
  iterate (prefix: string, opts?: IterateOptions): AsyncIterable<readonly [string, Uint8Array]> { return this.inner.iterate(prefix, opts) }
  close (): Promise<void> { return this.inner.close() }
}

const turns = async (n: number): Promise<void> => { for (let i = 0; i < n; i++) await new Promise<void>(resolve => setImmediate(resolve)) }
const count = (trace: string[], entry: string): number => trace.filter(e => e === entry).length

/** A channel A → B, then A offers an HTLC while B's writes are held: B receives commitment_signed
 *  (write N: local_commitment → revoke_and_ack) and signs A's next commitment (write N+1:
 *  remote_commitment → commitment_signed) without waiting for N. */
async function twoWritesInFlight (): Promise<{ p: DriverPair; store: ManualStore; n: number; from: number }> {
  const store = new ManualStore()
  const p = new DriverPair(undefined, store)
  await p.open()
  store.auto = false
  const from = p.trace.length
  const n = p.b.driver!.state.writes.issued + 1
  const inv = DriverPair.invoice()
  await p.a.driver!.command({ type: 'add_htlc', amountMsat: 50_000 as Msat, paymentHash: inv.hash, cltvExpiry: 200, recipient: p.nodeB })
  await p.until(() => store.held.length === 2)
  return { p, store, n, from }
}

t.test('write N+1 is issued while write N is in flight; acks in order; each send only after its write', async t => {
  const { p, store, n, from } = await twoWritesInFlight()
  const tr = (): string[] => p.trace.slice(from)
  t.ok(tr().includes(`B:persist:${n}:begin`) && tr().includes(`B:persist:${n + 1}:begin`), `B handed writes ${n} and ${n + 1} to the host`)
  t.notOk(tr().includes(`B:persist:${n}:done`), `... before write ${n} was durable`)
  t.equal(p.b.driver!.writesInFlight, 2, 'two writes in flight')
  t.equal(count(tr(), 'B:send:revoke_and_ack') + count(tr(), 'B:send:commitment_signed'), 0, 'nothing that depends on them left')

  // The later write completes first: it must not be acknowledged before the earlier one.
  store.held[1]!.resolve()
  await turns(20)
  t.equal(p.b.driver!.state.writes.acked, n - 1, `write ${n + 1} durable first: not acknowledged while ${n} is not`)
  t.equal(count(tr(), 'B:send:revoke_and_ack') + count(tr(), 'B:send:commitment_signed'), 0, 'and nothing was sent')

  store.held[0]!.resolve()
  await p.until(() => p.b.driver!.state.writes.acked === n + 1)
  const done = tr().indexOf(`B:persist:${n}:done`)
  const revoke = tr().indexOf('B:send:revoke_and_ack')
  const signed = tr().indexOf('B:send:commitment_signed')
  t.ok(done >= 0 && done < revoke, `revoke_and_ack (${revoke}) after write ${n} is durable (${done})`)
  t.ok(revoke < signed, `then commitment_signed (${signed}), released by write ${n + 1}, in order`)

  // Let the payment run to completion with writes completing again.
  store.auto = true
  for (const h of store.held.splice(0)) h.resolve()
  await p.until(() => p.b.events.some(e => e.type === 'htlc_received'))
  await p.until(() => store.held.length === 0 && p.b.driver!.writesInFlight === 0 && p.a.driver!.writesInFlight === 0)
  await Promise.all([p.a.driver!.idle(), p.b.driver!.idle()])
  t.equal(p.a.driver!.state.localCommit!.spec.htlcs.length, 1, 'A holds the HTLC in its commitment')
  t.equal(p.b.driver!.state.localCommit!.spec.htlcs.length, 1, 'so does B')
  t.same(p.violations, [], 'no commitment_signed / revoke_and_ack ahead of its write')
})

t.test('a failed write N stops the driver: nothing after it is sent, even once N+1 is durable', async t => {
  const { p, store, n, from } = await twoWritesInFlight()
  store.held[1]!.resolve()
  store.held[0]!.reject(new Error('disk on fire'))
  await p.until(() => p.b.driver!.stoppedBy !== undefined)
  await turns(20)
  const tr = p.trace.slice(from)
  t.equal(count(tr, 'B:stopped'), 1, 'the host was told once')
  t.equal(
    count(tr, 'B:send:revoke_and_ack') + count(tr, 'B:send:commitment_signed'), 0, 'neither the revoke nor the commitment_signed left',
  )
  t.equal(p.b.driver!.state.writes.acked, n - 1, 'no write acknowledged after the failure')
  t.equal(await p.b.driver!.command({ type: 'sign' }), 'stopped', 'a later input is refused')
  t.notOk(p.b.events.some(e => e.type === 'htlc_received'), 'nothing emitted')
  t.equal(count(p.trace, 'B:stopped'), 1, 'still told only once')
})

t.test('autoSign: the inputs of one burst go into one commitment_signed', async t => {
  const p = new DriverPair()
  await p.open()
  const before = count(p.trace, 'A:send:commitment_signed')
  const adds = Array.from({ length: 5 }, () => {
    const inv = DriverPair.invoice()
    return p.a.driver!.command({ type: 'add_htlc', amountMsat: 20_000 as Msat, paymentHash: inv.hash, cltvExpiry: 200, recipient: p.nodeB })
  })
  t.same(await Promise.all(adds), ['done', 'done', 'done', 'done', 'done'], 'every add resolves once its commitment_signed is out')
  t.equal(count(p.trace, 'A:send:commitment_signed') - before, 1, 'five adds, one commitment_signed')
  await p.until(() => p.b.events.filter(e => e.type === 'htlc_received').length === 5)
  t.equal(p.b.driver!.state.localCommit!.spec.htlcs.length, 5, 'B committed all five')
  t.same(p.violations, [], 'no commitment_signed / revoke_and_ack ahead of its write')
})

t.test('autoSign with a defer that never runs: maxUnsignedInputs still bounds the unsigned inputs', async t => {
  const deferred: Array<() => void> = []
  const p = new DriverPair(undefined, undefined, { options: { maxUnsignedInputs: 3 }, defer: fn => { deferred.push(fn) } })
  // Opening needs no signature from autoSign (funding signatures are part of the open flow).
  await p.open()
  const before = count(p.trace, 'A:send:commitment_signed')
  for (let i = 0; i < 3; i++) {
    const inv = DriverPair.invoice()
    void p.a.driver!.command({ type: 'add_htlc', amountMsat: 20_000 as Msat, paymentHash: inv.hash, cltvExpiry: 200, recipient: p.nodeB })
  }
  await p.until(() => count(p.trace, 'A:send:commitment_signed') - before === 1)
  t.ok(deferred.length > 0, 'a sign was deferred')
  t.equal(p.a.driver!.state.localChanges.signed.length, 3, 'the third unsigned input signed all three at once')
})

t.test('the scheduled sign honours ports.defer: nothing is signed until the host runs it', async t => {
  const deferred: Array<() => void> = []
  const p = new DriverPair(undefined, undefined, { defer: fn => { deferred.push(fn) } })
  await p.open()
  const before = count(p.trace, 'A:send:commitment_signed')
  const inv = DriverPair.invoice()
  const added = p.a.driver!.command({
    type: 'add_htlc', amountMsat: 20_000 as Msat, paymentHash: inv.hash, cltvExpiry: 200, recipient: p.nodeB,
  })
  await turns(5)
  t.equal(count(p.trace, 'A:send:commitment_signed') - before, 0, 'not signed yet')
  t.equal(p.a.driver!.pending, 1, 'the add waits for its commitment_signed')
  for (const fn of deferred.splice(0)) fn()
  t.equal(await added, 'done')
  t.equal(count(p.trace, 'A:send:commitment_signed') - before, 1, 'signed once the deferred function ran')
})
