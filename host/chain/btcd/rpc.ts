// JSON-RPC 1.0 over HTTP to btcd: at most MAX_IN_FLIGHT requests at once, a timeout per attempt,
// retries only where repeating cannot do harm, and every reply checked by a zod schema before anyone
// reads it (DESIGN.md rule 4). The agent keeps connections alive, but btcd answers every request
// with `Connection: close` (rpcserver.go), so in practice each request opens a fresh connection,
// which also means no request is ever written to a connection the server is closing.
import http from 'node:http'
import { z } from 'zod'
import { err, ok, type Result } from '../../../protocol/result.ts'
import type { ChainFailure } from '../backend.ts'
import { observer, type RpcOutcome } from '../../observe.ts'

/** btcd answers HTTP 503 once more than --rpcmaxclients requests are open (default 10; the managed
 *  node allows 100, shared by every process on it); one client stays below the default. */
export const MAX_IN_FLIGHT = 8
/** A single attempt taking longer than this is abandoned (btcd answers a regtest call in milliseconds). */
export const DEFAULT_TIMEOUT_MS = 15_000
/** Attempts for a request that is safe to repeat (reads, and anything refused with 503). */
export const DEFAULT_ATTEMPTS = 4
/** Replies larger than this are refused: no btcd reply we ask for comes near it on regtest. */
const MAX_REPLY_BYTES = 32 * 1024 * 1024

export interface RpcConfig {
  host: string
  port: number
  user: string
  pass: string
  timeoutMs?: number
  attempts?: number
}

/** An error object in a JSON-RPC reply: btcd's own refusal, passed up with its code and message. */
export interface RpcRefusal { code: number; message: string }

const envelope = z.object({
  result: z.unknown(),
  error: z.object({ code: z.number().int(), message: z.string().max(10_000) }).nullable().optional(),
  id: z.unknown()
})

/** "getblock.result.rawtx.0.hex: expected string, received number" */
export function describeZodError (label: string, e: z.ZodError): string {
  return e.issues.slice(0, 3).map(i => {
    const path = [label, ...i.path.map(String)].join('.')
    return `${path}: ${i.message}`
  }).join('; ')
}

type Attempt =
  | { kind: 'reply'; status: number; body: string }
  | { kind: 'failed'; detail: string; sent: boolean }

export class BtcdRpc {
  private readonly agent: http.Agent
  private readonly auth: string
  private inFlight = 0
  private readonly waiting: Array<() => void> = []
  private nextId = 1
  private closed = false

