// Second-stage HTLC transactions (BOLT #3 "HTLC-Timeout and HTLC-Success Transactions").
import type { Curve } from '../crypto/index.ts'
import { sat, type Sat } from '../types.ts'
import { feeForWeight, htlcSuccessFeeSat, htlcTimeoutFeeSat } from './fees.ts'
import { p2wsh, toLocalWitnessScript } from './script.ts'
import { SIGHASH_ALL, SIGHASH_SINGLE_ANYONECANPAY, txWeight, withWitness } from './serialize.ts'
import { signInput, verifyInput, witnessSig } from './sign.ts'
import type { Commitment, CommitmentParams, HtlcOutput, HtlcTx, Signer, Tx } from './types.ts'
import { MAX_WITNESS_SIG, dustThresholdSat, placeholderWalletInput, walletTxInput, type WalletInput } from './wallet.ts'

/**
 * BOLT #3: "if option_anchors applies to this commitment transaction, SIGHASH_SINGLE|SIGHASH_ANYONECANPAY
 * is used" — for the counterparty's signature (BOLT #5), so the holder can add fee inputs. The holder's
 * own signature is always SIGHASH_ALL.
 */
export function htlcSighashType (htlcTx: Pick<HtlcTx, 'channelType'>, signer: Signer): number {
  return signer === 'counterparty' && htlcTx.channelType === 'anchors' ? SIGHASH_SINGLE_ANYONECANPAY : SIGHASH_ALL
}

/**
 * The HTLC-success (received HTLC) or HTLC-timeout (offered HTLC) tx spending one HTLC output of the
 * commitment built from `params`:
 * "version: 2; locktime: 0 for HTLC-success, cltv_expiry for HTLC-timeout; txin[0] sequence: 0 (set to
 * 1 for option_anchors); txout[0] amount: the HTLC amount_msat divided by 1000 (rounding down) minus
 * fees; txout[0] script: version-0 P2WSH" of the to_local-shaped script below.
 */
export function buildHtlcTx (
  params: Pick<CommitmentParams, 'channelType' | 'feeratePerKw' | 'toSelfDelay' | 'keys'>, commitmentTxid: Commitment['txid'],
  spends: HtlcOutput,
): HtlcTx {
  const { channelType, feeratePerKw, toSelfDelay, keys } = params
  const kind = spends.htlc.direction === 'offered' ? 'htlc-timeout' : 'htlc-success'
  const fee = kind === 'htlc-timeout' ? htlcTimeoutFeeSat(channelType, feeratePerKw) : htlcSuccessFeeSat(channelType, feeratePerKw)
  const outputWitnessScript = toLocalWitnessScript(keys.revocationPubkey, toSelfDelay, keys.localDelayedPubkey)
  const tx: Tx = {
    version: 2,
    locktime: kind === 'htlc-timeout' ? spends.htlc.cltvExpiry : 0,
    inputs: [{
      txid: commitmentTxid, vout: spends.vout, sequence: channelType === 'anchors' ? 1 : 0, scriptSig: new Uint8Array(0), witness: [],
    }],
    outputs: [{ valueSat: sat(spends.valueSat - fee), script: p2wsh(outputWitnessScript) }],
  }
  return { kind, channelType, tx, spends, outputWitnessScript }
}

/** Every second-stage tx of a commitment, in `commitment.htlcOutputs` order (= htlc_signature order). */
export function buildHtlcTxs (params: CommitmentParams, commitment: Commitment): HtlcTx[] {
  return commitment.htlcOutputs.map(o => buildHtlcTx(params, commitment.txid, o))
}

/**
 * A signature on input 0 of an HTLC tx: the counterparty's goes into `commitment_signed.htlc_signature`;
 * the holder adds its own at broadcast. `privkey` is that signer's htlc privkey for this commitment.
 */
export function signHtlcTx (htlcTx: HtlcTx, privkey: Uint8Array, signer: Signer, curve?: Curve): Uint8Array {
  return signInput(htlcTx.tx, 0, htlcTx.spends.witnessScript, htlcTx.spends.valueSat, privkey, htlcSighashType(htlcTx, signer), curve)
}

