// Transactions that take outputs of a commitment (ours or theirs) or of a second-stage HTLC tx into
// our wallet: BOLT #3 witnesses for each spending path, BOLT #5 reactions built from them. A `Claim`
// is a plain description of one input (what it spends, how its witness looks); `buildClaimTx` turns
// any set of claims into one signed tx — a to_local sweep, an HTLC claim, or a penalty tx taking
// every output of a revoked commitment at once.
import { getCurve, type Curve } from '../crypto/index.ts'
import { sat, type Sat } from '../types.ts'
import { feeForWeight } from './fees.ts'
import { anchorWitnessScript, p2pkh, toLocalWitnessScript, toRemoteAnchorsWitnessScript } from './script.ts'
import { SIGHASH_ALL, txWeight, witnessV0Sighash } from './serialize.ts'
import { witnessSig } from './sign.ts'
import type { ChannelType, Outpoint, Tx, TxInput } from './types.ts'
import { MAX_WITNESS_SIG, dustThresholdSat, placeholderWalletInput, signWalletInputs, walletTxInput, type WalletInput } from './wallet.ts'

export type ClaimKind =
  | 'to_local_delayed'    // our to_local, or the output of our HTLC-success/timeout tx, after to_self_delay
  | 'revoked_to_local'    // their revoked to_local, or the output of their HTLC tx on a revoked commitment
  | 'revoked_htlc'        // an HTLC output of their revoked commitment
  | 'remote_htlc_success' // an HTLC they offered us, on their commitment, with the preimage
  | 'remote_htlc_timeout' // an HTLC we offered them, on their commitment, after its cltv_expiry
  | 'to_remote'           // our to_remote output on their commitment
  | 'anchor'              // an anchor locked to our funding key
  | 'anchor_anyone'       // any anchor, 16 blocks after its commitment confirmed

/** One input of a claim tx. `witness` is a template: 'sig' marks where our signature goes. */
export interface Claim {
  readonly kind: ClaimKind
  readonly outpoint: Outpoint
  readonly valueSat: Sat
  /** BIP 143 scriptCode: the witness script (P2WSH), or the P2PKH script of the key (P2WPKH). */
  readonly scriptCode: Uint8Array
  readonly witness: ReadonlyArray<'sig' | Uint8Array>
  /** Signs the 'sig' slot; absent when the witness has none (anchor_anyone). */
  readonly privkey: Uint8Array | undefined
  readonly sequence: number
  /** The tx locktime must be at least this (HTLC timeouts); 0 if none. */
  readonly minLocktime: number
}

const EMPTY = new Uint8Array(0)
const RBF = 0xfffffffd // not final, so locktimes apply; opts in to replacement

/** BOLT #3 to_local: "spent by an input with nSequence field set to to_self_delay and witness: <local_delayedsig> <>". */
export function claimToLocalDelayed (a: {
  outpoint: Outpoint, valueSat: Sat, revocationPubkey: Uint8Array, localDelayedPubkey: Uint8Array, toSelfDelay: number,
  localDelayedPrivkey: Uint8Array,
}): Claim {
  const ws = toLocalWitnessScript(a.revocationPubkey, a.toSelfDelay, a.localDelayedPubkey)
  return {
    kind: 'to_local_delayed', outpoint: a.outpoint, valueSat: a.valueSat, scriptCode: ws, witness: ['sig', EMPTY, ws],
    privkey: a.localDelayedPrivkey, sequence: a.toSelfDelay, minLocktime: 0,
  }
}

/**
 * BOLT #3 to_local: "If a revoked commitment transaction is published, the other party can spend this
 * output immediately with the following witness: <revocation_sig> 1". The same for an HTLC tx output:
 * "To spend this via penalty, the remote node uses a witness stack <revocationsig> 1".
 * Keys are those of the revoked commitment (its holder's delayed pubkey).
 */
export function claimRevokedToLocal (a: {
  outpoint: Outpoint, valueSat: Sat, revocationPubkey: Uint8Array, localDelayedPubkey: Uint8Array, toSelfDelay: number,
  revocationPrivkey: Uint8Array,
}): Claim {
  const ws = toLocalWitnessScript(a.revocationPubkey, a.toSelfDelay, a.localDelayedPubkey)
  return {
    kind: 'revoked_to_local', outpoint: a.outpoint, valueSat: a.valueSat, scriptCode: ws, witness: ['sig', Uint8Array.of(1), ws],
    privkey: a.revocationPrivkey, sequence: RBF, minLocktime: 0,
  }
}

