// The `settlement` section of the hub's config (hub/config.ts): the bounds every account's payout
// policy must keep, and how the hub builds payout batches (docs/DESIGN.md "Batched settlement").
import { z } from 'zod'
import { DEFAULT_MAX_FEERATE_PER_KW, FEERATE_PER_KW_FLOOR, MAX_INTERACTIVE_INPUTS_OUTPUTS, MAX_MONEY_SAT } from '../../protocol/limits.ts'

const int = (min: number, max: number) => z.number().int({ error: 'must be an integer' }).min(min).max(max)
/** A year of blocks: no interval or idle period of a payout policy is usefully longer. */
const MAX_POLICY_BLOCKS = 52_560

export const settlementConfigSchema = z.strictObject({
  /** A batch runs every this many blocks (the batching window), if any payout is due. */
  windowBlocks: int(1, 1_008).default(6),
  /** Feerate of the batch, sat per 1000 weight units (btcd has no fee estimation). */
  feeratePerKw: int(FEERATE_PER_KW_FLOOR, DEFAULT_MAX_FEERATE_PER_KW).default(1_000),
  /** The operator's cap: an RBF of a batch never goes above it. */
  maxFeeratePerKw: int(FEERATE_PER_KW_FLOOR, DEFAULT_MAX_FEERATE_PER_KW).default(10_000),
  /** A payout whose fee share is above this percent of it is deferred to the next window. */
  maxFeeSharePercent: int(1, 100).default(5),
  /** The most channels in one batch (BOLT #2 bounds it further: 252 outputs, two per payout). */
  maxChannelsPerBatch: int(1, MAX_INTERACTIVE_INPUTS_OUTPUTS).default(100),
  /** Rebuild rounds of one batch after peers were dropped, before the rest waits for the next window. */
  maxRounds: int(1, 10).default(3),
  /** Blocks a peer has to sign before it is dropped from the batch. */
  signTimeoutBlocks: int(1, 144).default(2),
  /** Blocks without confirmation before an unconfirmed batch is replaced at a higher feerate. */
  rbfAfterBlocks: int(1, 1_008).default(6),
  /** Confirmations before a batch counts as done. */
  finalityDepth: int(1, 144).default(6),
  /** Bounds of every account's policy. */
  policy: z.strictObject({
    minThresholdSat: int(0, MAX_MONEY_SAT).default(10_000),
    minIntervalBlocks: int(1, MAX_POLICY_BLOCKS).default(6),
    maxKeepSat: int(0, MAX_MONEY_SAT).default(MAX_MONEY_SAT),
    minCloseIdleBlocks: int(1, MAX_POLICY_BLOCKS).default(144),
  }).default({ minThresholdSat: 10_000, minIntervalBlocks: 6, maxKeepSat: MAX_MONEY_SAT, minCloseIdleBlocks: 144 }),
})

export type SettlementConfig = z.infer<typeof settlementConfigSchema>
export { MAX_POLICY_BLOCKS }
