// Starts and stops a regtest btcd for tests, the demo and the hub's embedded default.
//
// The node listens on loopback only, on free ports, with its own data directory and a mining address
// whose key we hold (so tests can spend coinbases). It never outlives us: it is stopped on stop(),
// on process exit, and, when we die from a signal (SIGINT, SIGTERM, even SIGKILL, when no code of
// ours runs), by a tiny detached watchdog shell that notices our pid is gone (host/node/orphan-watchdog.ts).
//
// btcd deletes its regtest database at every start (btcd.go removeRegressionDB), so by default
// restart() comes back with an empty chain: that is scenario 12, "chain wiped". With `keepBlocks` (the
// hub's embedded node) the node keeps every block of its main chain in its data directory
// (block-archive.ts, block-keeper.ts) and replays them at every start before anyone else may connect
// (rpc-gate.ts): the same chain comes back, after a clean stop, a crash, or a failed first start.
//
// The RPC user and password go to btcd in its config file (mode 0600), never on its command line,
// where any local user could read them (ps).
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { networks, payments } from 'bitcoinjs-lib'
import { tinyCurve } from '../../../protocol/crypto/tiny.ts'
import type { ChainFailure } from '../backend.ts'
import { err, ok, type Result } from '../../../protocol/result.ts'
import { BtcdChainBackend, type BtcdBackendConfig } from './backend.ts'
import { BLOCK_ARCHIVE_FILE, BlockArchive } from './block-archive.ts'
import { BlockKeeper, type BlockKeeping } from './block-keeper.ts'
import { BtcdRpc, type RpcConfig } from './rpc.ts'
import { readRpcCredentials, writeRpcCredentials } from './rpc-credentials.ts'
import { RpcGate } from './rpc-gate.ts'
import { startOrphanWatchdog } from '../../node/orphan-watchdog.ts'
import { bestBlockSchema, submitBlockSchema } from './schemas.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
/** Where scripts/install-btcd.sh puts btcd; BTCD_BIN overrides it (e.g. your own build). */
export const BTCD_BIN = process.env.BTCD_BIN ?? path.join(REPO_ROOT, '.tools/bin/btcd')
/** btcd starts answering RPC within about half a second; give slow machines ample room. */
const START_TIMEOUT_MS = 30_000
/** SIGTERM lets btcd close its database; past this it is killed. */
const STOP_TIMEOUT_MS = 5_000
/** The watchdog's polling period: how long an orphaned btcd may survive a SIGKILLed parent. */
const WATCHDOG_PERIOD_S = 0.5

export interface Miner {
  /** bech32 P2WPKH address on regtest (bcrt1q...). */
  address: string
  privateKey: Uint8Array
  /** 33-byte compressed. */
  publicKey: Uint8Array
  /** The P2WPKH output script coinbases pay to. */
  script: Uint8Array
}

export interface StartBtcdOptions {
  /** Default: a fresh temporary directory, removed by stop(). */
  dataDir?: string
  /** 32-byte key the coinbases pay to (P2WPKH). Default: random. */
  miningKey?: Uint8Array
  /** RPC port to use (default: a free one). */
  rpcPort?: number
  /** Listen for P2P on 127.0.0.1:<free port> (default: P2P off). */
  p2p?: boolean
  /**
   * Keep every block of the main chain in <dataDir>/blocks.jsonl and replay it at every start, so
   * the chain survives restarts; other processes reach the node through `publicRpc`, which opens once
   * the chain is back. Default false: the chain is gone after a restart (scenario 12).
   */
  keepBlocks?: boolean
  /** A file (rpc-credentials.ts) holding the RPC user, password and published port: reused when it
   *  exists, written (mode 0600) at every start. Default: new credentials at every start. */
  rpcCredentialsFile?: string
}

/** What a start with `keepBlocks` gave the node back of its recorded chain. */
export interface ReplayReport {
  /** Blocks submitted and accepted, from height 1. */
  blocks: number
  /** The first block the node refused (then the chain ends below it), or null. */
  rejected: string | null
}

