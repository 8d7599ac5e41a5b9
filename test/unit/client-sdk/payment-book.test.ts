// The SDK's PaymentBook writes its records in the channel's own persist batches (carry()) instead of
// fsyncs of their own. These tests pin what makes that safe: a record is durable no later than the
// batch that needs it, a "crash" (a new book over what reached the store) never sees a payment as
// succeeded or an invoice as paid before the batch that proves it, and outcomes wait for durability.
import t from 'tap'
import { sha256 } from '@noble/hashes/sha2.js'
import { MemoryStore, put } from '../../../host/store/index.ts'
import { FaultyStore } from '../../fixtures/faulty-store.ts'
import { nodeIdOf } from '../../../protocol/auth/signature.ts'
import { bytesToHex, hexToBytes, type Msat, type NodeId } from '../../../protocol/types.ts'
import type { Htlc, MonitorUpdate } from '../../../protocol/channel/index.ts'
import { PaymentBook, type PayResult } from '../../../client-sdk/payments.ts'
import { LiveRecords } from '../../../client-sdk/live-records.ts'
import { type PaymentRecord } from '../../../client-sdk/records.ts'
import { keys } from '../../../host/store/keys.ts'

const payerKey = hexToBytes('11'.repeat(32))
const payeeKey = hexToBytes('22'.repeat(32))
const NOW = 1_700_000_000

function pending (preimage: Uint8Array, extra: Partial<PaymentRecord> = {}): PaymentRecord {
  return {
    paymentHash: bytesToHex(sha256(preimage)), invoice: 'lnbcrt1…', payee: nodeIdOf(payeeKey), amountMsat: 1000, offeredMsat: 1001,
    status: 'pending', createdAt: NOW, ...extra
  }
}

/** A channel persist batch as client-sdk/channels.ts writes it: its state plus what the book carries. */
async function channelBatch (store: FaultyStore, book: PaymentBook, channelId: string, monitor: MonitorUpdate[] = []): Promise<void> {
  const carried = book.carry(channelId, monitor)
  try {
    await store.write([put(`chan/${channelId}`, { n: Math.random() }), ...(carried?.ops ?? [])])
  } catch (e) {
    carried?.failed(e)
    throw e
  }
  carried?.durable()
}

const settled = (p: Promise<unknown>): Promise<boolean> => Promise.race([
  p.then(() => true, () => true), new Promise<boolean>(resolve => setImmediate(() => setImmediate(() => resolve(false)))),
])

t.test('a begun payment rides on its channel\'s next batch; before that batch nothing is on disk', async t => {
  const inner = new MemoryStore()
  const store = new FaultyStore(inner)
  const book = new PaymentBook(store, payerKey, nodeIdOf(payerKey))
  const rec = pending(hexToBytes('01'.repeat(32)), { idempotencyKey: 'order-1' })
  t.equal(book.begin(rec, 'chA'), undefined)
  t.equal(store.log.length, 0, 'begin() writes nothing by itself')
  t.same(await book.payment(rec.paymentHash), rec, 'read from memory')
  t.same(await book.paymentByKey('order-1'), rec)
  t.same(book.begin(pending(hexToBytes('01'.repeat(32))), 'chA'), rec, 'the same invoice again: the payment already begun')
  t.same(book.begin(pending(hexToBytes('02'.repeat(32)), { idempotencyKey: 'order-1' }), 'chA'), rec, 'the same key again: that payment')

  await channelBatch(store, book, 'chB')
  t.same(store.log[0]!.ops.map(o => o.key), ['chan/chB'], 'another channel\'s batch carries nothing for it')
  const crashed = new PaymentBook(inner, payerKey, nodeIdOf(payerKey))
  t.equal(await crashed.payment(rec.paymentHash), undefined, 'a crash now: no record, and no signed HTLC either (it needs chA\'s batch)')

  await channelBatch(store, book, 'chA')
  t.same(
    store.log[1]!.ops.map(o => o.key),
    ['chan/chA', keys.payment(rec.paymentHash), keys.paymentByTime(NOW, rec.paymentHash), keys.idempotency('order-1')],
    'one atomic batch: state, payment, its time index, key',
  )
  const restarted = new PaymentBook(inner, payerKey, nodeIdOf(payerKey))
  t.same(await restarted.paymentByKey('order-1'), rec, 'after that batch a restart finds the pending payment')
  t.same((await restarted.pending()).map(r => r.paymentHash), [rec.paymentHash])
  await channelBatch(store, book, 'chA')
  t.same(store.log[2]!.ops.map(o => o.key), ['chan/chA'], 'carried once')
})

