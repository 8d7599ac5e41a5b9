// pay() outcomes under concurrency: a refusal of one payment's add is that payment's, even when the
// channel holds it behind another payment's unacknowledged write (the refusal is emitted when that
// write is acknowledged, together with the other payment's completion). A payment ends `failed` only
// if its HTLC never left; every payment left `pending` has an HTLC behind it; pay() reports each
// outcome to the call that made the payment. The SDK runs in-process against a hub-side channel
// driver (fixtures/fake-hub.ts), its store stalled to hold a write in flight.
import t from 'tap'
import type * as Tap from 'tap'
import type { ChannelDriver } from '../../../host/channel/index.ts'
import type { HubClient } from '../../../client-sdk/index.ts'
import type { PayResult } from '../../../client-sdk/payments.ts'
import { FakeHub, until } from './fixtures/fake-hub.ts'

/** The client's channel driver (to wait for an exact point of its dance; never driven from here). */
const driverOf = (c: HubClient): ChannelDriver => (c as unknown as {
  channelSet: { channels (): Array<{ driver: ChannelDriver }> }
}).channelSet.channels()[0]!.driver
const heldRefusals = (d: ChannelDriver): number => d.state.outbox.filter(
  o => o.effect.kind === 'emit' && o.effect.event.type === 'command_failed'
).length

async function setup (t: Tap.Test, pushMsat: number): Promise<{
  hub: FakeHub; client: HubClient; store: Awaited<ReturnType<FakeHub['client']>>['store']
}> {
  const hub = new FakeHub()
  const { client, store } = await hub.client({ payTimeoutMs: 5_000 })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat })
  return { hub, client, store }
}

t.test('an add refused (insufficient balance) while another payment\'s commitment write is in flight fails that payment, not the other', async t => {
  const { hub, client, store } = await setup(t, 400_000_000)
  const a = hub.invoice(250_000_000, 'a')
  const b = hub.invoice(250_000_000, 'b')
  store.stall()
  const payA = client.pay(a.invoice, { idempotencyKey: 'a' })
  await store.waitForStalled(1)
  // B passes pay()'s balance pre-check (A is not in a commitment yet) and is refused by the channel
  // (A is signed for the hub): its command_failed is held behind A's write.
  const payB = client.pay(b.invoice, { idempotencyKey: 'b' })
  await until(() => heldRefusals(driverOf(client)) === 1, 'B\'s refusal held behind A\'s write')
  store.release()
  const [ra, rb] = await Promise.all([payA, payB])
  t.match(ra, { ok: true, paymentHash: a.paymentHash, preimage: a.preimage }, 'A, whose HTLC left, is paid')
  t.match(rb, { ok: false, paymentHash: b.paymentHash, reason: 'insufficient_balance' }, 'B, refused by the channel, failed')
  t.ok(hub.received.has(a.paymentHash), 'the hub received A')
  t.notOk(hub.received.has(b.paymentHash), 'the hub never saw B')
  const fee = ra.ok ? ra.feeMsat : 0
  await until(() => client.channels()[0]!.settled, 'the channel settled')
  t.equal(client.channels()[0]!.localMsat, 400_000_000 - 250_000_000 - fee, 'the balance moved by A once')
  t.equal(hub.clientMsat, client.channels()[0]!.localMsat, 'hub and client agree')
  // A retry of each with its key returns the same final outcome at once.
  t.same(await client.pay(a.invoice, { idempotencyKey: 'a' }), ra, 'A again: the same outcome')
  t.same(await client.pay(b.invoice, { idempotencyKey: 'b' }), rb, 'B again: the same outcome')
})

