// Questions a host asks about a channel's state, answered once for the hub, the SDK and the machine
// itself: which incoming HTLCs are ours to decide, whether an HTLC we offered is still anywhere,
// whether anything is in flight, what we can still send. Pure reads: nothing here changes a state.
//
// Where an HTLC can be (BOLT #2 "Normal Operation"): in a commitment (ours, the peer's, or the one we
// signed for the peer that it has not revoked the previous one for yet), or, before that, in an update
// list (proposed, signed, acked) of its offerer. Spec amounts are in our perspective everywhere
// (state.ts): an HTLC with offerer 'local' is one we offered.
import { ANCHOR_OUTPUT_SAT, commitmentBaseFeeSat } from '../tx/fees.ts'
import { isOperating } from './phase.ts'
import type { ChannelState, CommitmentSpec, Htlc } from './state.ts'

/** The commitments that exist: ours, the peer's, and the one we signed for it and it has not revoked for. */
function specs (s: ChannelState): CommitmentSpec[] {
  const out: CommitmentSpec[] = []
  for (const spec of [s.localCommit?.spec, s.remoteCommit?.spec, s.nextRemoteCommit?.commit.spec]) if (spec !== undefined) out.push(spec)
  return out
}

/** Every update list of both sides. */
function updateLists (s: ChannelState): ReadonlyArray<readonly unknown[]> {
  const l = s.localChanges
  const r = s.remoteChanges
  return [l.proposed, l.signed, l.acked, r.proposed, r.acked, r.signed]
}

/** An update sent or received that is not yet irrevocably in both commitments. */
export function hasPendingUpdates (s: ChannelState): boolean {
  return updateLists(s).some(l => l.length > 0)
}

/** An HTLC in any commitment (ours, the peer's, or the one we signed for it). */
export function hasCommittedHtlcs (s: ChannelState): boolean {
  return specs(s).some(spec => spec.htlcs.length > 0)
}

/**
 * Both parties hold the same balances and nothing is moving: both commitments exist, no HTLC is in
 * any commitment, no update is pending on either side, no commitment waits for its revocation and no
 * command waits for the link.
 */
export function isSettled (s: ChannelState): boolean {
  return s.localCommit !== undefined && s.remoteCommit !== undefined && s.nextRemoteCommit === undefined &&
    !hasCommittedHtlcs(s) && !hasPendingUpdates(s) && s.holding.length === 0
}

/**
 * Whether the channel carries anything a block height matters to: an HTLC in a commitment, an update
 * not yet irrevocably committed, or a command waiting for the link, in a phase where HTLCs are
 * exchanged (expiry.ts acts on blocks only then).
 */
export function hasInFlight (s: ChannelState): boolean {
  if (s.localCommit === undefined || !isOperating(s.phase)) return false
  return hasCommittedHtlcs(s) || hasPendingUpdates(s) || s.holding.length > 0
}

/**
 * Incoming HTLCs irrevocably committed (in both latest commitments) that we are not removing: the
 * ones the host must decide (fulfil, fail or forward). After a restart, these are decided again.
 */
export function committedIncoming (s: ChannelState): Htlc[] {
  if (s.localCommit === undefined || s.remoteCommit === undefined) return []
  const removing = new Set<number>()
  for (const l of [s.localChanges.proposed, s.localChanges.signed, s.localChanges.acked, s.holding]) {
    for (const u of l) if (u.kind === 'fulfill' || u.kind === 'fail') removing.add(u.id)
  }
  const inRemote = new Set(s.remoteCommit.spec.htlcs.filter(h => h.offerer === 'remote').map(h => h.id))
  return s.localCommit.spec.htlcs.filter(h => h.offerer === 'remote' && inRemote.has(h.id) && !removing.has(h.id))
}

/**
 * HTLCs we offered, in commitment order (ours, the peer's, the unrevoked one) and then, with
 * `anywhere`, our adds not in a commitment yet (proposed, signed, acked). An HTLC in several places
 * is listed once per place.
 */
export function offeredHtlcs (s: ChannelState, where: 'committed' | 'anywhere'): Htlc[] {
  const ours: Htlc[] = []
  for (const spec of specs(s)) for (const h of spec.htlcs) if (h.offerer === 'local') ours.push(h)
  if (where === 'anywhere') {
    for (const u of [...s.localChanges.proposed, ...s.localChanges.signed, ...s.localChanges.acked]) if (u.kind === 'add') ours.push(u.htlc)
  }
  return ours
}

/**
 * Whether we offered an HTLC for `paymentHash`. `committed`: it is in a commitment, so from then on
 * only its removal or the chain can end it; `anywhere`: also an add of ours not yet in one.
 */
export function offersPayment (s: ChannelState, paymentHash: string, where: 'committed' | 'anywhere'): boolean {
  return offeredHtlcs(s, where).some(h => h.paymentHash === paymentHash)
}

/** The outgoing half of a forwarded payment, as the forwarding host recorded it. */
export interface OfferedSpec { paymentHash: string; amountMsat: number; cltvExpiry: number }

/**
 * The id of our HTLC, anywhere in the channel, that matches `out` (hash, amount and expiry) and is not
 * in `claimed` (ids other records hold already: two payments with one hash stay two HTLCs).
 */
export function findOffered (s: ChannelState, out: OfferedSpec, claimed: ReadonlySet<number>): number | undefined {
  const matches = (h: Htlc): boolean =>
    h.paymentHash === out.paymentHash && h.amountMsat === out.amountMsat && h.cltvExpiry === out.cltvExpiry
  return offeredHtlcs(s, 'anywhere').find(h => matches(h) && !claimed.has(h.id))?.id
}

/**
 * What we can still send, in msat: our balance in the peer's next commitment (the unrevoked one, or
 * its current one), less the reserve the peer requires of us and our adds not yet signed. The funder
 * also pays for the commitment: it keeps a margin of its fee with two more HTLC outputs (BOLT #3
 * commitment weight) and, with anchors, of both anchor outputs. May be negative.
 */
export function spendableMsat (s: ChannelState): number {
  const spec = s.nextRemoteCommit?.commit.spec ?? s.remoteCommit?.spec
  if (spec === undefined) return 0
  const reserve = (s.setup.remote?.channelReserveSat ?? 0) * 1000
  const pending = s.localChanges.proposed.reduce((n, u) => n + (u.kind === 'add' ? u.htlc.amountMsat : 0), 0)
  return spec.toLocalMsat - reserve - pending - (s.setup.isFunder ? funderMarginMsat(s, spec) : 0)
}

/** The funder's margin for the commitment it pays for, in msat: what that commitment would cost it
 *  with two more HTLC outputs than `spec` has — its fee (BOLT #3 "Fee Calculation", rounded down to
 *  the satoshi as the commitment's is) and, with anchors, both anchor outputs. BOLT #3 ("Fee
 *  Payment"): "if `option_anchors` applies to the commitment transaction, also subtract two times the
 *  fixed anchor size of 330 sat from the funder (either local or remote)." */
function funderMarginMsat (s: ChannelState, spec: CommitmentSpec): number {
  const type = s.setup.channelType
  const anchorsSat = type === 'anchors' ? 2 * ANCHOR_OUTPUT_SAT : 0
  return (commitmentBaseFeeSat(type, spec.feeratePerKw, spec.htlcs.length + 2) + anchorsSat) * 1000
}
