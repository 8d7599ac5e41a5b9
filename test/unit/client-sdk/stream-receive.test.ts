// The payee's side of streams (client-sdk/stream-receive.ts) in-process over a MemoryStore: a tick's
// chunks are hashed as they arrive, in any order and more than once; a chunk that overlaps items
// already here or holds a bad item is dropped; decide() fulfils only items that hash to the root, sum
// to the sealed amount and pay no id twice, stores the tick's items packed as the payer packed them,
// and takes back the marks of a tick it refuses.
import t from 'tap'
import { nobleCurve } from '../../../protocol/crypto/index.ts'
import { nodeIdOf } from '../../../protocol/auth/signature.ts'
import {
  leafHashes, packStreamItems, tickTree, tickTreeRoot, verifyTickSignature, type WireStreamItem,
} from '../../../protocol/stream/index.ts'
import { bytesToHex, type NodeId } from '../../../protocol/types.ts'
import type { PeerMessage } from '../../../protocol/wire/index.ts'
import type { StreamItemsMessage } from '../../../protocol/wire/hub-messages.ts'
import { MemoryStore, keys } from '../../../host/store/index.ts'
import { random32 } from '../../../host/random.ts'
import { StreamReceiver } from '../../../client-sdk/stream-receive.ts'

const PAYER = nodeIdOf(random32())

function setup (waitMs = 200) {
  const store = new MemoryStore()
  const key = random32()
  const warnings: string[] = []
  const sent: PeerMessage[] = []
  const rx = new StreamReceiver(store, key, nodeIdOf(key), m => { sent.push(m) }, () => {}, w => { warnings.push(w) }, waitMs)
  return { store, rx, warnings, sent, payee: nodeIdOf(key) }
}

const itemsOf = (n: number, tag: string): WireStreamItem[] => Array.from(
  { length: n }, (_, i) => [`${tag}-${i}`, 1 + i % 5, i % 3 === 0 ? 'm' : ''],
)
const rootOf = (items: WireStreamItem[]): string => bytesToHex(tickTreeRoot(tickTree(leafHashes(items), items.length)))
const sum = (items: WireStreamItem[]): number => items.reduce((a, i) => a + i[1], 0)

/** The tick's items as messages of `size` items each (from the payer). */
function chunks (items: WireStreamItem[], hash: string, size: number): StreamItemsMessage[] {
  const root = rootOf(items)
  const out: StreamItemsMessage[] = []
  for (let first = 0; first < items.length; first += size) {
    out.push({
      type: 'stream_items', peer: PAYER as NodeId, payment_hash: hash, count: items.length, root, first,
      items: packStreamItems(items.slice(first, first + size)),
    })
  }
  return out
}

t.test('chunks out of order and twice: decided from their leaves; the record holds the items packed as the payer packed them', async t => {
  const { store, rx, payee } = setup()
  const items = itemsOf(1_000, 'a')
  const hash = bytesToHex(random32())
  const msgs = chunks(items, hash, 300)
  for (const m of [msgs[3]!, msgs[1]!, msgs[1]!, msgs[0]!, msgs[2]!, msgs[0]!]) await rx.onItems(m)
  const d = await rx.decide(hash, sum(items), { count: items.length, root: rootOf(items) }, 1)
  t.ok(d.ok, 'fulfilled')
  if (!d.ok) return
  t.equal(d.tick.packed, packStreamItems(items), 'the stored items are the payer\'s packed string')
  t.equal(d.tick.count, 1_000)
  t.ok(verifyTickSignature({
    payer: PAYER, payee, paymentHash: hash, amountMsat: sum(items), count: items.length, root: rootOf(items),
  }, d.tick.signature, nobleCurve), 'signed by the payee')
  await store.write(d.attached.ops)
  const back = await rx.tick(hash)
  t.same(back?.items, items, 'streamTick() hands the items out as [id, amount, memo]')
  t.ok(await store.get(keys.streamIn(hash)) !== undefined, 'stored under stream-in/<hash>')
})

