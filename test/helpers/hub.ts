// The hub as a real child process, and SDK clients around it, for e2e and chaos tests (and the demo).
//
//   const btc = await useBtcd(t)
//   const hub = await startHub({ dataDir, btcd: btc.node.rpc })   // spawns `tsx hub/main.ts`
//   hub.url, hub.hubId                                             // from its JSON "listening" line (ws, hub_id)
//   await hub.kill()            // SIGKILL (scenario 3); await hub.restart() starts it on the same data
//   const c = await startClient({ hub, btc, dataDir, role })       // a HubClient, connected
//
// Every process started here is stopped by `stop()`/teardown; a SIGKILLed hub leaves nothing behind
// (its btcd is the test's own).
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import type { RpcConfig } from '../../host/chain/btcd/rpc.ts'
import { BTCD_BIN } from '../../host/chain/btcd/node.ts'
import type { NodeId } from '../../protocol/types.ts'
import type { HubClient } from '../../client-sdk/index.ts'
import { createNodeClient } from '../../client-sdk/node.ts'
import type { Role } from '../../client-sdk/options.ts'
import type { Btcd } from './btcd.ts'
import { LevelStore } from '../../host/store/node/level-store.ts'
import { loadChannelRecords } from '../../host/channel/record.ts'
import { WalletKeys } from '../../host/wallet/keys.ts'
import { SEED_FILE } from '../../host/wallet/node/file-storage.ts'
import { hexToBytes } from '../../protocol/types.ts'
import type { ChannelState } from '../../protocol/channel/index.ts'
import { type SocketFactory, type SocketLike } from '../../client-sdk/transport/socket.ts'
import { wsSocketFactory } from '../../client-sdk/node/socket.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** hub/main.ts bundled once per test process with esbuild (dependencies stay external). Starting the
 *  bundle takes well under a second; going through the tsx loader recompiles every file on each start
 *  (seconds), which the crash tests pay twice per crash point. The bundle lives two levels under the
 *  repo root, so paths the hub derives from import.meta.url (e.g. .tools/bin/btcd) still resolve. */
