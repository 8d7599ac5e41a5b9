// The hub as a real child process (`hub/main.ts`, bundled once per process with esbuild), for the
// demo, the benchmarks and the e2e and chaos tests:
//
//   const hub = await startHub({ dataDir, btcd: btc.node.rpc }, t)  // resolves on its "listening" line
//   hub.url, hub.hubId                                               // from that line (ws, hub_id)
//   await hub.kill()            // SIGKILL (scenario 3); await hub.restart() starts it on the same data
//   await fundHub(btc, hub, sat)                                     // coins for hub-funded channels
//   await hub.adminFetch('/channels')                                // its admin API, with the admin token
//
// Every process started here is stopped by `stop()` or the teardown it was given; a SIGKILLed hub
// leaves nothing behind (its btcd is the caller's own). A caller killed before it could stop its hub
// leaves none running either: the hub's watchdog (host/node/orphan-watchdog.ts) stops it.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { BTCD_BIN } from '../../host/chain/btcd/node.ts'
import { startOrphanWatchdog } from '../../host/node/orphan-watchdog.ts'
import type { RpcConfig } from '../../host/chain/btcd/rpc.ts'
import { WalletKeys } from '../../host/wallet/keys.ts'
import { SEED_FILE } from '../../host/wallet/node/file-storage.ts'
import { hexToBytes, type NodeId } from '../../protocol/types.ts'
import type { Btcd } from './btcd.ts'
import type { Teardown } from './cleanups.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
/** How often a hub's watchdog looks for its parent: how long a hub may outlive a killed parent. */
const WATCHDOG_PERIOD_S = 0.5

/** hub/main.ts bundled once per test process with esbuild (dependencies stay external). Starting the
 *  bundle takes well under a second; going through the tsx loader recompiles every file on each start
 *  (seconds), which the crash tests pay twice per crash point. The bundle lives two levels under the
 *  repo root, so paths the hub derives from import.meta.url (e.g. .tools/bin/btcd) still resolve. */
const bundles = new Map<string, Promise<string>>()
function hubBundle (entry = 'hub/main.ts'): Promise<string> {
  let bundle = bundles.get(entry)
  if (bundle === undefined) {
    bundle = (async () => {
      const { build } = await import('esbuild')
      const outfile = path.join(REPO_ROOT, '.data', 'hub-bundles', `${path.basename(entry, '.ts')}-${process.pid}.mjs`)
      await build({
        entryPoints: [path.join(REPO_ROOT, entry)], bundle: true, platform: 'node', format: 'esm', target: 'node20',
        packages: 'external', outfile, logLevel: 'error',
      })
      process.once('exit', () => { try { fs.rmSync(outfile) } catch { /* already gone */ } })
      return outfile
    })()
    bundles.set(entry, bundle)
  }
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
  /** The admin API's bearer tokens (read from the files the listening line names). */
  readonly adminToken: string
  readonly readToken: string
  /** A request to the admin API (`route` such as '/channels'), sent with the admin token unless
   *  `init.headers` carries its own Authorization. */
  adminFetch (route: string, init?: RequestInit): Promise<Response>
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
  /** The caller's btcd (external to the hub). Absent: the hub starts its own managed node; its RPC
   *  login is in the listening line (`btcd_rpc`) and in <dataDir>/btcd-rpc.json. */
  btcd?: RpcConfig
  /** Merged into the hub's config file. */
  config?: Record<string, unknown>
  /** Extra environment (e.g. HUB_CRASH_AT=before:persist:local_commitment:3, host/crash-points.ts). */
  env?: Record<string, string>
  /** Log the hub's stderr to ours. */
  verbose?: boolean
  /** Another entry point than hub/main.ts, relative to the repository (a patched hub of a test). */
  entry?: string
}

