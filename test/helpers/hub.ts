// The hub as a real child process, and SDK clients around it, for e2e and chaos tests (and the demo).
//
//   const btc = await useBtcd(t)
//   const hub = await startHub({ dataDir, btcd: btc.node.rpc })   // spawns `tsx hub/main.ts`
//   hub.url, hub.hubId                                             // from its JSON "listening" line
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
import type { RpcConfig } from '../../hub/chain/btcd-rpc.ts'
import type { NodeId } from '../../protocol/types.ts'
import { HubClient } from '../../client-sdk/index.ts'
import type { Role } from '../../client-sdk/options.ts'
import type { Btcd } from './btcd.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const TSX_LOADER = path.join(REPO_ROOT, 'node_modules/tsx/dist/esm/index.mjs')

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
  /** Starts the hub again on the same data directory and port. */
  restart (extraArgs?: string[]): Promise<void>
  /** SIGTERM and wait. */
  stop (): Promise<void>
  /** Resolves with the first line (from now on) matching `pred`. */
  waitLine (pred: (l: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
  /** Resolves when the process exits (e.g. a crash point fired). */
  exited (): Promise<number | null>
}

export interface StartHubOptions {
  dataDir: string
  btcd: RpcConfig
  /** Merged into the hub's config file. */
  config?: Record<string, unknown>
  /** Extra command-line flags (e.g. a crash point). */
  args?: string[]
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
    const cfg = {
      dataDir: opts.dataDir,
      btcd: { mode: 'external', host: opts.btcd.host, port: opts.btcd.port, user: opts.btcd.user, pass: opts.btcd.pass },
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

  const launch = async (extra: string[]): Promise<void> => {
    lines = []
    listeners = []
    const c = spawn(process.execPath, ['--import', TSX_LOADER, path.join(REPO_ROOT, 'hub/main.ts'), '--config', configPath, ...extra], {
      cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env },
    })
    child = c
    exit = new Promise(resolve => c.once('exit', code => resolve(code)))
    createInterface({ input: c.stdout! }).on('line', line => {
      let parsed: Record<string, unknown>
      try { parsed = JSON.parse(line) as Record<string, unknown> } catch { parsed = { text: line } }
      if (typeof parsed !== 'object' || parsed === null) parsed = { text: line }
      lines.push(parsed)
      for (const l of [...listeners]) l(parsed)
      if (opts.verbose === true) process.stderr.write(`[hub] ${line}\n`)
    })
    let stderr = ''
    c.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-8_000); if (opts.verbose === true) process.stderr.write(`[hub!] ${d.toString()}`) })
    const listening = await Promise.race([
      waitLine(l => l.event === 'listening', 60_000),
      exit.then(code => { throw new Error(`hub exited (${code}) before listening:\n${stderr}`) }),
    ])
    info = listening
    if (port === 0) {
      port = Number(new URL(String(listening.url)).port)
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

  await launch(opts.args ?? [])
  const hub: HubProcess = {
    get url () { return String(info.url) },
    get hubId () { return String(info.hubId ?? info.hub_id ?? info.nodeId) as NodeId },
    dataDir: opts.dataDir,
    get lines () { return lines },
    get pid () { return child?.pid },
    get info () { return info },
    async kill () {
      if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGKILL')
      await exit
    },
    async restart (extra = []) {
      await hub.kill()
      await launch(extra)
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
}

export function randomKey (): Uint8Array {
  const b = new Uint8Array(32)
  globalThis.crypto.getRandomValues(b)
  return b
}

/** A connected HubClient whose data lives in `dataDir`. It shares the test's ChainBackend, so
 *  `btc.mine(n)` returns only after the client has seen the blocks too. */
export async function startClient (o: StartClientOptions, t?: Teardown): Promise<HubClient> {
  const client = await HubClient.create({
    nodeKey: o.nodeKey ?? randomKey(), hubUrl: o.hub.url, hubId: o.hub.hubId, dataDir: o.dataDir, role: o.role,
    chain: o.btc.chain, reconnectInitialMs: 50, reconnectMaxMs: 500, ...(o.payTimeoutMs !== undefined ? { payTimeoutMs: o.payTimeoutMs } : {}),
  })
  t?.teardown(() => client.stop())
  await client.connect()
  return client
}

export function tempDir (name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`))
}
