// BOLT #2 "Removing an HTLC: `update_fulfill_htlc`, `update_fail_htlc`": who may remove which HTLC,
// and when.
import { sha256 } from '../../crypto/hash.ts'
import { bytesToHex, hexToBytes } from '../../types.ts'
import { channelError, type ChannelError } from '../../errors.ts'
import { err, ok, type Result } from '../../result.ts'
import { findHtlc } from '../spec.ts'
import { commits, type ChannelState, type Htlc, type Side, type Update } from '../state.ts'

/** Is a removal of HTLC `id` (offered by `offerer`) already among these updates? */
function removing (updates: readonly Update[], id: number): boolean {
  return updates.some(u => (u.kind === 'fulfill' || u.kind === 'fail') && u.id === id)
}

/** BOLT #2: "For simplicity, a node can only remove HTLCs added by the other node." and "until the
 *  corresponding HTLC is irrevocably committed in both sides' commitment transactions: MUST NOT send
 *  an `update_fulfill_htlc`, `update_fail_htlc`, or `update_fail_malformed_htlc`."
 *  Irrevocably committed, from our side: in our latest commitment (whose predecessor we revoked) and
 *  in the peer's latest commitment whose predecessor it revoked (remoteCommit, not nextRemoteCommit).
 *  Checks a removal *we* are about to send, of an HTLC the peer offered. */
export function checkLocalRemoval (s: ChannelState, id: number): Result<Htlc, ChannelError> {
  const c = commits(s)
  const inLocal = findHtlc(c.local.spec, 'remote', id)
  const inRemote = findHtlc(c.remote.spec, 'remote', id)
  if (inLocal === undefined && inRemote === undefined) return err(channelError(
    'unknown_htlc', `no HTLC ${id} offered by the peer`, 'ignore',
  ))
  if (inLocal === undefined || inRemote === undefined) return err(channelError(
    'htlc_not_committed', `HTLC ${id} is not irrevocably committed yet`, 'ignore',
  ))
  const ch = s.localChanges
  if (removing(ch.proposed, id) || removing(ch.signed, id) || removing(ch.acked, id) ||
    s.holding.some(u => u.kind !== 'fee' && u.id === id)) {
    return err(channelError('unknown_htlc', `HTLC ${id} is already being removed`, 'ignore'))
  }
  return ok(inLocal)
}

/** Checks a removal the *peer* sent, of an HTLC we offered.
 *  BOLT #2 (receiver): "if the `id` does not correspond to an HTLC in its current commitment
 *  transaction: MUST send a `warning` and close the connection, or send an `error` and fail the
 *  channel." Our "current commitment transaction" is the latest one we hold; the peer must also have
 *  irrevocably committed it, which with an ordered transport means it is in the peer's latest revoked
 *  commitment too. */
export function checkRemoteRemoval (s: ChannelState, id: number): Result<Htlc, ChannelError> {
  const c = commits(s)
  const inLocal = findHtlc(c.local.spec, 'local', id)
  const inRemote = findHtlc(c.remote.spec, 'local', id)
  if (inLocal === undefined) return err(channelError('unknown_htlc', `no HTLC ${id} of ours in our current commitment`))
  if (inRemote === undefined) return err(channelError('htlc_not_committed', `HTLC ${id} is not irrevocably committed`))
  const ch = s.remoteChanges
  if (removing(ch.proposed, id) || removing(ch.acked, id) || removing(ch.signed, id)) {
    return err(channelError('unknown_htlc', `HTLC ${id} was already removed`))
  }
  return ok(inLocal)
}

/** BOLT #2 (update_fulfill_htlc, receiver): "if the `payment_preimage` value in
 *  `update_fulfill_htlc` doesn't SHA256 hash to the corresponding HTLC `payment_hash`: MUST send a
 *  `warning` and close the connection, or send an `error` and fail the channel." */
export function checkPreimage (htlc: Htlc, preimage: string, by: Side): ChannelError | undefined {
  if (bytesToHex(sha256(hexToBytes(preimage))) !== htlc.paymentHash) {
    return channelError('bad_preimage', `preimage does not hash to payment_hash of HTLC ${htlc.id}`, by === 'local' ? 'ignore' : undefined)
  }
  return undefined
}