t.test('the batch storing the preimage settles the payment; pay() hears of it only once that batch is durable', async t => {
  const inner = new MemoryStore()
  const store = new FaultyStore(inner)
  const sent: PaymentRecord[] = []
  const book = new PaymentBook(store, payerKey, nodeIdOf(payerKey), r => sent.push(r))
  const preimage = hexToBytes('03'.repeat(32))
  const rec = pending(preimage, { idempotencyKey: 'k3' })
  book.begin(rec, 'chA')
  await channelBatch(store, book, 'chA')
  let result: PayResult | undefined
  void book.wait(rec.paymentHash).then(r => { result = r })

  // A wrong preimage for the hash settles nothing.
  await channelBatch(store, book, 'chA', [{ kind: 'preimage', paymentHash: rec.paymentHash, preimage: '04'.repeat(32) } as MonitorUpdate])
  t.equal((await book.payment(rec.paymentHash))?.status, 'pending')

  store.stall()
  const batch = channelBatch(
    store, book, 'chA', [{ kind: 'preimage', paymentHash: rec.paymentHash, preimage: bytesToHex(preimage) } as MonitorUpdate],
  )
  await store.waitForStalled(1)
  t.same(
    store.log.at(-1)!.ops.map(o => o.key),
    ['chan/chA', keys.payment(rec.paymentHash), keys.paymentByTime(NOW, rec.paymentHash), keys.idempotency('k3')],
    'the success rides with the preimage',
  )
  const again = book.outcomeOf((await book.paymentByKey('k3'))!)
  t.equal(await settled(again), false, 'a second pay() with the key waits while the batch is not durable')
  t.equal(result, undefined, 'the waiter is not told before the batch is durable')
  t.equal(sent.length, 0)
  t.equal(
    (await new PaymentBook(inner, payerKey, nodeIdOf(payerKey)).payment(rec.paymentHash))?.status, 'pending',
    'a crash now: still pending (the preimage is not stored either)',
  )
  store.release()
  await batch
  t.same(result, { ok: true, paymentHash: rec.paymentHash, preimage: bytesToHex(preimage), amountMsat: 1000, feeMsat: 1 })
  t.same(await again, result)
  t.equal(sent.length, 1, 'reported once')
  t.equal(
    await book.settle(rec.paymentHash, { preimage: bytesToHex(preimage) }), undefined,
    'the htlc_fulfilled event after it settles nothing more',
  )
  t.equal(sent.length, 1)
  t.equal((await new PaymentBook(inner, payerKey, nodeIdOf(payerKey)).payment(rec.paymentHash))?.status, 'succeeded')
})

t.test('a failure is written on its own, before it is reported, and supersedes a record waiting for its carrier', async t => {
  const inner = new MemoryStore()
  const store = new FaultyStore(inner)
  const failed: PaymentRecord[] = []
  const book = new PaymentBook(store, payerKey, nodeIdOf(payerKey), r => failed.push(r))
  const rec = pending(hexToBytes('05'.repeat(32)), { idempotencyKey: 'k5' })
  book.begin(rec, 'chA')
  const waiter = book.wait(rec.paymentHash)
  store.stall()
  const settling = book.settle(rec.paymentHash, { reason: 'insufficient_balance', detail: 'refused' })
  await store.waitForStalled(1)
  t.equal(await settled(waiter), false, 'not reported before the failure is durable')
  t.equal(failed.length, 0)
  store.release()
  t.equal((await settling)?.status, 'failed')
  t.same(await waiter, { ok: false, paymentHash: rec.paymentHash, reason: 'insufficient_balance', detail: 'refused' })
  t.equal(failed.length, 1)
  await channelBatch(store, book, 'chA')
  t.same(store.log.at(-1)!.ops.map(o => o.key), ['chan/chA'], 'the carrier no longer writes the old pending value')
  const restarted = new PaymentBook(inner, payerKey, nodeIdOf(payerKey))
  t.equal((await restarted.paymentByKey('k5'))?.status, 'failed', 'a restart sees the failure: it will not offer the payment again')
  t.same(await restarted.pending(), [])
})

t.test('pending() includes payments begun in this run whose record is not durable yet', async t => {
  const store = new MemoryStore()
  const book = new PaymentBook(store, payerKey, nodeIdOf(payerKey))
  const a = pending(hexToBytes('06'.repeat(32)))
  const b = pending(hexToBytes('07'.repeat(32)))
  book.begin(a, 'chA')
  await channelBatch(new FaultyStore(store), book, 'chA')
  book.begin(b, 'chA')
  t.same((await book.pending()).map(r => r.paymentHash).sort(), [a.paymentHash, b.paymentHash].sort())
})

