// Stream items packed in one string for stream_items (protocol/stream/item.ts): every list of valid
// items packs and unpacks to itself, and every malformed item is refused with its index and field named.
import t from 'tap'
import fc from 'fast-check'
import * as L from '../../../../protocol/limits.ts'
import { packStreamItems, unpackStreamItems, type WireStreamItem } from '../../../../protocol/stream/item.ts'

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
  }
  const good: WireStreamItem[] = [['a', L.MAX_STREAM_ITEM_MSAT, ''], ['b', 1, 'memo with spaces']]
  t.same(unpackStreamItems(packStreamItems(good)), { ok: true, items: good }, 'the largest amount and a memo with spaces')
})
