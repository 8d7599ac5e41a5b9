// pay({ to }) (client-sdk/push-pay.ts) and the payee's side of a push payment (PaymentBook), in-process
// against a hub-side channel driver (fixtures/fake-hub.ts; the fake hub also holds the payee's key):
// the HTLC carries a secret only the payee opens; the payee fulfils what opens and fails what does not;
// `pending` once the hub says it holds the payment, and only for an HTLC of ours; arguments and
// idempotency keys are checked.
import t, { type Test } from 'tap'
import { sha256 } from '@noble/hashes/sha2.js'
import { nobleCurve } from '../../../protocol/crypto/index.ts'
import { openPushSecret, sealPushSecret } from '../../../protocol/push/secret.ts'
import { bytesToHex, hexToBytes, type ChannelId, type Height, type NodeId } from '../../../protocol/types.ts'
import { random32 } from '../../../host/random.ts'
import { FakeHub, until } from './fixtures/fake-hub.ts'

async function setup (t: Test, hubOpts: ConstructorParameters<typeof FakeHub>[0] = {}, payTimeoutMs = 5_000) {
  const hub = new FakeHub(hubOpts)
  const { client } = await hub.client({ payTimeoutMs })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 400_000_000 })
  return { hub, client }
}

t.test('payer: the HTLC carries the preimage sealed to the payee with the reference; the hub cannot open it; paid once it is revealed', async t => {
  const { hub, client } = await setup(t, { decide: () => 'hold' })
  const paying = client.pay({ to: hub.payeeId, amountMsat: 25_000, reference: 'commission #42', idempotencyKey: 'p-1' })
  await until(() => hub.received.size === 1, 'the HTLC at the hub')
  const htlc = [...hub.received.values()][0]!
  t.equal(htlc.recipient, hub.payeeId, 'addressed to the payee')
  t.equal(htlc.metadata?.reference, 'commission #42', 'the reference in clear')
  t.equal(htlc.metadata?.invoice, undefined, 'no invoice')
  const secret = htlc.metadata!.push!
  const open = (key: Uint8Array) => openPushSecret({
    secret, nodeKey: key, paymentHash: htlc.paymentHash, htlcAmountMsat: 25_000, reference: 'commission #42',
  }, nobleCurve)
  t.match(open(hub.hubKey), { ok: false, error: { reason: 'bad_tag' } }, 'the hub\'s key does not open it')
  const opened = open(hub.payeeKey)
  t.ok(opened.ok, 'the payee\'s key opens it')
  if (!opened.ok) return
  t.equal(opened.value.amountMsat, 25_000, 'the amount the payee is to receive is sealed')
  t.ok(htlc.amountMsat > 25_000, 'the HTLC carries the amount and the hub\'s fee')
  hub.preimages.set(htlc.paymentHash, opened.value.preimage)
  await hub.settle(htlc.paymentHash)
  const r = await paying
  t.match(r, { ok: true, paymentHash: htlc.paymentHash, preimage: opened.value.preimage, amountMsat: 25_000 })
  t.same(await client.pay({ to: hub.payeeId, amountMsat: 25_000, reference: 'commission #42', idempotencyKey: 'p-1' }), r,
    'the same key: the first outcome')
  for (const other of [{ amountMsat: 25_001 }, { reference: 'commission #43' }, { to: hub.hubId }]) {
    t.match(await client.pay({ to: hub.payeeId, amountMsat: 25_000, reference: 'commission #42', idempotencyKey: 'p-1', ...other }),
      { ok: false, reason: 'idempotency_key_reused' }, `the same key with another ${Object.keys(other)[0]}: refused`)
  }
  t.equal(hub.received.size, 1, 'nothing more was offered')
  const listed = (await client.listPayments()).items
  t.match(listed, [{ paymentHash: htlc.paymentHash, invoice: '', push: true, status: 'succeeded', reference: 'commission #42' }])
})

t.test('payer: `pending` once the hub says it holds the payment; a payment_held for an HTLC not ours changes nothing', async t => {
  const { hub, client } = await setup(t, { decide: () => 'hold' }, 3_000)
  const warnings: string[] = []
  client.on('warning', w => warnings.push(w))
  const paying = client.pay({ to: hub.payeeId, amountMsat: 10_000, reference: 'away', idempotencyKey: 'held-1' })
  await until(() => hub.received.size === 1, 'the HTLC at the hub')
  const htlc = [...hub.received.values()][0]!
  const channelId = client.channels()[0]!.channelId as ChannelId
  hub.tell({
    type: 'payment_held', channel_id: channelId, id: htlc.id + 1, payment_hash: htlc.paymentHash, until_time: 2_000_000_000,
    until_height: 500 as Height,
  })
  await until(() => warnings.some(w => w.includes('names no HTLC of ours')), 'the false claim ignored')
  hub.tell({
    type: 'payment_held', channel_id: channelId, id: htlc.id, payment_hash: htlc.paymentHash, until_time: 2_000_000_000,
    until_height: 500 as Height,
  })
  const r = await paying
  t.match(
    r, { ok: false, reason: 'pending', paymentHash: htlc.paymentHash, detail: /until 2033-05-18T03:33:20\.000Z/ },
    'pending, with the hold\'s end',
  )
  t.match(await client.pay({
    to: hub.payeeId, amountMsat: 10_000, reference: 'away', idempotencyKey: 'held-1',
  }), { ok: false, reason: 'pending' },
    'asked again while held: pending at the end of the wait')
  const failed: string[] = []
  client.on('payment_failed', e => { failed.push(e.reason) })
  await hub.settle(htlc.paymentHash, { fail: 'recipient_offline', detail: 'did not come back' })
  await until(() => failed.length === 1, 'payment_failed')
  t.same(failed, ['recipient_offline'])
  t.match(await client.pay({ to: hub.payeeId, amountMsat: 10_000, reference: 'away', idempotencyKey: 'held-1' }),
    { ok: false, reason: 'recipient_offline', detail: /did not come back/ }, 'then its final outcome')
})