export async function startHub (opts: StartHubOptions, t?: Teardown): Promise<HubProcess> {
  fs.mkdirSync(opts.dataDir, { recursive: true })
  const configPath = path.join(opts.dataDir, 'hub-config.json')
  let port = 0
  const writeConfig = (): void => {
    const transport = {
      port, maxConnectsPerIp: 100_000, maxUnauthenticatedPerIp: 1_000, maxBadFrames: 1_000, ...(opts.config?.transport as object ?? {})
    }
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
    const c = spawn(process.execPath, [await hubBundle(opts.entry), '--config', configPath], {
      // BTCD_BIN: the bundle's own location does not lead to .tools/bin (a managed node needs btcd).
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BTCD_BIN, HUB_CRASH_AT: '', ...env },
    })
    child = c
    exit = new Promise(resolve => c.once('exit', code => resolve(code)))
    // Killed, we could not stop the hub: its watchdog does (SIGTERM: it stops cleanly, its node with it).
    if (c.pid !== undefined) {
      const watchdog = startOrphanWatchdog({ parentPid: process.pid, childPid: c.pid, signal: 'TERM', periodSeconds: WATCHDOG_PERIOD_S })
      c.once('exit', () => { watchdog.kill('SIGKILL') })
    }
    createInterface({ input: c.stdout! }).on('line', line => {
      let parsed: Record<string, unknown>
      try { parsed = JSON.parse(line) as Record<string, unknown> } catch { parsed = { text: line } }
      if (typeof parsed !== 'object' || parsed === null) parsed = { text: line }
      lines.push(parsed)
      for (const l of [...listeners]) l(parsed)
      if (opts.verbose === true) process.stderr.write(`${new Date().toISOString().slice(14, 23)} [hub] ${line}\n`)
    })
    let stderr = ''
    c.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-8_000);
      if (opts.verbose === true) process.stderr.write(`${new Date().toISOString().slice(14, 23)} [hub!] ${d.toString()}`)
    })
    // The wait for `listening` ends with the process too: its timer must not outlive a hub that exited.
    const ended = exit.then(code => { throw new Error(`hub exited (${code}) before listening:\n${stderr}`) })
    const listening = await Promise.race([waitLine(l => l.event === 'listening', 60_000, ended), ended])
    info = listening
    if (port === 0) {
      port = Number(new URL(String(listening.ws)).port)
      writeConfig() // restarts come back on the same port, so clients reconnect to the same URL
    }
  }

  /** The next line `pred` accepts, or a rejection after `timeoutMs`; `until` settling ends the wait early (its timer
   *  cleared, the listener dropped). */
  function waitLine (
    pred: (l: Record<string, unknown>) => boolean, timeoutMs = 60_000, until?: Promise<unknown>,
  ): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const stop = (): void => { clearTimeout(timer); listeners = listeners.filter(x => x !== fn) }
      const timer = setTimeout(() => { stop(); reject(new Error('hub: timed out waiting for a line')) }, timeoutMs)
      const fn = (l: Record<string, unknown>): void => {
        if (!pred(l)) return
        stop()
        resolve(l)
      }
      listeners.push(fn)
      until?.then(stop, stop)
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
    get adminToken () { return fs.readFileSync(String(info.admin_token_file), 'utf8').trim() },
    get readToken () { return fs.readFileSync(String(info.read_token_file), 'utf8').trim() },
    adminFetch: (route, init = {}) => {
      const headers = { ...(init.headers as Record<string, string> | undefined ?? {}) }
      if (!Object.keys(headers).some(k => k.toLowerCase() === 'authorization')) headers.authorization = `Bearer ${hub.adminToken}`
      return fetch(String(info.rpc) + route, { ...init, headers })
    },
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

/** Where the hub keeps its wallet and LevelDB store inside its data directory. */
export const HUB_WALLET_DIR = (hub: HubProcess): string => String(hub.info.walletDir ?? path.join(hub.dataDir, 'wallet'))
export const HUB_STORE_DIR = (hub: HubProcess): string => String(hub.info.storeDir ?? path.join(hub.dataDir, 'store'))

/** The hub wallet's first receive address, derived from the seed file in its data directory. */
export function hubFundingAddress (hub: HubProcess): string {
  return new WalletKeys(hexToBytes(fs.readFileSync(path.join(HUB_WALLET_DIR(hub), SEED_FILE), 'utf8').trim())).key(0, 0).address
}

/** Pays `sat` to the hub's wallet (hubFundingAddress) and confirms it, so the hub can open channels
 *  to payees. */
export async function fundHub (btc: Btcd, hub: HubProcess, sat: number): Promise<void> {
  await btc.faucet(hubFundingAddress(hub), sat)
  await btc.mine(1)
}