/** BOLT #3 HTLC outputs: "If a revoked commitment transaction is published, ... <revocation_sig> <revocationpubkey>". */
export function claimRevokedHtlc (a: {
  outpoint: Outpoint, valueSat: Sat, witnessScript: Uint8Array, revocationPubkey: Uint8Array, revocationPrivkey: Uint8Array,
}): Claim {
  return {
    kind: 'revoked_htlc', outpoint: a.outpoint, valueSat: a.valueSat, scriptCode: a.witnessScript,
    witness: ['sig', a.revocationPubkey, a.witnessScript], privkey: a.revocationPrivkey, sequence: RBF, minLocktime: 0,
  }
}

/**
 * BOLT #3 offered HTLC output (on their commitment; we are its "remote node"): "The remote node can
 * redeem the HTLC with the witness: <remotehtlcsig> <payment_preimage>. Note that if option_anchors
 * applies, the nSequence field of the spending input must be 1." `htlcPrivkey`: our htlc privkey for
 * their commitment (our htlc_basepoint secret tweaked by their per_commitment_point).
 */
export function claimRemoteHtlcSuccess (a: {
  channelType: ChannelType, outpoint: Outpoint, valueSat: Sat, witnessScript: Uint8Array, htlcPrivkey: Uint8Array, preimage: Uint8Array,
}): Claim {
  return {
    kind: 'remote_htlc_success', outpoint: a.outpoint, valueSat: a.valueSat, scriptCode: a.witnessScript,
    witness: ['sig', a.preimage, a.witnessScript], privkey: a.htlcPrivkey, sequence: a.channelType === 'anchors' ? 1 : RBF, minLocktime: 0,
  }
}

/**
 * BOLT #3 received HTLC output (on their commitment; we offered it): "To timeout the HTLC, the remote
 * node spends it with the witness: <remotehtlcsig> <>" once the locktime reaches cltv_expiry.
 */
export function claimRemoteHtlcTimeout (a: {
  channelType: ChannelType, outpoint: Outpoint, valueSat: Sat, witnessScript: Uint8Array, htlcPrivkey: Uint8Array, cltvExpiry: number,
}): Claim {
  return {
    kind: 'remote_htlc_timeout', outpoint: a.outpoint, valueSat: a.valueSat, scriptCode: a.witnessScript,
    witness: ['sig', EMPTY, a.witnessScript], privkey: a.htlcPrivkey, sequence: a.channelType === 'anchors' ? 1 : RBF,
    minLocktime: a.cltvExpiry,
  }
}

/**
 * Our to_remote output on their commitment. BOLT #3: with option_anchors "spent by an input with nSequence
 * field set to 1 and witness: <remote_sig>"; otherwise "a simple P2WPKH to remotepubkey" (our
 * payment_basepoint, so `paymentPrivkey` is our payment_basepoint secret).
 */
export function claimToRemote (
  a: { channelType: ChannelType, outpoint: Outpoint, valueSat: Sat, paymentPrivkey: Uint8Array }, curve?: Curve,
): Claim {
  const pubkey = getCurve(curve).pubkey(a.paymentPrivkey)
  if (a.channelType === 'anchors') {
    const ws = toRemoteAnchorsWitnessScript(pubkey)
    return {
      kind: 'to_remote', outpoint: a.outpoint, valueSat: a.valueSat, scriptCode: ws, witness: ['sig', ws], privkey: a.paymentPrivkey,
      sequence: 1, minLocktime: 0,
    }
  }
  return {
    kind: 'to_remote', outpoint: a.outpoint, valueSat: a.valueSat, scriptCode: p2pkh(pubkey), witness: ['sig', pubkey],
    privkey: a.paymentPrivkey, sequence: RBF, minLocktime: 0,
  }
}