t.test('payee: a push payment is fulfilled if its secret opens with our key, refused otherwise', async t => {
  const { hub, client } = await setup(t)
  const received: Array<Record<string, unknown>> = []
  client.on('payment_received', e => { received.push(e) })
  const payee = hexToBytes(client.nodeId)
  const push = (o: { amountMsat?: number; reference?: string; payee?: Uint8Array } = {}) => {
    const preimage = random32()
    const s = sealPushSecret({
      preimage, amountMsat: o.amountMsat ?? 30_000, payee: o.payee ?? payee, reference: o.reference ?? 'tip', ephemeralSecret: random32(),
    }, nobleCurve)
    return { ...s, preimage: bytesToHex(preimage) }
  }
  const fulfilled = (hash: string): string | undefined => {
    const e = hub.events.find(x => x.type === 'htlc_fulfilled' && x.paymentHash === hash)
    return e?.type === 'htlc_fulfilled' ? e.preimage : undefined
  }
  const failed = (hash: string): { reason: string; detail?: string } | undefined => {
    const e = hub.events.find(x => x.type === 'htlc_failed' && x.paymentHash === hash)
    return e?.type === 'htlc_failed' ? { reason: e.reason, ...(e.detail !== undefined ? { detail: e.detail } : {}) } : undefined
  }
  const good = push()
  await hub.offer({
    amountMsat: 30_000, paymentHash: good.paymentHash, recipient: client.nodeId as NodeId,
    metadata: { reference: 'tip', push: good.secret },
  })
  await until(() => fulfilled(good.paymentHash) !== undefined, 'fulfilled')
  t.equal(fulfilled(good.paymentHash), good.preimage, 'fulfilled with the sealed preimage')
  await until(() => received.length === 1, 'payment_received')
  t.match(received[0], { paymentHash: good.paymentHash, amountMsat: 30_000, push: true, reference: 'tip', memo: '' })
  const invoices = (await client.listInvoices()).items
  t.match(
    invoices,
    [{ paymentHash: good.paymentHash, status: 'paid', push: true, invoice: '', amountMsat: 30_000, receivedMsat: 30_000, memo: 'tip' }],
  )

  const cases = [
    { name: 'sealed to another key', p: push({ payee: nobleCurve.pubkey(random32()) }), amount: 30_000, reference: 'tip', why: /bad_tag/ },
    { name: 'its reference changed on the way', p: push(), amount: 30_000, reference: 'tip!', why: /bad_tag/ },
    { name: 'less than the payer sealed', p: push({ amountMsat: 30_000 }), amount: 29_999, reference: 'tip', why: /amount_short/ },
  ]
  for (const c of cases) {
    await hub.offer({
      amountMsat: c.amount, paymentHash: c.p.paymentHash, recipient: client.nodeId as NodeId,
      metadata: { reference: c.reference, push: c.p.secret },
    })
    await until(() => failed(c.p.paymentHash) !== undefined, `${c.name}: failed`)
    t.match(failed(c.p.paymentHash), { reason: 'incorrect_or_unknown_payment_details', detail: c.why }, `${c.name}: refused`)
  }
  // A secret that opens but whose preimage is not the HTLC's: moved to another HTLC by the hub.
  const moved = push()
  const otherHash = bytesToHex(sha256(random32()))
  await hub.offer({
    amountMsat: 30_000, paymentHash: otherHash, recipient: client.nodeId as NodeId, metadata: { reference: 'tip', push: moved.secret },
  })
  await until(() => failed(otherHash) !== undefined, 'moved: failed')
  t.match(
    failed(otherHash), { reason: 'incorrect_or_unknown_payment_details', detail: /bad_tag/ },
    'a secret moved to another payment hash: refused',
  )
  await until(() => client.channels()[0]!.settled, 'settled')
  t.equal(received.length, 1, 'only the good one was received')
})

t.test('pay({ to }) checks its arguments: a TypeError naming the field', async t => {
  const { hub, client } = await setup(t)
  const base = { to: hub.payeeId, amountMsat: 1_000, reference: 'r' }
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ to: '02' + '00'.repeat(32) }, /^pay\.to: must be a 33-byte compressed secp256k1 key/],
    [{ to: undefined }, /^pay\.to: /],
    [{ amountMsat: 0 }, /^pay\.amountMsat: /],
    [{ amountMsat: 1.5 }, /^pay\.amountMsat: must be an integer \(msat\)/],
    [{ reference: '' }, /^pay\.reference: must not be empty/],
    [{ reference: 'x'.repeat(129) }, /^pay\.reference: /],
    [{ reference: 'line\nbreak' }, /^pay\.reference: must not contain control characters/],
    [{ holdBlocks: 1_009 }, /^pay\.holdBlocks: /],
    [{ idempotencyKey: 'no spaces' }, /^pay\.idempotencyKey: /],
    [{ extra: 1 }, /^pay: /],
  ]
  for (const [change, why] of bad) await t.rejects(
    client.pay({ ...base, ...change } as never), { name: 'TypeError', message: why }, JSON.stringify(change),
  )
  t.match(await client.pay({ ...base, to: client.nodeId }), { ok: false, reason: 'wrong_payee' }, 'paying ourselves: refused')
  t.equal(hub.received.size, 0, 'nothing was offered')
})
