// Typed values shared by protocol/, hub/ and client-sdk/. Brands keep a millisatoshi from being
// added to a satoshi, or a txid from standing in for a channel id, at compile time (DESIGN.md rule 4).
// Values are checked once at the boundary (zod schemas) and trusted inside.

declare const brand: unique symbol
export type Brand<T, B extends string> = T & { readonly [brand]: B }

/** Millisatoshis. A safe integer (see MAX_MSAT). */
export type Msat = Brand<number, 'Msat'>
/** Satoshis. A safe integer. */
export type Sat = Brand<number, 'Sat'>
/** 32-byte channel id, lowercase hex (BOLT #2: funding txid XOR output index). */
export type ChannelId = Brand<string, 'ChannelId'>
/** Transaction id, lowercase hex, in the usual (reversed, RPC) byte order. */
export type Txid = Brand<string, 'Txid'>
/** 33-byte compressed secp256k1 public key of a node, lowercase hex. */
export type NodeId = Brand<string, 'NodeId'>
/** Block height. */
export type Height = Brand<number, 'Height'>

/** 21 million BTC in msat (2.1e18) exceeds 2^53; amounts here are bounded by MAX_MSAT instead. */
export const MAX_SAT = 2_100_000_000_000_000 as Sat
export const MAX_MSAT = Number.MAX_SAFE_INTEGER as Msat

export const msat = (n: number): Msat => {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`msat: expected a non-negative safe integer (got ${n})`)
  return n as Msat
}
export const sat = (n: number): Sat => {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`sat: expected a non-negative safe integer (got ${n})`)
  return n as Sat
}
/** Satoshis an msat amount rounds down to (BOLT #3: outputs are msat / 1000, rounded down). */
export const msatToSat = (m: Msat): Sat => Math.floor(m / 1000) as Sat
export const satToMsat = (s: Sat): Msat => (s * 1000) as Msat

// Hex is on every hot path (keys, signatures, txids cross the wire and the store as hex): table
// lookups, no regex, no substring per byte.
const HEX_DIGITS = '0123456789abcdef'
const BYTE_TO_HEX: string[] = Array.from({ length: 256 }, (_, b) => HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!)
/** Char code → nibble value, -1 for anything but 0-9 a-f. */
const NIBBLE = new Int8Array(128).fill(-1)
for (let i = 0; i < 16; i++) NIBBLE[HEX_DIGITS.charCodeAt(i)] = i

export function hexToBytes (hex: string): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0) throw new TypeError('hexToBytes: expected even-length lowercase hex')
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0, j = 0; i < out.length; i++, j += 2) {
    const hi = NIBBLE[hex.charCodeAt(j)] ?? -1
    const lo = NIBBLE[hex.charCodeAt(j + 1)] ?? -1
    if (hi < 0 || lo < 0) throw new TypeError('hexToBytes: expected even-length lowercase hex')
    out[i] = (hi << 4) | lo
  }
  return out
}
export function bytesToHex (bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_HEX[bytes[i]!]!
  return s
}
