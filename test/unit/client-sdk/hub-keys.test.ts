// The hub keys a client trusts, in its store (client-sdk/hub-keys.ts), and the receipts it takes from
// them (client-sdk/receipts.ts): a rotation it took is durable and counts at the next start even though
// options.hubId still names the first key; a hubId it never trusted (given out of band) replaces what it
// stored; a receipt signed by a key it trusted before (or since) a rotation is kept, one by a stranger's
// key is ignored.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { nodeIdOf } from '../../../protocol/auth/signature.ts'
import { signRotation } from '../../../protocol/node-key/announcement.ts'
import { receiptOf, signReceipt } from '../../../protocol/receipt/receipt.ts'
import type { NodeId } from '../../../protocol/types.ts'
import { MemoryStore } from '../../../host/store/memory-store.ts'
import { HubKeys } from '../../../client-sdk/hub-keys.ts'
import { ReceiptBook } from '../../../client-sdk/receipts.ts'

const key = (): Uint8Array => new Uint8Array(randomBytes(32))
const [k0, k1] = [key(), key()]
const [K0, K1] = [nodeIdOf(k0), nodeIdOf(k1)]
const rotation = signRotation({ kind: 'rotate', seq: 1, oldId: K0, newId: K1, graceUntilHeight: 50 }, k0, k1, [key(), key()])

t.test('a rotation taken is durable; the first hubId keeps working, a new one given out of band replaces it', async t => {
  const store = new MemoryStore()
  const keys = await HubKeys.load(store, K0)
  t.same(keys.trusted(10), [K0])
  t.equal((await keys.take(rotation)).kind, 'accepted')
  t.same(keys.trusted(10), [K1, K0], 'both trusted within the grace')
  const again = await HubKeys.load(store, K0)
  t.equal(again.current, K1, 'a restart with options.hubId still K0: the stored rotation counts')
  t.same(again.trusted(50), [K1], 'the old key no longer trusted from grace_until on')
  t.equal((await again.take(rotation)).kind, 'ignored', 'the same announcement again: ignored')
  const K2 = nodeIdOf(key())
  const given = await HubKeys.load(store, K2)
  t.equal(given.current, K2, 'a hubId never trusted is the owner\'s word: it replaces the stored trust')
  t.same(given.trusted(10), [K2])
})

t.test('receipts: from any key the hub had, kept; from a stranger\'s key, ignored', async t => {
  const store = new MemoryStore()
  const keys = await HubKeys.load(store, K0)
  await keys.take(rotation)
  const me = nodeIdOf(key())
  const warnings: string[] = []
  const book = new ReceiptBook({
    store, nodeId: me, hubId: () => K0, send: () => true, warn: w => warnings.push(w), disagrees: async () => undefined,
    isHubKey: id => keys.known(id),
  })
  const receipt = (hubKey: Uint8Array, n: number): { r: ReturnType<typeof receiptOf>; sig: string } => {
    const r = receiptOf(nodeIdOf(hubKey), {
      kind: 'payment', payment_hash: n.toString(16).padStart(64, '0'), amount_msat: 1_000, fee_msat: 1, payer: me,
      payee: nodeIdOf(key()) as NodeId, reference: null,
    }, n, 1_700_000_000_000)
    return { r, sig: signReceipt(r, hubKey, key()) }
  }
  // Connected under K0 still (before the reconnect), a receipt signed by the new key K1 arrives.
  const byNew = receipt(k1, 1)
  await book.onReceipt({ type: 'payment_receipt', receipt: byNew.r, signature: byNew.sig })
  t.ok(await book.get(byNew.r.payment_hash), 'a receipt by the key rotated in is kept')
  const stranger = receipt(key(), 2)
  await book.onReceipt({ type: 'payment_receipt', receipt: stranger.r, signature: stranger.sig })
  t.equal(await book.get(stranger.r.payment_hash), undefined, 'one by a key the hub never announced is ignored')
  t.match(warnings.join('\n'), /from another hub/, 'with a warning')
})
