// The settlement scheduler's decisions, driven by blocks (docs/DESIGN.md "Batched settlement"): no
// clock, only heights. At the end of each batching window it takes the accounts whose payout is due
// and the channels idle long enough to close; for a batch in flight it says whether it is done (at
// the finality depth; a batch reorged out is not), and when and at which feerate it is replaced.
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

/** The feerate of a replacement of an unconfirmed batch broadcast at `broadcastHeight`, once it waited
 *  `rbfAfterBlocks`: BOLT #2 (tx_init_rbf) "the `feerate` ... MUST be at least 25/24 of the previous",
 *  rounded up; undefined while it has not waited long enough, or if that is above the operator's cap
 *  (the batch then waits as it is). */
export function replacementFeerate (
  feeratePerKw: number, broadcastHeight: number, height: number, rbfAfterBlocks: number, maxFeeratePerKw: number,
): number | undefined {
  if (height - broadcastHeight < rbfAfterBlocks) return undefined
  const next = Math.ceil((feeratePerKw * 25) / 24)
  return next > maxFeeratePerKw ? undefined : next
}