let bundle: Promise<string> | undefined
function hubBundle (): Promise<string> {
  bundle ??= (async () => {
    const { build } = await import('esbuild')
    const outfile = path.join(REPO_ROOT, '.data', 'hub-bundles', `main-${process.pid}.mjs`)
    await build({ entryPoints: [path.join(REPO_ROOT, 'hub/main.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', outfile, logLevel: 'error' })
    process.once('exit', () => { try { fs.rmSync(outfile) } catch { /* already gone */ } })
    return outfile
  })()
  return bundle
}

export interface HubProcess {
  readonly url: string
  readonly hubId: NodeId
  readonly dataDir: string
  /** Every JSON line the hub printed since it (re)started. */
  readonly lines: Array<Record<string, unknown>>
  readonly pid: number | undefined
  /** The listening line (admin port, addresses, …). */
  readonly info: Record<string, unknown>
  /** SIGKILL: no cleanup runs (scenario 3). */
  kill (): Promise<void>
  /** Starts the hub again on the same data directory and port (env: e.g. { HUB_CRASH_AT }). */
  restart (env?: Record<string, string>): Promise<void>
  /** SIGTERM and wait. */
  stop (): Promise<void>
  /** Resolves with the first line (from now on) matching `pred`. */
  waitLine (pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
  /** Resolves when the process exits (e.g. a crash point fired). */
  exited (): Promise<number | null>
}

export interface StartHubOptions {
  dataDir: string
  /** The test's btcd (external to the hub). Absent: the hub starts its own managed node; its RPC
   *  login is in the listening line (`btcd_rpc`) and in <dataDir>/btcd-rpc.json. */
  btcd?: RpcConfig
  /** Merged into the hub's config file. */
  config?: Record<string, unknown>
  /** Extra environment (e.g. HUB_CRASH_AT=before:persist:local_commitment:3, host/crash-points.ts). */
  env?: Record<string, string>
  /** Log the hub's stderr to ours. */
  verbose?: boolean
}

interface Teardown { teardown (fn: () => Promise<void> | void): void }

export async function startHub (opts: StartHubOptions, t?: Teardown): Promise<HubProcess> {
  fs.mkdirSync(opts.dataDir, { recursive: true })
  const configPath = path.join(opts.dataDir, 'hub-config.json')
  let port = 0
  const writeConfig = (): void => {
    const transport = { port, maxConnectsPerIp: 100_000, maxUnauthenticatedPerIp: 1_000, maxBadFrames: 1_000, ...(opts.config?.transport as object ?? {}) }
    const b = opts.btcd
    const cfg = {
      dataDir: opts.dataDir,
      ...(b !== undefined ? { btcd: { mode: 'external', host: b.host, port: b.port, user: b.user, pass: b.pass } } : {}),
      ...opts.config,
      transport,
    }
    fs.writeFileSync(configPath, JSON.stringify(cfg, null, 2))
  }
  writeConfig()

  let child: ChildProcess | undefined
  let lines: Array<Record<string, unknown>> = []
  let listeners: Array<(l: Record<string, unknown>) => void> = []
  let exit: Promise<number | null> = Promise.resolve(null)
  let info: Record<string, unknown> = {}

  const launch = async (env: Record<string, string>): Promise<void> => {
    lines = []
    listeners = []
    const c = spawn(process.execPath, [await hubBundle(), '--config', configPath], {
      // BTCD_BIN: the bundle's own location does not lead to .tools/bin (a managed node needs btcd).
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BTCD_BIN, HUB_CRASH_AT: '', ...env },
    })
    child = c
    exit = new Promise(resolve => c.once('exit', code => resolve(code)))
    createInterface({ input: c.stdout! }).on('line', line => {
      let parsed: Record<string, unknown>
      try { parsed = JSON.parse(line) as Record<string, unknown> } catch { parsed = { text: line } }
      if (typeof parsed !== 'object' || parsed === null) parsed = { text: line }
      lines.push(parsed)
      for (const l of [...listeners]) l(parsed)
      if (opts.verbose === true) process.stderr.write(`${new Date().toISOString().slice(14, 23)} [hub] ${line}\n`)
    })
    let stderr = ''
    c.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8_000); if (opts.verbose === true) process.stderr.write(`${new Date().toISOString().slice(14, 23)} [hub!] ${d.toString()}`) })
    const listening = await Promise.race([
      waitLine(l => l.event === 'listening', 60_000),
      exit.then(code => { throw new Error(`hub exited (${code}) before listening:\n${stderr}`) }),
    ])
    info = listening
    if (port === 0) {
      port = Number(new URL(String(listening.ws)).port)
      writeConfig() // restarts come back on the same port, so clients reconnect to the same URL
    }
  }

  function waitLine (pred: (l: Record<string, unknown>) => boolean, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { listeners = listeners.filter(l => l !== fn); reject(new Error('hub: timed out waiting for a line')) }, timeoutMs)
      const fn = (l: Record<string, unknown>): void => {
        if (!pred(l)) return
        clearTimeout(timer)
        listeners = listeners.filter(x => x !== fn)
        resolve(l)
      }
      listeners.push(fn)
    })
  }

  await launch(opts.env ?? {})
  const hub: HubProcess = {
    get url () { return String(info.ws) },
    get hubId () { return String(info.hub_id) as NodeId },
    dataDir: opts.dataDir,
    get lines () { return lines },
    get pid () { return child?.pid },
    get info () { return info },
    async kill () {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exit
    },
    async restart (env = {}) {
      await hub.kill()
      await launch(env)
    },
    async stop () {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000)
      await exit
      clearTimeout(timer)
    },
    waitLine,
    exited: () => exit,
  }
  t?.teardown(() => hub.stop())
  return hub
}

export interface StartClientOptions {
  hub: HubProcess
  btc: Btcd
  dataDir: string
  role: Role
  /** Reuse a node key (a restarted client); default: a new random one. */
  nodeKey?: Uint8Array
  payTimeoutMs?: number
  socketFactory?: SocketFactory
}

