// The hub's forwarding arithmetic, shared by the hub (which charges it) and the SDK (which pays it).
// There is no onion: an HTLC names its final recipient, and the amount the hub forwards is derived
// from the amount it received by inverting the fee function. The fee is BOLT #7's
// `fee_base_msat + amount_to_forward * fee_proportional_millionths / 1000000` (rounded down).
import type { Msat } from './types.ts'

export interface FeePolicy {
  feeBaseMsat: number
  /** Parts per million of the forwarded amount. */
  feePpm: number
}

/** BOLT #7: "fee_base_msat + ( amount_to_forward * fee_proportional_millionths / 1000000 )". */
export function forwardingFee (amountToForwardMsat: number, p: FeePolicy): Msat {
  return (p.feeBaseMsat + Math.floor(amountToForwardMsat * p.feePpm / 1_000_000)) as Msat
}

/** What a payer must offer the hub so that the payee receives `amountMsat`. */
export function amountToOffer (amountMsat: number, p: FeePolicy): Msat {
  return (amountMsat + forwardingFee(amountMsat, p)) as Msat
}

/** The largest amount x with x + fee(x) ≤ `receivedMsat`, or null if even 1 msat is not covered.
 *  amountToOffer is strictly increasing, so for any `a`, amountToForward(amountToOffer(a)) === a:
 *  the payee receives exactly what the payer meant. */
export function amountToForward (receivedMsat: number, p: FeePolicy): Msat | null {
  // Start from the real-valued inverse and correct the rounding by a step or two.
  let x = Math.floor((receivedMsat - p.feeBaseMsat) * 1_000_000 / (1_000_000 + p.feePpm))
  while (x > 0 && amountToOffer(x, p) > receivedMsat) x--
  while (amountToOffer(x + 1, p) <= receivedMsat) x++
  return x >= 1 ? x as Msat : null
}
