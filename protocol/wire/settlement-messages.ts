// The hub-specific messages of batched settlement (docs/DESIGN.md "Batched settlement"): an account
// sets its payout policy, and the hub proposes a channel's payout terms before the splice session of a
// payout batch. Not BOLT messages: they exist because the hub coordinates every account's payouts.
// Fields are checked here for shape; the hub checks a policy against the operator's bounds
// (hub/settlement/policy.ts), the client checks a proposal against its own policy
// (protocol/settlement/peer-check.ts).
import { z } from 'zod'
import { MAX_FAIL_DETAIL_CHARS, MAX_SHUTDOWN_SCRIPT_BYTES } from '../limits.ts'
import { channelId, hexBytesBetween, satAmount, text, u32 } from './fields.ts'

/** A payout's output script: at most the size of a shutdown script (a standard output script). */
const payoutScript = hexBytesBetween(1, MAX_SHUTDOWN_SCRIPT_BYTES)

/** client → hub: the account's payout policy (protocol/settlement/types.ts PayoutPolicy). The hub
 *  answers payout_policy_set. */
export const payoutPolicy = z.strictObject({
  type: z.literal('payout_policy'),
  payout_script: payoutScript,
  threshold_sat: satAmount,
  interval_blocks: u32,
  keep_sat: satAmount,
  close_idle_blocks: u32.optional(),
})

/** hub → client, the answer to payout_policy: stored (durably, before this leaves), or refused with
 *  the field named in `detail`. */
export const payoutPolicySet = z.strictObject({
  type: z.literal('payout_policy_set'),
  refused: z.boolean(),
  detail: text(MAX_FAIL_DETAIL_CHARS).optional(),
})

/** hub → client, right before the hub's splice_init of a payout batch on `channel_id`: the payout the
 *  batch makes for this account and its fee share (protocol/settlement/peer-check.ts PayoutTerms). The
 *  client checks them against its own policy and balance before its splice_ack, and the complete
 *  transaction at tx_complete (protocol/interactive-tx/batch.ts). */
export const payoutProposal = z.strictObject({
  type: z.literal('payout_proposal'),
  channel_id: channelId,
  payout_script: payoutScript,
  payout_sat: satAmount,
  fee_sat: satAmount,
  feerate_per_kw: u32,
  payout_serial_id: u32,
})

export type PayoutPolicyMessage = z.infer<typeof payoutPolicy>
export type PayoutPolicySet = z.infer<typeof payoutPolicySet>
export type PayoutProposal = z.infer<typeof payoutProposal>
