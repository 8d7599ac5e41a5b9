// paySplit's arguments (DESIGN.md "Splits"), checked before anything is stored or sent. The amounts
// are checked by protocol/split/shares.ts (the rounding rule), which names the field too.
import { z } from 'zod'
import {
  MAX_IDEMPOTENCY_KEY_CHARS, MAX_REFERENCE_CHARS, MAX_SPLIT_LOCK_TIMEOUT_MS, MAX_SPLIT_RECIPIENTS, SPLIT_PPM_WHOLE,
} from '../protocol/limits.ts'
import { IDEMPOTENCY_KEY } from '../protocol/wire/channel-messages.ts'
import { text } from '../protocol/wire/fields.ts'

const nodeId = z.string().regex(/^0[23][0-9a-f]{64}$/, { error: 'must be a node id (33-byte compressed key, lowercase hex)' })
const msat = z.number().int({ error: 'must be an integer (msat)' }).min(1).max(Number.MAX_SAFE_INTEGER)

/** Leg i of a split under key K pays under key `K:i` (the HTLC's idempotency_key, which the hub checks
 *  per payer), so a split's key leaves room for ':' and the largest index. */
export const legKey = (key: string, index: number): string => `${key}:${index}`
export const MAX_SPLIT_KEY_CHARS = MAX_IDEMPOTENCY_KEY_CHARS - legKey('', MAX_SPLIT_RECIPIENTS - 1).length

export const paySplitArgs = z.strictObject({
  /** What the recipients receive together (the hub's fee on each leg comes on top). */
  total: msat,
  /** Who gets what: all by parts per million of the total (summing to 1,000,000), or all in msat
   *  (summing to the total). */
  shares: z.array(z.union([
    z.strictObject({ to: nodeId, ppm: z.number().int({ error: 'must be an integer' }).min(1).max(SPLIT_PPM_WHOLE) }),
    z.strictObject({ to: nodeId, msat }),
  ], { error: 'must be { to, ppm } or { to, msat }' })).min(1).max(MAX_SPLIT_RECIPIENTS, {
    error: `must have at most ${MAX_SPLIT_RECIPIENTS} entries (MAX_SPLIT_RECIPIENTS)`,
  }),
  /** The platform's reference, forwarded with every leg and bound to each sealed leg secret. */
  reference: text(MAX_REFERENCE_CHARS).refine(r => r.length > 0, { error: 'must not be empty' }),
  /** How long every leg has to be locked before the split aborts (ms). */
  lockTimeoutMs: z.number().int({ error: 'must be an integer (ms)' }).min(1_000).max(MAX_SPLIT_LOCK_TIMEOUT_MS).default(30_000),
  /** Paying a split twice with the same key pays once: the second call answers with the first
   *  split's outcome; with other parameters it is refused (`idempotency_key_reused`). */
  idempotencyKey: z.string().regex(IDEMPOTENCY_KEY, { error: 'must be characters of [0-9A-Za-z_.:-]' }).min(1)
    .max(MAX_SPLIT_KEY_CHARS, { error: `must be at most ${MAX_SPLIT_KEY_CHARS} characters (its legs add ':<index>')` }).optional(),
})
export type PaySplitArgs = z.output<typeof paySplitArgs>
