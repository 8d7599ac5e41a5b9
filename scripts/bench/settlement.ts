// The `settlement` section of `npm run bench`: the size of a payout batch (docs/DESIGN.md "Batched
// settlement") for 10, 50 and 100 channels, from transactions the batch builder really constructs and
// signs (both funding signatures on every input: real witnesses), against
//   sum_of_parts_vbytes       its inputs and outputs as signed, plus one shared overhead (version,
//                             counts, locktime, segwit marker): the least any transaction carrying them
//                             can weigh
//   separate_splices_vbytes   the same payouts as one splice each (a batch of one, signed the same way)
//   close_reopen_vbytes       the same payouts as a cooperative close (funding input, payout and hub
//                             outputs) and a reopen (a P2WPKH wallet input, the funding output, change),
//                             estimated with the largest signatures
// and plan_build_sign_ms: planning, building and signing the 100-channel batch in one process (the
// hub's own share of the time from a window's end to the broadcast; the peers' round trips are not in it).
//
//   npx tsx scripts/bench/settlement.ts    prints the section as JSON
import {
  FUNDING_INPUT_WITNESS_WEIGHT, INPUT_BASE_WEIGHT, P2WPKH_WITNESS_WEIGHT, outputWeight,
} from '../../protocol/interactive-tx/index.ts'
import { FUNDING_OUTPUT_WEIGHT } from '../../protocol/settlement/weight.ts'
import { txWeight } from '../../protocol/tx/serialize.ts'
import type { Tx } from '../../protocol/tx/types.ts'
import { signedBatch, testChannels } from '../lib/settlement-batch.ts'

export const SETTLEMENT_SIZES = [10, 50, 100] as const
const PARAMS = { feeratePerKw: 1_000, dustLimitSat: 546, maxFeeSharePercent: 5, maxChannels: 126, extraOutputs: [] }
/** Each channel's peer has this much, keeps 10,000 sat: every payout is far above its fee. */
const BALANCE_SAT = 400_000
/** One byte each for the input and output counts (below 253): the least overhead. */
const MIN_OVERHEAD_WEIGHT = (4 + 4 + 1 + 1) * 4 + 2
const P2WPKH_SCRIPT = '0014' + '00'.repeat(20)

const vb = (weight: number): number => Math.ceil(weight / 4)

/** The weight of each input and output of a signed transaction, as serialized. */
function partsWeight (tx: Tx): number {
  let w = 0
  for (const i of tx.inputs) {
    w += INPUT_BASE_WEIGHT
    w += 1 + i.witness.reduce((a, item) => a + (item.length < 0xfd ? 1 : 3) + item.length, 0)
  }
  for (const o of tx.outputs) w += (8 + 1 + o.script.length) * 4
  return w
}

export interface SettlementFigure {
  vbytes: number
  sum_of_parts_vbytes: number
  separate_splices_vbytes: number
  close_reopen_vbytes: number
  channels_in_batch: number
  overhead_percent: number
}

/** The JSON section: one entry per batch size ("10", "50", "100"), and the time figure. */
export function settlementFigures (): Record<string, SettlementFigure | number> {
  const sizes: Record<string, SettlementFigure> = {}
  for (const n of SETTLEMENT_SIZES) {
    const channels = testChannels(n)
    const { signed, vbytes, plan } = signedBatch(channels, BALANCE_SAT, PARAMS)
    if (plan.payouts.length !== n) throw new Error(`batch of ${n}: only ${plan.payouts.length} payouts planned`)
    const sumOfParts = vb(partsWeight(signed) + MIN_OVERHEAD_WEIGHT)
    let separate = 0
    for (const c of channels) separate += signedBatch([c], BALANCE_SAT, PARAMS).vbytes
    const payoutScript = channels[0]!.payoutScript
    const close = MIN_OVERHEAD_WEIGHT + INPUT_BASE_WEIGHT + FUNDING_INPUT_WITNESS_WEIGHT + outputWeight({ script: payoutScript }) +
      outputWeight({ script: P2WPKH_SCRIPT })
    const reopen = MIN_OVERHEAD_WEIGHT + INPUT_BASE_WEIGHT + P2WPKH_WITNESS_WEIGHT + FUNDING_OUTPUT_WEIGHT + outputWeight({
      script: P2WPKH_SCRIPT
    })
    sizes[String(n)] = {
      vbytes, sum_of_parts_vbytes: sumOfParts, separate_splices_vbytes: separate, close_reopen_vbytes: n * (vb(close) + vb(reopen)),
      channels_in_batch: plan.payouts.length, overhead_percent: Math.round(((vbytes - sumOfParts) / sumOfParts) * 10_000) / 100,
    }
    if (vb(txWeight(signed)) !== vbytes) throw new Error('vbytes mismatch')
  }
  const channels = testChannels(100)
  const t0 = performance.now()
  signedBatch(channels, BALANCE_SAT, PARAMS)
  return { ...sizes, plan_build_sign_ms_100: Math.round((performance.now() - t0) * 10) / 10 }
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(JSON.stringify({ settlement: settlementFigures() }) + '\n')
