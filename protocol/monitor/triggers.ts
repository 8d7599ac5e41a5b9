// Going on-chain in time (BOLT #2 "Risks With HTLC Timeouts"): while the channel is open, an HTLC
// that the peer does not settle off-chain must be resolved on-chain before the other side can take it.
import type { MonitorState } from './state.ts'

/**
 * Why we must close now with our commitment, or undefined.
 *
 * BOLT #2: "if an HTLC which it offered is in either node's current commitment transaction, AND is
 * past this timeout deadline: MUST fail the channel." (deadline: cltv_expiry + grace)
 * BOLT #2: "if an HTLC it has fulfilled is in either node's current commitment transaction, AND is
 * past this fulfillment deadline: MUST fail the channel." (deadline: cltv_expiry − safety; we hold
 * the preimage, so it is ours to fulfil)
 */
export function deadlineReason (s: MonitorState): string | undefined {
  const current = [s.local?.spec.htlcs ?? [], ...s.remotes.filter(r => r.number > s.revokedUpTo).map(r => r.htlcs)]
  for (const htlcs of current) {
    for (const h of htlcs) {
      if (h.offerer === 'local' && s.height >= h.cltvExpiry + s.config.offeredGraceBlocks) {
        return `offered HTLC ${h.id} expired at ${h.cltvExpiry} (height ${s.height})`
      }
      if (h.offerer === 'remote' && s.preimages[h.paymentHash] !== undefined && s.height >= h.cltvExpiry - s.config.fulfillSafetyBlocks) {
        return `fulfilled HTLC ${h.id} expires at ${h.cltvExpiry} (height ${s.height})`
      }
    }
  }
  return undefined
}
