// The SDK's boundary: every argument is validated with an error naming the field; invoices are real
// BOLT #11 (lnbcrt) strings signed by the node key with their preimage stored; pay() never throws for
// a payment problem but resolves with a typed failure. A client here has a real store, wallet and
// btcd, but no hub (nothing below needs one).
import t from 'tap'
import path from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { useBtcd } from '../helpers/btcd.ts'
import { randomKey, tempDir } from '../helpers/hub.ts'
import { createNodeClient } from '../../client-sdk/node.ts'
import { decodeInvoice, encodeInvoice } from '../../protocol/invoice/index.ts'
import { nodeIdOf } from '../../protocol/auth/signature.ts'
import { bytesToHex, hexToBytes, type Msat } from '../../protocol/types.ts'
import { LevelStore } from '../../host/store/node/level-store.ts'
import { invoiceRecord, readRecord } from '../../client-sdk/records.ts'
import { keys } from '../../host/store/keys.ts'

const HUB_ID = nodeIdOf(randomKey())

t.test('createNodeClient: a bad option is refused with the field named, before any I/O', async t => {
  const ok = {
    nodeKey: randomKey(), hubUrl: 'ws://127.0.0.1:1', hubId: HUB_ID, dataDir: tempDir('sdk-args'),
    btcdRpc: { host: '127.0.0.1', port: 1, user: 'u', pass: 'p' },
  }
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['nodeKey too short', { nodeKey: new Uint8Array(31) }, /^options\.nodeKey: /],
    ['nodeKey zero', { nodeKey: new Uint8Array(32) }, /^options\.nodeKey: /],
    ['hubUrl not ws', { hubUrl: 'http://127.0.0.1:1' }, /^options\.hubUrl: must be a ws:\/\/ or wss:\/\/ URL/],
    ['hubId not a key', { hubId: '02abc' }, /^options\.hubId: /],
    ['no chain at all', { btcdRpc: undefined }, /^options\.chain: give exactly one of chain, btcdRpc/],
    ['btcd port out of range', { btcdRpc: { host: 'h', port: 70_000, user: 'u', pass: 'p' } }, /^options\.btcdRpc\.port: /],
    ['unknown option', { colour: 'blue' }, /options.*colour/],
    ['fee rate below 1', { feeRateSatPerVb: 0.5 }, /^options\.feeRateSatPerVb: /],
    ['role unknown', { role: 'whale' }, /^options\.role: /],
  ]
  for (const [name, patch, re] of cases) {
    await t.rejects(createNodeClient({ ...ok, ...patch } as never), { name: 'TypeError', message: re }, name)
  }
})

