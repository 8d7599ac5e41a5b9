// The orchestrator ↔ client-worker channel (Node IPC over a forked child): request/reply by id.
import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO_ROOT = path.resolve(HERE, '../..')
const TSX_LOADER = path.join(REPO_ROOT, 'node_modules/tsx/dist/esm/index.mjs')

export interface WorkerInit {
  role: 'platform' | 'creator'
  count: number
  hubUrl: string
  hubId: string
  dataDir: string
  btcd: { host: string; port: number; user: string; pass: string }
  verbose: boolean
}

/** What a batch of payments came to, at the payer. */
export interface PayOutcome {
  ok: number
  failed: number
  latenciesMs: number[]
  failures: Record<string, number>
  amountMsat: number
  feeMsat: number
}

export interface Request { id: number; cmd: string; args: Record<string, unknown> }

/** The worker side: a request, or undefined for anything else that arrives. */
export function parseRequest (raw: unknown): Request | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const r = raw as Record<string, unknown>
  if (typeof r.id !== 'number' || typeof r.cmd !== 'string') return undefined
  const args = typeof r.args === 'object' && r.args !== null ? r.args as Record<string, unknown> : {}
  return { id: r.id, cmd: r.cmd, args }
}

/** The worker side: answers every request from the orchestrator with its handler's result (one
 *  reply per request: {id, ok: true, value} or {id, ok: false, error}); exits when the orchestrator
 *  goes away. */
export function serveRequests (handlers: Record<string, (args: Record<string, unknown>) => Promise<unknown>>): void {
  process.on('message', (raw: unknown) => {
    const req = parseRequest(raw)
    if (req === undefined) return
    const h = handlers[req.cmd]
    const reply = (m: Record<string, unknown>): void => { process.send?.({ id: req.id, ...m }) }
    if (h === undefined) { reply({ ok: false, error: `unknown command ${req.cmd}` }); return }
    h(req.args).then(
      value => reply({ ok: true, value }),
      (e: unknown) => reply({ ok: false, error: e instanceof Error ? e.stack ?? e.message : String(e) }),
    )
  })
  process.on('disconnect', () => { process.exit(0) })
}

/** The orchestrator side of one client process. */
export class WorkerProcess {
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private readonly child: ChildProcess
  readonly exited: Promise<number | null>

  /** `script`: the worker program in scripts/bench (client-worker.ts: SDK clients; many-channels-worker.ts:
   *  the lightweight many-channel client). */
  constructor (readonly name: string, verbose: boolean, script = 'client-worker.ts') {
    this.child = fork(path.join(HERE, script), [], {
      execArgv: ['--import', TSX_LOADER], cwd: REPO_ROOT, stdio: ['ignore', verbose ? 'inherit' : 'ignore', 'inherit', 'ipc'],
    })
    this.exited = new Promise(resolve => this.child.once('exit', code => {
      for (const p of this.pending.values()) p.reject(new Error(`${name}: the client process exited (${code})`))
      this.pending.clear()
      resolve(code)
    }))
    this.child.on('message', (m: unknown) => {
      const r = m as { id?: number; ok?: boolean; value?: unknown; error?: string }
      const p = typeof r.id === 'number' ? this.pending.get(r.id) : undefined
      if (p === undefined) return
      this.pending.delete(r.id!)
      if (r.ok === true) p.resolve(r.value); else p.reject(new Error(`${name}: ${r.error ?? 'failed'}`))
    })
  }

  get pid (): number | undefined { return this.child.pid }

  call<T> (cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: v => resolve(v as T), reject })
      this.child.send({ id, cmd, args })
    })
  }

  async stop (): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    try { await Promise.race([this.call('stop'), new Promise(resolve => setTimeout(resolve, 10_000))]) } catch { /* exiting anyway */ }
    this.child.disconnect()
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000)
    await this.exited
    clearTimeout(timer)
  }
}
