// Events an application acts on are delivered at least once, across restarts, with a stable id
// (client-sdk/event-outbox.ts): each is stored in the same batch as the change that causes it,
// delivered once that batch is durable, and kept until every listener has taken it (returned, or
// resolved the promise it returned). The SDK runs in-process against a hub-side channel driver
// (fixtures/fake-hub.ts); a restart is a new client over the same store.
import t from 'tap'
import type * as Tap from 'tap'
import { keys } from '../../../host/store/keys.ts'
import type { HubClientEvents } from '../../../client-sdk/index.ts'
import { MemoryStore } from '../../../host/store/index.ts'
import { EventOutbox } from '../../../client-sdk/event-outbox.ts'
import { FakeHub, until } from './fixtures/fake-hub.ts'

type Received = HubClientEvents['payment_received'][0]

async function payee (t: Tap.Test, eventRetryMs?: number): Promise<{ hub: FakeHub } & Awaited<ReturnType<FakeHub['client']>>> {
  const hub = new FakeHub()
  const c = await hub.client({ payTimeoutMs: 5_000, ...(eventRetryMs !== undefined ? { eventRetryMs } : {}) })
  await hub.openChannel(c.client, { capacitySat: 1_000_000, pushMsat: 0 })
  t.teardown(() => hub.cleanup())
  return { hub, ...c }
}

const evtKeys = async (inner: MemoryStore): Promise<string[]> => {
  const out: string[] = []
  for await (const [k] of inner.iterate(keys.eventPrefix)) out.push(k)
  return out
}

t.test('payment_received is stored with the invoice\'s paid mark, and delivered again after a restart until a listener takes it (same id)', async t => {
  const { hub, client, store, inner, nodeKey } = await payee(t)
  const inv = await client.createInvoice({ amountMsat: 50_000, memo: 'commission' })
  const first: Received[] = []
  client.on('payment_received', e => { first.push(e); throw new Error('the application\'s database is down') })
  await hub.offer({ amountMsat: 50_000, paymentHash: inv.paymentHash, recipient: client.nodeId })
  await until(() => hub.events.some(e => e.type === 'htlc_fulfilled'), 'the hub has the preimage')
  await until(() => first.length === 1, 'delivered to the listener')
  const batch = store.log.find(w => w.ops.some(o => o.key === keys.invoice(inv.paymentHash)) && w.ops.some(o => o.key.startsWith('chan/')))
  t.ok(batch, 'the paid mark rode on a channel batch')
  t.ok(batch?.ops.some(o => o.key === keys.event(`payment_received:${inv.paymentHash}`)), 'the event is in that same batch')
  t.match(first[0], { id: `payment_received:${inv.paymentHash}`, paymentHash: inv.paymentHash, amountMsat: 50_000, memo: 'commission' })
  await client.stop()

  const second: Received[] = []
  const { client: again } = await hub.client({ inner, nodeKey, beforeConnect: c => c.on('payment_received', e => { second.push(e) }) })
  t.teardown(() => again.stop())
  await until(() => second.length === 1, 'delivered again after the restart')
  t.same(second[0], first[0], 'the same event, with the same id')
  await until(async () => (await evtKeys(inner)).length === 0, 'the acknowledgement is written')
  t.same((await again.listInvoices({ status: 'paid' })).items.map(i => i.paymentHash), [inv.paymentHash], 'the invoice is listed as paid')
})

t.test('a listener that rejects gets the event again (same id) until it resolves; then it is acknowledged and not delivered after a restart', async t => {
  const { hub, client, inner, nodeKey } = await payee(t, 50)
  const inv = await client.createInvoice({ amountMsat: 70_000, memo: 'retry me' })
  const seen: Received[] = []
  client.on('payment_received', async e => {
    seen.push(e)
    if (seen.length < 3) throw new Error('not yet')
  })
  await hub.offer({ amountMsat: 70_000, paymentHash: inv.paymentHash, recipient: client.nodeId })
  await until(() => seen.length === 3, 'delivered three times', 60_000)
  t.same(new Set(seen.map(e => e.id)), new Set([`payment_received:${inv.paymentHash}`]), 'one id throughout')
  await until(async () => (await evtKeys(inner)).length === 0, 'acknowledged once taken')
  await client.stop()
  let after = 0
  const { client: again } = await hub.client({ inner, nodeKey, beforeConnect: c => c.on('payment_received', () => { after++ }) })
  await again.stop()
  t.equal(after, 0, 'a taken event is not delivered again')
})

