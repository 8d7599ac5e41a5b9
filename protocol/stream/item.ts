// A stream's line item (DESIGN.md "Streams"): an id unique within its payer and payee, an amount of at
// least 1 msat and a memo. Its leaf in the tick's Merkle tree (merkle.ts) is
//
//   SHA256(0x00 ‖ len(id) ‖ id ‖ amount_msat as 8 bytes big-endian ‖ len(memo) ‖ memo)
//
// each length one byte, the texts ASCII. The 0x00 prefix separates leaves from inner nodes (0x01), so
// no inner node can be shown as an item (the second-preimage attack on Merkle trees without it).
import { z } from 'zod'
import { sha256Into } from '../crypto/sha256-into.ts'
import { MAX_STREAM_ITEM_ID_CHARS, MAX_STREAM_ITEM_MEMO_CHARS, MAX_STREAM_ITEM_MSAT } from '../limits.ts'

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

/** An item as it travels in `stream_items` (protocol/wire): [id, amount_msat, memo]. */
export const wireStreamItem = z.tuple([streamItemId, streamItemMsat, streamItemMemo])
export type WireStreamItem = [string, number, string]

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
