// The hub's first coins on a fresh managed regtest chain: a hub that starts its own btcd has no coins
// to fund channels with, so it mines them to its own wallet before it serves.
import type { BtcdChainBackend } from '../../host/chain/btcd/backend.ts'
import { COINBASE_MATURITY, type Wallet } from '../../host/wallet/wallet.ts'

/** Coinbases paid to the hub's wallet: hub-funded channels per block (one coinbase funds one channel
 *  until its change confirms). */
const MANAGED_COINBASES = 20

/** Mines MANAGED_COINBASES blocks paying the wallet, then enough to make them spendable; the wallet
 *  has followed every block when it resolves. Returns the new tip height (undefined if the node did
 *  not say). */
export async function mineFirstCoins (
  chain: Pick<BtcdChainBackend, 'submitBlock' | 'generate' | 'syncFollowers' | 'tip'>,
  wallet: Wallet,
  log: (event: Record<string, unknown>) => void,
): Promise<number | undefined> {
  const script = wallet.newAddress().script
  for (let i = 0; i < MANAGED_COINBASES; i++) {
    const r = await chain.submitBlock([], { coinbaseScript: script })
    if (!r.ok) throw new Error(`mining the hub's first coins: ${JSON.stringify(r.error)}`)
  }
  const g = await chain.generate(COINBASE_MATURITY)
  if (!g.ok) throw new Error(`mining: ${g.error.detail}`)
  const synced = await chain.syncFollowers()
  if (!synced.ok) throw new Error(`chain sync: ${synced.error.detail}`)
  log({ event: 'wallet_funded', balance: wallet.balance() })
  const t = await chain.tip()
  return t.ok ? t.value.height : undefined
}