t.test('createInvoice and pay on a client without a hub: BOLT #11 invoices, typed failures, named arguments', async t => {
  const btc = await useBtcd(t)
  const nodeKey = randomKey()
  const dataDir = path.join(tempDir('sdk-args'), 'c')
  const client = await createNodeClient({ nodeKey, hubUrl: 'ws://127.0.0.1:1', hubId: HUB_ID, dataDir, chain: btc.chain, role: 'creator' })
  t.teardown(() => client.stop())

  const inv = await client.createInvoice({ amountMsat: 123_456, memo: 'commission #7', expirySec: 600 })
  t.match(inv.invoice, /^lnbcrt1234560p1/, 'a regtest BOLT #11 invoice for 123,456 msat')
  const d = decodeInvoice(inv.invoice, { network: 'bcrt' })
  t.ok(d.ok, 'it decodes and its signature verifies')
  if (d.ok) {
    t.equal(d.value.payee, client.nodeId, 'signed by the node key')
    t.equal(d.value.amountMsat, 123_456)
    t.equal(d.value.description, 'commission #7')
    t.equal(d.value.expirySeconds, 600)
    t.equal(d.value.paymentHash, inv.paymentHash)
  }

  for (const [name, args, re] of [
    ['amount 0', { amountMsat: 0 }, /^createInvoice\.amountMsat: /],
    ['amount fractional', { amountMsat: 1.5 }, /^createInvoice\.amountMsat: must be an integer/],
    ['memo too long', { amountMsat: 1, memo: 'x'.repeat(640) }, /^createInvoice\.memo: /],
    ['expiry 0', { amountMsat: 1, expirySec: 0 }, /^createInvoice\.expirySec: /],
  ] as const) {
    await t.rejects(client.createInvoice(args as never), { name: 'TypeError', message: re }, `createInvoice: ${name}`)
  }
  await t.rejects(client.pay(42 as never), { name: 'TypeError', message: /^pay\.invoice: / }, 'pay: not a string')
  await t.rejects(
    client.pay(inv.invoice, { idempotencyKey: 'has space' }), { name: 'TypeError', message: /^pay\.idempotencyKey: / },
    'pay: bad idempotency key',
  )
  await t.rejects(
    client.openChannel({ capacitySat: 10 }), { name: 'TypeError', message: /^openChannel\.capacitySat: / }, 'openChannel: below the floor',
  )

  const bad = await client.pay('lnbcrt1garbage')
  t.same([bad.ok, !bad.ok && bad.reason], [false, 'invalid_invoice'], 'a garbage invoice is a typed failure')
  const own = await client.pay(inv.invoice)
  t.same([own.ok, !own.ok && own.reason], [false, 'wrong_payee'], 'paying our own invoice is refused')

  // Someone else's valid invoice, but we have no channel.
  const other = randomKey()
  const preimage = randomKey()
  const enc = encodeInvoice({
    network: 'bcrt', amountMsat: 5_000 as Msat, timestamp: Math.floor(Date.now() / 1000), paymentHash: bytesToHex(sha256(preimage)),
    paymentSecret: bytesToHex(randomKey()), description: 'x',
  }, other)
  t.ok(enc.ok)
  const none = await client.pay(enc.ok ? enc.value : '')
  t.same([none.ok, !none.ok && none.reason], [false, 'no_channel'], 'no channel: a typed failure, not a throw')
  const expired = encodeInvoice({
    network: 'bcrt', amountMsat: 5_000 as Msat, timestamp: 1_000_000, paymentHash: bytesToHex(sha256(randomKey())),
    paymentSecret: bytesToHex(randomKey()), description: 'old', expirySeconds: 60,
  }, other)
  const late = await client.pay(expired.ok ? expired.value : '')
  t.same([late.ok, !late.ok && late.reason], [false, 'invoice_expired'], 'an expired invoice is not attempted')
  const mainnet = encodeInvoice({
    network: 'bc', amountMsat: 5_000 as Msat, timestamp: Math.floor(Date.now() / 1000), paymentHash: bytesToHex(sha256(randomKey())),
    paymentSecret: bytesToHex(randomKey()), description: 'x',
  }, other)
  const wrongNet = await client.pay(mainnet.ok ? mainnet.value : '')
  t.same([wrongNet.ok, !wrongNet.ok && wrongNet.reason], [false, 'invalid_invoice'], 'a mainnet invoice is refused on regtest')

  // The preimage is durable: a new client on the same data directory still knows the invoice.
  await client.stop()
  const again = await createNodeClient({ nodeKey, hubUrl: 'ws://127.0.0.1:1', hubId: HUB_ID, dataDir, chain: btc.chain, role: 'creator' })
  t.teardown(() => again.stop())
  t.ok(await again.cancelInvoice(inv.paymentHash), 'the new client knows the unpaid invoice: it can cancel it')
  t.notOk(await again.cancelInvoice('00'.repeat(32)), 'an unknown one cannot be cancelled')
  await again.stop()
  // What it knows is the preimage of that invoice's payment hash, on disk.
  const store = await LevelStore.open(path.join(dataDir, 'store'))
  const stored = await readRecord(store, keys.invoice(inv.paymentHash), invoiceRecord).finally(() => store.close())
  t.equal(stored?.invoice, inv.invoice, 'the stored invoice is the one created')
  t.equal(
    stored !== undefined && bytesToHex(sha256(hexToBytes(stored.preimage))), inv.paymentHash,
    'its stored preimage hashes to the payment hash',
  )
})
