// What a splice costs its side in fees, for the host that builds a contribution (BOLT #2 "Fee
// Responsibility"; protocol/interactive-tx/weight.ts): the initiator pays for the common fields and
// the shared input and output, each side for its own inputs and outputs. A splice-out without wallet
// inputs takes its payout and its fee from the channel balance: contribution = −(payout + fee).
import {
  COMMON_FIELDS_WEIGHT, FUNDING_INPUT_WITNESS_WEIGHT, INPUT_BASE_WEIGHT, inputWeight, outputWeight,
} from '../../interactive-tx/index.ts'
import { feeForWeight } from '../../tx/fees.ts'
import type { Sat } from '../../types.ts'

/** The new funding output: a P2WSH (34-byte script). */
const FUNDING_OUTPUT_SCRIPT_HEX_LENGTH = 68

export interface SpliceFeeParams {
  /** We send splice_init (or tx_init_rbf). */
  initiator: boolean
  feeratePerKw: number
  /** The scripts (hex) of the outputs our wallet inputs spend. */
  inputScripts: readonly string[]
  /** Our outputs' scripts (hex): payouts and change. */
  outputScripts: readonly string[]
}

/** The weight our side pays for. */
export function spliceWeight (p: SpliceFeeParams): number {
  let w = p.initiator ? COMMON_FIELDS_WEIGHT + INPUT_BASE_WEIGHT + FUNDING_INPUT_WITNESS_WEIGHT + outputWeight({
    script: '0'.repeat(FUNDING_OUTPUT_SCRIPT_HEX_LENGTH)
  }) : 0
  for (const script of p.inputScripts) w += inputWeight({ shared: false, script })
  for (const script of p.outputScripts) w += outputWeight({ script })
  return w
}

/** The fee our side pays at the feerate: what the contribution must leave for it. */
export function spliceFeeSat (p: SpliceFeeParams): Sat {
  return feeForWeight(p.feeratePerKw, spliceWeight(p))
}
