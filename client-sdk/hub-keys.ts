// The hub keys this client trusts (DESIGN.md "Node-key rotation"), durable in its store. The owner
// gives one hub id (options.hubId); the hub may rotate its node key later and say so, signed by the
// key we trust (protocol/node-key/trust.ts decides what an announcement does). What we took is written
// before anything acts on it: a crash after a switch finds the new key trusted, never a half.
//
// At start: a stored trust that knows options.hubId is the one that counts (the application's config
// still names the key we were given first; the rotations since are ours to remember). An options.hubId
// we never trusted is the owner's word, given out of band (after a rotation whose grace passed while
// we were offline): it replaces what we stored.
import { z } from 'zod'
import { isValidNodeId } from '../protocol/auth/signature.ts'
import { MAX_REMEMBERED_HUB_KEYS } from '../protocol/limits.ts'
import { decideAnnouncement, initialTrust, trustedIds, type HubTrust, type TrustDecision } from '../protocol/node-key/trust.ts'
import type { NodeId } from '../protocol/types.ts'
import type { NodeKeyRotationMessage } from '../protocol/wire/index.ts'
import { keys, parseJsonValue, put, type Store } from '../host/store/index.ts'

const nodeId = z.string().refine(isValidNodeId, { error: 'must be a node id' }).transform(s => s as NodeId)
const trustSchema = z.strictObject({
  v: z.literal(1),
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  current: nodeId,
  previous: z.strictObject({ id: nodeId, untilHeight: z.number().int().min(0).max(0xffff_ffff) }).optional(),
  known: z.array(nodeId).min(1).max(MAX_REMEMBERED_HUB_KEYS),
})

export class HubKeys {
  private trust: HubTrust
  /** Announcements are taken one at a time, in arrival order. */
  private queue: Promise<unknown> = Promise.resolve()

  private constructor (private readonly store: Store, trust: HubTrust) { this.trust = trust }

  /** The trust stored in `store`, or one started from `hubId` (see the top of this file). */
  static async load (store: Store, hubId: NodeId): Promise<HubKeys> {
    const v = await store.get(keys.hubTrust)
    if (v !== undefined) {
      const r = trustSchema.safeParse(parseJsonValue(v))
      if (!r.success) throw new Error(`store: ${keys.hubTrust} is not a hub trust record: ${r.error.message}`)
      const { v: _v, previous, ...rest } = r.data
      const stored: HubTrust = previous === undefined ? rest : { ...rest, previous }
      if (stored.known.includes(hubId)) return new HubKeys(store, stored)
    }
    return new HubKeys(store, initialTrust(hubId))
  }

  get current (): NodeId { return this.trust.current }
  /** The keys we accept the hub proving at `height` (our view of the chain), the current one first. */
  trusted (height: number): NodeId[] { return trustedIds(this.trust, height) }
  /** Whether `id` was ever a key of the hub we trust (a receipt it signed is the hub's). */
  known (id: NodeId): boolean { return this.trust.known.includes(id) }

  /** Takes an announcement if it is ours to take, durably before it resolves (see trust.ts). */
  take (m: NodeKeyRotationMessage): Promise<TrustDecision> {
    const run = async (): Promise<TrustDecision> => {
      const d = decideAnnouncement(this.trust, m)
      if (d.kind !== 'accepted') return d
      const { previous, ...rest } = d.trust
      await this.store.write([put(keys.hubTrust, { v: 1, ...rest, ...(previous !== undefined ? { previous } : {}) })])
      this.trust = d.trust
      return d
    }
    const p = this.queue.then(run, run)
    this.queue = p.catch(() => {})
    return p
  }
}