t.test('many concurrent small payments, some refused for dust exposure while writes are in flight: each refused one waits for HTLCs in flight to settle, then is paid once', async t => {
  const { hub, client, store } = await setup(t, 500_000_000)
  // 400 sat HTLCs are trimmed (below the 546 sat dust limit plus the HTLC fee): at most 12 fit under
  // the 5,000 sat dust exposure limit at once.
  const invoices = Array.from({ length: 20 }, (_, i) => hub.invoice(400_000, `dust ${i}`))
  store.stall()
  const first = client.pay(invoices[0]!.invoice, { idempotencyKey: 'dust-0' })
  await store.waitForStalled(1)
  const rest = invoices.slice(1).map((inv, i) => client.pay(inv.invoice, { idempotencyKey: `dust-${i + 1}` }))
  await until(() => heldRefusals(driverOf(client)) > 0, 'some refusals held behind the first write')
  store.release()
  const results: PayResult[] = await Promise.all([first, ...rest])
  for (const [i, r] of results.entries()) {
    t.match(r, { ok: true, paymentHash: invoices[i]!.paymentHash }, `payment ${i}: paid`)
    t.ok(hub.received.has(invoices[i]!.paymentHash), `payment ${i}: the hub received its HTLC`)
  }
  t.equal(hub.received.size, 20, 'the hub received 20 HTLCs: each payment once')
  await until(() => client.channels()[0]!.settled, 'the channel settled')
  const paid = results.reduce((s, r) => s + (r.ok ? r.amountMsat + r.feeMsat : 0), 0)
  t.equal(client.channels()[0]!.localMsat, 500_000_000 - paid, 'the balance moved by exactly the payments')
  t.equal(hub.clientMsat, client.channels()[0]!.localMsat, 'hub and client agree')
  const listed = await Promise.all(invoices.map((inv, i) => client.pay(inv.invoice, { idempotencyKey: `dust-${i}` })))
  t.same(listed, results, 'every retry with its key returns the first outcome')
})

t.test('a payment refused for dust exposure while the hub holds the HTLCs in flight stays pending (never failed, never sent) until one settles, then is paid', async t => {
  let holding = true
  const hub = new FakeHub({ decide: () => holding ? 'hold' : 'fulfill' })
  const { client } = await hub.client({ payTimeoutMs: 1_000 })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 500_000_000 })
  // 400 sat trimmed HTLCs: 12 fit under the 5,000 sat cap; the 13th is refused by our channel.
  const held = Array.from({ length: 12 }, (_, i) => hub.invoice(400_000, `held ${i}`))
  const heldPays = held.map((inv, i) => client.pay(inv.invoice, { idempotencyKey: `held-${i}` }))
  await until(() => hub.received.size === 12, 'the hub holds 12 HTLCs')
  const late = hub.invoice(400_000, 'late')
  const r = await client.pay(late.invoice, { idempotencyKey: 'late' })
  t.match(r, { ok: false, reason: 'timeout' }, 'no outcome yet: the payment waits, it is not failed')
  t.notOk(hub.received.has(late.paymentHash), 'its HTLC was never sent')
  t.match(
    await client.pay(late.invoice, { idempotencyKey: 'late' }), { ok: false, reason: 'timeout' }, 'asked again with its key: still waiting',
  )
  t.notOk(hub.received.has(late.paymentHash), 'and still not sent')
  holding = false
  await hub.settle(held[0]!.paymentHash)
  const paid = await client.pay(late.invoice, { idempotencyKey: 'late' })
  t.match(paid, { ok: true, paymentHash: late.paymentHash }, 'paid once an HTLC in flight settled')
  for (const inv of held.slice(1)) await hub.settle(inv.paymentHash)
  for (const p of heldPays) t.match(await p, { ok: false, reason: 'timeout' }, 'the held ones had timed out (not final)')
  await until(() => client.channels()[0]!.settled, 'the channel settled')
  const outcomes = await Promise.all(held.map((inv, i) => client.pay(inv.invoice, { idempotencyKey: `held-${i}` })))
  t.ok(outcomes.every(o => o.ok), 'every held payment was paid')
  t.equal(hub.received.size, 13, 'the hub received each HTLC once')
  t.equal(hub.clientMsat, client.channels()[0]!.localMsat, 'hub and client agree')
})