/** BOLT #3 anchor: "Spending of the output requires the following witness: <local_sig/remote_sig>". */
export function claimAnchor (a: { outpoint: Outpoint, valueSat: Sat, fundingPrivkey: Uint8Array }, curve?: Curve): Claim {
  const ws = anchorWitnessScript(getCurve(curve).pubkey(a.fundingPrivkey))
  return {
    kind: 'anchor', outpoint: a.outpoint, valueSat: a.valueSat, scriptCode: ws, witness: ['sig', ws], privkey: a.fundingPrivkey,
    sequence: RBF, minLocktime: 0,
  }
}

/** BOLT #3 anchor: "After 16 blocks, anyone can sweep the anchor with witness: <>" (nSequence 16). */
export function claimAnchorAfterDelay (a: { outpoint: Outpoint, valueSat: Sat, fundingPubkey: Uint8Array }): Claim {
  const ws = anchorWitnessScript(a.fundingPubkey)
  return {
    kind: 'anchor_anyone', outpoint: a.outpoint, valueSat: a.valueSat, scriptCode: ws, witness: [EMPTY, ws], privkey: undefined,
    sequence: 16, minLocktime: 0,
  }
}

export interface ClaimTxParams {
  readonly claims: readonly Claim[]
  /** Extra wallet inputs (CPFP through an anchor needs them: 330 sat pays no fee). */
  readonly walletInputs?: readonly WalletInput[]
  readonly destinationScript: Uint8Array
  readonly feeratePerKw: number
  /** At least every claim's minLocktime; a claim tx may also be locked to the current height. */
  readonly locktime?: number
}

export type ClaimTxResult =
  | { ok: true, tx: Tx, feeSat: Sat, valueSat: Sat }
  | { ok: false, reason: 'no_inputs' | 'below_dust', detail: string }

function input (c: Claim): TxInput {
  return { txid: c.outpoint.txid, vout: c.outpoint.vout, sequence: c.sequence, scriptSig: EMPTY, witness: [] }
}
const fill = (c: Claim, sig: Uint8Array): Uint8Array[] => c.witness.map(w => w === 'sig' ? sig : w)

/**
 * One signed tx spending every claim (and wallet input) to `destinationScript`, fee = feerate ×
 * weight-with-maximal-signatures / 1000. Returns 'below_dust' when what is left is not worth an output.
 */
export function buildClaimTx (p: ClaimTxParams, curve?: Curve): ClaimTxResult {
  const wallet = p.walletInputs ?? []
  if (p.claims.length + wallet.length === 0) return { ok: false, reason: 'no_inputs', detail: 'nothing to claim' }
  const c = getCurve(curve)
  const total = p.claims.reduce((n, x) => n + x.valueSat, 0) + wallet.reduce((n, w) => n + w.valueSat, 0)
  const locktime = Math.max(p.locktime ?? 0, ...p.claims.map(x => x.minLocktime))
  const inputs = [...p.claims.map(input), ...wallet.map(w => walletTxInput(w))]
  const estimate: Tx = {
    version: 2, locktime,
    inputs: inputs.map((i, n) => n < p.claims.length ? {
      ...i, witness: fill(p.claims[n]!, MAX_WITNESS_SIG),
    } : placeholderWalletInput(i, wallet[n - p.claims.length]!.kind)),
    outputs: [{ valueSat: sat(0), script: p.destinationScript }],
  }
  const feeSat = feeForWeight(p.feeratePerKw, txWeight(estimate))
  const valueSat = total - feeSat
  if (valueSat < dustThresholdSat(p.destinationScript)) {
    return { ok: false, reason: 'below_dust', detail: `${total} sat in, fee ${feeSat} sat leaves ${valueSat} sat` }
  }
  let tx: Tx = { version: 2, locktime, inputs, outputs: [{ valueSat: sat(valueSat), script: p.destinationScript }] }
  const signedInputs = tx.inputs.slice()
  p.claims.forEach((claim, n) => {
    const sig = claim.privkey === undefined
      ? EMPTY
      : witnessSig(c.sign(witnessV0Sighash(tx, n, claim.scriptCode, claim.valueSat, SIGHASH_ALL), claim.privkey), SIGHASH_ALL)
    signedInputs[n] = { ...signedInputs[n]!, witness: fill(claim, sig) }
  })
  tx = signWalletInputs({ ...tx, inputs: signedInputs }, wallet, p.claims.length, c)
  return { ok: true, tx, feeSat, valueSat: sat(valueSat) }
}

