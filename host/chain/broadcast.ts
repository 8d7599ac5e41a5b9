// Broadcasting a transaction we want on-chain, for every caller alike (the wallet, the chain monitor,
// a cooperative close): the node already having that very transaction, in its mempool or in the chain,
// means it is out, so it counts as success. The peer, or our own earlier attempt before a restart, got
// it there first. Every other refusal is the caller's to decide.
import { err, ok, type Result } from '../../protocol/result.ts'
import type { Txid } from '../../protocol/types.ts'
import type { BroadcastFailure, ChainBackend } from './backend.ts'

/** `sent`: the node accepted it now; `already_out`: the node had it already (mempool or chain). */
export type Broadcast =
  | { kind: 'sent'; txid: Txid }
  | { kind: 'already_out'; reason: 'already_in_mempool' | 'already_in_chain' }

/** Whether a refusal only says the transaction is out already. */
export function isAlreadyOut (
  f: BroadcastFailure,
): f is { kind: 'rejected'; reason: 'already_in_mempool' | 'already_in_chain'; detail: string } {
  return f.kind === 'rejected' && (f.reason === 'already_in_mempool' || f.reason === 'already_in_chain')
}

export async function broadcastTx (chain: Pick<ChainBackend, 'broadcast'>, hex: string): Promise<Result<Broadcast, BroadcastFailure>> {
  const r = await chain.broadcast(hex)
  if (r.ok) return ok({ kind: 'sent', txid: r.value })
  if (isAlreadyOut(r.error)) return ok({ kind: 'already_out', reason: r.error.reason })
  return err(r.error)
}