export interface ManagedBtcd {
  /** btcd's own RPC address: for this process's backends (available while the chain is replayed). */
  readonly rpc: RpcConfig
  /** The address other processes use (rpcCredentialsFile holds it): with keepBlocks, the gate that
   *  opens once the chain is back; otherwise the same as rpc. */
  readonly publicRpc: RpcConfig
  /** With keepBlocks: what the last start replayed. */
  readonly replay: ReplayReport | null
  /** ws://127.0.0.1:<port>/ws */
  readonly wsUrl: string
  readonly p2pPort: number | null
  readonly dataDir: string
  readonly miner: Miner
  /** The btcd process id while running. */
  readonly pid: number | null
  /** A ChainBackend on this node (the caller closes it). */
  backend (opts?: Partial<BtcdBackendConfig>): BtcdChainBackend
  stop (): Promise<void>
  /** Stops btcd, keeping its data directory. */
  halt (): Promise<void>
  /** Stops and starts again on the same data directory: the chain comes back empty, or, with
   *  keepBlocks, as it was. */
  restart (): Promise<void>
}

export function minerFromKey (privateKey: Uint8Array): Miner {
  const publicKey = tinyCurve.pubkey(privateKey)
  const p = payments.p2wpkh({ pubkey: publicKey, network: networks.regtest })
  if (p.address === undefined || p.output === undefined) throw new Error('minerFromKey: p2wpkh failed')
  return { address: p.address, privateKey, publicKey, script: p.output }
}

export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port')))
    })
  })
}

/** Why a managed btcd did not start. Retrying helps only after `exited_early` (a port was taken). */
export type BtcdStartFailure =
  | 'not_found'      // nothing at BTCD_BIN: run the install script, or point BTCD_BIN at a btcd
  | 'not_executable' // BTCD_BIN exists but cannot be executed (permissions, a directory, wrong format)
  | 'spawn_failed'   // the operating system refused to start it for another reason (errno in detail)
  | 'exited_early'   // btcd started and exited before its RPC answered (typically: a port was taken)
  | 'no_rpc'         // btcd runs but its RPC did not answer within START_TIMEOUT_MS
  | 'unreadable'     // the block archive or the credentials file is not what we wrote (detail names it)
  | 'replay_failed'  // the node stopped answering while its recorded chain was replayed

export class BtcdStartError extends Error {
  constructor (readonly reason: BtcdStartFailure, detail: string) {
    super(`btcd: ${reason}: ${detail}`)
    this.name = 'BtcdStartError'
  }
}

export async function startBtcd (opts: StartBtcdOptions = {}): Promise<ManagedBtcd> {
  if (!fs.existsSync(BTCD_BIN)) throw new BtcdStartError('not_found', `nothing at ${BTCD_BIN}: run 'npm run install-btcd' first`)
  const tempDir = opts.dataDir === undefined
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'btcd-'))
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const miner = minerFromKey(opts.miningKey ?? randomBytes(32))
  const stored = opts.rpcCredentialsFile !== undefined ? readRpcCredentials(opts.rpcCredentialsFile) : { ok: true as const, value: null }
  if (!stored.ok) throw new BtcdStartError('unreadable', stored.detail)
  const login = stored.value ?? { user: 'hub', pass: randomBytes(16).toString('hex') }
  const keep = opts.keepBlocks === true
  // Without the gate, btcd's own port is the published one: keep it while it is free.
  const preferredPort = opts.rpcPort ?? (keep ? undefined : stored.value?.port)
  // A "free" port can be taken by another process (another test file's btcd) between our probe and
  // btcd's bind; btcd then exits at startup, and we try again on fresh ports.
  for (let attempt = 1; ; attempt++) {
    const port = attempt === 1 && preferredPort !== undefined ? preferredPort : opts.rpcPort ?? await freePort()
    const rpc: RpcConfig = { host: '127.0.0.1', port, user: login.user, pass: login.pass }
    const p2pPort = opts.p2p === true ? await freePort() : null
    const published = keep ? {
      port: stored.value?.port ?? 0, file: opts.rpcCredentialsFile,
    } : { port: null, file: opts.rpcCredentialsFile }
    const node = new Node(dataDir, tempDir, miner, rpc, p2pPort, keep, published)
    try {
      await node.launch()
      return node
    } catch (e) {
      const retry = attempt < START_ATTEMPTS && opts.rpcPort === undefined && e instanceof BtcdStartError && e.reason === 'exited_early'
      if (!retry) { await node.stop(); throw e }
      await node.halt()
    }
  }
}

