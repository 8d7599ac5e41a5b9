// A stream's line item (DESIGN.md "Streams"): an id unique within its payer and payee, an amount of at
// least 1 msat and a memo. Its leaf in the tick's Merkle tree (merkle.ts) is
//
//   SHA256(0x00 ‖ len(id) ‖ id ‖ amount_msat as 8 bytes big-endian ‖ len(memo) ‖ memo)
//
// each length one byte, the texts ASCII. The 0x00 prefix separates leaves from inner nodes (0x01), so
// no inner node can be shown as an item (the second-preimage attack on Merkle trees without it).
import { z } from 'zod'
import { sha256Into } from '../crypto/sha256-into.ts'
import {
  MAX_STREAM_CHUNK_ITEMS, MAX_STREAM_ITEM_ID_CHARS, MAX_STREAM_ITEM_MEMO_CHARS, MAX_STREAM_ITEM_MSAT,
} from '../limits.ts'

/** Printable ASCII without `"` and `\`: an item's JSON needs no escaping, and its bytes are its characters. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

export const streamItemId = z.string().min(1).max(MAX_STREAM_ITEM_ID_CHARS)
  .regex(PLAIN, { error: 'must be printable ASCII without " or \\' })
export const streamItemMemo = z.string().max(MAX_STREAM_ITEM_MEMO_CHARS)
  .regex(PLAIN, { error: 'must be printable ASCII without " or \\' })
export const streamItemMsat = z.number().int().min(1).max(MAX_STREAM_ITEM_MSAT)

/** An item as the SDK takes it (`stream.push`). */
export const streamItem = z.strictObject({ id: streamItemId, amountMsat: streamItemMsat, memo: streamItemMemo.default('') })
export interface StreamItem { id: string; amountMsat: number; memo: string }

/** `x` as streamItem reads it, when it is an item streamItem takes with nothing to default or report:
 *  own keys id, amountMsat and (a string) memo, and nothing else. Undefined otherwise (streamItem then
 *  says which field is wrong). push() takes thousands of items a second: plain checks, no schema. */
export function plainStreamItem (x: unknown): StreamItem | undefined {
  if (typeof x !== 'object' || x === null) return undefined
  const { id, amountMsat, memo } = x as Record<string, unknown>
  let keys = 0
  for (const k in x) { if (!Object.hasOwn(x, k)) return undefined; keys++ }
  if (keys !== (memo === undefined ? 2 : 3)) return undefined
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_STREAM_ITEM_ID_CHARS || !PLAIN.test(id)) return undefined
  if (typeof amountMsat !== 'number' || !Number.isInteger(amountMsat) || amountMsat < 1 ||
    amountMsat > MAX_STREAM_ITEM_MSAT) return undefined
  if (memo === undefined) return { id, amountMsat, memo: '' }
  if (typeof memo !== 'string' || memo.length > MAX_STREAM_ITEM_MEMO_CHARS || !PLAIN.test(memo)) return undefined
  return { id, amountMsat, memo }
}

/** An item as the stores keep it: [id, amount_msat, memo]. */
export const wireStreamItem = z.tuple([streamItemId, streamItemMsat, streamItemMemo])
export type WireStreamItem = [string, number, string]

/** Items as they travel in `stream_items` (protocol/wire/hub-messages.ts): one string,
 *  `id TAB amount TAB memo`, items separated by LF. Ids and memos hold neither (PLAIN), so the split is
 *  unambiguous; in JSON each separator is a two-character escape. One string instead of an array of
 *  arrays: the hub relays it without touching an item, and the payee checks each item with the plain
 *  string checks below rather than a schema per item. */
export function packStreamItems (items: readonly WireStreamItem[]): string {
  let s = ''
  for (let i = 0; i < items.length; i++) {
    const [id, amountMsat, memo] = items[i]!
    s += (i === 0 ? '' : '\n') + id + '\t' + String(amountMsat) + '\t' + memo
  }
  return s
}

/** The ids of a packed string's items, in order (the string was checked when it was stored or taken). */
export function packedIds (packed: string): string[] {
  if (packed === '') return []
  const ids: string[] = []
  for (let at = 0; ;) {
    const lf = packed.indexOf('\n', at)
    ids.push(packed.slice(at, packed.indexOf('\t', at)))
    if (lf < 0) return ids
    at = lf + 1
  }
}

/** The characters a packed string may hold: PLAIN's, TAB and LF. */
export const PACKED_ITEMS = /^[\t\n\x20\x21\x23-\x5b\x5d-\x7e]*$/
const AMOUNT = /^[1-9][0-9]{0,15}$/

