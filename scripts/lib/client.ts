// SDK clients of a hub process (HubClient over a data directory, sharing the caller's ChainBackend), and
// the two ways a client gets a ready channel: a platform funds its own, a payee asks the hub for one.
//
//   const c = await startClient({ hub, btc, dataDir, role }, t)     // a HubClient, connected
//   await openFundedChannel(btc, c, capacitySat)  /  await requestHubChannel(btc, c)
import type { HubClient } from '../../client-sdk/index.ts'
import { createNodeClient } from '../../client-sdk/node.ts'
import type { Role } from '../../client-sdk/options.ts'
import type { SocketFactory } from '../../client-sdk/transport/socket.ts'
import { random32 } from '../../host/random.ts'
import { mineTx, type Btcd } from './btcd.ts'
import type { Teardown } from './cleanups.ts'
import type { HubProcess } from './hub.ts'
import { waitFor } from './wait.ts'

export interface StartClientOptions {
  hub: HubProcess
  btc: Btcd
  dataDir: string
  role: Role
  /** Reuse a node key (a restarted client); default: a new random one. */
  nodeKey?: Uint8Array
  payTimeoutMs?: number
  socketFactory?: SocketFactory
  /** Legs of split payments to this client: taken part in (default) or refused. */
  acceptSplits?: boolean
}

/** A new random node key. */
export const randomKey = random32

/** A connected HubClient whose data lives in `dataDir`. It shares the caller's ChainBackend, so
 *  `btc.mine(n)` returns only after the client has seen the blocks too. */
export async function startClient (o: StartClientOptions, t?: Teardown): Promise<HubClient> {
  const client = await createNodeClient({
    nodeKey: o.nodeKey ?? randomKey(), hubUrl: o.hub.url, hubId: o.hub.hubId, dataDir: o.dataDir, role: o.role,
    chain: o.btc.chain, reconnectInitialMs: 50, reconnectMaxMs: 500,
    ...(o.payTimeoutMs !== undefined ? { payTimeoutMs: o.payTimeoutMs } : {}),
    ...(o.socketFactory !== undefined ? { socketFactory: o.socketFactory } : {}),
    ...(o.acceptSplits !== undefined ? { acceptSplits: o.acceptSplits } : {}),
  })
  t?.teardown(() => client.stop())
  await client.connect()
  return client
}

/** A platform's channel: funds the client's wallet, opens, mines the funding; resolves when ready. */
export async function openFundedChannel (btc: Btcd, client: HubClient, capacitySat: number): Promise<void> {
  const f = await btc.faucet(client.newAddress(), capacitySat + 100_000)
  await btc.mine(1)
  await waitFor(() => client.wallet.utxos().some(u => u.txid === f.txid), 'the faucet coin in the client wallet')
  const opening = client.openChannel({ capacitySat })
  await waitFor(() => client.channels().some(c => c.phase === 'awaiting_funding_depth' && c.fundingTxid !== null), 'the platform funding')
  const ch = client.channels().find(c => c.phase === 'awaiting_funding_depth')!
  await mineTx(btc, ch.fundingTxid!)
  await opening
}

/** A payee's channel: asks the hub, mines the hub's funding; resolves when ready. */
export async function requestHubChannel (btc: Btcd, client: HubClient): Promise<void> {
  const requesting = client.requestChannel()
  await waitFor(() => client.channels().some(c => c.phase === 'awaiting_funding_depth' && c.fundingTxid !== null), 'the hub funding')
  const ch = client.channels().find(c => c.phase === 'awaiting_funding_depth')!
  await mineTx(btc, ch.fundingTxid!)
  await requesting
}
