// The channel machine never holds a private key: it asks a signer, passed in with each step. The
// signer owns the funding key, the HTLC basepoint secret and the per-commitment seed; it builds the
// BOLT #3 transactions from the setup and the spec, signs them and checks the peer's signatures.
// protocol/channel/bolt3-signer.ts is the real one; a test may pass any implementation of this
// interface (all of them are pure: same inputs, same outputs).
import type { Sat } from '../types.ts'
import type { Tx } from '../tx/types.ts'
import type { ChannelSetup, CommitmentSpec, Side } from './state.ts'

/** One commitment transaction, as the signer needs to build it. */
export interface CommitmentRef {
  /** Whose commitment: 'local' = the one we would broadcast, 'remote' = the peer's. */
  holder: Side
  number: number
  /** The holder's per-commitment point for `number`. */
  perCommitmentPoint: string
  spec: CommitmentSpec
}

export interface ClosingRef {
  feeSat: Sat
  localScript: string
  remoteScript: string
  spec: CommitmentSpec
  /** Which variant: outputs below this dust limit are left out. Default: our own dust limit, the
   *  variant our closing_signed signs (BOLT #3 "MUST remove any output below its own dust_limit_satoshis"). */
  dustLimitSat?: Sat
}

/** The variant of a closing transaction a signature is valid for. */
export interface ClosingVariant { dustLimitSat: Sat }

export type SignatureCheck = 'ok' | 'bad_signature' | 'wrong_htlc_signature_count'

export interface ChannelSigner {
  /** BOLT #3: our per-commitment point for commitment number `n`. */
  perCommitmentPoint (n: number): string
  /** BOLT #3: our per-commitment secret for commitment number `n` (released when revoking it). */
  perCommitmentSecret (n: number): string
  /** Whether `secret` is a valid private key whose point is `point` (revoke_and_ack receiver). */
  secretMatchesPoint (secret: string, point: string): boolean
  /** Signs the peer's commitment: the commitment signature and one HTLC signature per untrimmed
   *  HTLC, in the commitment's output order (BOLT #2 commitment_signed). */
  signCommitment (setup: ChannelSetup, c: CommitmentRef): { signature: string; htlcSignatures: string[] }
  /** Checks the peer's signatures on our commitment (count first, then each signature). */
  checkCommitment (setup: ChannelSetup, c: CommitmentRef, signature: string, htlcSignatures: readonly string[]): SignatureCheck
  /** Our signature of the BOLT #3 closing transaction (the variant `c.dustLimitSat` names). */
  signClosing (setup: ChannelSetup, c: ClosingRef): string
  /** The variant of the closing transaction the peer's signature is valid for (its dust limit or
   *  ours), or undefined if it is valid for neither. */
  checkClosing (setup: ChannelSetup, c: ClosingRef, signature: string): ClosingVariant | undefined
  /** Our signature (SIGHASH_ALL) of input `index` of a splice transaction, which spends the funding
   *  output `setup` describes (BOLT #2 tx_signatures `shared_input_signature`). */
  signFundingInput (setup: ChannelSetup, tx: Tx, index: number): string
  /** Whether the peer's `shared_input_signature` is valid for that input, with its funding key. */
  checkFundingInput (setup: ChannelSetup, tx: Tx, index: number, signature: string): boolean
}
