// pay()'s outcomes (client-sdk/README.md): an idempotency key names one invoice; a `timeout` is not
// final and a retry with the same key returns the final outcome once there is one; a payment whose
// HTLC is in a commitment never ends `failed` because its channel failed (the chain decides it).
// The SDK runs in-process against a hub-side channel driver (fixtures/fake-hub.ts).
import t from 'tap'
import { FakeHub, until } from './fixtures/fake-hub.ts'
import { orAfter } from '../../helpers/race.ts'

t.test('an idempotency key reused with another invoice is refused (idempotency_key_reused) and pays nothing', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client({ payTimeoutMs: 5_000 })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 400_000_000 })
  const a = hub.invoice(10_000_000, 'a')
  const b = hub.invoice(20_000_000, 'b')
  const first = await client.pay(a.invoice, { idempotencyKey: 'order-1' })
  t.match(first, { ok: true, paymentHash: a.paymentHash })
  const reused = await client.pay(b.invoice, { idempotencyKey: 'order-1' })
  t.match(reused, { ok: false, reason: 'idempotency_key_reused', paymentHash: b.paymentHash }, 'another invoice under a used key: refused')
  t.match(reused.ok ? '' : reused.detail, a.paymentHash, 'the detail names the payment the key belongs to')
  t.notOk(hub.received.has(b.paymentHash), 'nothing was offered for it')
  t.same(await client.pay(a.invoice, { idempotencyKey: 'order-1' }), first, 'the same key and invoice: the first outcome')
  t.same(await client.pay(a.invoice.toUpperCase(), { idempotencyKey: 'order-1' }), first, 'the invoice in upper case is the same invoice')

  // Two calls at once with one key and different invoices: one payment, one refusal.
  const c = hub.invoice(30_000_000, 'c')
  const d = hub.invoice(40_000_000, 'd')
  const [rc, rd] = await Promise.all([
    client.pay(c.invoice, { idempotencyKey: 'order-2' }), client.pay(d.invoice, { idempotencyKey: 'order-2' }),
  ])
  t.match(rc, { ok: true, paymentHash: c.paymentHash }, 'the first call pays')
  t.match(rd, { ok: false, reason: 'idempotency_key_reused' }, 'the concurrent call with the same key is refused')
  t.notOk(hub.received.has(d.paymentHash), 'and paid nothing')
  await until(() => client.channels()[0]!.settled, 'settled')
  t.equal(
    client.channels()[0]!.localMsat,
    400_000_000 - (first.ok ? first.amountMsat + first.feeMsat : 0) - (rc.ok ? rc.amountMsat + rc.feeMsat : 0),
    'the balance moved by the two payments only',
  )
})

t.test('a timeout is not final: retries with the same key wait, then return the outcome once the hub decides; nothing is paid twice', async t => {
  const hub = new FakeHub({ decide: () => 'hold' })
  const { client } = await hub.client({ payTimeoutMs: 300 })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 400_000_000 })
  const a = hub.invoice(10_000_000, 'held')
  const r1 = await client.pay(a.invoice, { idempotencyKey: 'held' })
  t.match(r1, { ok: false, reason: 'timeout', paymentHash: a.paymentHash }, 'the hub holds the HTLC: timeout')
  t.match(r1.ok ? '' : r1.detail, /do not pay again/, 'the detail says the payment is still in flight')
  t.ok(hub.received.has(a.paymentHash), 'the HTLC is at the hub')
  const r2 = await client.pay(a.invoice, { idempotencyKey: 'held' })
  t.match(r2, { ok: false, reason: 'timeout' }, 'a retry while it is held: timeout again (it waited, and did not hang)')
  t.match(await client.pay(a.invoice), { ok: false, reason: 'timeout' }, 'the same invoice without the key: the same payment')
  await hub.settle(a.paymentHash, 'fulfill')
  await until(async () => (await client.pay(a.invoice, { idempotencyKey: 'held' })).ok, 'the retry returns the outcome')
  t.match(await client.pay(a.invoice, { idempotencyKey: 'held' }), { ok: true, preimage: a.preimage }, 'the final outcome')
  await until(() => client.channels()[0]!.settled, 'settled')
  const fee = 1_000 + Math.floor(10_000_000 * 100 / 1_000_000)
  t.equal(client.channels()[0]!.localMsat, 400_000_000 - 10_000_000 - fee, 'paid once')
  t.equal(hub.clientMsat, client.channels()[0]!.localMsat, 'hub and client agree')

  // A held payment the hub fails: the retry returns that failure.
  const b = hub.invoice(5_000_000, 'failed later')
  t.match(await client.pay(b.invoice, { idempotencyKey: 'held-b' }), { ok: false, reason: 'timeout' })
  await hub.settle(b.paymentHash, { fail: 'recipient_offline' })
  await until(
    async () => { const r = await client.pay(b.invoice, { idempotencyKey: 'held-b' }); return r.ok || r.reason !== 'timeout' },
    'the failure',
  )
  t.match(await client.pay(b.invoice, { idempotencyKey: 'held-b' }), { ok: false, reason: 'recipient_offline' })
})

