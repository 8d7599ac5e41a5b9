// Stream items packed in one string for stream_items (protocol/stream/item.ts): every list of valid
// items packs and unpacks to itself, and every malformed item is refused with its index and field named;
// packedLeafHashes reads a packed string as unpackStreamItems does and gives leafHashes's leaves; push()'s
// plainStreamItem takes exactly what streamItem takes with nothing to default.
import t from 'tap'
import fc from 'fast-check'
import * as L from '../../../../protocol/limits.ts'
import {
  leafHashes, packedCount, packedIds, packedLeafHashes, packStreamItems, plainStreamItem, streamItem, unpackStreamItems,
  type WireStreamItem,
} from '../../../../protocol/stream/item.ts'

const plain = fc.string({ unit: fc.constantFrom(...'abcXYZ019 -_:.#!~[]{}'.split('')), maxLength: 64 })
const item = fc.tuple(plain.filter(s => s.length > 0), fc.integer({ min: 1, max: L.MAX_STREAM_ITEM_MSAT }), plain)

t.test('property: packed items unpack to the same items, in order', async t => {
  fc.assert(fc.property(fc.array(item, { maxLength: 200 }), list => {
    const r = unpackStreamItems(packStreamItems(list))
    return r.ok && JSON.stringify(r.items) === JSON.stringify(list)
  }), { numRuns: 300 })
  t.same(unpackStreamItems(''), { ok: true, items: [] }, 'the empty string is no items')
  t.equal(packStreamItems([['a', 1, '']]), 'a\t1\t', 'id TAB amount TAB memo')
})

t.test('a malformed item is refused, its index and field named', async t => {
  const bad: Array<[string, RegExp]> = [
    ['a\t1\t\n\t1\t', /items\[1\]\.id: must be 1-64 characters/],
    ['i'.repeat(L.MAX_STREAM_ITEM_ID_CHARS + 1) + '\t1\t', /items\[0\]\.id/],
    ['a\t1\t' + 'm'.repeat(L.MAX_STREAM_ITEM_MEMO_CHARS + 1), /items\[0\]\.memo/],
    ['a\t0\t', /items\[0\]\.amount/], ['a\t01\t', /items\[0\]\.amount/], ['a\t1.5\t', /items\[0\]\.amount/],
    ['a\t-1\t', /items\[0\]\.amount/], ['a\t\t', /items\[0\]\.amount/], ['a\t1e3\t', /items\[0\]\.amount/],
    [`a\t${L.MAX_STREAM_ITEM_MSAT + 1}\t`, /items\[0\]\.amount/],
    ['a\t1', /items\[0\]: must be id, amount and memo/], ['a\t1\t\t', /items\[0\]: must be id, amount and memo/],
    ['a\t1\tquote"', /printable ASCII/], ['é\t1\t', /printable ASCII/], ['a\r\t1\t', /printable ASCII/],
    [Array.from({ length: L.MAX_STREAM_CHUNK_ITEMS + 1 }, () => 'a\t1\t').join('\n'), /more than 8192/],
  ]
  for (const [packed, detail] of bad) {
    const r = unpackStreamItems(packed)
    t.match(r, { ok: false, detail }, JSON.stringify(packed.slice(0, 40)))
    const out = new Uint8Array((L.MAX_STREAM_CHUNK_ITEMS + 1) * 32)
    t.match(packedLeafHashes(packed, out, 0), { ok: false, detail }, `packedLeafHashes: ${JSON.stringify(packed.slice(0, 40))}`)
  }
  const out = new Uint8Array(64)
  t.match(packedLeafHashes('a\t1\t\nb\t0\t', out, 0, 7), { ok: false, detail: /items\[8\]\.amount/ }, 'the index counts from first')
  const good: WireStreamItem[] = [['a', L.MAX_STREAM_ITEM_MSAT, ''], ['b', 1, 'memo with spaces']]
  t.same(unpackStreamItems(packStreamItems(good)), { ok: true, items: good }, 'the largest amount and a memo with spaces')
})

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

t.test('property: packedLeafHashes gives leafHashes\'s leaves, the count, the sum and the ids, at its place in out', async t => {
  fc.assert(fc.property(fc.array(item, { minLength: 1, maxLength: 200 }), fc.integer({ min: 0, max: 5 }), (list, at) => {
    const packed = packStreamItems(list)
    const out = new Uint8Array((at + list.length) * 32)
    const r = packedLeafHashes(packed, out, at * 32, at)
    return r.ok && r.count === list.length && r.sumMsat === list.reduce((a, i) => a + i[1], 0) &&
      JSON.stringify(r.ids) === JSON.stringify(list.map(i => i[0])) && JSON.stringify(packedIds(packed)) === JSON.stringify(r.ids) &&
      packedCount(packed) === list.length && hex(out.subarray(at * 32)) === hex(leafHashes(list))
  }), { numRuns: 300 })
  t.same(packedLeafHashes('', new Uint8Array(0), 0), { ok: true, count: 0, sumMsat: 0, ids: [] }, 'the empty string is no items')
  t.equal(packedCount(''), 0)
  t.throws(() => packedLeafHashes('a\t1\t\nb\t1\t', new Uint8Array(32), 0), RangeError, 'out must hold every item')
})

t.test('property: plainStreamItem takes what streamItem takes, as streamItem reads it, or leaves it to streamItem', async t => {
  const value = fc.oneof(fc.string({ maxLength: 70 }), plain, fc.integer(), fc.double(), fc.constant(undefined), fc.constant(null))
  const candidate = fc.oneof(
    fc.record({ id: plain, amountMsat: fc.integer({ min: 0, max: L.MAX_STREAM_ITEM_MSAT + 1 }), memo: plain }, { requiredKeys: ['id'] }),
    fc.record({ id: value, amountMsat: value, memo: value, extra: value }, { requiredKeys: [] }),
    value,
  )
  fc.assert(fc.property(candidate, x => {
    const fast = plainStreamItem(x)
    const slow = streamItem.safeParse(x)
    return fast === undefined ? true : slow.success && JSON.stringify(fast) === JSON.stringify(slow.data)
  }), { numRuns: 2_000 })
  fc.assert(fc.property(item, fc.boolean(), ([id, amountMsat, memo], withMemo) => {
    const x = withMemo ? { id, amountMsat, memo } : { id, amountMsat }
    return JSON.stringify(plainStreamItem(x)) === JSON.stringify(streamItem.parse(x))
  }), { numRuns: 500 })
  t.equal(plainStreamItem(Object.assign(Object.create({ inherited: 1 }) as object, { id: 'a', amountMsat: 1 })), undefined,
    'an inherited key: left to streamItem')
  t.equal(plainStreamItem({ id: 'a', amountMsat: 1, memo: undefined }), undefined, 'memo undefined: left to streamItem')
})