t.test('the payee\'s "paid by" mark rides on the fulfil\'s batch; a second HTLC is refused at once', async t => {
  const inner = new MemoryStore()
  const store = new FaultyStore(inner)
  const payee = nodeIdOf(payeeKey)
  const book = new PaymentBook(store, payeeKey, payee)
  const inv = await book.createInvoice(5000, 'memo', 600, 18, NOW)
  t.equal(store.log.length, 1, 'the invoice itself is durable before it is returned')
  const htlc = (id: number): Htlc => ({
    offerer: 'remote', id, amountMsat: 5000 as Msat, paymentHash: inv.paymentHash, cltvExpiry: 500, recipient: payee as NodeId,
  })
  const d = await book.decideIncoming('chA', htlc(0), NOW)
  t.match(d, { action: 'fulfill', preimage: inv.preimage, firstTime: true })
  t.equal(store.log.length, 1, 'the decision writes nothing by itself')
  t.match(
    await book.decideIncoming('chB', htlc(0), NOW), { action: 'fail', detail: 'invoice already paid' },
    'another HTLC for the paid invoice: refused before the mark is durable',
  )
  t.equal(
    (await new PaymentBook(inner, payeeKey, payee).invoice(inv.paymentHash))?.paidBy, undefined,
    'a crash now: unpaid (the fulfil has not left either)',
  )
  await channelBatch(store, book, 'chA', [{ kind: 'preimage', paymentHash: inv.paymentHash, preimage: inv.preimage } as MonitorUpdate])
  t.same(
    store.log.at(-1)!.ops.map(o => o.key), ['chan/chA', keys.invoice(inv.paymentHash)],
    'the mark is in the batch storing the fulfil\'s preimage',
  )
  await book.invoiceDurable(inv.paymentHash)
  t.equal(store.log.length, 2, 'nothing more to write')
  const restarted = new PaymentBook(inner, payeeKey, payee)
  t.match(
    await restarted.decideIncoming('chA', htlc(0), NOW), { action: 'fulfill', firstTime: false },
    'after a restart the same HTLC is fulfilled again, reported once',
  )
  t.match(await restarted.decideIncoming('chA', htlc(1), NOW), { action: 'fail' })
})

t.test('invoiceDurable writes the mark itself when no batch of its channel came (the fulfil was refused)', async t => {
  const inner = new MemoryStore()
  const store = new FaultyStore(inner)
  const payee = nodeIdOf(payeeKey)
  const book = new PaymentBook(store, payeeKey, payee)
  const inv = await book.createInvoice(5000, 'memo', 600, 18, NOW)
  await book.decideIncoming(
    'chA',
    { offerer: 'remote', id: 3, amountMsat: 5000 as Msat, paymentHash: inv.paymentHash, cltvExpiry: 500, recipient: payee as NodeId }, NOW,
  )
  await book.invoiceDurable(inv.paymentHash)
  t.equal((await new PaymentBook(inner, payeeKey, payee).invoice(inv.paymentHash))?.paidBy, 'chA:3')
  await channelBatch(store, book, 'chA')
  t.same(store.log.at(-1)!.ops.map(o => o.key), ['chan/chA'], 'not written twice')
})

t.test('a failed batch: waiters for the records it carried are told, nothing is reported as done', async t => {
  const store = new FaultyStore(new MemoryStore())
  const payee = nodeIdOf(payeeKey)
  const book = new PaymentBook(store, payeeKey, payee)
  const inv = await book.createInvoice(5000, 'memo', 600, 18, NOW)
  await book.decideIncoming(
    'chA',
    { offerer: 'remote', id: 0, amountMsat: 5000 as Msat, paymentHash: inv.paymentHash, cltvExpiry: 500, recipient: payee as NodeId }, NOW,
  )
  store.failNext()
  const batch = channelBatch(store, book, 'chA')
  const durable = book.invoiceDurable(inv.paymentHash)
  await t.rejects(batch)
  await t.rejects(durable, 'the mark was in the failed batch: its waiter is told')
  await t.rejects(book.invoiceDurable(inv.paymentHash), 'and stays told: the store refuses every write from now on')
})

t.test('LiveRecords: over its cap it drops written entries only, oldest first', async t => {
  const dropped: string[] = []
  const live = new LiveRecords<{ n: number }>(id => `x/${id}`, () => true, 2, () => [], id => dropped.push(id))
  live.set('a', { n: 1 }, 'ch')
  live.remember('b', { n: 2 })
  live.remember('c', { n: 3 })
  t.same(dropped, ['b'], 'a waits for its carrier: kept')
  t.ok(live.has('a') && live.has('c'))
  const { ids, ops } = live.take('ch')
  t.same(ids, ['a'])
  t.same(ops.map(o => o.key), ['x/a'])
  live.remember('d', { n: 4 })
  t.ok(live.has('a'), 'a is being written: kept')
  t.same(dropped, ['b', 'c'])
  live.written(ids)
  live.remember('e', { n: 5 })
  t.same(dropped, ['b', 'c', 'a'], 'written: dropped when the cap needs it')
})

t.test('flush() (at stop) writes what still waits for a carrier, in one write', async t => {
  const inner = new MemoryStore()
  const store = new FaultyStore(inner)
  const book = new PaymentBook(store, payerKey, nodeIdOf(payerKey))
  const a = pending(hexToBytes('08'.repeat(32)), { idempotencyKey: 'k8' })
  const b = pending(hexToBytes('09'.repeat(32)))
  book.begin(a, 'chA')
  book.begin(b, 'chB')
  await book.flush()
  t.equal(store.log.length, 1)
  const restarted = new PaymentBook(inner, payerKey, nodeIdOf(payerKey))
  t.same(
    (await restarted.pending()).map(r => r.paymentHash).sort(), [a.paymentHash, b.paymentHash].sort(),
    'a restart offers them again (recoverPayments)',
  )
  await channelBatch(store, book, 'chA')
  t.same(store.log.at(-1)!.ops.map(o => o.key), ['chan/chA'], 'nothing left for the carrier')
  await book.flush()
  t.equal(store.log.length, 2, 'nothing to flush: no write')
})
