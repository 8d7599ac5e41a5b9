// Bench setup: btcd, the hub process, client processes, and confirmed channels between them.
import type { Btcd } from '../lib/btcd.ts'
import { hubFundingAddress, type HubProcess } from '../lib/hub.ts'
import { waitFor } from '../lib/wait.ts'
import type { WorkerProcess } from './ipc.ts'

/** Waits until every txid is known to btcd (mempool or chain), then mines `blocks`. */
export async function mineTxs (btc: Btcd, txids: string[], blocks = 1): Promise<void> {
  for (const txid of new Set(txids)) {
    await waitFor(
      async () => { const r = await btc.chain.getRawTransaction(txid); return r.ok && r.value !== null }, `tx ${txid} in btcd`, 120_000,
    )
  }
  await btc.mine(blocks)
}

/** Pays the hub's wallet `coins` separate coins of `sat` each and confirms them, so it can fund that
 *  many channels at once without waiting for change to confirm. */
export async function fundHubCoins (btc: Btcd, hub: HubProcess, coins: number, sat: number): Promise<void> {
  const address = hubFundingAddress(hub)
  for (let i = 0; i < coins; i++) {
    await btc.faucet(address, sat)
    // The faucet chains unconfirmed change; confirm every few payments to keep chains short.
    if (i % 20 === 19) await btc.mine(1)
  }
  await btc.mine(1)
}

/** Platforms fund their own channels: faucet to each client's wallet, open, confirm. */
export async function openPlatformChannels (btc: Btcd, w: WorkerProcess, capacitySat: number): Promise<string[]> {
  const addresses = await w.call<string[]>('addresses')
  for (const a of addresses) await btc.faucet(a, capacitySat + 100_000)
  await btc.mine(1)
  await w.call('awaitCoins')
  const txids = await w.call<string[]>('open', { capacitySat })
  await mineTxs(btc, txids)
  return await w.call<string[]>('awaitReady')
}

/** Payees ask the hub for channels; the hub funds them; confirm. */
export async function openCreatorChannels (
  btc: Btcd, w: WorkerProcess, args: { capacitySat?: number; batch?: number } = {},
): Promise<string[]> {
  const txids = await w.call<string[]>('request', args)
  await mineTxs(btc, txids)
  return await w.call<string[]>('awaitReady')
}
