// An SDK client (HubClient) as a real child process (fixtures/sdk-client.ts), for the SDK crash tests:
//
//   const p = await startSdkProcess({ name: 'payer', dataDir, nodeKey, hub, btc, role: 'platform' })
//   await p.call('pay', { invoice, idempotencyKey })    // one command, one answer
//   p.events                                            // every event line it printed, across restarts
//   await p.restart({ SDK_CRASH_AT: 'after:persist:preimage:1' })   // armed: it SIGKILLs itself there
//   await p.exited()                                    // resolves with the signal once it died
//
// The fixture is bundled once per test process with esbuild (as test/helpers/hub.ts does for the hub):
// starting the bundle takes well under a second, going through the tsx loader seconds.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createInterface } from 'node:readline'
import { bytesToHex } from '../../protocol/types.ts'
import type { Role } from '../../client-sdk/options.ts'
import type { Btcd } from '../helpers/btcd.ts'
import type { HubProcess } from '../helpers/hub.ts'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

let bundle: Promise<string> | undefined
function sdkBundle (): Promise<string> {
  bundle ??= (async () => {
    const { build } = await import('esbuild')
    const outfile = path.join(REPO_ROOT, '.data', 'sdk-bundles', `sdk-client-${process.pid}.mjs`)
    await build({
      entryPoints: [path.join(REPO_ROOT, 'test/chaos/fixtures/sdk-client.ts')], bundle: true, platform: 'node', format: 'esm',
      target: 'node20', packages: 'external', outfile, logLevel: 'error',
    })
    process.once('exit', () => { try { fs.rmSync(outfile) } catch { /* already gone */ } })
    return outfile
  })()
  return bundle
}

export interface SdkEvent { event: string; data: Record<string, unknown>; run: number }

export interface SdkProcess {
  readonly name: string
  readonly nodeId: string
  /** Event lines printed by every run, in order; `run` counts the starts (1, 2, …). */
  readonly events: SdkEvent[]
  /** Sends a command; rejects if the process dies before answering or the answer is an error. */
  call<T = unknown> (cmd: string, args?: Record<string, unknown>): Promise<T>
  /** Starts it again on the same data directory (SIGKILLs a running one first); env e.g. SDK_CRASH_AT. */
  restart (env?: Record<string, string>): Promise<void>
  /** Resolves once the current run exits, with its signal (SIGKILL for a crash point) or code. */
  exited (): Promise<string | number | null>
  readonly alive: boolean
  /** SIGKILL. */
  kill (): Promise<void>
  /** Asks it to stop cleanly and waits. */
  stop (): Promise<void>
}

export interface StartSdkOptions {
  name: string
  dataDir: string
  nodeKey: Uint8Array
  hub: HubProcess
  btc: Btcd
  role: Role
  payTimeoutMs?: number
  verbose?: boolean
}

interface Teardown { teardown (fn: () => Promise<void> | void): void }

export async function startSdkProcess (o: StartSdkOptions, t?: Teardown): Promise<SdkProcess> {
  const options = {
    nodeKey: bytesToHex(o.nodeKey), hubUrl: o.hub.url, hubId: o.hub.hubId, dataDir: o.dataDir, role: o.role,
    btcdRpc: o.btc.node.rpc, reconnectInitialMs: 50, reconnectMaxMs: 500, payTimeoutMs: o.payTimeoutMs ?? 20_000,
  }
  const events: SdkEvent[] = []
  let child: ChildProcess | undefined
  let exit: Promise<string | number | null> = Promise.resolve(null)
  let pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  let nextId = 1
  let run = 0
  let nodeId = ''
  let stderr = ''

  const launch = async (env: Record<string, string>): Promise<void> => {
    run++
    const thisRun = run
    pending = new Map()
    const c = spawn(process.execPath, [await sdkBundle()], {
      cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, SDK_CRASH_AT: '', ...env, SDK_CLIENT_OPTIONS: JSON.stringify(options) },
    })
    child = c
    // A command written while the child is being killed fails with EPIPE; the exit handler below rejects
    // that call ("exited before answering"), which is what the rig expects of a victim, so the stream's
    // error is not the test's.
    c.stdin!.on('error', () => {})
    stderr = ''
    const calls = pending
    exit = new Promise(resolve => c.once('exit', (code, signal) => {
      for (const p of calls.values()) p.reject(new Error(`${o.name} exited (${signal ?? code}) before answering`))
      calls.clear()
      resolve(signal ?? code)
    }))
    c.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-8_000); if (o.verbose === true) process.stderr.write(`[${o.name}!] ${d.toString()}`)
    })
    let ready: (() => void) | undefined
    const readyP = new Promise<void>(resolve => { ready = resolve })
    createInterface({ input: c.stdout! }).on('line', line => {
      let m: {
        id?: number; ok?: boolean; result?: unknown; error?: string; event?: string; data?: Record<string, unknown>; nodeId?: string,
      }
      try { m = JSON.parse(line) as typeof m } catch { return }
      if (o.verbose === true) process.stderr.write(`[${o.name}] ${line.slice(0, 300)}\n`)
      if (m.event === 'ready') { nodeId = m.nodeId ?? ''; ready?.(); return }
      if (m.event !== undefined) { events.push({ event: m.event, data: m.data ?? {}, run: thisRun }); return }
      const p = m.id !== undefined ? calls.get(m.id) : undefined
      if (p === undefined) return
      calls.delete(m.id!)
      if (m.ok === true) p.resolve(m.result)
      else p.reject(new Error(`${o.name}: ${m.error}`))
    })
    await Promise.race([readyP, exit.then(how => { throw new Error(`${o.name} exited (${how}) before it was ready:\n${stderr}`) })])
  }

  await launch({})
  const p: SdkProcess = {
    name: o.name,
    get nodeId () { return nodeId },
    events,
    get alive () { return child !== undefined && child.exitCode === null && child.signalCode === null },
    call<T> (cmd: string, args: Record<string, unknown> = {}): Promise<T> {
      if (!p.alive) return Promise.reject(new Error(`${o.name} is not running`))
      const id = nextId++
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: v => resolve(v as T), reject })
        child!.stdin!.write(JSON.stringify({ id, cmd, args }) + '\n')
      })
    },
    async restart (env = {}) { await p.kill(); await launch(env) },
    exited: () => exit,
    async kill () {
      if (!p.alive) return
      child!.kill('SIGKILL')
      await exit
    },
    async stop () {
      if (!p.alive) return
      const timer = setTimeout(() => child?.kill('SIGKILL'), 15_000)
      await p.call('stop').catch(() => {})
      await exit
      clearTimeout(timer)
    },
  }
  t?.teardown(() => p.stop())
  return p
}