const START_ATTEMPTS = 3

/**
 * Sends `signal` to `child` only if it has a pid and has not exited. A child whose spawn failed has
 * no pid, and Node's kill() on it can reach kill(2) with pid 0, which signals every process in our
 * process group (the host, its test runner, anything started beside it).
 */
function signalChild (child: ChildProcess | null, signal: NodeJS.Signals): void {
  if (child === null || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  child.kill(signal)
}

/** Resolves once `child` is running (it has a pid); rejects with why the OS refused to start it. */
function spawned (child: ChildProcess, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSpawn = (): void => { child.off('error', onError); resolve() }
    const onError = (e: NodeJS.ErrnoException): void => {
      child.off('spawn', onSpawn)
      const reason: BtcdStartFailure = e.code === 'ENOENT'
        ? 'not_found'
        : e.code === 'EACCES' || e.code === 'ENOEXEC' ? 'not_executable' : 'spawn_failed'
      reject(new BtcdStartError(reason, `cannot execute ${file} (${e.code ?? e.message})`))
    }
    child.once('spawn', onSpawn)
    child.once('error', onError)
  })
}

const live = new Set<Node>()

/** Where the published address listens, and the credentials file to write it to. */
interface Publishing { port: number | null; file: string | undefined }

class Node implements ManagedBtcd, BlockKeeping {
  private child: ChildProcess | null = null
  private watchdog: ChildProcess | null = null
  private exited: Promise<void> = Promise.resolve()
  private keeper: BlockKeeper | null = null
  private archive: BlockArchive | null = null
  private gate: RpcGate | null = null
  replay: ReplayReport | null = null

  constructor (
    readonly dataDir: string, private readonly tempDir: boolean, readonly miner: Miner, readonly rpc: RpcConfig,
    readonly p2pPort: number | null, private readonly keepBlocks: boolean, private readonly publishing: Publishing,
  ) {}

  get wsUrl (): string { return `ws://${this.rpc.host}:${this.rpc.port}/ws` }
  get pid (): number | null { return this.child?.pid ?? null }
  get publicRpc (): RpcConfig {
    return this.gate === null ? this.rpc : { host: this.gate.host, port: this.gate.port, user: this.rpc.user, pass: this.rpc.pass }
  }

  backend (opts: Partial<BtcdBackendConfig> = {}): BtcdChainBackend {
    return new BtcdChainBackend({ ...this.rpc, miningScript: this.miner.script, ...(this.keepBlocks ? { keeper: this } : {}), ...opts })
  }

  /** BlockKeeping for this process's backends: a block is handed out once the archive holds it. */
  async keep (hash: string): Promise<Result<void, ChainFailure>> {
    return this.keeper === null ? ok(undefined) : await this.keeper.keep(hash)
  }