t.test('payment_sent and payment_failed carry the payment\'s id and key, are stored with its final record, and are delivered once', async t => {
  const failing = new Set<string>()
  const hub = new FakeHub({ decide: h => failing.has(h.paymentHash) ? { fail: 'recipient_offline' } : 'fulfill' })
  const { client, store } = await hub.client({ payTimeoutMs: 5_000 })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 400_000_000 })
  const sent: Array<HubClientEvents['payment_sent'][0]> = []
  const failed: Array<HubClientEvents['payment_failed'][0]> = []
  client.on('payment_sent', e => { sent.push(e) })
  client.on('payment_failed', e => { failed.push(e) })
  const a = hub.invoice(10_000_000, 'ok')
  const b = hub.invoice(20_000_000, 'fails')
  failing.add(b.paymentHash)
  const ra = await client.pay(a.invoice, { idempotencyKey: 'ka', reference: 'order a' })
  const rb = await client.pay(b.invoice, { idempotencyKey: 'kb' })
  t.ok(ra.ok)
  t.match(rb, { ok: false, reason: 'recipient_offline' })
  await until(() => sent.length === 1 && failed.length === 1, 'both events')
  t.match(sent[0], {
    id: `payment_sent:${a.paymentHash}`, paymentHash: a.paymentHash, preimage: a.preimage, amountMsat: 10_000_000, idempotencyKey: 'ka',
    reference: 'order a',
  })
  t.match(
    failed[0], { id: `payment_failed:${b.paymentHash}`, paymentHash: b.paymentHash, reason: 'recipient_offline', idempotencyKey: 'kb' },
  )
  const withRecord = (hash: string, type: string): boolean => store.log.some(
    w => w.ops.some(o => o.key === keys.payment(hash)) && w.ops.some(o => o.key === keys.event(`${type}:${hash}`))
  )
  t.ok(withRecord(a.paymentHash, 'payment_sent'), 'payment_sent is in the batch that stores the success')
  t.ok(withRecord(b.paymentHash, 'payment_failed'), 'payment_failed is in the write that stores the failure')
  // A refusal before the payment began records nothing and emits nothing.
  t.match(await client.pay('lnbcrt1nonsense'), { ok: false, reason: 'invalid_invoice' })
  await client.pay(a.invoice, { idempotencyKey: 'ka' })
  await new Promise(resolve => setTimeout(resolve, 50))
  t.equal(sent.length + failed.length, 2, 'a retry or a refused pay() emits nothing more')
})

