// The messages of a split payment (DESIGN.md "Splits"), hub-specific like hub_policy: they exist
// because every party has exactly one counterparty, the hub, which relays them between a split's
// payer and its recipients. Each is scoped by the hub to the node ids involved (hub/router/split-relay.ts):
// a recipient's leg_locked goes only to the payer of the HTLC it names, a payer's release and abort
// only to the recipients of its own legs. Their contents are checked by whoever they are for: the
// hub cannot forge a signature nor open a sealed secret.
import { z } from 'zod'
import { MAX_SPLIT_RECIPIENTS } from '../limits.ts'
import { hex32, hexBytes, msatAmount, nodeId, point33, signature64, u16 } from './fields.ts'

const legIndex = u16.refine(n => n < MAX_SPLIT_RECIPIENTS, { error: `must be below ${MAX_SPLIT_RECIPIENTS} (MAX_SPLIT_RECIPIENTS)` })

/** recipient → hub → payer: "my leg is irrevocably committed in my channel" (protocol/split/statements.ts). */
export const splitLegLocked = z.strictObject({
  type: z.literal('split_leg_locked'),
  split_id: hex32,
  index: legIndex,
  payment_hash: hex32,
  amount_msat: msatAmount.refine((n) => n >= 1, { error: 'must be ≥ 1' }),
  /** sha256 of the leg secret r_i the recipient opened. */
  r_hash: hex32,
  signature: signature64,
})

/** payer → hub → recipient: the split secret x, sealed to the recipient for its leg (protocol/split/secrets.ts). */
export const splitRelease = z.strictObject({
  type: z.literal('split_release'),
  split_id: hex32,
  recipient: nodeId,
  /** The recipient's leg. */
  payment_hash: hex32,
  secret: z.strictObject({ ephemeral_point: point33, ciphertext: hexBytes(32), tag: hex32 }),
})

/** payer → hub → every recipient of the split: the split is abandoned, signed by the payer. */
export const splitAbort = z.strictObject({
  type: z.literal('split_abort'),
  split_id: hex32,
  signature: signature64,
})

export type SplitLegLocked = z.infer<typeof splitLegLocked>
export type SplitRelease = z.infer<typeof splitRelease>
export type SplitAbort = z.infer<typeof splitAbort>
export const SPLIT_MESSAGE_TYPES = ['split_leg_locked', 'split_release', 'split_abort'] as const
