// BOLT #2 "Committing Updates So Far: `commitment_signed`" and "Completing the Transition to the
// Updated State: `revoke_and_ack`": the receiver's checks.
import { getCurve } from '../../crypto/index.ts'
import { channelError, type ChannelError } from '../../errors.ts'
import { hexToBytes } from '../../types.ts'
import type { ChannelSigner, CommitmentRef } from '../signer.ts'
import type { ChannelState } from '../state.ts'

/** BOLT #2 (commitment_signed, sender): "MUST NOT send a `commitment_signed` message that does not
 *  include any updates." Our next commitment would change nothing: no peer update since its last
 *  commitment_signed, and none of ours that it acknowledged. */
export function checkCommitmentHasUpdates (s: ChannelState): ChannelError | undefined {
  if (s.remoteChanges.proposed.length === 0 && s.localChanges.acked.length === 0) {
    return channelError('empty_commitment', 'commitment_signed without any update')
  }
  return undefined
}

/** BOLT #2 (commitment_signed, receiver): "once all pending updates are applied: if `signature` is
 *  not valid for its local commitment transaction OR non-compliant with LOW-S-standard rule: MUST send
 *  a `warning` and close the connection, or send an `error` and fail the channel. if `num_htlcs` is
 *  not equal to the number of HTLC outputs in the local commitment transaction: MUST send a `warning`
 *  and close the connection ... if any `htlc_signature` is not valid for the corresponding HTLC
 *  transaction OR non-compliant with LOW-S-standard rule: MUST send a `warning` and close the
 *  connection, or send an `error` and fail the channel." */
export function checkCommitmentSignatures (
  s: ChannelState, signer: ChannelSigner, c: CommitmentRef, untrimmed: number, signature: string, htlcSignatures: readonly string[],
): ChannelError | undefined {
  if (htlcSignatures.length !== untrimmed) {
    return channelError(
      'wrong_htlc_signature_count', `num_htlcs ${htlcSignatures.length} ≠ ${untrimmed} HTLC outputs in commitment ${c.number}`,
    )
  }
  const r = signer.checkCommitment(s.setup, c, signature, htlcSignatures)
  if (r === 'wrong_htlc_signature_count') return channelError(
    'wrong_htlc_signature_count', `signer counts a different number of HTLC outputs in commitment ${c.number}`,
  )
  if (r === 'bad_signature') return channelError('bad_signature', `invalid signature for commitment ${c.number}`)
  return undefined
}

/** BOLT #2 (revoke_and_ack, receiver): "if `per_commitment_secret` is not a valid secret key or does
 *  not generate the previous `per_commitment_point`: MUST send an `error` and fail the channel."
 *  And a revoke_and_ack with no commitment of ours waiting for one is not part of the protocol. */
export function checkRevocation (s: ChannelState, signer: ChannelSigner, secret: string, nextPoint: string): ChannelError | undefined {
  if (s.nextRemoteCommit === undefined || s.remoteCommit === undefined) {
    return channelError('unexpected_revocation', 'revoke_and_ack without an outstanding commitment_signed')
  }
  if (!signer.secretMatchesPoint(secret, s.remoteCommit.perCommitmentPoint)) {
    return channelError('bad_revocation_secret', `per_commitment_secret does not match the point of commitment ${s.remoteCommit.index}`)
  }
  return checkPoint(nextPoint, 'next_per_commitment_point')
}

/** A per-commitment point from the peer must be on the curve: every key of the next commitment is
 *  derived from it (the wire schema only checks its length and prefix). */
export function checkPoint (point: string, field: string): ChannelError | undefined {
  if (!getCurve().isPubkey(hexToBytes(point))) return channelError('invalid_field', `${field} is not a valid secp256k1 point`)
  return undefined
}