  async launch (): Promise<void> {
    const conf = path.join(this.dataDir, 'btcd.conf')
    // The config file (owner-only) carries the RPC login; being explicit also keeps btcd from
    // creating ~/.btcd/btcd.conf.
    writeOwnerOnly(conf, `rpcuser=${this.rpc.user}\nrpcpass=${this.rpc.pass}\n`)
    const args = [
      '--regtest',
      `--datadir=${path.join(this.dataDir, 'data')}`,
      `--logdir=${path.join(this.dataDir, 'logs')}`,
      `--configfile=${conf}`,
      '--notls',
      `--rpclisten=${this.rpc.host}:${this.rpc.port}`,
      ...(this.p2pPort === null ? ['--nolisten'] : [`--listen=127.0.0.1:${this.p2pPort}`]),
      // Without it regtest relays non-final transactions and `generate` can spin forever (DESIGN.md).
      '--rejectnonstd',
      '--txindex',
      `--miningaddr=${this.miner.address}`,
      // Enforce the minimum relay fee like Bitcoin Core: btcd would otherwise relay a zero-fee
      // transaction spending old coins ("priority") or within its free-relay allowance.
      '--norelaypriority',
      '--limitfreerelay=0',
      // The default 250 MiB UTXO cache is pre-allocated at start (~2 s); regtest needs a few MiB.
      '--utxocachemaxsize=8',
      // Compact block filters (BIP157) serve light clients; nothing here uses them.
      '--nocfilters',
      // Every process on this node (the hub, the demo's and bench's SDK clients) keeps up to
      // MAX_IN_FLIGHT requests open (btcd-rpc.ts); btcd's default of 10 clients in all made it
      // refuse some of them (HTTP 503) as soon as two processes were busy at once.
      '--rpcmaxclients=100'
    ]
    const out = fs.openSync(path.join(this.dataDir, 'btcd.out'), 'a')
    let child: ChildProcess
    try {
      child = spawn(BTCD_BIN, args, { stdio: ['ignore', out, out] })
    } catch (e) {
      // Some refusals (e.g. a file of the wrong format) are thrown rather than emitted.
      throw new BtcdStartError('not_executable', `cannot execute ${BTCD_BIN} (${(e as NodeJS.ErrnoException).code ?? String(e)})`)
    } finally {
      fs.closeSync(out)
    }
    // Until 'spawn' the child has no pid: it is not ours to track, stop or signal before then.
    await spawned(child, BTCD_BIN)
    this.child = child
    this.exited = new Promise(resolve => child.once('exit', () => resolve()))
    live.add(this)
    installExitHooks()
    void this.exited.then(() => { if (this.child === child) { this.child = null; live.delete(this) } })
    // SIGKILL: nothing to save (a kept chain survives a crash: block-archive.ts).
    this.watchdog = startOrphanWatchdog({
      parentPid: process.pid, childPid: child.pid!, signal: 'KILL', periodSeconds: WATCHDOG_PERIOD_S,
      ...(this.tempDir ? { removeDir: this.dataDir } : {}),
    })
    await this.waitForRpc(child)
    if (this.keepBlocks) await this.bringChainBack()
    if (this.publishing.file !== undefined) writeRpcCredentials(this.publishing.file, this.publicRpc)
  }

  /** Replays the recorded chain, starts recording what follows, then opens the published address. */
  private async bringChainBack (): Promise<void> {
    const opened = BlockArchive.open(path.join(this.dataDir, BLOCK_ARCHIVE_FILE))
    if (!opened.ok) { await this.halt(); throw new BtcdStartError('unreadable', opened.detail) }
    this.archive = opened.archive
    const replayed = await replayBlocks(this.rpc, opened.archive)
    if (!replayed.ok) { await this.halt(); throw new BtcdStartError('replay_failed', replayed.error.detail) }
    this.replay = replayed.value
    const keeper = await BlockKeeper.start(opened.archive, this.rpc)
    if (!keeper.ok) { await this.halt(); throw new BtcdStartError('replay_failed', `following the replayed chain: ${keeper.error.detail}`) }
    this.keeper = keeper.value
    this.gate = await RpcGate.open(this.rpc.host, this.publishing.port ?? 0, this.rpc)
    // A restart publishes the same address again (while it is free).
    this.publishing.port = this.gate.port
  }

