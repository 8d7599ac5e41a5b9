// Fee policy for claim transactions: the configured fee rate (btcd has no estimatesmartfee), raised
// while a claim stays unconfirmed, by replacement (BIP125: every claim input signals RBF). We never
// rely on CPFP of a low-fee parent: btcd has no package relay.
import type { MonitorState } from './state.ts'

/** BIP125 rule 4: a replacement pays for its own size at the incremental relay fee (1 sat/vB =
 *  250 sat/kw) on top of what it replaces. Weights are estimated with maximal signatures and fees
 *  rounded down, so a step of 300 sat/kw clears it with margin; a quarter of the base rate when
 *  that is more, so bumps keep pace with a high configured rate. */
export const MIN_BUMP_PER_KW = 300

/** The fee rate of the claim `key` now: base, plus one step per `bumpEveryBlocks` it has waited. */
export function claimFeerate (s: MonitorState, key: string): number {
  const c = s.config
  const since = s.firstWanted[key] ?? s.height
  const bumps = Math.max(0, Math.floor((s.height - since) / Math.max(1, c.bumpEveryBlocks)))
  const step = Math.max(MIN_BUMP_PER_KW, Math.ceil(c.feeratePerKw / 4))
  return Math.min(c.maxFeeratePerKw, c.feeratePerKw + bumps * step)
}
