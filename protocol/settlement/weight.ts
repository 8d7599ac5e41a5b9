// The weight of a payout batch and each payout's share of it (docs/DESIGN.md "Batched settlement",
// fee rule). Every payout pays for the bytes it adds — its channel's funding input with the 2-of-2
// witness, its new funding output, its payout output — and an equal share of the bytes every payout
// shares: the transaction's version, counts, locktime, segwit marker and flag, and the extra outputs.
// Weights use the largest signatures (protocol/interactive-tx/weight.ts), so a batch pays a little
// more than its real size, never less.
import { FUNDING_INPUT_WITNESS_WEIGHT, INPUT_BASE_WEIGHT, outputWeight } from '../interactive-tx/index.ts'

/** The new funding output: a P2WSH, 34-byte script. */
const P2WSH_SCRIPT_BYTES = 34
export const FUNDING_OUTPUT_WEIGHT = (8 + 1 + P2WSH_SCRIPT_BYTES) * 4
export const FUNDING_INPUT_WEIGHT = INPUT_BASE_WEIGHT + FUNDING_INPUT_WITNESS_WEIGHT

const varintSize = (n: number): number => (n < 0xfd ? 1 : n <= 0xffff ? 3 : 5)

/** Version (4) and locktime (4) bytes, the input and output counts, × 4; the segwit marker and flag. */
export function sharedWeight (inputs: number, outputs: number, extraScripts: readonly string[]): number {
  let w = (4 + 4 + varintSize(inputs) + varintSize(outputs)) * 4 + 2
  for (const script of extraScripts) w += outputWeight({ script })
  return w
}

/** The weight one payout adds: its funding input, new funding output and payout output. */
export function payoutWeight (payoutScript: string): number {
  return FUNDING_INPUT_WEIGHT + FUNDING_OUTPUT_WEIGHT + outputWeight({ script: payoutScript })
}

/** vbytes: weight / 4, rounded up (BIP 141). */
export const vbytes = (weight: number): number => Math.ceil(weight / 4)
