// Checks the admission token of an upgrade request (protocol/auth/admission-token.ts): is it a node
// the hub knows (it has a channel here), signed by that node for this hub, recent, and newer than the
// last token the hub took from it? Only then does the connection get one of the handshake slots kept
// for known peers (admission.ts).
//
// Order of checks, cheapest first: a node id the hub does not know costs a map lookup and nothing
// more (no signature is verified for strangers, who would otherwise make the hub verify at will);
// the time window and the replay check cost a comparison; the signature is verified last.
import type { NodeId } from '../../protocol/types.ts'
import { verifyAdmissionToken, type AdmissionToken } from '../../protocol/auth/admission-token.ts'

export type TokenVerdict =
  | { kind: 'known'; nodeId: NodeId }
  | { kind: 'ignored'; why: TokenIgnored }

/** Why a token does not get a kept slot. The connection is then admitted like any other, or not. */
export type TokenIgnored =
  | 'unknown_peer'  // no channel with this node id: it takes its chances with everyone else
  | 'stale'         // its time is further from the hub's clock than admissionTokenMaxAgeMs
  | 'replayed'      // not later than a token this node already used: each token is good once
  | 'bad_signature' // not signed by the node id it names, for this hub

export class AdmissionTokens {
  /** The time of the last token taken per node id. An entry older than the window is useless (any
   *  token it would refuse is stale anyway) and is dropped, so this holds at most the known peers
   *  that connected within one window. */
  private readonly last = new Map<NodeId, number>()
  private lastPruneSize = 64

  constructor (
    /** The hub ids served now: a token signed for any of them counts. */
    private readonly hubIds: () => readonly NodeId[],
    private readonly isKnownPeer: (nodeId: NodeId) => boolean,
    private readonly maxAgeMs: number,
    private readonly now: () => number,
  ) {}

  check (token: AdmissionToken): TokenVerdict {
    if (!this.isKnownPeer(token.nodeId)) return { kind: 'ignored', why: 'unknown_peer' }
    const t = this.now()
    if (Math.abs(t - token.timeMs) > this.maxAgeMs) return { kind: 'ignored', why: 'stale' }
    const last = this.last.get(token.nodeId)
    if (last !== undefined && token.timeMs <= last) return { kind: 'ignored', why: 'replayed' }
    if (!this.hubIds().some(id => verifyAdmissionToken(token, id))) return { kind: 'ignored', why: 'bad_signature' }
    this.last.set(token.nodeId, token.timeMs)
    this.prune(t)
    return { kind: 'known', nodeId: token.nodeId }
  }

  private prune (t: number): void {
    if (this.last.size < 2 * this.lastPruneSize) return
    for (const [id, at] of this.last) if (t - at > this.maxAgeMs) this.last.delete(id)
    this.lastPruneSize = Math.max(64, this.last.size)
  }
}