  constructor (readonly config: RpcConfig) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT })
    this.auth = 'Basic ' + Buffer.from(`${config.user}:${config.pass}`).toString('base64')
  }

  /**
   * Calls `method` and parses `result` with `schema`. `idempotent` requests are retried on any
   * transport failure; others only when the node provably did not process them (503, refused).
   * A JSON-RPC error is returned as { refused } for the caller to interpret.
   */
  async call<T> (method: string, params: unknown[], schema: z.ZodType<T>, opts: { idempotent: boolean }):
  Promise<Result<{ refused: RpcRefusal } | { result: T }, ChainFailure>> {
    const started = performance.now()
    const r = await this.attempts(method, params, schema, opts)
    const outcome: RpcOutcome = r.ok ? ('refused' in r.value ? 'refused' : 'ok') : r.error.kind
    observer().rpcCall(method, performance.now() - started, outcome)
    return r
  }

  private async attempts<T> (method: string, params: unknown[], schema: z.ZodType<T>, opts: { idempotent: boolean }):
  Promise<Result<{ refused: RpcRefusal } | { result: T }, ChainFailure>> {
    const body = JSON.stringify({ jsonrpc: '1.0', id: this.nextId++, method, params })
    const attempts = this.config.attempts ?? DEFAULT_ATTEMPTS
    let last = ''
    for (let i = 0; i < attempts; i++) {
      if (this.closed) return err({ kind: 'unavailable', detail: `${method}: client closed` })
      if (i > 0) await sleep(50 * 2 ** (i - 1))
      const a = await this.limited(() => this.post(body))
      if (a.kind === 'failed') {
        last = a.detail
        if (opts.idempotent || !a.sent) continue
        return err({ kind: 'unavailable', detail: `${method}: ${a.detail} (not retried: the node may have processed it)` })
      }
      if (a.status === 503) { last = 'HTTP 503 (node busy)'; continue }
      if (a.status === 401) return err({ kind: 'rpc_error', code: 401, detail: `${method}: HTTP 401, wrong RPC user or password` })
      // btcd answers JSON-RPC errors with HTTP 500 and a JSON body; anything else is not btcd speaking.
      if (a.status !== 200 && a.status !== 500) {
        return err({ kind: 'bad_reply', detail: `${method}: unexpected HTTP status ${a.status}` })
      }
      let json: unknown
      try { json = JSON.parse(a.body) } catch {
        return err({ kind: 'bad_reply', detail: `${method}: reply is not JSON (HTTP ${a.status})` })
      }
      const env = envelope.safeParse(json)
      if (!env.success) return err({ kind: 'bad_reply', detail: describeZodError(method, env.error) })
      if (env.data.error != null) return ok({ refused: env.data.error })
      const parsed = schema.safeParse(env.data.result)
      if (!parsed.success) return err({ kind: 'bad_reply', detail: describeZodError(`${method}.result`, parsed.error) })
      return ok({ result: parsed.data })
    }
    return err({ kind: 'unavailable', detail: `${method}: ${last} after ${attempts} attempts` })
  }

  /** Like call, but a JSON-RPC refusal becomes an rpc_error. */
  async request<T> (method: string, params: unknown[], schema: z.ZodType<T>, opts: { idempotent: boolean }): Promise<Result<T,
  ChainFailure>> {
    const r = await this.call(method, params, schema, opts)
    if (!r.ok) return r
    if ('refused' in r.value) return err({ kind: 'rpc_error', code: r.value.refused.code, detail: `${method}: ${r.value.refused.message}` })
    return ok(r.value.result)
  }

  close (): void {
    this.closed = true
    this.agent.destroy()
  }

  private async limited<T> (f: () => Promise<T>): Promise<T> {
    while (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>(resolve => this.waiting.push(resolve))
    this.inFlight++
    try { return await f() } finally {
      this.inFlight--
      this.waiting.shift()?.()
    }
  }

  private post (body: string): Promise<Attempt> {
    const timeoutMs = this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS
    return new Promise(resolve => {
      let sent = false
      let done = false
      const finish = (a: Attempt): void => { if (!done) { done = true; clearTimeout(timer); resolve(a) } }
      const req = http.request({
        host: this.config.host,
        port: this.config.port,
        method: 'POST',
        path: '/',
        agent: this.agent,
        headers: { 'content-type': 'application/json', authorization: this.auth, 'content-length': Buffer.byteLength(body) }
      }, res => {
        const chunks: Buffer[] = []
        let size = 0
        res.on('data', (c: Buffer) => {
          size += c.length
          if (size > MAX_REPLY_BYTES) { req.destroy(); finish({ kind: 'failed', detail: 'reply too large', sent: true }); return }
          chunks.push(c)
        })
        res.on('end', () => finish({ kind: 'reply', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', e => finish({ kind: 'failed', detail: e.message, sent: true }))
      })
      // A request that never reached the server (refused, reset before writing) was not processed.
      req.on(
        'error',
        (e: NodeJS.ErrnoException) => finish({ kind: 'failed', detail: e.code ?? e.message, sent: sent && e.code !== 'ECONNREFUSED' }),
      )
      req.on('finish', () => { sent = true })
      const timer = setTimeout(
        () => { req.destroy(); finish({ kind: 'failed', detail: `timed out after ${timeoutMs} ms`, sent: true }) }, timeoutMs,
      )
      req.end(body)
    })
  }
}

function sleep (ms: number): Promise<void> { return new Promise(resolve => setTimeout(resolve, ms)) }
