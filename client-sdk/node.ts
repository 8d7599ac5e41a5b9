// The client SDK's Node entry: everything client-sdk/index.ts exports, plus a client built from a data
// directory — a LevelDB store (<dataDir>/store), a wallet whose seed and state are files
// (<dataDir>/wallet), a btcd chain backend (or a ChainBackend the caller owns) and `ws` for the socket —
// and the transport's connect() and HubLink with `ws` as their default socket.
//
//   const client = await createNodeClient({ nodeKey, hubUrl, hubId, dataDir, btcdRpc, role: 'creator' })
//
// client.stop() closes what createNodeClient opened (the store, the wallet, a btcd connection it made);
// so does a createNodeClient that fails halfway, before it rejects.
import { z } from 'zod'
import { setDefaultCurve } from '../protocol/crypto/index.ts'
import { tinyCurve } from '../protocol/crypto/tiny.ts'
import type { ChainBackend } from '../host/chain/backend.ts'
import { BtcdChainBackend } from '../host/chain/btcd/backend.ts'
import type { Store } from '../host/store/index.ts'
import { LevelStore } from '../host/store/node/level-store.ts'
import { Wallet } from '../host/wallet/wallet.ts'
import { fileWalletStorage } from '../host/wallet/node/file-storage.ts'
import { ClientError } from './errors.ts'
import { HubClient } from './hub-client.ts'
import { chainBackend, clientOptionsSchema, parseArgs, socketFactory, storeLike, type ClientOptions } from './options.ts'
import { connect as connectWith, HubLink as CoreHubLink, type HubConnection, type HubLinkOptions } from './transport/index.ts'
import type { ConnectOptionsInput } from './transport/options.ts'
import { clientDataDir } from './node/data-dir.ts'
import { socketTlsSchema, wsSocketFactory, wsSocketFactoryWith } from './node/socket.ts'

export * from './index.ts'
export { wsSocketFactory, wsSocketFactoryWith }
/** A ChainBackend over a btcd node's RPC (what `btcdRpc` makes): build one yourself to share it
 *  between clients in one process (pass it as `chain`; the client never closes a chain it was given). */
export { BtcdChainBackend, type BtcdBackendConfig } from '../host/chain/btcd/backend.ts'
export type {
  CloseInfo, ConnectFailure, ConnectionEvents, HubLinkEvents, HubLinkOptions, ConnectOptionsInput, BackoffOptionsInput,
} from './transport/index.ts'

const btcdRpc = z.strictObject({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65_535),
  user: z.string().max(256),
  pass: z.string().max(256),
})

export const nodeClientOptionsSchema = clientOptionsSchema.extend({
  /** LevelDB store and on-chain wallet live here; one client per directory. */
  dataDir: z.string().min(1).max(4_096),
  /** The chain: a ChainBackend the caller owns, or a btcd RPC endpoint the client connects to. */
  chain: chainBackend.optional(),
  btcdRpc: btcdRpc.optional(),
  /** On-chain fee rate of the wallet (funding transactions), sat/vB. btcd has no fee estimation. */
  feeRateSatPerVb: z.number().min(1).max(10_000).default(2),
  /** Opens the WebSocket (default: `ws`). Tests pass one that can cut the connection at a chosen message. */
  socketFactory: socketFactory.optional(),
  /** wss:// only: `ca`, the CA certificates (PEM) the hub's certificate must chain to, in place of
   *  the system's. The certificate is always verified (client-sdk/node/socket.ts). */
  tls: socketTlsSchema.optional(),
  /** The client's store, owned by the caller: default a LevelDB store in `dataDir`/store, which the
   *  client opens and closes itself. */
  store: storeLike.optional(),
}).refine(o => (o.chain === undefined) !== (o.btcdRpc === undefined), { error: 'give exactly one of chain, btcdRpc', path: ['chain'] })
  .refine(o => o.tls === undefined || o.socketFactory === undefined, {
    error: 'is for the default socket: a socketFactory of your own sets its own TLS options', path: ['tls'],
  })

export type NodeClientOptions = z.output<typeof nodeClientOptionsSchema>
export type NodeClientOptionsInput = z.input<typeof nodeClientOptionsSchema>

/** Polling period of a btcd chain backend the client makes. */
const BTCD_POLL_MS = 200

/**
 * A HubClient whose store, wallet and chain live in `dataDir` (or are given). Throws a TypeError
 * naming the field for a bad option, and a ClientError (chain_unavailable, wallet_unavailable,
 * monitor_unavailable) when it cannot start, after closing whatever it opened.
 */
export async function createNodeClient (input: NodeClientOptionsInput): Promise<HubClient> {
  const o = parseArgs(nodeClientOptionsSchema, input, 'options')
  // Node-side: the WASM curve, 2–3× faster than pure-JS noble for the signatures and point operations
  // of every commitment (protocol/crypto/curve.ts).
  setDefaultCurve(tinyCurve)
  // What this function opened, closed newest first when the client is done with it (or on failure).
  const opened: Array<() => void | Promise<void>> = []
  const release = async (): Promise<void> => { for (const close of opened.splice(0).reverse()) await close() }
  const { dataDir, chain: givenChain, btcdRpc: rpc, feeRateSatPerVb, socketFactory: socket, tls, store: givenStore, ...core } = o
  let parts: { store: Store; chain: ChainBackend; wallet: Wallet }
  try {
    const dirs = clientDataDir(dataDir)
    const chain = givenChain ?? new BtcdChainBackend({ ...rpc!, pollMs: BTCD_POLL_MS })
    if (givenChain === undefined) opened.push(() => chain.close())
    const store = givenStore ?? await LevelStore.open(dirs.store)
    if (givenStore === undefined) opened.push(() => store.close())
    const w = await Wallet.open({ storage: fileWalletStorage(dirs.wallet), chain, feeRate: feeRateSatPerVb })
    if (!w.ok) {
      const e = w.error
      const chainDown = e.kind === 'unavailable' || e.kind === 'bad_reply' || e.kind === 'rpc_error'
      throw new ClientError('create', chainDown ? 'chain_unavailable' : 'wallet_unavailable', `wallet: ${e.detail}`, e)
    }
    opened.push(() => { w.value.close() })
    parts = { store, chain, wallet: w.value }
  } catch (e) {
    await release()
    throw e
  }
  const options: ClientOptions = core
  return await HubClient.create(
    options, { ...parts, socket: socket ?? (tls !== undefined ? wsSocketFactoryWith(tls) : wsSocketFactory), release },
  )
}

/** connect() (client-sdk/transport) with `ws` as its default socket. */
export async function connect (
  url: string, nodeKey: Uint8Array, options?: ConnectOptionsInput, socket = wsSocketFactory,
): Promise<HubConnection> {
  return await connectWith(url, nodeKey, options, socket)
}

/** HubLink (client-sdk/transport) with `ws` as its default socket. */
export class HubLink extends CoreHubLink {
  constructor (url: string, nodeKey: Uint8Array, options: HubLinkOptions = {}) {
    super(url, nodeKey, { socketFactory: wsSocketFactory, ...options })
  }
}
