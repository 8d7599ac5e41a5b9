// Our payout policy and the hub's payout batches, on the client side (docs/DESIGN.md "Batched
// settlement"). setPolicy() sends the policy (payout_policy) and keeps it, once the hub stored it, as
// the one every proposal is checked against. Before the hub's splice_init of a payout batch comes its
// payout_proposal for the channel; when the splice is requested we answer with the proposal's terms only
// if they hold against our own policy and our balance as our channel state says
// (protocol/settlement/peer-check.ts), and the channel machine checks the complete transaction at
// tx_complete (protocol/interactive-tx/batch.ts). A splice of the hub without a proposal is answered
// as any other (the client's acceptHubSplices). A replacement of the batch at a higher feerate (BOLT #2
// tx_init_rbf) comes with its own payout_proposal and is checked the same way before we sign it.
import { DEFAULT_MAX_FEERATE_PER_KW } from '../protocol/limits.ts'
import { checkPayoutTerms } from '../protocol/settlement/peer-check.ts'
import type { PayoutPolicy } from '../protocol/settlement/types.ts'
import type { Sat } from '../protocol/types.ts'
import type { PayoutPolicyMessage, PayoutPolicySet, PayoutProposal, PeerMessage } from '../protocol/wire/index.ts'
import type { SpliceAnswer, SpliceRequest } from '../host/channel/splicing.ts'
import { keys } from '../host/store/keys.ts'
import { parseJsonValue, put, type Store } from '../host/store/store.ts'
import type { ClientChannel } from './channels.ts'

export interface PayoutsHost {
  store: Store
  nodeId: string
  send: (msg: PeerMessage) => boolean
  warn: (w: string) => void
}

/** Proposals kept per channel: one batch session at a time per channel. */
export class Payouts {
  private policy: PayoutPolicy | undefined
  private readonly proposals = new Map<string, PayoutProposal>()
  private waiting: ((m: PayoutPolicySet) => void) | undefined

  constructor (private readonly host: PayoutsHost) {}

  async load (): Promise<void> {
    const v = await this.host.store.get(keys.payoutPolicy(this.host.nodeId))
    if (v !== undefined) this.policy = parseJsonValue(v) as PayoutPolicy
  }

  current (): PayoutPolicy | undefined { return this.policy }

  /** Where a cooperative close the hub starts pays our balance: our policy's payout script when the
   *  policy asks for idle closes (the hub closes the channel by its close_idle_blocks), else undefined
   *  (the channel's own shutdown script, our wallet's). Our own stored policy, never the hub's view of it. */
  closeScript (): string | undefined {
    return this.policy?.closeIdleBlocks !== undefined ? this.policy.payoutScript : undefined
  }

  /** Sends `policy`; resolves with the hub's answer (`send` false: not connected). Stored here once the
   *  hub stored it. `answer` ends the wait (a timeout of the caller). */
  async set (policy: PayoutPolicy, answer: Promise<never>): Promise<PayoutPolicySet> {
    const msg: PayoutPolicyMessage = {
      type: 'payout_policy', payout_script: policy.payoutScript, threshold_sat: policy.thresholdSat as Sat,
      interval_blocks: policy.intervalBlocks, keep_sat: policy.keepSat as Sat,
      ...(policy.closeIdleBlocks !== undefined ? { close_idle_blocks: policy.closeIdleBlocks } : {}),
    }
    if (this.waiting !== undefined) throw new TypeError('setPayoutPolicy: another call is waiting for the hub\'s answer')
    const reply = new Promise<PayoutPolicySet>(resolve => { this.waiting = resolve })
    this.host.send(msg)
    let r: PayoutPolicySet
    try {
      r = await Promise.race([reply, answer])
    } finally {
      this.waiting = undefined
    }
    if (!r.refused) {
      await this.host.store.write([put(keys.payoutPolicy(this.host.nodeId), policy)])
      this.policy = policy
    }
    return r
  }

  onPolicySet (m: PayoutPolicySet): void {
    if (this.waiting === undefined) { this.host.warn(`payout_policy_set we did not ask for (refused: ${m.refused})`); return }
    this.waiting(m)
  }

  onProposal (m: PayoutProposal): void { this.proposals.set(m.channel_id, m) }

  /** The splice session on `channelId` ended: its proposal is of no later splice. */
  forget (channelId: string): void { this.proposals.delete(channelId) }

  /** Our answer to the hub's splice on `ch` when a proposal names it; undefined when none does. */
  respond (ch: ClientChannel, req: SpliceRequest): SpliceAnswer | undefined {
    const s = ch.driver.state
    const p = this.proposals.get(s.channelId)
    if (p === undefined) return undefined
    this.proposals.delete(s.channelId)
    const refuse = (detail: string): SpliceAnswer => ({ accept: false, reason: `batch_terms_violated: ${detail}` })
    if (this.policy === undefined) return refuse('we have no payout policy')
    // A replacement (tx_init_rbf) of a batch our channel signed: the same checks of its new terms; the
    // channel machine checks the feerate is 25/24 of the replaced one's and the complete transaction.
    if (req.rbf && (s.splice?.candidates.length ?? 0) === 0) return refuse('an RBF without a pending batch transaction')
    if (req.remoteContributionSat !== 0) return refuse(`the hub contributes ${req.remoteContributionSat} sat, not 0`)
    if (req.feeratePerKw !== p.feerate_per_kw) return refuse(`splice_init feerate ${req.feeratePerKw}, the proposal ${p.feerate_per_kw}`)
    const spec = s.localCommit?.spec
    const reserveSat = s.setup.remote?.channelReserveSat
    if (spec === undefined || reserveSat === undefined) return refuse('the channel is not open')
    const terms = {
      payoutScript: p.payout_script, payoutSat: p.payout_sat, feeSat: p.fee_sat, feeratePerKw: p.feerate_per_kw,
      payoutSerialId: p.payout_serial_id,
    }
    const bad = checkPayoutTerms(terms, this.policy, Math.floor(spec.toLocalMsat / 1000), reserveSat, DEFAULT_MAX_FEERATE_PER_KW)
    if (bad !== undefined) return { accept: false, reason: `${bad.reason}: ${bad.detail}` }
    return {
      accept: true,
      batch: {
        contributionSat: -(p.payout_sat + p.fee_sat),
        terms: { payoutSerialId: p.payout_serial_id, payoutScript: p.payout_script, payoutSat: p.payout_sat as Sat },
      },
    }
  }
}
