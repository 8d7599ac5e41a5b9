// What our node shows at a channel's funding outpoint, as the channel machine's `funding_depth` input:
// the transaction's depth and the output at the funding index, with whether it is already spent. The
// channel machine compares it with what was agreed (protocol/channel/funding-check.ts). The hub and
// the SDK both use this, each on its own node.
//
// The output's script and value come from the transaction's own bytes (getRawTransaction parses the hex
// and checks that it hashes to the txid), so a node's decoded JSON is never trusted for them.
import type { ChainEvent, FundingOutputSeen } from '../../protocol/channel/index.ts'
import { err, ok, type Result } from '../../protocol/result.ts'
import type { ChainBackend, ChainFailure, TxLookup } from './backend.ts'

export type FundingDepthEvent = Extract<ChainEvent, { type: 'funding_depth' }>

/** The event for output `outputIndex` of `found` (null: the transaction has no such output). One
 *  gettxout tells whether the output is spent in the chain (btcd's gettxout does not see a spend that
 *  is only in its mempool; the chain monitor reacts to that one once it confirms). */
export async function fundingEvent (
  chain: Pick<ChainBackend, 'getTxOut'>, found: TxLookup, outputIndex: number,
): Promise<Result<FundingDepthEvent, ChainFailure>> {
  const out = found.tx.outputs[outputIndex]
  if (out === undefined) return ok({ type: 'funding_depth', depth: found.confirmations, output: null })
  const unspent = await chain.getTxOut(found.tx.txid, outputIndex, true)
  if (!unspent.ok) return err(unspent.error)
  const output: FundingOutputSeen = { scriptPubkey: out.scriptPubKey, valueSat: out.value, spent: unspent.value === null }
  return ok({ type: 'funding_depth', depth: found.confirmations, output })
}

/** The event for the funding outpoint `txid:outputIndex`; null while the node knows no such transaction. */
export async function lookupFunding (
  chain: Pick<ChainBackend, 'getRawTransaction' | 'getTxOut'>, txid: string, outputIndex: number,
): Promise<Result<FundingDepthEvent | null, ChainFailure>> {
  const found = await chain.getRawTransaction(txid)
  if (!found.ok) return found
  if (found.value === null) return ok(null)
  return await fundingEvent(chain, found.value, outputIndex)
}
