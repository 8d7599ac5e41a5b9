// The hub's node-key rotation as a message (DESIGN.md "Node-key rotation"): hub → client, to every
// session the hub holds under a key that is no longer its current one, and to every client that
// connects under such a key while it is still served. What the fields mean and what is signed:
// protocol/node-key/announcement.ts. Hub-specific, like hub_policy.
import { z } from 'zod'
import { height, nodeId, signature64, u64 } from './fields.ts'

export const nodeKeyRotation = z.strictObject({
  type: z.literal('node_key_rotation'),
  /** rotate: `new_id` replaces `old_id`; rollback: the key rotated out comes back (`new_id`), the one
   *  rotated in (`old_id`) is retired. */
  kind: z.enum(['rotate', 'rollback']),
  /** The hub's count of its rotations and rollbacks: a client takes each at most once, in order. */
  seq: u64.refine(n => n >= 1, { error: 'must be ≥ 1' }),
  old_id: nodeId,
  new_id: nodeId,
  /** The hub serves `old_id` beside `new_id` until the chain reaches this height. */
  grace_until_height: height,
  /** BIP-340 by `old_id` over the statement: the key the client trusts hands over. */
  old_signature: signature64,
  /** BIP-340 by `new_id` over the same statement: the hub holds the key it hands over to. */
  new_signature: signature64,
})

export type NodeKeyRotationMessage = z.infer<typeof nodeKeyRotation>
