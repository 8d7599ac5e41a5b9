// Public surface of protocol/tx: BOLT #3 transactions for `static_remotekey` and `anchors` channels.
// Pure functions over plain data (types.ts); no I/O. Curve math uses the default curve unless a
// `curve` is passed (see protocol/crypto/curve.ts). Keys: Uint8Array (privkeys 32 B, pubkeys 33 B);
// signatures cross function boundaries as 64-byte compact (BOLT #2 `signature`), DER only in witnesses.
//
// Our commitment, as the channel state machine uses it:
//   const keys = deriveCommitmentKeys(ours, theirs, ourPerCommitmentPoint)
//   const c = buildCommitment({ channelType, funding, obscuredCommitmentNumber, holderIsOpener, toSelfDelay,
//                               dustLimitSat, feeratePerKw, toLocalMsat, toRemoteMsat, htlcs, keys })
//   verifyFundingSpend(c.tx, funding, msg.signature, theirs.fundingPubkey)       // commitment_signed
//   buildHtlcTxs(params, c).forEach((h, i) => verifyHtlcSig(h, msg.htlc_signature[i], keys.remoteHtlcPubkey, 'counterparty'))
// Their commitment (we sign): holder = them; send signFundingSpend(...) and, in c.htlcOutputs order,
//   signHtlcTx(h, ourHtlcPrivkey, 'counterparty').
// Broadcast: finalizeFundingSpend(c.tx, funding, {pubkey, sig64}, {pubkey, sig64}) → txHex(...).
// Chain reactions (monitor): the claim* constructors + buildClaimTx; penalty = buildClaimTx over every
// revoked_* claim of a revoked commitment and of its second-stage HTLC txs.
export type {
  ChannelType, Outpoint, Tx, TxInput, TxOutput, FundingOutput, CommitmentHtlc, ChannelBasepoints, CommitmentKeys,
  CommitmentParams, HtlcOutput, CommitmentOutput, Commitment, HtlcTxKind, HtlcTx, Signer,
} from './types.ts'
export {
  ANCHOR_OUTPUT_SAT, COMMITMENT_BASE_WEIGHT, HTLC_OUTPUT_WEIGHT, HTLC_TIMEOUT_WEIGHT, HTLC_SUCCESS_WEIGHT,
  feeForWeight, htlcTimeoutFeeSat, htlcSuccessFeeSat, isHtlcTrimmed, commitmentBaseFeeSat,
} from './fees.ts'
export {
  compile, pushNum, p2wsh, p2wpkh, p2pkh, fundingWitnessScript, toLocalWitnessScript, toRemoteAnchorsWitnessScript,
  anchorWitnessScript, offeredHtlcWitnessScript, receivedHtlcWitnessScript, type HtlcScriptKeys,
} from './script.ts'
export {
  SIGHASH_ALL, SIGHASH_SINGLE_ANYONECANPAY, txHex, parseTx, txid, txWeight, witnessV0Sighash, withWitness,
  toBitcoinjs, fromBitcoinjs, txidToHash,
} from './serialize.ts'
export { witnessSig, parseWitnessSig, signInput, verifyInput, signFundingSpend, verifyFundingSpend, finalizeFundingSpend } from './sign.ts'
export { fundingScriptPubkey, fundingOutput, buildFundingTx, type FundingTxParams, type FundingTxResult } from './funding.ts'
export {
  deriveCommitmentKeys, htlcWitnessScript, buildCommitment, commitmentLocktime, commitmentSequence, obscuredNumberOf, commitmentNumberOf,
} from './commitment.ts'
export { htlcSighashType, buildHtlcTx, buildHtlcTxs, signHtlcTx, verifyHtlcSig, finalizeHtlcTx, bumpHtlcTx } from './htlc.ts'
export { buildClosingTx, closingAmounts, type ClosingAmounts, type ClosingParams, type ClosingTx } from './closing.ts'
export {
  claimToLocalDelayed, claimRevokedToLocal, claimRevokedHtlc, claimRemoteHtlcSuccess, claimRemoteHtlcTimeout,
  claimToRemote, claimAnchor, claimAnchorAfterDelay, buildClaimTx,
  type Claim, type ClaimKind, type ClaimTxParams, type ClaimTxResult,
} from './claims.ts'
export { signWalletInputs, walletTxInput, dustThresholdSat, type WalletInput } from './wallet.ts'