t.test('listInvoices / listPayments: status, paged by time with a cursor, since; bad arguments name the field', async t => {
  const failing = new Set<string>()
  const hub = new FakeHub({ decide: h => failing.has(h.paymentHash) ? { fail: 'temporary_channel_failure' } : 'fulfill' })
  const { client } = await hub.client({ payTimeoutMs: 5_000 })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 400_000_000 })
  const amounts = [1_000_000, 2_000_000, 3_000_000, 4_000_000, 5_000_000]
  const invoices = amounts.map(a => hub.invoice(a))
  failing.add(invoices[2]!.paymentHash)
  for (const [i, inv] of invoices.entries()) await client.pay(inv.invoice, { idempotencyKey: `list-${i}` })
  const all = await client.listPayments({})
  t.equal(all.items.length, 5)
  t.equal(all.nextCursor, null, 'one page holds them all')
  t.same(all.items.map(p => p.status).sort(), ['failed', 'succeeded', 'succeeded', 'succeeded', 'succeeded'])
  t.match(
    all.items.find(p => p.paymentHash === invoices[2]!.paymentHash),
    { status: 'failed', failure: { reason: 'temporary_channel_failure' }, idempotencyKey: 'list-2' },
  )
  t.match(
    all.items.find(p => p.paymentHash === invoices[0]!.paymentHash),
    { status: 'succeeded', preimage: invoices[0]!.preimage, amountMsat: 1_000_000, feeMsat: 1_100 },
  )
  t.same((await client.listPayments({ status: 'failed' })).items.map(p => p.paymentHash), [invoices[2]!.paymentHash], 'by status')
  // Pages of two cover every payment once, in the order of the full list.
  const paged: string[] = []
  let cursor: string | undefined
  let pages = 0
  do {
    const p = await client.listPayments({ limit: 2, ...(cursor !== undefined ? { cursor } : {}) })
    paged.push(...p.items.map(i => i.paymentHash))
    cursor = p.nextCursor ?? undefined
    pages++
  } while (cursor !== undefined)
  t.same(paged, all.items.map(p => p.paymentHash), 'pages of two: every payment once, in order')
  t.ok(pages >= 3)
  const created = all.items[0]!.createdAt
  t.equal((await client.listPayments({ since: created + 3_600 })).items.length, 0, 'none since an hour later')
  t.equal((await client.listPayments({ since: created })).items.length, 5, 'all since the first one\'s second')

  const mine = await client.createInvoice({ amountMsat: 9_000, memo: 'unpaid one' })
  const cancelled = await client.createInvoice({ amountMsat: 9_000, memo: 'cancelled one' })
  await client.cancelInvoice(cancelled.paymentHash)
  const invs = await client.listInvoices({})
  // Both were created in the same second or one apart: within a second, the order is the hash's.
  t.same(
    new Map(invs.items.map(i => [i.paymentHash, i.status])), new Map([[mine.paymentHash, 'unpaid'], [cancelled.paymentHash, 'cancelled']]),
  )
  t.ok(invs.items[0]!.createdAt <= invs.items[1]!.createdAt, 'oldest first')
  t.notOk(invs.items.some(i => 'preimage' in i), 'the list never shows a preimage')

  await t.rejects(client.listPayments({ limit: 0 }), /listPayments\.limit/)
  await t.rejects(client.listPayments({ limit: 1_001 }), /listPayments\.limit/)
  await t.rejects(client.listInvoices({ cursor: 'nope' }), /listInvoices\.cursor: must be the nextCursor of a previous page/)
  await t.rejects(client.listInvoices({ status: 'sold' as never }), /listInvoices\.status/)
  await t.rejects(client.listPayments({ since: -1 }), /listPayments\.since/)
  await t.rejects(client.listPayments({ extra: 1 } as never), /listPayments/)
})

t.test('EventOutbox: an event recorded before delivery starts (a channel restored at create() re-decides an HTLC) waits for start(), then reaches the listener', async t => {
  const store = new MemoryStore()
  const delivered: string[] = []
  const outbox = new EventOutbox(store, async ev => { delivered.push(ev.id); return true }, () => {}, 50)
  const hash = 'ab'.repeat(32)
  const a = outbox.attach('payment_received', hash, { paymentHash: hash, amountMsat: 1_000, memo: '', channelId: 'c', paidAt: 1 }, 1)
  await store.write(a.ops)
  a.durable()
  await new Promise(resolve => setImmediate(resolve))
  t.same(delivered, [], 'durable, but nobody has started listening yet')
  t.same(outbox.pending().map(e => e.id), [`payment_received:${hash}`])
  outbox.start()
  await until(() => delivered.length === 1, 'delivered once started')
  t.same(delivered, [`payment_received:${hash}`])
  await outbox.stop()
  const stored: string[] = []
  for await (const [k] of store.iterate(keys.eventPrefix)) stored.push(k)
  t.same(stored, [], 'its acknowledgement was written at stop')
})