/** A packed string read back, every item checked as streamItem checks it (an empty string: no items);
 *  the first bad item is named. At most `maxItems` items (a message's, unless told). */
export function unpackStreamItems (packed: string, maxItems = MAX_STREAM_CHUNK_ITEMS):
{ ok: true; items: WireStreamItem[] } | { ok: false; detail: string } {
  if (packed === '') return { ok: true, items: [] }
  if (!PACKED_ITEMS.test(packed)) return { ok: false, detail: 'items: a character outside printable ASCII without " or \\' }
  const lines = packed.split('\n')
  if (lines.length > maxItems) return { ok: false, detail: `items: more than ${maxItems}` }
  const items: WireStreamItem[] = new Array(lines.length)
  for (let i = 0; i < lines.length; i++) {
    const f = lines[i]!.split('\t')
    if (f.length !== 3) return { ok: false, detail: `items[${i}]: must be id, amount and memo` }
    const [id, amount, memo] = f as [string, string, string]
    if (id.length === 0 || id.length > MAX_STREAM_ITEM_ID_CHARS) {
      return { ok: false, detail: `items[${i}].id: must be 1-${MAX_STREAM_ITEM_ID_CHARS} characters` }
    }
    if (memo.length > MAX_STREAM_ITEM_MEMO_CHARS) {
      return { ok: false, detail: `items[${i}].memo: must be at most ${MAX_STREAM_ITEM_MEMO_CHARS} characters` }
    }
    const amountMsat = Number(amount)
    if (!AMOUNT.test(amount) || amountMsat > MAX_STREAM_ITEM_MSAT) {
      return { ok: false, detail: `items[${i}].amount: must be an integer from 1 to ${MAX_STREAM_ITEM_MSAT} (msat)` }
    }
    items[i] = [id, amountMsat, memo]
  }
  return { ok: true, items }
}

export const LEAF_PREFIX = 0x00
export const NODE_PREFIX = 0x01

/** The longest leaf preimage. */
const MAX_LEAF_BYTES = 1 + 1 + MAX_STREAM_ITEM_ID_CHARS + 8 + 1 + MAX_STREAM_ITEM_MEMO_CHARS
/** packedLeafHashes's preimage buffer (it runs to the end without yielding, so one is enough). */
const LEAF_BUF = new Uint8Array(MAX_LEAF_BYTES)

/** Writes the leaf's preimage into `buf` from 0; its length. */
function leafPreimage (buf: Uint8Array, id: string, amountMsat: number, memo: string): number {
  let at = 0
  buf[at++] = LEAF_PREFIX
  buf[at++] = id.length
  for (let i = 0; i < id.length; i++) buf[at++] = id.charCodeAt(i)
  // amount_msat < 2^53: high and low 32-bit halves, big-endian.
  const hi = Math.floor(amountMsat / 0x1_0000_0000)
  const lo = amountMsat >>> 0
  buf[at++] = hi >>> 24; buf[at++] = (hi >>> 16) & 0xff; buf[at++] = (hi >>> 8) & 0xff; buf[at++] = hi & 0xff
  buf[at++] = lo >>> 24; buf[at++] = (lo >>> 16) & 0xff; buf[at++] = (lo >>> 8) & 0xff; buf[at++] = lo & 0xff
  buf[at++] = memo.length
  for (let i = 0; i < memo.length; i++) buf[at++] = memo.charCodeAt(i)
  return at
}

/** The item's leaf hash. The caller has checked the item (streamItem): ASCII texts within bounds. */
export function leafHash (item: StreamItem): Uint8Array {
  const buf = new Uint8Array(MAX_LEAF_BYTES)
  const out = new Uint8Array(32)
  sha256Into(buf, 0, leafPreimage(buf, item.id, item.amountMsat, item.memo), out, 0)
  return out
}

/** What packedLeafHashes read from a packed string: its items' count, the sum of their amounts, and
 *  their ids in order. */
export type PackedRead = { ok: true; count: number; sumMsat: number; ids: string[] } | { ok: false; detail: string }

const TAB = 9
const LF = 10
const DIGIT_0 = 48

/** Items in a packed string (LFs + 1; 0 for the empty string), without reading them. */
export function packedCount (packed: string): number {
  if (packed === '') return 0
  let n = 1
  for (let at = packed.indexOf('\n'); at >= 0; at = packed.indexOf('\n', at + 1)) n++
  return n
}

/**
 * Reads a packed string (packStreamItems) and writes each item's leaf hash to `out` from `outAt`, 32
 * bytes an item, in one pass over its characters: every item checked as unpackStreamItems checks it
 * (the first bad one named, `first` added to its index), and no array, string or number per field
 * but the id. At most `maxItems` items; `out` must hold them. The empty string is no items.
 */
