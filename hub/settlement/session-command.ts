// The hub's splice command for one channel of a payout batch (docs/DESIGN.md "Batched settlement",
// message flow): the hub is the initiator with contribution 0; besides the channel's own funding input
// and new funding output it adds, as its own, every other channel's funding input (with its funding
// transaction as `prevtx`) and every other output, all with the serial ids of the planned order, so
// every session builds the one transaction; `batch` names the payout it adds on the peer's behalf and
// the contribution the peer's splice_ack must state.
import type { SpliceCommand } from '../../protocol/channel/splice/route.ts'
import { MAX_INTERACTIVE_INPUT_SEQUENCE } from '../../protocol/limits.ts'
import type { BatchTx, FundedPayout } from '../../protocol/settlement/build.ts'
import type { PayoutTerms } from '../../protocol/settlement/peer-check.ts'
import type { NodeId, Sat } from '../../protocol/types.ts'
import type { ManagedChannel } from '../channels/channel.ts'

export type BatchSpliceCommand = Extract<SpliceCommand, { type: 'splice' }>

/** The payout terms the peer of `p`'s channel is told (payout_proposal) before the session starts. */
export function payoutTerms (batch: BatchTx, p: FundedPayout, feeratePerKw: number): PayoutTerms {
  const payout = batch.outputs.find(o => o.role.kind === 'payout' && o.role.channelId === p.channelId)
  if (payout === undefined) throw new Error(`payoutTerms: no payout output for ${p.channelId} in the batch`)
  return { payoutScript: p.payoutScript, payoutSat: p.payoutSat, feeSat: p.feeSat, feeratePerKw, payoutSerialId: payout.serialId }
}

export function batchSpliceCommand (
  batch: BatchTx, p: FundedPayout, prevtx: ReadonlyMap<string, string>,
  o: { feeratePerKw: number; locktime: number; nodeIds: { local: NodeId; remote: NodeId } },
): BatchSpliceCommand {
  const id = p.channelId
  const shared = batch.inputs.find(i => i.channelId === id)
  const funding = batch.outputs.find(x => x.role.kind === 'funding' && x.role.channelId === id)
  const payout = batch.outputs.find(x => x.role.kind === 'payout' && x.role.channelId === id)
  if (shared === undefined || funding === undefined || payout === undefined) throw new Error(
    `batchSpliceCommand: ${id} is not in the batch`
  )
  const others = batch.inputs.filter(i => i.channelId !== id)
  const otherOutputs = batch.outputs.filter(x => x !== funding)
  return {
    type: 'splice', feeratePerKw: o.feeratePerKw, locktime: o.locktime, nodeIds: o.nodeIds,
    contribution: {
      contributionSat: 0,
      inputs: others.map(i => {
        const tx = prevtx.get(i.txid)
        if (tx === undefined) throw new Error(`batchSpliceCommand: no funding transaction ${i.txid}`)
        return { prevtx: tx, prevtxVout: i.vout, sequence: MAX_INTERACTIVE_INPUT_SEQUENCE }
      }),
      outputs: otherOutputs.map(x => ({ script: x.script, sats: x.sats as Sat })),
      entropy: '00'.repeat(32),
      serialIds: {
        sharedInput: shared.serialId, sharedOutput: funding.serialId,
        inputs: others.map(i => i.serialId), outputs: otherOutputs.map(x => x.serialId),
      },
      batch: {
        payoutSerialId: payout.serialId, payoutScript: p.payoutScript, payoutSat: p.payoutSat,
        expect: { remoteContributionSat: -(p.payoutSat + p.feeSat), sharedOutputScript: p.newFundingScript },
      },
    },
  }
}

/** The hub's session on `ch` is a payout batch's (its contribution names batch terms): its own inputs
 *  are other channels' funding outputs, signed by the coordinator, not by the wallet. */
export const isBatchSession = (ch: ManagedChannel): boolean => ch.state.splice?.session?.own?.batch !== undefined
