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

const HEX = /^(?:[0-9a-f]{2})*$/
export function hexToBytes (hex: string): Uint8Array {
  if (!HEX.test(hex)) throw new TypeError('hexToBytes: expected even-length lowercase hex')
  const out = new Uint8Array(hex.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16)
  return out
}
export function bytesToHex (bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += b.toString(16).padStart(2, '0')
  return s
}
