// BOLT #2 `chain_hash`: which chain a channel lives on, from the node that serves it.
import { bytesToHex, hexToBytes } from '../../protocol/types.ts'
import type { ChainBackend, ChainFailure } from './backend.ts'
import { err, ok, type Result } from '../../protocol/result.ts'

/** The genesis block's hash in internal byte order (the reverse of how the node prints it). */
export async function chainHashOf (chain: Pick<ChainBackend, 'getBlockHash'>): Promise<Result<string, ChainFailure>> {
  const genesis = await chain.getBlockHash(0)
  if (!genesis.ok) return genesis
  if (genesis.value === null) return err({ kind: 'bad_reply', detail: 'the node has no block at height 0' })
  return ok(bytesToHex(hexToBytes(genesis.value).reverse()))
}
