// The settlement scheduler's decisions, driven by blocks (docs/DESIGN.md "Batched settlement"): no
// clock, only heights. At the end of each batching window it takes the accounts whose payout is due
// and the channels idle long enough to close; for a batch in flight it says whether it is done (at
// the finality depth; a batch reorged out is not), and when and at which feerate it is replaced.
import { RBF_FEERATE_DENOMINATOR, RBF_FEERATE_NUMERATOR, RBF_MIN_FEERATE_INCREMENT_PER_KW } from '../limits.ts'
import type { DueCandidate } from './plan.ts'
import type { PayoutPolicy } from './types.ts'

/** One account's channel as the hub sees it at a block. */
export interface AccountChannel {
  nodeId: string
  channelId: string
  policy: PayoutPolicy
  funding: DueCandidate['funding']
  capacitySat: DueCandidate['capacitySat']
  /** The account's balance, whole satoshis. */
  balanceSat: number
  /** The channel reserve the account must keep. */
  reserveSat: number
  /** The height of the account's last payout (absent: none yet). */
  lastPayoutHeight?: number
  /** The height of the channel's last payment. */
  lastActivityHeight: number
  /** A splice of this channel is negotiated or not locked yet: it waits. */
  splicePending: boolean
}

export type WaitReason = 'splice_pending' | 'interval' | 'below_threshold'

export interface WindowDecision {
  due: DueCandidate[]
  /** Channels idle for their policy's close_idle_blocks: closed, their balance paid by the close. */
  closes: Array<{ channelId: string; idleBlocks: number }>
  waiting: Array<{ channelId: string; reason: WaitReason }>
}

/** A batching window ends at every multiple of `windowBlocks`. */
export const isWindowEnd = (height: number, windowBlocks: number): boolean => height % windowBlocks === 0

export function windowDecision (accounts: readonly AccountChannel[], height: number): WindowDecision {
  const out: WindowDecision = { due: [], closes: [], waiting: [] }
  for (const a of accounts) {
    if (a.splicePending) { out.waiting.push({ channelId: a.channelId, reason: 'splice_pending' }); continue }
    const idle = height - a.lastActivityHeight
    if (a.policy.closeIdleBlocks !== undefined && idle >= a.policy.closeIdleBlocks) {
      out.closes.push({ channelId: a.channelId, idleBlocks: idle })
      continue
    }
    if (a.lastPayoutHeight !== undefined && height - a.lastPayoutHeight < a.policy.intervalBlocks) {
      out.waiting.push({ channelId: a.channelId, reason: 'interval' })
      continue
    }
    const keepSat = Math.max(a.policy.keepSat, a.reserveSat)
    if (a.balanceSat - keepSat < a.policy.thresholdSat) {
      out.waiting.push({ channelId: a.channelId, reason: 'below_threshold' })
      continue
    }
    out.due.push({
      channelId: a.channelId, funding: a.funding, capacitySat: a.capacitySat, balanceSat: a.balanceSat, keepSat,
      payoutScript: a.policy.payoutScript, thresholdSat: a.policy.thresholdSat,
    })
  }
  return out
}

/** Where a broadcast batch stands. Its payouts count as done only at `finalityDepth`; a batch that
 *  was confirmed and is no longer (a reorg) is `reorged`: not done, broadcast again from its stored
 *  transaction (its inputs are unspent again). */
export type BatchChainState = 'unconfirmed' | 'confirming' | 'done' | 'reorged'

export function batchChainState (depth: number, previousDepth: number, finalityDepth: number): BatchChainState {
  if (depth >= finalityDepth) return 'done'
  if (depth > 0) return 'confirming'
  return previousDepth > 0 ? 'reorged' : 'unconfirmed'
}

/** Whether an unconfirmed batch is replaced now: it waited `rbfAfterBlocks` since `sinceHeight` (its
 *  broadcast, or the last replacement that failed), and the next feerate is within the operator's cap.
 *  BOLT #2 (tx_init_rbf sender): "MUST set `feerate` greater than or equal to 25/24 times the `feerate`
 *  of the previously constructed transaction, rounded down" (rounded up here), and at least
 *  RBF_MIN_FEERATE_INCREMENT_PER_KW more (BIP 125 rule 4: our node relays it). At the cap it is
 *  `at_cap`: the batch waits as it is, no further replacement. */
export type ReplacementDecision =
  | { kind: 'wait'; atHeight: number; feeratePerKw: number }
  | { kind: 'replace'; feeratePerKw: number }
  | { kind: 'at_cap'; nextFeeratePerKw: number; maxFeeratePerKw: number }

export const nextReplacementFeerate = (feeratePerKw: number): number => Math.max(
  Math.ceil((feeratePerKw * RBF_FEERATE_NUMERATOR) / RBF_FEERATE_DENOMINATOR), feeratePerKw + RBF_MIN_FEERATE_INCREMENT_PER_KW,
)

export function replacementDecision (
  feeratePerKw: number, sinceHeight: number, height: number, rbfAfterBlocks: number, maxFeeratePerKw: number,
): ReplacementDecision {
  const next = nextReplacementFeerate(feeratePerKw)
  if (next > maxFeeratePerKw) return { kind: 'at_cap', nextFeeratePerKw: next, maxFeeratePerKw }
  if (height - sinceHeight < rbfAfterBlocks) return { kind: 'wait', atHeight: sinceHeight + rbfAfterBlocks, feeratePerKw: next }
  return { kind: 'replace', feeratePerKw: next }
}
