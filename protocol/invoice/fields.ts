// Tagged fields: their numbers, the values they carry, and how each is read from and written to
// 5-bit words. Each reader returns a value or an error naming the field; none throws.
import { bytesToHex, hexToBytes } from '../types.ts'
import { ok } from '../result.ts'
import { fail, type InvoiceResult } from './errors.ts'
import { bytesToWords, uintToWords, wordsToBytes, wordsToUint } from './words.ts'

/** BOLT #11 "Currently defined tagged fields", by their bech32 character and 5-bit type. */
export type TagName = 'p' | 's' | 'd' | 'm' | 'n' | 'h' | 'x' | 'c' | 'f' | 'r' | '9'
export const TAG: Readonly<Record<TagName, number>> = { p: 1, s: 16, d: 13, m: 27, n: 19, h: 23, x: 6, c: 24, f: 9, r: 3, '9': 5 }
const TAG_BY_NUMBER = new Map<number, TagName>(Object.entries(TAG).map(([k, v]) => [v, k as TagName]))
export const tagName = (n: number): TagName | undefined => TAG_BY_NUMBER.get(n)

/** BOLT #11: "MUST fail the payment if any field with fixed `data_length` (`p`, `h`, `s`, `n`) does not
 * have the correct length (52, 52, 52, 53)." */
export const FIXED_LENGTH: Partial<Record<TagName, number>> = { p: 52, h: 52, s: 52, n: 53 }

/** Max words in one field: `data_length` is 10 bits (BOLT #11: "1023 x 5 bits, or 639 bytes"). */
export const MAX_FIELD_WORDS = 1023
/** The same in whole bytes: the longest description (`d`) or payment metadata (`m`). */
export const MAX_FIELD_BYTES = Math.floor(MAX_FIELD_WORDS * 5 / 8)

/** An on-chain fallback: witness version 0-16 with its program, 17 (P2PKH hash) or 18 (P2SH hash). */
export interface Fallback { readonly version: number; readonly programHex: string }

/** One hop of an `r` field (BOLT #7 channel_update values for the channel into the next node). */
export interface RouteHop {
  readonly pubkey: string
  /** "block x tx x output" */
  readonly shortChannelId: string
  readonly feeBaseMsat: number
  readonly feeProportionalMillionths: number
  readonly cltvExpiryDelta: number
}

// ---- reading ----

/** 32 bytes from exactly 52 words (the four leftover bits must be zero). */
export function readHash32 (tag: TagName, words: readonly number[]): InvoiceResult<string> {
  const b = wordsToBytes(words)
  if (b === null || b.length !== 32) return fail('field_invalid', tag, 'not 32 bytes with zero padding')
  return ok(bytesToHex(b))
}

export function readBytes (tag: TagName, words: readonly number[]): InvoiceResult<Uint8Array> {
  const b = wordsToBytes(words)
  return b === null ? fail('field_invalid', tag, 'non-zero or excess padding bits') : ok(b)
}

const utf8 = new TextDecoder('utf-8', { fatal: true })
export function readText (tag: TagName, words: readonly number[]): InvoiceResult<string> {
  const b = readBytes(tag, words)
  if (!b.ok) return b
  try {
    return ok(utf8.decode(b.value))
  } catch {
    return fail('field_invalid', tag, 'not valid UTF-8')
  }
}

// BOLT #11: "if a `c`, `x`, or `9` field is provided which has a non-minimal `data_length` (i.e.
// begins with 0 field elements): SHOULD treat the invoice as invalid."
export function readMinimalUint (tag: TagName, words: readonly number[]): InvoiceResult<number> {
  if (words[0] === 0) return fail('non_minimal', tag, 'starts with a zero field element')
  const n = wordsToUint(words)
  return n === null ? fail('field_invalid', tag, `${words.length * 5} bits is more than we accept (50)`) : ok(n)
}

/** Feature bits, ascending; bit 0 is the least significant bit of the last word. */
export function readFeatures (words: readonly number[]): InvoiceResult<number[]> {
  if (words[0] === 0) return fail('non_minimal', '9', 'starts with a zero field element')
  const bits: number[] = []
  for (let i = 0; i < words.length; i++) {
    const w = words[words.length - 1 - i]!
    for (let b = 0; b < 5; b++) if ((w >> b) & 1) bits.push(i * 5 + b)
  }
  return ok(bits)
}

