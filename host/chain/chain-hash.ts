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

/** regtest's chain_hash (its genesis block, chaincfg RegressionNetParams): the one chain where blocks
 *  cost nothing to mine, so the only one where the hub offers mining and a faucet. */
export const REGTEST_CHAIN_HASH = '06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f'
