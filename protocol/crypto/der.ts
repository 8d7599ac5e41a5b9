// DER encoding of ECDSA signatures (BIP 66 strict form), used inside Bitcoin witnesses. The wire
// format (BOLT #2 `signature`) is the 64-byte compact r ‖ s; the chain wants DER plus a sighash byte.

function derInt (x: Uint8Array): Uint8Array {
  let i = 0
  while (i < x.length - 1 && x[i] === 0) i++
  const trimmed = x.subarray(i)
  // A leading byte ≥ 0x80 would read as negative: prefix a zero.
  if ((trimmed[0] ?? 0) & 0x80) {
    const out = new Uint8Array(trimmed.length + 1)
    out.set(trimmed, 1)
    return out
  }
  return trimmed
}

/** 64-byte compact (r ‖ s) → DER (without a sighash byte). */
export function compactToDer (sig64: Uint8Array): Uint8Array {
  if (sig64.length !== 64) throw new TypeError('compactToDer: expected 64 bytes')
  const r = derInt(sig64.subarray(0, 32))
  const s = derInt(sig64.subarray(32, 64))
  const out = new Uint8Array(6 + r.length + s.length)
  out[0] = 0x30; out[1] = 4 + r.length + s.length
  out[2] = 0x02; out[3] = r.length; out.set(r, 4)
  out[4 + r.length] = 0x02; out[5 + r.length] = s.length; out.set(s, 6 + r.length)
  return out
}

/** Strict DER (without a sighash byte) → 64-byte compact, or undefined if it is not strict DER. */
export function derToCompact (der: Uint8Array): Uint8Array | undefined {
  if (der.length < 8 || der.length > 72 || der[0] !== 0x30 || der[1] !== der.length - 2) return undefined
  const readInt = (at: number): { v: Uint8Array, next: number } | undefined => {
    if (der[at] !== 0x02) return undefined
    const len = der[at + 1]
    if (len === undefined || len === 0 || len > 33 || at + 2 + len > der.length) return undefined
    const v = der.subarray(at + 2, at + 2 + len)
    if ((v[0]! & 0x80) !== 0) return undefined // negative
    if (len > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) return undefined // needless zero padding
    if (len === 33 && v[0] !== 0) return undefined
    return { v: len === 33 ? v.subarray(1) : v, next: at + 2 + len }
  }
  const r = readInt(2)
  if (r === undefined) return undefined
  const s = readInt(r.next)
  if (s === undefined || s.next !== der.length) return undefined
  const out = new Uint8Array(64)
  out.set(r.v, 32 - r.v.length)
  out.set(s.v, 64 - s.v.length)
  return out
}