/** Witness programs are 2 to 40 bytes (BIP-141), v0 exactly 20 or 32; hashes of 17/18 are 20 bytes. */
function validProgram (version: number, len: number): boolean {
  if (version === 17 || version === 18) return len === 20
  if (version === 0) return len === 20 || len === 32
  return len >= 2 && len <= 40
}

/** A fallback, or null for a version we must skip. BOLT #11: "MUST skip over `f` fields that use an
 * unknown `version`." */
export function readFallback (words: readonly number[]): InvoiceResult<Fallback | null> {
  if (words.length === 0) return fail('field_invalid', 'f', 'empty')
  const version = words[0]!
  if (version > 18) return ok(null)
  const prog = wordsToBytes(words.slice(1))
  if (prog === null || !validProgram(version, prog.length)) {
    return fail('field_invalid', 'f', `version ${version} with a program that is not valid for it`)
  }
  return ok({ version, programHex: bytesToHex(prog) })
}

const HOP_BYTES = 51 // pubkey 33 + short_channel_id 8 + fee_base 4 + fee_ppm 4 + cltv_delta 2
export function readRoute (words: readonly number[]): InvoiceResult<RouteHop[]> {
  const b = wordsToBytes(words)
  if (b === null || b.length === 0 || b.length % HOP_BYTES !== 0) {
    return fail('field_invalid', 'r', `not a whole number of ${HOP_BYTES}-byte hops`)
  }
  const hops: RouteHop[] = []
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  for (let o = 0; o < b.length; o += HOP_BYTES) {
    const pk = b.subarray(o, o + 33)
    if (pk[0] !== 2 && pk[0] !== 3) return fail('field_invalid', 'r', `hop ${o / HOP_BYTES}: pubkey is not compressed`)
    const block = (view.getUint16(o + 33) * 256) + b[o + 35]!
    const tx = (view.getUint16(o + 36) * 256) + b[o + 38]!
    const out = view.getUint16(o + 39)
    hops.push({
      pubkey: bytesToHex(pk),
      shortChannelId: `${block}x${tx}x${out}`,
      feeBaseMsat: view.getUint32(o + 41),
      feeProportionalMillionths: view.getUint32(o + 45),
      cltvExpiryDelta: view.getUint16(o + 49),
    })
  }
  return ok(hops)
}

// ---- writing (inputs were checked by the encoder) ----

export function field (tag: TagName, data: readonly number[]): number[] {
  if (data.length > MAX_FIELD_WORDS) throw new RangeError(`field ${tag}: ${data.length} words exceeds ${MAX_FIELD_WORDS}`)
  return [TAG[tag], data.length >> 5, data.length & 31, ...data]
}

export const hexWords = (hex: string): number[] => bytesToWords(hexToBytes(hex))
export const textWords = (s: string): number[] => bytesToWords(new TextEncoder().encode(s))

export function featureWords (bits: readonly number[]): number[] {
  const max = Math.max(-1, ...bits)
  const words = new Array<number>(Math.floor(max / 5) + 1).fill(0)
  for (const bit of bits) words[words.length - 1 - Math.floor(bit / 5)]! |= 1 << (bit % 5)
  return max < 0 ? [] : words
}

export const fallbackWords = (f: Fallback): number[] => [f.version, ...hexWords(f.programHex)]

export function routeWords (hops: readonly RouteHop[]): number[] {
  const b = new Uint8Array(hops.length * HOP_BYTES)
  const view = new DataView(b.buffer)
  hops.forEach((h, i) => {
    const o = i * HOP_BYTES
    b.set(hexToBytes(h.pubkey), o)
    const [block, tx, out] = h.shortChannelId.split('x').map(Number) as [number, number, number]
    view.setUint16(o + 33, Math.floor(block / 256)); b[o + 35] = block & 255
    view.setUint16(o + 36, Math.floor(tx / 256)); b[o + 38] = tx & 255
    view.setUint16(o + 39, out)
    view.setUint32(o + 41, h.feeBaseMsat)
    view.setUint32(o + 45, h.feeProportionalMillionths)
    view.setUint16(o + 49, h.cltvExpiryDelta)
  })
  return bytesToWords(b)
}

export const uintWords = uintToWords
