// Idempotency keys checked by the hub (hub/router/payer-keys.ts), in-process: a payer that pays again
// under a key whose payment is in flight or succeeded (a second SDK data directory that does not know
// it) is refused with duplicate_payment and nothing moves; the same key with other parameters is
// refused with idempotency_key_reused; after a failure the key may be used again; the records are
// written with the circuit, survive a restart, are per payer, and are deleted once old.
import t from 'tap'
import { amountToOffer } from '../../../../protocol/forwarding.ts'
import { parseJsonValue } from '../../../../host/store/index.ts'
import { waitFor } from '../../../../scripts/lib/wait.ts'
import { hubWithPlatformAndCreator, Client, type InProcessHub } from '../fixtures/hub-harness.ts'

const FEES = { feeBaseMsat: 1_000, feePpm: 100 }

async function pay (
  hub: InProcessHub, payer: Client, payee: Client, amountMsat: number, key: string, reference = 'order',
): Promise<string> {
  const inv = payee.invoice()
  await payer.driver!.command({
    type: 'add_htlc', amountMsat: amountToOffer(amountMsat, FEES), paymentHash: inv.hash, cltvExpiry: hub.height + 100,
    recipient: payee.nodeId, metadata: { reference, idempotency_key: key },
  })
  return inv.hash
}
const fulfilled = (c: Client, hash: string): number => c.events.filter(e => e.type === 'htlc_fulfilled' && e.paymentHash === hash).length
const failure = (c: Client, hash: string): { reason: string; detail?: string } | undefined => {
  const e = c.events.find(x => x.type === 'htlc_failed' && x.paymentHash === hash)
  return e?.type === 'htlc_failed' ? { reason: e.reason, ...(e.detail !== undefined ? { detail: e.detail } : {}) } : undefined
}
async function storedKeys (hub: InProcessHub): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = []
  for await (const [, v] of hub.inner.iterate('payer-key/')) out.push(parseJsonValue(v) as Record<string, unknown>)
  return out
}

t.test('one key, one payment: a second payment under it is refused while the first is in flight and once it succeeded', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator()
  const c0 = creator.balanceMsat
  let keyWithCircuit = false
  hub.store.onWrite = ops => {
    if (ops.some(o => o.key.startsWith('fwd/')) && ops.some(o => o.key.startsWith('payer-key/'))) keyWithCircuit = true
  }
  const first = await pay(hub, platform, creator, 20_000, 'order-1')
  creator.hold.add(first)
  await hub.until(() => creator.events.some(e => e.type === 'htlc_received' && e.htlc.paymentHash === first), 'the first at the payee')
  t.ok(keyWithCircuit, 'the key\'s record was written in the circuit\'s batch')
  const second = await pay(hub, platform, creator, 20_000, 'order-1')
  await hub.until(() => failure(platform, second) !== undefined, 'the second refused')
  t.match(
    failure(platform, second),
    { reason: 'duplicate_payment', detail: new RegExp(`key order-1 names payment ${first}, which is in flight`) },
  )
  const got = creator.events.find(e => e.type === 'htlc_received' && e.htlc.paymentHash === first)
  if (got?.type !== 'htlc_received') throw new Error('no htlc')
  await creator.driver!.command({ type: 'fulfill_htlc', id: got.htlc.id, preimage: creator.preimages.get(first)! })
  await hub.until(() => fulfilled(platform, first) === 1 && platform.settled && creator.settled, 'the first paid')
  await waitFor(async () => (await storedKeys(hub)).some(r => r.state === 'succeeded'), 'recorded as succeeded')
  const third = await pay(hub, platform, creator, 20_000, 'order-1')
  await hub.until(() => failure(platform, third) !== undefined, 'the third refused')
  t.match(failure(platform, third), { reason: 'duplicate_payment', detail: /which succeeded; nothing was paid twice/ })
  await hub.until(() => platform.settled && creator.settled, 'settled')
  t.equal(creator.balanceMsat - c0, 20_000, 'the payee was paid once')
})

t.test('the same key with another amount or reference is refused (idempotency_key_reused); another payer\'s key is its own', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator()
  const first = await pay(hub, platform, creator, 20_000, 'k')
  await hub.until(() => fulfilled(platform, first) === 1, 'paid')
  const amount = await pay(hub, platform, creator, 20_001, 'k')
  const reference = await pay(hub, platform, creator, 20_000, 'k', 'another order')
  await hub.until(() => failure(platform, amount) !== undefined && failure(platform, reference) !== undefined, 'both refused')
  for (const h of [amount, reference]) {
    t.match(
      failure(platform, h),
      { reason: 'idempotency_key_reused', detail: new RegExp(`key k belongs to payment ${first} with another payee, amount or reference`) },
    )
  }
  const other = new Client()
  hub.connect(other)
  await other.open(hub, 1_000_000, 0)
  const theirs = await pay(hub, other, creator, 20_000, 'k')
  await hub.until(() => fulfilled(other, theirs) === 1, 'another payer\'s payment under the same key string is paid')
})

t.test('after a failure the key may be used again; the records survive a restart', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator()
  const refused = creator.invoice()
  creator.refuse.add(refused.hash)
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: amountToOffer(15_000, FEES), paymentHash: refused.hash, cltvExpiry: hub.height + 100,
    recipient: creator.nodeId, metadata: { reference: 'order', idempotency_key: 'retry-me' },
  })
  await hub.until(() => failure(platform, refused.hash) !== undefined, 'the payee refused the first')
  await waitFor(async () => (await storedKeys(hub)).some(r => r.key === 'retry-me' && r.state === 'failed'), 'recorded as failed')
  const retry = await pay(hub, platform, creator, 15_000, 'retry-me')
  await hub.until(() => fulfilled(platform, retry) === 1 && platform.settled && creator.settled, 'the retry is paid')
  await waitFor(
    async () => (await storedKeys(hub)).some(r => r.key === 'retry-me' && r.state === 'succeeded' && r.paymentHash === retry),
    'the key\'s payment is the retry',
  )

  await hub.crash()
  await hub.start()
  hub.connect(platform)
  hub.connect(creator)
  await hub.until(() => platform.driver!.state.link === 'up' && creator.driver!.state.link === 'up', 'reestablished')
  const again = await pay(hub, platform, creator, 15_000, 'retry-me')
  await hub.until(() => failure(platform, again) !== undefined, 'refused after the restart')
  t.match(failure(platform, again), { reason: 'duplicate_payment', detail: /which succeeded/ })

  // Ended records are deleted once older than router.idempotencyDays; pending ones stay.
  t.equal(await hub.payerKeys.prune(Date.now() - 60_000), 0, 'nothing ended before a minute ago')
  t.equal(await hub.payerKeys.prune(Date.now() + 60_000), 1, 'the ended record is deleted')
  t.same(await storedKeys(hub), [], 'and gone from the store')
})
