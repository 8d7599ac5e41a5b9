// The funding output and a funding transaction from wallet inputs (BOLT #3 "Funding Transaction
// Output", Appendix B).
import { compareBytes } from '../crypto/hash.ts'
import type { Curve } from '../crypto/index.ts'
import { sat, type Sat, type Txid } from '../types.ts'
import { feeForWeight } from './fees.ts'
import { fundingWitnessScript, p2wsh } from './script.ts'
import { txWeight, txid } from './serialize.ts'
import type { FundingOutput, Tx, TxOutput } from './types.ts'
import { dustThresholdSat, placeholderWalletInput, signWalletInputs, walletTxInput, type WalletInput } from './wallet.ts'

/** BOLT #3: "The funding output script is a P2WSH to: 2 <pubkey1> <pubkey2> 2 OP_CHECKMULTISIG". */
export function fundingScriptPubkey (localFundingPubkey: Uint8Array, remoteFundingPubkey: Uint8Array): Uint8Array {
  return p2wsh(fundingWitnessScript(localFundingPubkey, remoteFundingPubkey))
}

/** The FundingOutput value commitments and closes spend, from a confirmed or built funding tx. */
export function fundingOutput (
  txid: Txid, vout: number, amountSat: Sat, localFundingPubkey: Uint8Array, remoteFundingPubkey: Uint8Array,
): FundingOutput {
  return { txid, vout, amountSat, witnessScript: fundingWitnessScript(localFundingPubkey, remoteFundingPubkey) }
}

export interface FundingTxParams {
  readonly inputs: readonly WalletInput[]
  readonly fundingAmountSat: Sat
  readonly localFundingPubkey: Uint8Array
  readonly remoteFundingPubkey: Uint8Array
  /** Where the change goes; dropped (added to the fee) if the change would be dust for this script. */
  readonly changeScript: Uint8Array
  readonly feeratePerKw: number
  readonly locktime?: number
  /** Input sequence; the BOLT #3 vector uses 0xffffffff. Default 0xfffffffd (opts in to RBF). */
  readonly sequence?: number
}

export type FundingTxResult =
  | { ok: true, tx: Tx, txid: Txid, funding: FundingOutput, feeSat: Sat, changeSat: Sat }
  | { ok: false, reason: 'insufficient_funds', detail: string }

/**
 * A signed funding tx: the inputs, the 2-of-2 funding output and change, outputs in BIP 69 order, fee =
 * feerate × weight (with maximal signatures) / 1000 rounded down — which reproduces Appendix B exactly.
 */
export function buildFundingTx (p: FundingTxParams, curve?: Curve): FundingTxResult {
  const witnessScript = fundingWitnessScript(p.localFundingPubkey, p.remoteFundingPubkey)
  const fundingOut: TxOutput = { valueSat: p.fundingAmountSat, script: p2wsh(witnessScript) }
  const inputs = p.inputs.map(w => walletTxInput(w, p.sequence ?? 0xfffffffd))
  const totalIn = p.inputs.reduce((n, w) => n + w.valueSat, 0)
  const make = (outs: TxOutput[]): Tx => ({
    version: 2, locktime: p.locktime ?? 0, inputs,
    outputs: outs.slice().sort((a, b) => (a.valueSat - b.valueSat) || compareBytes(a.script, b.script)),
  })
  const feeOf = (tx: Tx): Sat => feeForWeight(
    p.feeratePerKw, txWeight({ ...tx, inputs: tx.inputs.map((i, n) => placeholderWalletInput(i, p.inputs[n]!.kind)) }),
  )

  let feeSat = feeOf(make([fundingOut, { valueSat: sat(0), script: p.changeScript }]))
  let changeSat = totalIn - p.fundingAmountSat - feeSat
  let unsigned: Tx
  if (changeSat >= dustThresholdSat(p.changeScript)) {
    unsigned = make([fundingOut, { valueSat: sat(changeSat), script: p.changeScript }])
  } else {
    feeSat = feeOf(make([fundingOut]))
    changeSat = 0
    unsigned = make([fundingOut])
    if (totalIn - p.fundingAmountSat < feeSat) {
      return { ok: false, reason: 'insufficient_funds', detail: `inputs ${totalIn} sat < funding ${p.fundingAmountSat} + fee ${feeSat}` }
    }
    feeSat = sat(totalIn - p.fundingAmountSat)
  }
  const tx = signWalletInputs(unsigned, p.inputs, 0, curve)
  const id = txid(tx)
  const vout = tx.outputs.findIndex(o => o === fundingOut)
  return {
    ok: true, tx, txid: id, funding: { txid: id, vout, amountSat: p.fundingAmountSat, witnessScript }, feeSat, changeSat: sat(changeSat),
  }
}
