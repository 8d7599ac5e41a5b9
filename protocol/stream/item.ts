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

/** The characters a packed string may hold: PLAIN's, TAB and LF. */
export const PACKED_ITEMS = /^[\t\n\x20\x21\x23-\x5b\x5d-\x7e]*$/
const AMOUNT = /^[1-9][0-9]{0,15}$/

/** A packed string read back, every item checked as streamItem checks it (an empty string: no items);
 *  the first bad item is named. */
export function unpackStreamItems (packed: string): { ok: true; items: WireStreamItem[] } | { ok: false; detail: string } {
  if (packed === '') return { ok: true, items: [] }
  if (!PACKED_ITEMS.test(packed)) return { ok: false, detail: 'items: a character outside printable ASCII without " or \\' }
  const lines = packed.split('\n')
  if (lines.length > MAX_STREAM_CHUNK_ITEMS) return { ok: false, detail: `items: more than ${MAX_STREAM_CHUNK_ITEMS}` }
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