export function verifyHtlcSig (htlcTx: HtlcTx, sig64: Uint8Array, pubkey: Uint8Array, signer: Signer, curve?: Curve): boolean {
  return verifyInput(
    htlcTx.tx, 0, htlcTx.spends.witnessScript, htlcTx.spends.valueSat, sig64, pubkey, htlcSighashType(htlcTx, signer), curve,
  )
}

/**
 * BOLT #3 witness: "0 <remotehtlcsig> <localhtlcsig> <payment_preimage>" for HTLC-success,
 * "0 <remotehtlcsig> <localhtlcsig> <>" for HTLC-timeout, then the HTLC witness script.
 * For a fee-bumped anchors HTLC tx (bumpHtlcTx), sign its wallet inputs afterwards (signWalletInputs from 1).
 */
export function finalizeHtlcTx (htlcTx: HtlcTx, counterpartySig64: Uint8Array, holderSig64: Uint8Array, preimage?: Uint8Array): Tx {
  if (htlcTx.kind === 'htlc-success' && preimage?.length !== 32) throw new TypeError(
    'finalizeHtlcTx: HTLC-success needs the 32-byte preimage'
  )
  return withWitness(htlcTx.tx, 0, [
    new Uint8Array(0),
    witnessSig(counterpartySig64, htlcSighashType(htlcTx, 'counterparty')),
    witnessSig(holderSig64, SIGHASH_ALL),
    htlcTx.kind === 'htlc-success' ? preimage! : new Uint8Array(0),
    htlcTx.spends.witnessScript,
  ])
}

/**
 * Anchors HTLC txs pay no fee (BOLT #3: "If option_anchors applies: MUST be 0"); the counterparty signed
 * input 0 / output 0 with SIGHASH_SINGLE|SIGHASH_ANYONECANPAY so the holder can attach wallet inputs
 * and a change output (BOLT #5). Returns the same HtlcTx with those added (unsigned): sign it as holder
 * with signHtlcTx, finalizeHtlcTx, then signWalletInputs(tx, walletInputs, 1).
 */
export function bumpHtlcTx (
  htlcTx: HtlcTx, p: { walletInputs: readonly WalletInput[], changeScript: Uint8Array, feeratePerKw: number },
): { ok: true, htlcTx: HtlcTx, feeSat: Sat } | { ok: false, reason: 'insufficient_funds', detail: string } {
  const base = htlcTx.tx
  const inputs = [...base.inputs, ...p.walletInputs.map(w => walletTxInput(w))]
  const outputs = [...base.outputs, { valueSat: sat(0), script: p.changeScript }]
  const placeholderSig = MAX_WITNESS_SIG
  const estimate: Tx = {
    ...base,
    inputs: inputs.map((i, n) => n === 0
      ? { ...i, witness: [
        new Uint8Array(0), placeholderSig, placeholderSig, new Uint8Array(htlcTx.kind === 'htlc-success' ? 32 : 0),
        htlcTx.spends.witnessScript,
      ] }
      : placeholderWalletInput(i, p.walletInputs[n - 1]!.kind)),
    outputs,
  }
  const feeSat = feeForWeight(p.feeratePerKw, txWeight(estimate))
  // The HTLC input and output balance exactly only when the HTLC tx has no fee of its own (anchors).
  const inputSurplus = htlcTx.spends.valueSat - (base.outputs[0]?.valueSat ?? 0)
  const change = p.walletInputs.reduce((n, w) => n + w.valueSat, 0) + inputSurplus - feeSat
  if (change < dustThresholdSat(p.changeScript)) {
    return { ok: false, reason: 'insufficient_funds', detail: `wallet inputs leave ${change} sat of change after a ${feeSat} sat fee` }
  }
  outputs[outputs.length - 1] = { valueSat: sat(change), script: p.changeScript }
  return { ok: true, htlcTx: { ...htlcTx, tx: { ...base, inputs, outputs } }, feeSat }
}