export function packedLeafHashes (
  packed: string, out: Uint8Array, outAt: number, first = 0, maxItems = MAX_STREAM_CHUNK_ITEMS,
): PackedRead {
  if (packed === '') return { ok: true, count: 0, sumMsat: 0, ids: [] }
  if (!PACKED_ITEMS.test(packed)) return { ok: false, detail: 'items: a character outside printable ASCII without " or \\' }
  const buf = LEAF_BUF
  const ids: string[] = []
  let sumMsat = 0
  let at = 0
  const end = packed.length
  for (let i = 0; ; i++) {
    if (i >= maxItems) return { ok: false, detail: `items: more than ${maxItems}` }
    if (outAt + (i + 1) * 32 > out.length) throw new RangeError(`packedLeafHashes: no room in out for item ${i}`)
    const n = first + i
    // id
    const idStart = at
    while (at < end && packed.charCodeAt(at) !== TAB && packed.charCodeAt(at) !== LF) at++
    const idLen = at - idStart
    if (at >= end || packed.charCodeAt(at) !== TAB) return { ok: false, detail: `items[${n}]: must be id, amount and memo` }
    if (idLen === 0 || idLen > MAX_STREAM_ITEM_ID_CHARS) {
      return { ok: false, detail: `items[${n}].id: must be 1-${MAX_STREAM_ITEM_ID_CHARS} characters` }
    }
    at++
    // amount: decimal digits without a leading 0 (AMOUNT), at most MAX_STREAM_ITEM_MSAT
    const amountStart = at
    let amount = 0
    let digitsOnly = true
    let c = packed.charCodeAt(at)
    while (at < end && c !== TAB && c !== LF) {
      if (c < DIGIT_0 || c > DIGIT_0 + 9) digitsOnly = false
      amount = amount * 10 + (c - DIGIT_0)
      c = packed.charCodeAt(++at)
    }
    if (at >= end || c !== TAB) return { ok: false, detail: `items[${n}]: must be id, amount and memo` }
    const digits = at - amountStart
    if (!digitsOnly || digits === 0 || digits > 16 || packed.charCodeAt(amountStart) === DIGIT_0 || amount > MAX_STREAM_ITEM_MSAT) {
      return { ok: false, detail: `items[${n}].amount: must be an integer from 1 to ${MAX_STREAM_ITEM_MSAT} (msat)` }
    }
    at++
    // memo, to LF or the end
    const memoStart = at
    while (at < end && (c = packed.charCodeAt(at)) !== LF) {
      if (c === TAB) return { ok: false, detail: `items[${n}]: must be id, amount and memo` }
      at++
    }
    const memoLen = at - memoStart
    if (memoLen > MAX_STREAM_ITEM_MEMO_CHARS) {
      return { ok: false, detail: `items[${n}].memo: must be at most ${MAX_STREAM_ITEM_MEMO_CHARS} characters` }
    }
    // The leaf's preimage (as leafPreimage writes it) straight from the characters.
    let p = 0
    buf[p++] = LEAF_PREFIX
    buf[p++] = idLen
    for (let k = idStart; k < idStart + idLen; k++) buf[p++] = packed.charCodeAt(k)
    const hi = Math.floor(amount / 0x1_0000_0000)
    const lo = amount >>> 0
    buf[p++] = hi >>> 24; buf[p++] = (hi >>> 16) & 0xff; buf[p++] = (hi >>> 8) & 0xff; buf[p++] = hi & 0xff
    buf[p++] = lo >>> 24; buf[p++] = (lo >>> 16) & 0xff; buf[p++] = (lo >>> 8) & 0xff; buf[p++] = lo & 0xff
    buf[p++] = memoLen
    for (let k = memoStart; k < memoStart + memoLen; k++) buf[p++] = packed.charCodeAt(k)
    sha256Into(buf, 0, p, out, outAt + i * 32)
    ids.push(packed.slice(idStart, idStart + idLen))
    sumMsat += amount
    if (at >= end) return { ok: true, count: i + 1, sumMsat, ids }
    at++ // the LF
  }
}

/** The leaf hashes of `items`, end to end (32 bytes each): merkle.ts tickTree's input. The caller has
 *  checked the items (wireStreamItem). */
export function leafHashes (items: readonly WireStreamItem[]): Uint8Array {
  const buf = new Uint8Array(MAX_LEAF_BYTES)
  const out = new Uint8Array(items.length * 32)
  for (let i = 0; i < items.length; i++) {
    const [id, amountMsat, memo] = items[i]!
    sha256Into(buf, 0, leafPreimage(buf, id, amountMsat, memo), out, i * 32)
  }
  return out
}
