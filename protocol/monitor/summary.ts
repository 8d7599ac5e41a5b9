// What a monitor has seen of its channel on-chain, for the owner to show (the hub's admin API, an
// application): whether it decided to close with our commitment and why, which transaction spent the
// funding output and how the channel ended with it, what the monitor swept to the owner's wallet, and
// whether everything is resolved. Derived from the monitor's state alone (its confirmed transactions),
// so it is the same after a restart.
import { identifyFundingSpend, type FundingSpend } from './commitments.ts'
import type { MonitorKeys } from './keys.ts'
import type { MonitorState } from './state.ts'

/** One confirmed transaction of ours that pays the owner's wallet (`config.sweepScript`). */
export interface Sweep {
  txid: string
  height: number
  /** What it pays the owner's wallet (the sum of its outputs to the sweep script). */
  amountSat: number
}

export interface OnChainSummary {
  /** We decided to close with our commitment (the owner, an HTLC deadline, a failed channel) while
   *  the funding output was unspent. A decision taken once the monitor had seen the funding output
   *  spent (the channel failing because of that spend) put nothing of ours on-chain: not reported. */
  forceClose?: { reason: string; height: number }
  /** The confirmed transaction that spent the funding output, which way the channel ended, and what
   *  the transaction pays (hex output scripts). */
  spend?: { txid: string; height: number; how: FundingSpend['kind']; outputs: Array<{ valueSat: number; script: string }> }
  /** Our claims that confirmed (to_local after its delay, to_remote, HTLC outputs, penalties), oldest first. */
  sweeps: Sweep[]
  /** Every output is resolved at the monitor's depth (BOLT #5 "irrevocably resolved"). */
  closed: boolean
  /** We lost state: our commitment is never broadcast (we wait for the peer's). */
  doNotBroadcast: boolean
}

export function onChainSummary (s: MonitorState, keys: MonitorKeys): OnChainSummary {
  const spender = s.setup === undefined ? undefined : s.seen.find(t => t.stage === 0)
  const sweeps: Sweep[] = []
  for (const t of s.seen) {
    if (t.stage === 0) continue
    const paid = t.outputs.filter(o => o.script === s.config.sweepScript).reduce((n, o) => n + o.valueSat, 0)
    if (paid > 0) sweeps.push({ txid: t.txid, height: t.height, amountSat: paid })
  }
  sweeps.sort((a, b) => a.height - b.height)
  // The monitor's height is the block it connected last, and it sees a spend when it connects its
  // block: a decision at the spend's height or later came after the spend.
  const forceClose = s.forceClose !== undefined && (spender === undefined || s.forceClose.height < spender.height)
    ? s.forceClose
    : undefined
  return {
    ...(forceClose !== undefined ? { forceClose: { reason: forceClose.reason, height: forceClose.height } } : {}),
    ...(spender !== undefined ? { spend: {
      txid: spender.txid, height: spender.height, how: identifyFundingSpend(s, keys, spender).kind,
      outputs: spender.outputs.map(o => ({ ...o })),
    } } : {}),
    sweeps,
    closed: s.closed,
    doNotBroadcast: s.doNotBroadcast,
  }
}
