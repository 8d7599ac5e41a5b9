// Cooperative close, on-chain, for the hub and the SDK alike. Once both sides signed the same
// closing_signed fee, the channel machine holds the closing transaction with both signatures
// (protocol/channel/closing-tx.ts): in its `closing_agreed` event, and stored in the state
// (`closing.signedTx`) with the agreement. The host broadcasts it. Either side may; whoever is second
// is told it is in the mempool or the chain already, which is success (host/chain/broadcast.ts).
// A host that restarts before its broadcast went out finds the transaction in the stored state and
// broadcasts it then (pendingClose), as long as the funding output is still unspent.
import type { ChannelState, SignedClosing } from '../../protocol/channel/index.ts'
import { ok, type Result } from '../../protocol/result.ts'
import type { BroadcastFailure, ChainBackend, ChainFailure } from '../chain/backend.ts'
import { broadcastTx, type Broadcast } from '../chain/broadcast.ts'

/** Broadcasts an agreed closing transaction. */
export async function broadcastClose (
  chain: Pick<ChainBackend, 'broadcast'>, tx: SignedClosing,
): Promise<Result<Broadcast, BroadcastFailure>> {
  return await broadcastTx(chain, tx.hex)
}

/**
 * The agreed closing transaction of a stored channel, if it may not be out yet: the channel is in
 * `closing` with a signed closing transaction and our node shows its funding output unspent (one
 * lookup). undefined for every other channel (nothing agreed, or the funding output is spent: the
 * close, or whatever else spent it, is the chain monitor's).
 */
export async function pendingClose (
  chain: Pick<ChainBackend, 'getTxOut'>, s: ChannelState,
): Promise<Result<SignedClosing | undefined, ChainFailure>> {
  const tx = s.closing.signedTx
  if (s.phase !== 'closing' || tx === undefined || s.setup.funding === undefined) return ok(undefined)
  const out = await chain.getTxOut(s.setup.funding.txid, s.setup.funding.outputIndex, true)
  if (!out.ok) return out
  return ok(out.value === null ? undefined : tx)
}
