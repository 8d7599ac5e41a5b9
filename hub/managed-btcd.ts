// The hub's embedded chain (config `btcd.mode: "managed"`, the default): a regtest btcd the hub starts
// in <dataDir>/btcd, that keeps its chain across restarts (host/chain/btcd/node.ts `keepBlocks`), with
// its RPC credentials in <dataDir>/btcd-rpc.json (mode 0600) and in the `listening` line, and an
// optional auto-miner (`btcd.autoMineSeconds`).
//
// The node's --miningaddr is the hub wallet's first receive address, so what the node mines itself
// (admin POST /regtest/mine, the auto-miner) pays the hub's wallet, which funds channels and the faucet.
import path from 'node:path'
import { AutoMiner } from '../host/chain/btcd/auto-miner.ts'
import type { BtcdChainBackend } from '../host/chain/btcd/backend.ts'
import { startBtcd, type ManagedBtcd } from '../host/chain/btcd/node.ts'
import { WalletKeys, newSeed } from '../host/wallet/keys.ts'
import { fileWalletStorage } from '../host/wallet/node/file-storage.ts'
import type { Log } from './cli.ts'

/** The credentials file's name in the hub's data directory: the client SDK's `btcdRpc`, as JSON. */
export const BTCD_RPC_FILE = 'btcd-rpc.json'
/** Where the hub's wallet (seed and state) lives in its data directory. */
export const WALLET_DIR = 'wallet'

export async function startManagedBtcd (dataDir: string, log: Log): Promise<ManagedBtcd> {
  const seed = fileWalletStorage(path.join(dataDir, WALLET_DIR)).seed(newSeed)
  if (!seed.ok) throw new Error(`wallet: ${seed.error.detail}`)
  const node = await startBtcd({
    dataDir: path.join(dataDir, 'btcd'),
    keepBlocks: true,
    rpcCredentialsFile: path.join(dataDir, BTCD_RPC_FILE),
    miningKey: new WalletKeys(seed.seed).key(0, 0).privateKey,
  })
  log({
    event: 'btcd_started', pid: node.pid, replayed_blocks: node.replay?.blocks ?? 0,
    ...(node.replay?.rejected != null ? { replay_rejected: node.replay.rejected } : {})
  })
  return node
}

/** What the `listening` line says of the managed node: its published RPC login (the SDK's `btcdRpc`,
 *  field for field), the file that holds it, and btcd's pid. */
export function managedBtcdInfo (dataDir: string, node: ManagedBtcd): Record<string, unknown> {
  const { host, port, user, pass } = node.publicRpc
  return { btcd_rpc: { host, port, user, pass }, btcd_rpc_file: path.join(dataDir, BTCD_RPC_FILE), btcd_pid: node.pid }
}

/** Starts the auto-miner when configured; returns its stop (or undefined). */
export function startAutoMiner (chain: BtcdChainBackend, seconds: number | undefined, log: Log): (() => Promise<void>) | undefined {
  if (seconds === undefined) return undefined
  const miner = new AutoMiner(chain, seconds * 1000, e => log(e))
  miner.start()
  log({ event: 'auto_miner', every_s: seconds })
  return () => miner.stop()
}
