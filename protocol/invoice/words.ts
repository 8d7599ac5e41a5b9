// 5-bit words (bech32 field elements) to bytes and integers, and back. BOLT #11 packs everything
// into 5-bit words; these helpers never throw: an unreadable input gives null.

/**
 * Regroup bits from `from`-bit to `to`-bit groups. With `pad`, trailing bits are zero-filled into one
 * more group (that is how the signed data and every field are written). Without it, the leftover bits
 * must be fewer than `from` and all zero, or the input is not a canonical encoding (null).
 */
export function convertBits (data: ArrayLike<number>, from: number, to: number, pad: boolean): number[] | null {
  let acc = 0
  let bits = 0
  const out: number[] = []
  const maxOut = (1 << to) - 1
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!
    if (!Number.isInteger(v) || v < 0 || v >> from !== 0) return null
    acc = ((acc << from) | v) & 0xffffff
    bits += from
    while (bits >= to) {
      bits -= to
      out.push((acc >> bits) & maxOut)
    }
  }
  if (pad) {
    if (bits > 0) out.push((acc << (to - bits)) & maxOut)
  } else if (bits >= from || ((acc << (to - bits)) & maxOut) !== 0) {
    return null
  }
  return out
}

export const bytesToWords = (bytes: Uint8Array): number[] => convertBits(bytes, 8, 5, true)!

export function wordsToBytes (words: readonly number[]): Uint8Array | null {
  const b = convertBits(words, 5, 8, false)
  return b === null ? null : Uint8Array.from(b)
}

/** Big-endian unsigned integer of at most 10 words (50 bits, so always a safe integer). */
export function wordsToUint (words: readonly number[]): number | null {
  if (words.length > 10) return null
  let n = 0
  for (const w of words) n = n * 32 + w
  return n
}

/** The shortest big-endian word string for n (zero is the empty string). */
export function uintToWords (n: number): number[] {
  const out: number[] = []
  let v = n
  while (v > 0) {
    out.unshift(v % 32)
    v = Math.floor(v / 32)
  }
  return out
}

/** Exactly `len` words, big-endian (the timestamp is always 7 words). */
export function uintToFixedWords (n: number, len: number): number[] {
  const w = uintToWords(n)
  while (w.length < len) w.unshift(0)
  return w
}
