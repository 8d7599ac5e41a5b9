// hubctl's only way to the hub: its admin API (hub/admin/server.ts), with a bearer token. Where the
// API is and which token to send come from flags, the environment, or the hub's data directory:
//   --admin URL        or HUBCTL_URL, or <data-dir>/admin.url (the hub writes it when it serves)
//   --token-file F     or HUBCTL_TOKEN (the token itself), or <data-dir>/admin.token, else read.token
//   --data-dir D       or HUB_DATA_DIR; default .data/hub (what `npm start` runs)
// Every failure is a CtlError with the exit code hubctl ends with (EXIT below, also in the README).
import fs from 'node:fs'
import path from 'node:path'

/** hubctl's exit codes. */
export const EXIT = {
  ok: 0,
  /** The hub refused the request (400, 409, 5xx): its error is printed. */
  refused: 1,
  /** A bad command line: unknown command or flag, a malformed argument. */
  usage: 2,
  /** The hub cannot be reached, or no URL or token was found. */
  unreachable: 3,
  /** The token was refused (401), or it is the read-only one and the command changes something (403). */
  unauthorized: 4,
  /** This hub has no such route (an older hub, or a feature not built yet). */
  unsupported: 5,
  /** `audit verify`: the exported log does not verify. */
  verifyFailed: 6,
} as const

export class CtlError extends Error {
  constructor (readonly exitCode: number, message: string) { super(message) }
}

/** Waits for an answer at most this long: a hub that does not answer in it is as good as down. */
export const REQUEST_TIMEOUT_MS = 30_000

export interface Target { url: string; token: string }
export interface TargetOptions { admin?: string; tokenFile?: string; dataDir?: string }

export const DEFAULT_DATA_DIR = '.data/hub'

export function resolveTarget (o: TargetOptions, env: NodeJS.ProcessEnv = process.env): Target {
  const dataDir = o.dataDir ?? env.HUB_DATA_DIR ?? DEFAULT_DATA_DIR
  const read = (file: string): string | undefined => { try { return fs.readFileSync(file, 'utf8').trim() } catch { return undefined } }
  const url = o.admin ?? env.HUBCTL_URL ?? read(path.join(dataDir, 'admin.url'))
  if (url === undefined) {
    throw new CtlError(EXIT.unreachable, `no admin API URL: pass --admin URL (the hub's listening line "rpc"), set ` +
      `HUBCTL_URL, or --data-dir D ` +
      `of a running hub (D/admin.url; looked in ${dataDir})`)
  }
  try { new URL(url) } catch { throw new CtlError(EXIT.usage, `--admin: not a URL: ${JSON.stringify(url)}`) }
  let token: string | undefined
  if (o.tokenFile !== undefined) {
    token = read(o.tokenFile)
    if (token === undefined) throw new CtlError(EXIT.unreachable, `--token-file: cannot read ${o.tokenFile}`)
  } else token = env.HUBCTL_TOKEN ?? read(path.join(dataDir, 'admin.token')) ?? read(path.join(dataDir, 'read.token'))
  if (token === undefined || token === '') {
    throw new CtlError(EXIT.unreachable, `no token: pass --token-file F (the hub's <data-dir>/admin.token or ` +
      `read.token), set HUBCTL_TOKEN, ` +
      `or --data-dir D (looked in ${dataDir})`)
  }
  return { url: url.replace(/\/$/, ''), token }
}

export interface Answer { status: number; body: unknown; text: string }

export class AdminClient {
  constructor (private readonly target: Target) {}

  /** A request; resolves with a 2xx answer, throws a CtlError naming what went wrong otherwise. */
  async call (method: 'GET' | 'POST', route: string, body?: unknown): Promise<Answer> {
    const a = await this.raw(method, route, body)
    if (a.status >= 200 && a.status < 300) return a
    throw errorOf(method, route, a)
  }

  async raw (method: 'GET' | 'POST', route: string, body?: unknown): Promise<Answer> {
    let res: Response
    try {
      res = await fetch(this.target.url + route, {
        method,
        headers: { authorization: `Bearer ${this.target.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      })
    } catch (e) {
      const why = (e as Error).name === 'TimeoutError' ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : causeOf(e)
      throw new CtlError(EXIT.unreachable, `cannot reach the hub's admin API at ${this.target.url} (${why}); is the hub running?`)
    }
    const text = await res.text()
    let parsed: unknown = text
    try { parsed = JSON.parse(text) } catch { /* not JSON (an export in JSON lines): kept as text */ }
    return { status: res.status, body: parsed, text }
  }
}

function causeOf (e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (e as Error).message
}

export function errorOf (method: string, route: string, a: Answer): CtlError {
  const why = typeof a.body === 'object' && a.body !== null && 'error' in a.body ? String((a.body as { error: unknown }).error) : a.text
  const what = `${method} ${route}: ${a.status}`
  if (a.status === 401) return new CtlError(EXIT.unauthorized, `${what}: the hub refused the token (${why})`)
  if (a.status === 403) return new CtlError(EXIT.unauthorized, `${what}: ${why} (use the admin token: --token-file <data-dir>/admin.token)`)
  if (a.status === 404 && /^no route/.test(why)) {
    return new CtlError(EXIT.unsupported, `${what}: this hub has no such route (${why}); it may be older than this hubctl`)
  }
  return new CtlError(EXIT.refused, `${what}: ${why}`)
}