t.test('a chunk that overlaps items already here, or holds a bad item, is dropped; the tick completes from good chunks', async t => {
  const { rx, warnings } = setup()
  const items = itemsOf(100, 'b')
  const hash = bytesToHex(random32())
  const [c0, c1] = chunks(items, hash, 50)
  await rx.onItems(c0!)
  // Another cut (items 30..59, overlapping 30..49), with a wrong amount for item 35: dropped whole.
  const forged = chunks(items.map((it, i) => i === 35 ? [it[0], it[1] + 1, it[2]] : it) as WireStreamItem[], hash, 30)[1]!
  t.equal(forged.first, 30)
  await rx.onItems({ ...forged, root: c0!.root })
  const bad = { ...c1!, items: c1!.items.replace('b-60\t', 'b-60\t0') }
  await rx.onItems(bad)
  t.match(warnings.join('\n'), /items\[60\]\.amount/, 'a bad item is named by its index in the tick')
  await rx.onItems(c1!)
  const d = await rx.decide(hash, sum(items), { count: 100, root: rootOf(items) }, 1)
  t.ok(d.ok, 'decided from the good chunks')
})

t.test('refusals: wrong root, wrong sum, missing items, an id paid before; a refused tick\'s ids can be paid later', async t => {
  const { store, rx } = setup(150)
  const first = itemsOf(10, 'c')
  const h1 = bytesToHex(random32())
  for (const m of chunks(first, h1, 4)) await rx.onItems(m)
  const d1 = await rx.decide(h1, sum(first), { count: 10, root: rootOf(first) }, 1)
  t.ok(d1.ok)
  if (d1.ok) await store.write(d1.attached.ops)

  // A tick of new ids and one id paid in the first tick, last: refused; its new ids are not marked.
  const second = [...itemsOf(5, 'd'), first[3]!]
  const h2 = bytesToHex(random32())
  for (const m of chunks(second, h2, 4)) await rx.onItems(m)
  t.match(await rx.decide(h2, sum(second), { count: 6, root: rootOf(second) }, 1), { ok: false, detail: /"c-3" was paid before/ })
  t.equal(await rx.paidItem(PAYER, 'd-0'), undefined, 'the refused tick\'s new ids are not marked paid')

  const third = itemsOf(5, 'd')
  const h3 = bytesToHex(random32())
  for (const m of chunks(third, h3, 5)) await rx.onItems(m)
  t.match(
    await rx.decide(h3, sum(third) + 1, { count: 5, root: rootOf(third) }, 1), { ok: false, detail: /sum to/ }, 'the sealed sum must match',
  )
  t.match(await rx.decide(h3, sum(third), { count: 5, root: rootOf(first) }, 1), { ok: false, detail: /not those of the reference/ })
  const d3 = await rx.decide(h3, sum(third), { count: 5, root: rootOf(third) }, 1)
  t.ok(d3.ok, 'the same new ids in a later tick are paid')
  t.equal(await rx.paidItem(PAYER, 'd-0'), h3)

  const twice: WireStreamItem[] = [['e-1', 1, ''], ['e-2', 1, ''], ['e-1', 1, '']]
  const h4 = bytesToHex(random32())
  for (const m of chunks(twice, h4, 3)) await rx.onItems(m)
  t.match(await rx.decide(h4, 3, { count: 3, root: rootOf(twice) }, 1), { ok: false, detail: /"e-1" appears twice/ })
  t.equal(await rx.paidItem(PAYER, 'e-2'), undefined, 'nothing of it marked')

  const h5 = bytesToHex(random32())
  const some = chunks(itemsOf(8, 'f'), h5, 4)
  await rx.onItems(some[0]!)
  t.match(await rx.decide(h5, 8, { count: 8, root: some[0]!.root }, 1), { ok: false, detail: /did not arrive within 150 ms/ })
})
