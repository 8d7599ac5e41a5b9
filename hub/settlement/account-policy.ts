// An account's payout policy set through the SDK (message payout_policy, docs/DESIGN.md "Batched
// settlement", policies): checked against the operator's `settlement.policy` bounds, stored durably,
// and only then answered (payout_policy_set); a refused one names the field. Only an account, a node
// with a ready channel here, can store one: a stranger's key costs nothing to make, and each stored
// policy is a durable record the hub keeps.
import type { NodeId } from '../../protocol/types.ts'
import type { PayoutPolicyMessage, PeerMessage } from '../../protocol/wire/index.ts'
import { MAX_FAIL_DETAIL_CHARS } from '../../protocol/limits.ts'
import type { ChannelListener } from '../channels/manager.ts'
import type { SettlementConfig } from './config.ts'
import { parsePayoutPolicy, type PolicyStore } from './policy.ts'

export interface AccountPolicyOptions {
  policies: Pick<PolicyStore, 'set'>
  bounds: SettlementConfig['policy']
  height: () => number
  /** Whether `peer` has a ready channel with the hub (hub/channels/partners.ts). */
  isAccount: (peer: NodeId) => boolean
  send: (peer: NodeId, msg: PeerMessage) => void
  log: (event: Record<string, unknown>) => void
  /** A write failed: the store refuses writes from now on, the hub must stop. */
  fatal: (error: unknown) => void
}

export class AccountPolicies implements Pick<ChannelListener, 'payoutPolicy'> {
  constructor (private readonly opts: AccountPolicyOptions) {}

  event (): void {}

  payoutPolicy (peer: NodeId, msg: PayoutPolicyMessage): void {
    if (!this.opts.isAccount(peer)) {
      this.opts.log({ event: 'payout_policy_refused', peer, error: 'no ready channel' })
      this.opts.send(peer, { type: 'payout_policy_set', refused: true, detail: 'policy: no ready channel with the hub yet' })
      return
    }
    const { type: _, ...wire } = msg
    const parsed = parsePayoutPolicy(wire, this.opts.bounds)
    if (!parsed.ok) {
      this.opts.log({ event: 'payout_policy_refused', peer, error: parsed.error })
      this.opts.send(peer, { type: 'payout_policy_set', refused: true, detail: parsed.error.slice(0, MAX_FAIL_DETAIL_CHARS) })
      return
    }
    this.opts.policies.set(peer, parsed.policy, 'account', this.opts.height()).then(() => {
      this.opts.log({ event: 'payout_policy_set', peer, threshold_sat: parsed.policy.thresholdSat, keep_sat: parsed.policy.keepSat })
      this.opts.send(peer, { type: 'payout_policy_set', refused: false })
    }, e => { this.opts.fatal(e) })
  }
}
