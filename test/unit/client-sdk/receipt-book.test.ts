// The SDK's receipts (client-sdk/receipts.ts): a receipt from our hub naming us is written on arrival,
// in the store batch of what arrived with it; its signature and our records are checked when it is read,
// so a receipt that fails is never returned, and a later good one replaces it; of two good receipts
// the first is kept; a proof right behind its receipt is checked against it.
import t, { type Test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ReceiptBook } from '../../../client-sdk/receipts.ts'
import { LevelStore } from '../../../host/store/node/level-store.ts'
import { put } from '../../../host/store/index.ts'
import { nodeIdOf } from '../../../protocol/auth/signature.ts'
import { anchorCommitment, GENESIS_COMMITMENT } from '../../../protocol/audit/anchor.ts'
import { EMPTY_ROOT, nextEntry } from '../../../protocol/audit/entry.ts'
import { merklePath, merkleRoot } from '../../../protocol/audit/merkle.ts'
import { recordOfReceipt, signReceipt, type Receipt } from '../../../protocol/receipt/receipt.ts'
import { bytesToHex } from '../../../protocol/types.ts'
import type { PaymentReceipt, PeerMessage, ReceiptProofMessage } from '../../../protocol/wire/index.ts'

const key = (b: number): Uint8Array => new Uint8Array(32).fill(b)
const HUB_KEY = key(7)
const HUB_ID = nodeIdOf(HUB_KEY)
const ME = nodeIdOf(key(8))
const PAYEE = nodeIdOf(key(9))
const hash = (b: number): string => bytesToHex(new Uint8Array(32).fill(b))

const receiptOf = (b: number, o: Partial<Receipt> = {}): Receipt => ({
  v: 1, hub_id: HUB_ID, payment_hash: hash(b), amount_msat: 5_000, fee_msat: 2, payer: ME, payee: PAYEE, reference: null,
  time_ms: 1_800_000_000_000, entry: 0, ...o,
})
const signed = (r: Receipt, signer = HUB_KEY): PaymentReceipt => ({
  type: 'payment_receipt', receipt: r, signature: signReceipt(r, signer, key(3)),
})

/** A book over a LevelStore (real I/O: an await on a read is a later turn) whose records hold payments of 5,000 msat. */
async function setup (t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'receipt-book-'))
  const store = await LevelStore.open(join(dir, 'store'))
  t.teardown(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }) })
  const warnings: string[] = []
  const sent: PeerMessage[] = []
  const book = new ReceiptBook({
    store, nodeId: ME, hubId: () => HUB_ID, send: m => { sent.push(m); return true }, warn: w => { warnings.push(w) },
    disagrees: async r => r.amount_msat === 5_000 ? undefined : `we paid 5000 msat, it says ${r.amount_msat}`,
  })
  return { store, book, warnings, sent }
}

t.test('a receipt is written in the store batch of what arrived with it, not in a synced write of its own', async t => {
  const { store, book } = await setup(t)
  const before = store.stats.batches
  // The channel update that settles the payment, handled in the same turn as the receipt.
  const settling = store.write([put('payment/settled', { status: 'succeeded' })])
  const arriving = book.onReceipt(signed(receiptOf(1)))
  await Promise.all([settling, arriving])
  t.equal(store.stats.batches - before, 1, 'one synced batch holds both')
  t.ok(await book.get(hash(1)), 'the receipt is stored')
})

