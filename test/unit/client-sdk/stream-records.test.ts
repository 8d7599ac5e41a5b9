// The client's stream tick records (client-sdk/stream-records.ts): a tick is stored packed, and a record
// holding its items as an array is read as the same packed items, so a data directory keeps its streams
// across the change of format; a record whose items are not valid is refused, naming the field.
import t from 'tap'
import { outgoingTick, storedIncomingTick } from '../../../client-sdk/stream-records.ts'
import { leafHashes, merkleRoot, packedLeafHashes, packStreamItems, type WireStreamItem } from '../../../protocol/stream/index.ts'

const items: WireStreamItem[] = [['a-1', 1, ''], ['a-2', 250, 'chapter 2'], ['a-3', 9_999, 'tip']]
const hex = (c: string): string => c.repeat(64)
const common = { root: hex('a'), amountMsat: 10_250, paymentHash: hex('b') }
const outgoing = {
  ...common, seq: 3, payee: '02' + hex('c'), attempt: 1, status: 'paid', signature: 'd'.repeat(128), createdAt: 1, paidAt: 2,
  push: { ephemeral_point: '03' + hex('e'), ciphertext: 'f'.repeat(80), tag: hex('1') },
}
const incoming = { ...common, payer: '02' + hex('2'), signature: '3'.repeat(128), receivedAt: 4 }

t.test('a record with its items as an array reads as the packed items', async t => {
  for (const [name, schema, rec] of [['outgoing', outgoingTick, outgoing], ['incoming', storedIncomingTick, incoming]] as const) {
    const r = schema.safeParse({ ...rec, items })
    t.ok(r.success, `${name}: the array record is read`)
    if (!r.success) continue
    t.equal(r.data.packed, packStreamItems(items), `${name}: packed as a packed record holds them`)
    t.equal(r.data.count, items.length, `${name}: its count`)
    t.notOk('items' in r.data, `${name}: no items field is left`)
    const leaves = new Uint8Array(32 * items.length)
    t.ok(packedLeafHashes(r.data.packed, leaves, 0).ok, `${name}: the packed items hash`)
    t.same(merkleRoot(split(leaves)), merkleRoot(split(leafHashes(items))), `${name}: to the same root`)
  }
})

t.test('a packed record reads unchanged', async t => {
  const r = outgoingTick.safeParse({ ...outgoing, packed: packStreamItems(items), count: items.length })
  t.ok(r.success)
  if (r.success) t.equal(r.data.packed, packStreamItems(items))
})

t.test('an array of items that are not valid is refused, naming the field', async t => {
  for (const bad of [[], [['', 1, '']], [['x', 0, '']], 'not an array']) {
    const r = outgoingTick.safeParse({ ...outgoing, items: bad })
    t.notOk(r.success, `items ${JSON.stringify(bad)} refused`)
    if (!r.success) t.ok(r.error.issues.some(i => i.path[0] === 'items' || i.path[0] === 'packed'), 'the issue names the items')
  }
})

/** 32-byte leaves out of one buffer. */
function split (leaves: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let i = 0; i < leaves.length; i += 32) out.push(leaves.subarray(i, i + 32))
  return out
}
