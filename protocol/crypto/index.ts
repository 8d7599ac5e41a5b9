// Public surface of protocol/crypto. See curve.ts for how a backend is chosen.
//
//   import { getCurve, setDefaultCurve } from './index.ts'
//   import { tinyCurve } from './tiny.ts'   // host only, optional
//   setDefaultCurve(tinyCurve)
//
// tiny.ts is deliberately NOT re-exported here: importing it loads WASM, which a browser build of the
// SDK may not want. noble is the default when no one calls setDefaultCurve.
import { currentCurve, type Curve } from './curve.ts'
import { nobleCurve } from './noble.ts'

export type { Curve } from './curve.ts'
export { CURVE_ORDER, setDefaultCurve, bytesToBigInt, bigIntTo32Bytes } from './curve.ts'
export { nobleCurve } from './noble.ts'
export { compactToDer, derToCompact } from './der.ts'
export { sha256, ripemd160, hash160, concatBytes, equalBytes, compareBytes } from './hash.ts'

/** The curve in effect: an explicit one, else the default set at startup, else noble. */
export function getCurve (curve?: Curve): Curve {
  return curve ?? currentCurve(() => nobleCurve)
}
