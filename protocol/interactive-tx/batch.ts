// The non-initiator's rules on a complete batched-settlement transaction (docs/DESIGN.md "Batched
// settlement"). The initiator (the hub) added, besides the shared input and output, every other
// channel's funding input, new funding output and payout, and this peer's payout: none of those can
// take from this channel, whose balances move only by the contributions of splice_init/splice_ack
// (the shared input and output rules of complete.ts). What is left to check is that the payout the
// peer paid for is there, to its script, of its amount, and that the transaction pays the feerate.
import { channelError, type ChannelError } from '../errors.ts'
import { feeForWeight } from '../tx/fees.ts'
import type { Negotiation } from './types.ts'
import { batchPaidFeeSat, totalWeight } from './weight.ts'

export function checkBatchComplete (n: Negotiation): ChannelError | undefined {
  const p = n.params
  const terms = p.batch
  if (terms === undefined) return undefined
  const bad = (detail: string): ChannelError => channelError('batch_terms_violated', detail)
  // The initiator planned every input and output: a peer that adds any changes the transaction every
  // other session builds (and could take what the fee estimate leaves over).
  if (p.role === 'initiator' && (n.inputs.some(i => i.by === 'remote') || n.outputs.some(o => o.by === 'remote'))) {
    return bad('the peer added inputs or outputs to a batched settlement')
  }
  if (p.role === 'non_initiator') {
    // Our balance moves by exactly our contribution, which pays the payout and our fee share; the
    // initiator takes nothing from its own balance in our channel to pay other channels.
    if (p.contributionSat.remote !== 0) return bad(`the hub's contribution to our channel is ${p.contributionSat.remote}, not 0`)
    if (-p.contributionSat.local < terms.payoutSat) {
      return bad(`our contribution ${p.contributionSat.local} does not cover the payout of ${terms.payoutSat} sat`)
    }
    const payout = n.outputs.find(o => o.serialId === terms.payoutSerialId)
    if (payout === undefined || payout.by !== 'remote') return bad(`no output with serial id ${terms.payoutSerialId} from the hub`)
    if (payout.script !== terms.payoutScript) return bad(`output ${terms.payoutSerialId} pays ${payout.script}, not our payout script`)
    if (payout.sats !== terms.payoutSat) return bad(`output ${terms.payoutSerialId} pays ${payout.sats} sat, not ${terms.payoutSat}`)
  }
  // The whole transaction pays the agreed feerate (on the least weight its inputs can have).
  const paid = batchPaidFeeSat(n)
  const required = feeForWeight(p.feeratePerKw, totalWeight(n))
  if (paid < required) {
    return channelError('tx_peer_underpays', `the batch pays ${paid} sat of fee, ${required} sat due at ${p.feeratePerKw} sat/kw`)
  }
  return undefined
}
