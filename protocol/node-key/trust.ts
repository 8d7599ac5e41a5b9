// Which hub keys a client trusts, and what an announcement does to that (DESIGN.md "Node-key
// rotation"), pure. The client's owner gives it one hub id; from then on only the key it trusts as
// current can hand over to another:
//  - an announcement is taken only if `old_id` is our current key and both signatures hold
//    (protocol/node-key/announcement.ts), and only once (its seq is above the last we took);
//  - a rotate keeps the old key trusted beside the new one until grace_until_height (by our own view
//    of the chain): a connection still under it works, no later;
//  - a rollback trusts the key rotated out again, alone: the key rotated in is retired at once;
//  - every key ever trusted stays `known` (bounded): receipts it signed before a rotation still verify.
import { MAX_REMEMBERED_HUB_KEYS } from '../limits.ts'
import type { NodeId } from '../types.ts'
import type { NodeKeyRotationMessage } from '../wire/index.ts'
import { rotationSignatureFailure, type RotationSignatureFailure } from './announcement.ts'

export interface HubTrust {
  /** The seq of the last announcement taken (0: none). */
  seq: number
  current: NodeId
  /** The key rotated out, trusted until the chain reaches `untilHeight`. */
  previous?: { id: NodeId; untilHeight: number }
  /** Every key ever trusted, the one trusted last at the end (at most MAX_REMEMBERED_HUB_KEYS). */
  known: NodeId[]
}

export type TrustDecision =
  | { kind: 'accepted'; trust: HubTrust }
  /** Nothing to do: we took this announcement (or a later one) already, or it names our key as new. */
  | { kind: 'ignored'; why: 'already_taken' | 'already_current' }
  /** Refused: not a statement of the key we trust. Never acted on. */
  | { kind: 'refused'; why: RotationSignatureFailure | 'not_our_key'; detail: string }

export function initialTrust (hubId: NodeId): HubTrust { return { seq: 0, current: hubId, known: [hubId] } }

/** The keys we accept the hub proving at `height`: the current one first. */
export function trustedIds (t: HubTrust, height: number): NodeId[] {
  return t.previous !== undefined && height < t.previous.untilHeight ? [t.current, t.previous.id] : [t.current]
}

export function decideAnnouncement (t: HubTrust, m: NodeKeyRotationMessage): TrustDecision {
  if (m.seq <= t.seq) return { kind: 'ignored', why: 'already_taken' }
  if (m.old_id !== t.current) {
    if (m.new_id === t.current) return { kind: 'ignored', why: 'already_current' }
    return { kind: 'refused', why: 'not_our_key', detail: `old_id ${m.old_id} is not the hub key we trust (${t.current})` }
  }
  const bad = rotationSignatureFailure(m)
  if (bad !== undefined) return { kind: 'refused', why: bad, detail: `node_key_rotation ${m.seq}: ${bad}` }
  const known = [...t.known.filter(k => k !== m.new_id), m.new_id].slice(-MAX_REMEMBERED_HUB_KEYS)
  const trust: HubTrust = m.kind === 'rotate'
    ? { seq: m.seq, current: m.new_id, previous: { id: m.old_id, untilHeight: m.grace_until_height }, known }
    : { seq: m.seq, current: m.new_id, known }
  return { kind: 'accepted', trust }
}