t.test('a receipt is checked when read: a bad signature or a receipt our records contradict is never returned', async t => {
  const { book, warnings } = await setup(t)
  await book.onReceipt(signed(receiptOf(1)))
  await book.onReceipt(signed(receiptOf(2), key(5)))
  await book.onReceipt(signed(receiptOf(3, { amount_msat: 4_000 })))
  const good = await book.get(hash(1))
  t.match(good, { receipt: receiptOf(1), proof: null }, 'a good receipt is returned')
  t.notOk('checked' in (good ?? {}), 'as the StoredReceipt the API documents')
  t.equal(await book.get(hash(2)), undefined, 'a receipt not signed by the hub is not returned')
  t.ok(warnings.some(w => w === `payment_receipt for ${hash(2)} has a bad signature: not used`), 'and a warning says why')
  t.equal(await book.get(hash(3)), undefined, 'a receipt our records contradict is not returned')
  t.ok(warnings.some(w => w.startsWith(`payment_receipt for ${hash(3)} does not match our records (we paid 5000 msat`)), 'named')
  await book.onReceipt(signed({ ...receiptOf(4), hub_id: PAYEE }))
  t.equal(await book.get(hash(4)), undefined, 'a receipt of another hub is not even stored')
  await book.onReceipt(signed(receiptOf(5, { payer: PAYEE, payee: PAYEE })))
  t.equal(await book.get(hash(5)), undefined, 'nor one that does not name us')
})

t.test('a second receipt of one payment: replaces a held one that fails its check; never a good one (the first is evidence)', async t => {
  const { book, warnings } = await setup(t)
  await book.onReceipt(signed(receiptOf(1), key(5)))
  await book.onReceipt(signed(receiptOf(1)))
  t.match(await book.get(hash(1)), { receipt: receiptOf(1) }, 'the good receipt replaced the forged one')
  t.ok(warnings.some(w => w.includes('the one we held fails its check, replaced')))

  await book.onReceipt(signed(receiptOf(2)))
  await book.onReceipt(signed(receiptOf(2, { entry: 9 })))
  t.match(await book.get(hash(2)), { receipt: { entry: 0 } }, 'a differing second receipt does not replace the first')
  t.ok(warnings.some(w => w === `payment_receipt for ${hash(2)} differs from the one we hold (entry 0): kept ours`))
  await book.onReceipt(signed(receiptOf(2, { amount_msat: 4_000 })))
  t.ok(warnings.some(w => w.startsWith(`payment_receipt for ${hash(2)} does not match our records`)), 'a contradicted second is named')
})

t.test('a proof right behind its receipt is checked against it and stored with it; a second receipt and a proof do not wait on each other',
  async t => {
    const { book, sent } = await setup(t)
    const r = receiptOf(1)
    const entry = nextEntry(EMPTY_ROOT, { time_ms: r.time_ms, height: 120, record: recordOfReceipt(r) })
    const root = merkleRoot([entry.hash])
    const claim = { prev_commitment: GENESIS_COMMITMENT, root, from: 0, to: 1 }
    const proof: ReceiptProofMessage = {
      type: 'receipt_proof', payment_hash: r.payment_hash, status: 'anchored', entry: { ...entry, record: { ...entry.record as object } },
      path: merklePath([entry.hash], 0), anchor: { ...claim, commitment: anchorCommitment(claim), txid: hash(0xaa) },
    }
    const asked = book.request(r.payment_hash)
    t.same(sent.at(-1), { type: 'receipt_request', payment_hash: r.payment_hash }, 'receipt_request sent')
    const both = Promise.all([book.onReceipt(signed(r)), book.onProof(proof)])
    t.equal(await asked.answer, 'anchored', 'the answer comes once the proof is handled')
    await both
    t.match(await book.get(r.payment_hash), { receipt: r, proof: { anchor: { root } } }, 'the proof is stored with the receipt')

    // Again (the hub answering a second receipt_request): the receipt is held, so it is compared, and the proof waits for that.
    const again = book.request(r.payment_hash)
    const within = new Promise<string>(resolve => setTimeout(() => resolve('timed out'), 10_000))
    await Promise.all([book.onReceipt(signed(r)), book.onProof(proof)])
    t.equal(await Promise.race([again.answer, within]), 'anchored', 'answered, nothing stuck')
    t.match(await book.get(r.payment_hash), { receipt: r, proof: { anchor: { root } } }, 'still the receipt and its proof')
  })