  private async waitForRpc (child: ChildProcess): Promise<void> {
    const rpc = new BtcdRpc({ ...this.rpc, attempts: 1, timeoutMs: 2000 })
    const deadline = Date.now() + START_TIMEOUT_MS
    try {
      while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new BtcdStartError(
            'exited_early', `btcd exited during startup (${child.exitCode ?? child.signalCode}); last output:\n${this.tail()}`,
          )
        }
        const r = await rpc.request('getbestblock', [], bestBlockSchema, { idempotent: true })
        if (r.ok) return
        await new Promise(resolve => setTimeout(resolve, 25))
      }
      await this.stop()
      throw new BtcdStartError('no_rpc', `btcd did not answer RPC within ${START_TIMEOUT_MS} ms; last output:\n${this.tail()}`)
    } finally {
      rpc.close()
    }
  }

  private tail (): string {
    try {
      return fs.readFileSync(path.join(this.dataDir, 'btcd.out'), 'utf8').split('\n').slice(-15).join('\n')
    } catch { return '(no output)' }
  }

  /** Stops btcd and its watchdog, keeping the data dir. */
  async halt (): Promise<void> {
    await this.gate?.close()
    this.gate = null
    await this.keeper?.stop()
    this.keeper = null
    this.archive?.close()
    this.archive = null
    const child = this.child
    if (child !== null && child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      signalChild(child, 'SIGTERM')
      const timer = setTimeout(() => signalChild(child, 'SIGKILL'), STOP_TIMEOUT_MS)
      await this.exited
      clearTimeout(timer)
    }
    this.child = null
    live.delete(this)
    signalChild(this.watchdog, 'SIGKILL')
    this.watchdog = null
  }

  async stop (): Promise<void> {
    await this.halt()
    if (this.tempDir) fs.rmSync(this.dataDir, { recursive: true, force: true })
  }

  async restart (): Promise<void> {
    await this.halt()
    await this.launch()
  }

  /** Synchronous last resort (process 'exit'): signal only. */
  killNow (): void {
    signalChild(this.child, 'SIGKILL')
    signalChild(this.watchdog, 'SIGKILL')
    if (this.tempDir) fs.rmSync(this.dataDir, { recursive: true, force: true })
  }
}

/** Submits the archive's main chain to a node that has only its genesis block. A block the node
 *  refuses ends the replay there (reported): the chain comes back shorter, and whoever built on the
 *  missing blocks finds out (chain_wiped). */
async function replayBlocks (rpcConfig: RpcConfig, archive: BlockArchive): Promise<Result<ReplayReport, ChainFailure>> {
  const rpc = new BtcdRpc(rpcConfig)
  try {
    let blocks = 0
    for (const b of archive.takeReplay()) {
      // Submitting a block twice is harmless: btcd answers "duplicate" the second time.
      const r = await rpc.request('submitblock', [b.hex], submitBlockSchema, { idempotent: true })
      if (!r.ok) return err({ kind: 'unavailable', detail: `submitblock at height ${b.height}: ${r.error.detail}` })
      if (r.value !== null && !/duplicate/i.test(r.value)) return ok({
        blocks, rejected: `block ${b.hash} at height ${b.height}: ${r.value}`,
      })
      blocks++
    }
    return ok({ blocks, rejected: null })
  } finally {
    rpc.close()
  }
}

/** Replaces `file` with `text`, readable by its owner only. */
function writeOwnerOnly (file: string, text: string): void {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o600)
  try { fs.fchmodSync(fd, 0o600); fs.writeSync(fd, text) } finally { fs.closeSync(fd) }
}

let hooksInstalled = false
/**
 * On a normal exit (including process.exit() from the host's own SIGINT/SIGTERM handler) btcd is
 * killed synchronously here. No signal handlers are installed on purpose: a listener changes what a
 * signal does to the whole process (it would no longer exit, and libraries like signal-exit stop
 * re-raising when they see a foreign listener). A process killed by a signal is covered by the
 * watchdog instead, within WATCHDOG_PERIOD_S.
 */
function installExitHooks (): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', () => { for (const n of live) n.killNow() })
}