t.test('a channel that fails with the payment\'s HTLC in a commitment leaves the payment pending (the chain decides it), never failed', async t => {
  const hub = new FakeHub({ decide: () => 'hold' })
  const { client } = await hub.client({ payTimeoutMs: 300 })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 400_000_000 })
  const a = hub.invoice(10_000_000, 'in a commitment')
  t.match(await client.pay(a.invoice, { idempotencyKey: 'k' }), { ok: false, reason: 'timeout' })
  await until(
    () => hub.driver!.state.localCommit!.spec.htlcs.length === 1 && client.channels()[0]!.inFlightMsat > 0, 'the HTLC in both commitments',
  )
  hub.failChannel()
  await until(() => client.channels()[0]!.phase !== 'normal', 'the client failed the channel')
  const again = await client.pay(a.invoice, { idempotencyKey: 'k' })
  t.match(again, { ok: false, reason: 'timeout' }, 'still pending: the hub can still claim the HTLC on-chain with the preimage')
})

t.test('stop() ends a pay() still waiting: timeout (not final), at once, and the payment stays pending for the next start', async t => {
  const hub = new FakeHub({ decide: () => 'hold' })
  const { client } = await hub.client({ payTimeoutMs: 600_000 })
  t.teardown(() => { hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 400_000_000 })
  const a = hub.invoice(10_000_000, 'held at stop')
  const paying = client.pay(a.invoice, { idempotencyKey: 'held-at-stop' })
  await until(() => hub.received.has(a.paymentHash), 'the HTLC at the hub')
  const started = Date.now()
  await client.stop()
  const r = await orAfter(paying, 5_000, 'still waiting' as const)
  t.match(r, { ok: false, reason: 'timeout', paymentHash: a.paymentHash }, 'the waiting pay() resolved with timeout')
  t.ok(Date.now() - started < 5_000, 'when the client stopped, not at its 600 s payTimeoutMs')
  t.match(r !== 'still waiting' && !r.ok ? r.detail : '', /do not pay again/, 'the detail says it is not final')
})

t.test('an invoice with whitespace around it (a trailing newline from a file or a terminal) is the same invoice: paid, and found again by its key', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client({ payTimeoutMs: 5_000 })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 400_000_000 })
  const a = hub.invoice(10_000_000, 'copied')
  const paid = await client.pay(`${a.invoice}\n`, { idempotencyKey: 'copied-1' })
  t.match(paid, { ok: true, paymentHash: a.paymentHash }, 'a trailing newline is trimmed')
  t.same(
    await client.pay(`  ${a.invoice}\r\n\t`, { idempotencyKey: 'copied-1' }), paid,
    'the same invoice with other whitespace: the first outcome',
  )
  t.match(await client.pay(' \n '), { ok: false, reason: 'invalid_invoice' }, 'whitespace alone is no invoice')
})

t.test('a failure from the hub carries the hub\'s words (recipient_offline: who and for how long)', async t => {
  const detail = '02aa… did not come back within 30000 ms'
  const hub = new FakeHub({ decide: () => ({ fail: 'recipient_offline', detail }) })
  const { client } = await hub.client({ payTimeoutMs: 5_000 })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 400_000_000 })
  const a = hub.invoice(10_000_000, 'offline payee')
  const failed: Array<{ reason: string; detail: string }> = []
  client.on('payment_failed', e => { failed.push(e) })
  const r = await client.pay(a.invoice)
  t.match(r, { ok: false, reason: 'recipient_offline' })
  t.equal(r.ok ? '' : r.detail, `failed by the hub: ${detail}`, 'pay() says what the hub said')
  await until(() => failed.length === 1, 'payment_failed delivered')
  t.equal(failed[0]!.detail, `failed by the hub: ${detail}`, 'and so does payment_failed')
  const listed = await client.listPayments({ status: 'failed' })
  t.match(
    listed.items[0], { paymentHash: a.paymentHash, failure: { reason: 'recipient_offline', detail: `failed by the hub: ${detail}` } },
    'and the stored record',
  )
})

/** Every number in `text` that is an amount (not an id or a hash) is followed by its unit. */
const amounts = (text: string): string[] => [...text.matchAll(/\b(\d{3,})\b(?! (?:msat|sat)\b)/g)].map(m => m[1]!)

t.test('amounts in failures say their unit: msat in pay()\'s (the amount fields are msat), never a bare number or msat beside sat', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client({ payTimeoutMs: 5_000 })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  // 400,000 sat ours; the hub asks us to keep a reserve of 1% of 1,000,000 sat.
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 400_000_000 })
  const tooMuch = await client.pay(hub.invoice(450_000_000).invoice)
  t.match(tooMuch, { ok: false, reason: 'insufficient_balance' })
  const d1 = tooMuch.ok ? '' : tooMuch.detail
  t.match(d1, /^the channel's balance 400000000 msat is below the \d+ msat to offer \(450000000 msat and the hub's fee\)$/, d1)
  const intoReserve = await client.pay(hub.invoice(395_000_000).invoice)
  t.match(intoReserve, { ok: false, reason: 'insufficient_balance' })
  const d2 = intoReserve.ok ? '' : intoReserve.detail
  t.match(d2, /^reserve: our balance would be \d+ msat, below the channel reserve of 10000000 msat the peer requires$/, d2)
  for (const d of [d1, d2]) {
    t.same(amounts(d), [], `no bare amount in "${d}"`)
    t.notMatch(d, /\bsat\b/, 'and no sat beside msat')
  }
})
