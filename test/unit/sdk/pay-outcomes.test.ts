// pay()'s outcomes (client-sdk/README.md): an idempotency key names one invoice; a `timeout` is not
// final and a retry with the same key returns the final outcome once there is one; a payment whose
// HTLC is in a commitment never ends `failed` because its channel failed (the chain decides it).
// The SDK runs in-process against a hub-side channel driver (fake-hub.ts).
import t from 'tap'
import { FakeHub, until } from './fake-hub.ts'

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
  const [rc, rd] = await Promise.all([client.pay(c.invoice, { idempotencyKey: 'order-2' }), client.pay(d.invoice, { idempotencyKey: 'order-2' })])
  t.match(rc, { ok: true, paymentHash: c.paymentHash }, 'the first call pays')
  t.match(rd, { ok: false, reason: 'idempotency_key_reused' }, 'the concurrent call with the same key is refused')
  t.notOk(hub.received.has(d.paymentHash), 'and paid nothing')
  await until(() => client.channels()[0]!.settled, 'settled')
  t.equal(client.channels()[0]!.localMsat, 400_000_000 - (first.ok ? first.amountMsat + first.feeMsat : 0) - (rc.ok ? rc.amountMsat + rc.feeMsat : 0), 'the balance moved by the two payments only')
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
  await until(async () => { const r = await client.pay(b.invoice, { idempotencyKey: 'held-b' }); return r.ok || r.reason !== 'timeout' }, 'the failure')
  t.match(await client.pay(b.invoice, { idempotencyKey: 'held-b' }), { ok: false, reason: 'recipient_offline' })
})

t.test('a channel that fails with the payment\'s HTLC in a commitment leaves the payment pending (the chain decides it), never failed', async t => {
  const hub = new FakeHub({ decide: () => 'hold' })
  const { client } = await hub.client({ payTimeoutMs: 300 })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 400_000_000 })
  const a = hub.invoice(10_000_000, 'in a commitment')
  t.match(await client.pay(a.invoice, { idempotencyKey: 'k' }), { ok: false, reason: 'timeout' })
  await until(() => hub.driver!.state.localCommit!.spec.htlcs.length === 1 && client.channels()[0]!.inFlightMsat > 0, 'the HTLC in both commitments')
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
  const r = await Promise.race([paying, new Promise<'still waiting'>(resolve => setTimeout(() => resolve('still waiting'), 5_000))])
  t.match(r, { ok: false, reason: 'timeout', paymentHash: a.paymentHash }, 'the waiting pay() resolved with timeout')
  t.ok(Date.now() - started < 5_000, 'when the client stopped, not at its 600 s payTimeoutMs')
  t.match(r !== 'still waiting' && !r.ok ? r.detail : '', /do not pay again/, 'the detail says it is not final')
})