export function randomKey (): Uint8Array {
  const b = new Uint8Array(32)
  globalThis.crypto.getRandomValues(b)
  return b
}

/** A connected HubClient whose data lives in `dataDir`. It shares the test's ChainBackend, so
 *  `btc.mine(n)` returns only after the client has seen the blocks too. */
export async function startClient (o: StartClientOptions, t?: Teardown): Promise<HubClient> {
  const client = await createNodeClient({
    nodeKey: o.nodeKey ?? randomKey(), hubUrl: o.hub.url, hubId: o.hub.hubId, dataDir: o.dataDir, role: o.role,
    chain: o.btc.chain, reconnectInitialMs: 50, reconnectMaxMs: 500, ...(o.payTimeoutMs !== undefined ? { payTimeoutMs: o.payTimeoutMs } : {}), ...(o.socketFactory !== undefined ? { socketFactory: o.socketFactory } : {}),
  })
  t?.teardown(() => client.stop())
  await client.connect()
  return client
}

export function tempDir (name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`))
}

/** Polls `cond` until it holds (no timing assertion: a deadline only turns a hang into a failure). */
export async function waitFor (cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/** Waits until `txid` is in btcd's mempool (or chain), then mines `n` blocks. */
export async function mineTx (btc: Btcd, txid: string, n = 1): Promise<void> {
  await waitFor(async () => { const r = await btc.chain.getRawTransaction(txid); return r.ok && r.value !== null }, `tx ${txid} in the mempool`)
  await btc.mine(n)
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

/** Where the hub keeps its wallet and LevelDB store inside its data directory. */
export const HUB_WALLET_DIR = (hub: HubProcess): string => String(hub.info.walletDir ?? path.join(hub.dataDir, 'wallet'))
export const HUB_STORE_DIR = (hub: HubProcess): string => String(hub.info.storeDir ?? path.join(hub.dataDir, 'store'))

/** Pays `sat` to the hub's wallet (its first receive address, derived from its seed file) and
 *  confirms it, so the hub can open channels to payees. */
export async function fundHub (btc: Btcd, hub: HubProcess, sat: number): Promise<void> {
  const address = typeof hub.info.fundingAddress === 'string'
    ? hub.info.fundingAddress
    : new WalletKeys(hexToBytes(fs.readFileSync(path.join(HUB_WALLET_DIR(hub), SEED_FILE), 'utf8').trim())).key(0, 0).address
  await btc.faucet(address, sat)
  await btc.mine(1)
}

/** The hub's channel states by channel id, read from its store (the hub must be stopped). */
export async function hubChannelStates (hub: HubProcess): Promise<Map<string, ChannelState>> {
  const store = await LevelStore.open(HUB_STORE_DIR(hub))
  try {
    const out = new Map<string, ChannelState>()
    for (const r of await loadChannelRecords(store)) out.set(r.state.channelId, r.state)
    return out
  } finally { await store.close() }
}

// ── Cutting the connection at a chosen message (scenario 2 over real sockets) ──

export type Direction = 'out' | 'in'
/** Cut the connection at the `index`-th (0-based) channel message seen in `direction` after `arm()`:
 *  'before' drops it (it never reaches the other side), 'after' lets it through, then cuts. */
export interface CutPlan { direction: Direction; index: number; timing: 'before' | 'after' }

/** Message types that belong to a payment's dance (pings, policy and reestablish are not counted). */
export const DANCE_TYPES = new Set(['update_add_htlc', 'update_fulfill_htlc', 'update_fail_htlc', 'commitment_signed', 'revoke_and_ack'])

export interface CutSwitch {
  factory: SocketFactory
  /** Starts counting dance messages (and cutting, if a plan is given). */
  arm (plan?: CutPlan): void
  /** The dance messages seen since arm(), in order, with their direction. */
  readonly trace: Array<{ direction: Direction; type: string }>
  /** Whether the armed plan fired. */
  readonly fired: boolean
}

export function cutSwitch (): CutSwitch {
  let plan: CutPlan | undefined
  let counts = { in: 0, out: 0 }
  let trace: Array<{ direction: Direction; type: string }> = []
  let fired = false
  const typeOf = (data: unknown): string | undefined => {
    try { const t = (JSON.parse(String(data)) as { type?: unknown }).type; return typeof t === 'string' ? t : undefined } catch { return undefined }
  }
  /** true: cut now (before); 'after': cut after delivery; false: nothing. */
  const decide = (direction: Direction, data: unknown): false | 'before' | 'after' => {
    const type = typeOf(data)
    if (type === undefined || !DANCE_TYPES.has(type)) return false
    trace.push({ direction, type })
    const i = counts[direction]++
    if (plan === undefined || fired || plan.direction !== direction || plan.index !== i) return false
    fired = true
    return plan.timing
  }
  const factory: SocketFactory = async url => {
    const ws = await wsSocketFactory(url) as SocketLike & { terminate?: () => void }
    const cut = (): void => { if (ws.terminate !== undefined) ws.terminate(); else ws.close(4000, 'cut') }
    const wrapped: SocketLike = {
      get readyState () { return ws.readyState },
      get bufferedAmount () { return ws.bufferedAmount },
      send (data: string) {
        const d = decide('out', data)
        if (d === 'before') { cut(); return }
        ws.send(data)
        if (d === 'after') cut()
      },
      close: (code?: number, reason?: string) => ws.close(code, reason),
      addEventListener (type: string, fn: (ev: never) => void) {
        if (type !== 'message') { (ws.addEventListener as (t: string, f: unknown) => void)(type, fn); return }
        ws.addEventListener('message', (ev: { data: unknown }) => {
          const d = decide('in', ev.data)
          if (d === 'before') { cut(); return }
          ;(fn as (e: { data: unknown }) => void)(ev)
          if (d === 'after') cut()
        })
      },
    } as SocketLike
    return wrapped
  }
  return {
    factory,
    arm (p?: CutPlan) { plan = p; counts = { in: 0, out: 0 }; trace = []; fired = false },
    get trace () { return trace },
    get fired () { return fired },
  }
}

// ── Raw frames over an authenticated connection (bad-input tests) ──

export interface Injector {
  factory: SocketFactory
  /** Sends a raw text frame on the current connection (bypassing the codec). */
  sendRaw (text: string): void
  /** Frames received since the last clear(), parsed (or { raw } when not JSON). */
  readonly received: Array<Record<string, unknown>>
  /** Close codes seen on connections opened through this factory. */
  readonly closes: number[]
  clear (): void
}

export function injector (): Injector {
  let current: SocketLike | undefined
  let received: Array<Record<string, unknown>> = []
  const closes: number[] = []
  const factory: SocketFactory = async url => {
    const ws = await wsSocketFactory(url)
    current = ws
    ws.addEventListener('message', ev => {
      try { received.push(JSON.parse(String(ev.data)) as Record<string, unknown>) } catch { received.push({ raw: String(ev.data) }) }
    })
    ws.addEventListener('close', ev => { closes.push(ev.code) })
    return ws
  }
  return {
    factory,
    sendRaw (text: string) {
      if (current === undefined) throw new Error('injector: no connection yet')
      current.send(text)
    },
    get received () { return received },
    get closes () { return closes },
    clear () { received = [] },
  }
}

/** The setup most hub tests share: a funded hub process, a platform with its own funded channel and a
 *  creator with a hub-funded channel, all ready. */
export async function startHubPlatformCreator (btc: Btcd, t: Teardown, o: { name: string; hubSat: number; platformCapacitySat: number; hubConfig?: Record<string, unknown> }): Promise<{ dir: string; hub: HubProcess; platform: HubClient; creator: HubClient }> {
  const dir = tempDir(o.name)
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc, ...(o.hubConfig !== undefined ? { config: o.hubConfig } : {}) }, t)
  await fundHub(btc, hub, o.hubSat)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)
  await openFundedChannel(btc, platform, o.platformCapacitySat)
  await requestHubChannel(btc, creator)
  return { dir, hub, platform, creator }
}
