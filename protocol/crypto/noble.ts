// Curve backend on @noble/secp256k1 v3: pure JavaScript, audited, runs in any browser. The default.
import * as secp from '@noble/secp256k1'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { CURVE_ORDER, bigIntTo32Bytes, bytesToBigInt, scalarMulModN, type Curve } from './curve.ts'

// noble v3 ships without synchronous hashes; RFC 6979 needs HMAC-SHA256 and BIP-340 needs SHA256.
secp.hashes.sha256 = sha256
secp.hashes.hmacSha256 = (key, msg) => hmac(sha256, key, msg)

const point = (b: Uint8Array): secp.Point => secp.Point.fromBytes(b)
const compressed = (p: secp.Point): Uint8Array => {
  if (p.is0()) throw new RangeError('noble: point at infinity')
  return p.toBytes(true)
}
const scalar = (b: Uint8Array): bigint => {
  const n = bytesToBigInt(b)
  if (b.length !== 32 || n === 0n || n >= CURVE_ORDER) throw new RangeError('noble: scalar out of range')
  return n
}

export const nobleCurve: Curve = {
  name: 'noble',
  pubkey: priv => secp.getPublicKey(priv, true),
  isPubkey: pub => pub.length === 33 && secp.utils.isValidPublicKey(pub, true),
  isPrivkey: priv => priv.length === 32 && secp.utils.isValidSecretKey(priv),
  pointAdd: (a, b) => compressed(point(a).add(point(b))),
  pointMul: (p, k) => compressed(point(p).multiply(scalar(k))),
  pointAddTweak: (p, t) => compressed(point(p).add(secp.Point.BASE.multiply(scalar(t)))),
  privAdd: (a, b) => {
    const r = (bytesToBigInt(a) + bytesToBigInt(b)) % CURVE_ORDER
    if (r === 0n) throw new RangeError('noble: privAdd result is zero')
    return bigIntTo32Bytes(r)
  },
  privMul: scalarMulModN,
  // `prehash: false`: the sighash is already a digest; hashing it again would sign the wrong thing.
  sign: (h, priv) => secp.sign(h, priv, { prehash: false, lowS: true, extraEntropy: false }),
  verify: (sig, h, pub) => {
    try { return secp.verify(sig, h, pub, { prehash: false, lowS: true }) } catch { return false }
  },
  schnorrSign: (m, priv, aux) => secp.schnorr.sign(m, priv, aux),
  schnorrVerify: (sig, m, pub) => {
    try { return secp.schnorr.verify(sig, m, pub) } catch { return false }
  },
  xOnlyPubkey: priv => secp.schnorr.getPublicKey(priv),
}
