// paySplit's arguments (DESIGN.md "Splits"), checked before anything is stored or sent. The amounts
// are checked by protocol/split/shares.ts (the rounding rule), which names the field too.
import { z } from 'zod'
import { MAX_REFERENCE_CHARS, MAX_SPLIT_LOCK_TIMEOUT_MS, MAX_SPLIT_RECIPIENTS, SPLIT_PPM_WHOLE } from '../protocol/limits.ts'
import { text } from '../protocol/wire/fields.ts'

const nodeId = z.string().regex(/^0[23][0-9a-f]{64}$/, { error: 'must be a node id (33-byte compressed key, lowercase hex)' })
const msat = z.number().int({ error: 'must be an integer (msat)' }).min(1).max(Number.MAX_SAFE_INTEGER)

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
})
export type PaySplitArgs = z.output<typeof paySplitArgs>
