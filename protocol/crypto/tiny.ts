// Curve backend on tiny-secp256k1 (libsecp256k1 compiled to WASM): about 2x faster signing and 9x
// faster verification than noble. The hub selects it with `setDefaultCurve(tinyCurve)`.
import * as ecc from 'tiny-secp256k1'
import { scalarMulModN, type Curve } from './curve.ts'

function must (x: Uint8Array | null, what: string): Uint8Array {
  if (x === null) throw new RangeError(`tiny: ${what} gave no result`)
  return x
}

export const tinyCurve: Curve = {
  name: 'tiny',
  pubkey: priv => must(ecc.pointFromScalar(priv, true), 'pointFromScalar'),
  isPubkey: pub => pub.length === 33 && ecc.isPoint(pub),
  isPrivkey: priv => ecc.isPrivate(priv),
  pointAdd: (a, b) => must(ecc.pointAdd(a, b, true), 'pointAdd'),
  pointMul: (p, k) => must(ecc.pointMultiply(p, k, true), 'pointMultiply'),
  pointAddTweak: (p, t) => must(ecc.pointAddScalar(p, t, true), 'pointAddScalar'),
  privAdd: (a, b) => must(ecc.privateAdd(a, b), 'privateAdd'),
  privMul: scalarMulModN,
  sign: (h, priv) => ecc.sign(h, priv),
  verify: (sig, h, pub) => {
    try { return ecc.verify(h, pub, sig, true) } catch { return false }
  },
  schnorrSign: (m, priv, aux) => ecc.signSchnorr(m, priv, aux),
  schnorrVerify: (sig, m, pub) => {
    try { return ecc.verifySchnorr(m, pub, sig) } catch { return false }
  },
  xOnlyPubkey: priv => must(ecc.xOnlyPointFromScalar(priv), 'xOnlyPointFromScalar'),
  // ~10x faster than noble's recovery: a payer recovers the payee of every invoice it pays.
  recover: (sig, h, recoveryId) => {
    try { return ecc.recover(h, sig, recoveryId as 0 | 1 | 2 | 3, true) ?? undefined } catch { return undefined }
  },
}
