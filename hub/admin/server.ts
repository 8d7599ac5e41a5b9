// The operator's admin API: JSON over HTTP on loopback (or HTTPS elsewhere: admin.tls), behind bearer
// tokens (hub/admin/auth.ts: the read-only token opens GET routes, the admin token every route; a
// request without a valid one is refused with 401, a read-only token asking for more with 403).
// Every route, with its body and answer, is in ROUTES below: GET / answers with that list, and the
// README's operator section documents the same (a test keeps them in step). "local" is always the
// hub's side. Errors: {error: "<field>: <why>"} with status 400 (bad request), 401/403 (token), 404
// (unknown route or channel) or 409 (refused: the answer says why).
import fs from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createTlsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { z } from 'zod'
import {
  DEFAULT_MAX_FEERATE_PER_KW, DEFAULT_MIN_FUNDING_SATOSHIS, FEERATE_PER_KW_FLOOR, MAX_FAUCET_SAT, MAX_FUNDING_SATOSHIS,
} from '../../protocol/limits.ts'
import type { NodeId } from '../../protocol/types.ts'
import { AUDIT_ROUTES, handleAuditRoute, type AuditHandlers } from './audit-routes.ts'
import { authorize } from './auth.ts'
import { regtestAddress } from './faucet.ts'
import { MAX_RECENT_PAYMENTS } from './payments.ts'
import { SETTLEMENT_ROUTES, settlementRoute, type SettlementAdmin } from './settlement-routes.ts'
import { TLS_ROUTES } from './tls-routes.ts'
import { BACKUP_ROUTES } from './backup-routes.ts'
import { NODE_KEY_ROUTES } from './node-key-routes.ts'
import type { AdminTokens } from './tokens.ts'
import { ACCOUNTING_ROUTES, accountingRoute } from './accounting-routes.ts'
import type { Ledger } from '../accounting/ledger.ts'

/** One route: what it takes and what it answers (GET /, and the README). */
export interface RouteDoc { method: 'GET' | 'POST'; path: string; body?: string; answer: string }

export const ROUTES: readonly RouteDoc[] = [
  { method: 'GET', path: '/', answer: '{routes: [{method, path, body?, answer}]}: this list' },
  {
    method: 'GET', path: '/info',
    answer: '{hub_id, ws, height, wallet: {spendable, total, ...}, sessions, restored}; restored: null, or for a hub started from a '
      + 'restored backup {backup_created_at, backup_height, channels_held}: the channels whose own commitment the hub will not '
      + 'broadcast until their peers prove them current',
  },
  {
    method: 'GET', path: '/channels',
    answer: '[{channel_id, peer, status, phase, link, is_funder, capacity_sat, funding_txid, local_msat, remote_msat, htlcs, '
      + 'local_commitment_index, remote_commitment_index, stopped, pending_splices, onchain}]. pending_splices: splice txids signed and '
      + 'not locked yet. status: opening | open | closing | force_closing | closed | '
      + 'abandoned. onchain (null while the channel is open): {force_close_reason, closing_txid, closing_height, how, resolved, '
      + 'sweeps: [{txid, height, amount_sat}], swept_sat, stale, we_lost_state}; how: mutual | hub_commitment | peer_commitment | '
      + 'peer_revoked_commitment | unknown_commitment; force_close_reason: why the hub\'s commitment goes on-chain (a protocol/errors.ts '
      + 'reason, or the monitor\'s own decision); sweeps: what the chain monitor claimed to the hub wallet (confirmed); resolved: '
      + 'every output final at channels.finalityDepth',
  },
  {
    method: 'GET', path: '/stats',
    answer: '{forwarded, fulfilled, failed, fees_msat, failed_by_reason: {reason: count}}: since the hub was first started (kept in its '
      + 'store across restarts)',
  },
  {
    method: 'GET', path: '/payments',
    answer: '[{at, status, channel_in, htlc_in, payment_hash, amount_msat, fee_msat, payee, reason, detail, latency_ms}]: the latest '
      + 'payments through the hub, newest first; query ?limit=N (default 50, at most 200) and ?failed=true (failures only, with '
      + 'their reason)',
  },
  {
    method: 'GET', path: '/peers',
    answer: '[{node_id, connected, channels, open_channels, local_msat, remote_msat}]: every node the hub has a channel with',
  },
  {
    method: 'GET', path: '/closed',
    answer: '[{channel_id, peer, how, closing_txid, closing_height, resolved, force_close_reason, sweeps, swept_sat}] for every channel '
      + 'whose funding output is spent (cooperative or force close), or whose cooperative closing tx the hub broadcast (closing_height '
      + 'null until it confirms); a cooperative close adds {to_local_sat, to_remote_sat, fee_sat, agreed_fee_sat, trimmed_local_sat, '
      + 'trimmed_remote_sat}: what the tx pays each side (an output below the dust limit is 0, its balance in trimmed_* and fee_sat)',
  },
  {
    method: 'GET', path: '/metrics',
    answer: 'Prometheus text exposition (not JSON): payments, latency, HTLCs, channels, balances, holds, settlement, fsync, btcd RPC, '
      + 'sessions, rejected frames, the node key and its rotation\'s grace, process memory (README "Operating the hub" lists them)',
  },
  {
    method: 'GET', path: '/dashboard',
    answer: 'the live dashboard (HTML; GET /dashboard/login posts a token for a session cookie, GET routes only)',
  },
  { method: 'POST', path: '/wallet/address', answer: '{address}: a fresh address of the hub\'s wallet' },
  {
    method: 'POST', path: '/channels/open', body: '{peer, funding_sat?}',
    answer: '{temporary_channel_id, channel_id}: the hub opens a channel with its own funds to a connected peer',
  },
  {
    method: 'POST', path: '/channels/close', body: '{channel_id, allow_dust_trim?}',
    answer: '{ok, phase}: cooperative close (shutdown); 409 {error: "dust_trim: ...", trims: [{side, amount_sat, dust_limit_sat}]} when '
      + 'an output would be left out as dust, unless allow_dust_trim is true',
  },
  {
    method: 'POST', path: '/channels/force-close', body: '{channel_id}',
    answer: '{ok, broadcast}: the channel fails, then its monitor broadcasts the hub\'s latest commitment and later sweeps the hub\'s '
      + 'outputs (GET /channels onchain.sweeps); 409 when it must not (the hub lost state) or is closing already',
  },
  {
    method: 'POST', path: '/channels/splice-in', body: '{channel_id, amount_sat}',
    answer: '{channel_id, txid, amount_sat, fee_sat, capacity_sat}: a top-up: the hub splices amount_sat of its wallet into its side of '
      + 'the channel, answered once both sides signed and it is broadcast; 409 refused or ended (why), 504 not signed within '
      + 'splices.topUpTimeoutMs (it goes on)',
  },
  {
    method: 'POST', path: '/channels/splice-rbf', body: '{channel_id, txid, feerate_per_kw}',
    answer: '{channel_id, txid, amount_sat, fee_sat, capacity_sat}: replaces the hub\'s pending top-up txid by the same splice at '
      + 'feerate_per_kw (tx_init_rbf; the hub\'s wallet pays the higher fee), answered once both sides signed the replacement and it is '
      + 'broadcast; 404 no such pending splice, 409 refused (a feerate below 25/24 of the replaced one\'s, the peer\'s splice, locked) '
      + 'or ended, 504 as splice-in',
  },
  {
    method: 'GET', path: '/splices',
    answer: '[{channel_id, peer, kind, txid, amount_sat, fee_sat, capacity_sat, depth, locked, replaced_by?, dropped?}]: the splices '
      + 'the hub took part in since it started; kind: out (the peer\'s payout) | in (the peer added funds) | topup (the hub did); '
      + 'replaced_by: the transaction of the same splice (an RBF replacement, or the original) that locked instead; dropped: why it '
      + 'never will (an input of it spent elsewhere, final)',
  },
  {
    method: 'POST', path: '/regtest/mine', body: '{blocks}',
    answer: '{blocks, tip, coinbase_address}: managed regtest node only: mines the blocks with the mempool\'s transactions; their '
      + 'coinbases pay the hub wallet',
  },
  {
    method: 'POST', path: '/regtest/faucet', body: '{address, amount_sat, confirm?}',
    answer: '{txid, vout, amount_sat, fee_sat, blocks_mined, confirmed, height}: regtest only: pays amount_sat (1 ... MAX_FAUCET_SAT) '
      + 'to address from the hub wallet, mining coins first if it lacks them, then (unless confirm is false) confirms it in a block; '
      + '409 on a chain that is not regtest',
  },
  ...SETTLEMENT_ROUTES,
  ...TLS_ROUTES,
  ...BACKUP_ROUTES,
  ...NODE_KEY_ROUTES,
  ...AUDIT_ROUTES,
  ...ACCOUNTING_ROUTES,
]

export interface AdminHandlers {
  info (): unknown
  channels (): Promise<unknown>
  stats (): unknown
  payments? (limit: number, failed: boolean): unknown
  peers? (): unknown
  closed (): Promise<unknown>
  newAddress (): unknown
  open (peer: NodeId, fundingSat?: number): Promise<unknown>
  close (channelId: string, allowDustTrim: boolean): Promise<{ status: number; body: unknown }>
  /** Fail the channel and broadcast our latest commitment (hub/channels/monitoring.ts forceClose). */
  forceClose? (channelId: string): Promise<{ status: number; body: unknown }>
  /** Top-up: splice hub funds into a channel (hub/channels/splicing.ts topUp). */
  spliceIn? (channelId: string, amountSat: number): Promise<{ status: number; body: unknown }>
  /** Replace a pending top-up at a higher feerate (hub/channels/splicing.ts topUpRbf). */
  spliceRbf? (channelId: string, txid: string, feeratePerKw: number): Promise<{ status: number; body: unknown }>
  splices? (): unknown
  mine? (blocks: number): Promise<unknown>
  faucet (address: string, amountSat: number, confirm: boolean): Promise<{ status: number; body: unknown }>
  /** Payout policies (hub/admin/settlement-routes.ts). */
  settlement?: SettlementAdmin
  /** The audit routes (hub/admin/audit-routes.ts). */
  audit?: AuditHandlers
  /** The ledger of settled payments and fees (hub/admin/accounting-routes.ts). */
  ledger?: Ledger
}

/** Payments GET /payments lists unless asked for another number (at most MAX_RECENT_PAYMENTS). */
const DEFAULT_PAYMENTS_LISTED = 50
const paymentsQuery = z.strictObject({
  limit: z.coerce.number<string>().int().min(1).max(MAX_RECENT_PAYMENTS).optional(),
  failed: z.enum(['true', 'false']).optional(),
})
/** Largest request body: the biggest request (open) is under 200 bytes. */
const MAX_BODY = 16 * 1024
const openBody = z.strictObject({
  peer: z.string().regex(/^0[23][0-9a-f]{64}$/, { error: 'must be a node id (33-byte compressed key, hex)' }),
  funding_sat: z.number().int().min(DEFAULT_MIN_FUNDING_SATOSHIS).max(MAX_FUNDING_SATOSHIS).optional(),
})
const channelIdField = z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be 32 bytes of lowercase hex' })
const closeBody = z.strictObject({ channel_id: channelIdField, allow_dust_trim: z.boolean().optional() })
const forceCloseBody = z.strictObject({ channel_id: channelIdField })
const spliceInBody = z.strictObject({
  channel_id: channelIdField,
  amount_sat: z.number({ error: 'must be a number of satoshis' }).int({ error: 'must be an integer number of satoshis' })
    .min(1, { error: 'must be at least 1 sat' }).max(
      MAX_FUNDING_SATOSHIS, { error: `must be at most ${MAX_FUNDING_SATOSHIS} sat (MAX_FUNDING_SATOSHIS)` },
    ),
})
const spliceRbfBody = z.strictObject({
  channel_id: channelIdField,
  txid: z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be a txid (32 bytes of lowercase hex)' }),
  feerate_per_kw: z.number({ error: 'must be a number (sat per 1000 weight units)' }).int({
    error: 'must be an integer (sat per 1000 weight units)'
  })
    .min(FEERATE_PER_KW_FLOOR, { error: `must be at least ${FEERATE_PER_KW_FLOOR} (FEERATE_PER_KW_FLOOR)` })
    .max(DEFAULT_MAX_FEERATE_PER_KW, { error: `must be at most ${DEFAULT_MAX_FEERATE_PER_KW} (DEFAULT_MAX_FEERATE_PER_KW)` }),
})
/** Blocks one mine request may ask for: a regtest chain grows by them, and btcd mines them one by one. */
const MAX_BLOCKS_PER_REQUEST = 1_000
const mineBody = z.strictObject({ blocks: z.number().int().min(1).max(MAX_BLOCKS_PER_REQUEST) })
const faucetBody = z.strictObject({
  address: regtestAddress,
  amount_sat: z.number({ error: 'must be a number of satoshis' }).int({ error: 'must be an integer number of satoshis' })
    .min(1, { error: 'must be at least 1 sat' }).max(MAX_FAUCET_SAT, { error: `must be at most ${MAX_FAUCET_SAT} sat (MAX_FAUCET_SAT)` }),
  confirm: z.boolean().optional(),
})

/** Where and how the admin API listens (hub/config.ts `admin`, `adminPort`). */
export interface AdminListen {
  port: number
  host: string
  /** PEM files: HTTPS. Absent: HTTP (loopback only; hub/config.ts refuses another host). */
  tls?: { certFile: string; keyFile: string }
  tokens: AdminTokens
}

/** Routes served next to the JSON API, behind the same tokens: they answer a request themselves, or
 *  return false when the route is not theirs (/metrics, the dashboard). */
export type ExtraRoute = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean> | boolean
/** Routes that answer before the token check (the dashboard's login form): true when handled. */
export type PublicRoute = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean> | boolean

export class AdminServer {
  private constructor (private readonly server: Server, private readonly scheme: 'http' | 'https', private readonly host: string) {}

  static async start (
    listen: AdminListen, h: AdminHandlers, more: { extra?: ExtraRoute[]; public?: PublicRoute[] } = {},
  ): Promise<AdminServer> {
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      void guarded(listen.tokens, h, more, req, res)
    }
    const server: Server = listen.tls !== undefined
      ? createTlsServer(
        { cert: fs.readFileSync(listen.tls.certFile), key: fs.readFileSync(listen.tls.keyFile) }, onRequest,
      ) as unknown as Server
      : createServer(onRequest)
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(listen.port, listen.host, () => resolve()) })
    return new AdminServer(server, listen.tls !== undefined ? 'https' : 'http', listen.host)
  }

  get url (): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host
    return `${this.scheme}://${host}:${(this.server.address() as AddressInfo).port}`
  }

  async close (): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }
}

export function send (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

async function readJson (req: IncomingMessage): Promise<unknown> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const c of req) {
    size += (c as Buffer).length
    if (size > MAX_BODY) throw new Error(`body: larger than ${MAX_BODY} bytes`)
    chunks.push(c as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text === '') return {}
  try { return JSON.parse(text) } catch { throw new Error('body: not JSON') }
}

function parse<T> (schema: z.ZodType<T>, v: unknown): T {
  const r = schema.safeParse(v)
  if (!r.success) throw new Error(r.error.issues.map(i => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '))
  return r.data
}

/** The token check in front of every route; then the extra routes, then the JSON API. */
async function guarded (
  tokens: AdminTokens, h: AdminHandlers, more: { extra?: ExtraRoute[]; public?: PublicRoute[] }, req: IncomingMessage, res: ServerResponse,
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0]!
  try {
    for (const r of more.public ?? []) if (await r(req, res, path)) return
    const auth = authorize(tokens, req.method ?? 'GET', { authorization: req.headers.authorization, cookie: req.headers.cookie })
    if (!auth.ok) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="hub-admin"')
      return send(res, auth.status, { error: auth.error })
    }
    for (const r of more.extra ?? []) if (await r(req, res, path)) return
  } catch (e) {
    if (!res.headersSent) send(res, 500, { error: (e as Error).message })
    return
  }
  await handle(h, req, res)
}

async function handle (h: AdminHandlers, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const route = `${req.method ?? 'GET'} ${(req.url ?? '/').split('?')[0]}`
    if (await handleAuditRoute(h.audit, route, req, res)) return
    switch (route) {
      case 'GET /': return send(res, 200, { routes: ROUTES })
      case 'GET /info': return send(res, 200, h.info())
      case 'GET /channels': return send(res, 200, await h.channels())
      case 'GET /stats': return send(res, 200, h.stats())
      case 'GET /payments': {
        const q = parse(paymentsQuery, Object.fromEntries(new URL(req.url ?? '/', 'http://x').searchParams))
        return send(res, 200, h.payments?.(q.limit ?? DEFAULT_PAYMENTS_LISTED, q.failed === 'true') ?? [])
      }
      case 'GET /peers': return send(res, 200, h.peers?.() ?? [])
      case 'GET /closed': return send(res, 200, await h.closed())
      case 'POST /wallet/address': return send(res, 200, h.newAddress())
      case 'POST /channels/open': {
        const b = parse(openBody, await readJson(req))
        return send(res, 200, await h.open(b.peer as NodeId, b.funding_sat))
      }
      case 'POST /channels/close': {
        const b = parse(closeBody, await readJson(req))
        const r = await h.close(b.channel_id, b.allow_dust_trim === true)
        return send(res, r.status, r.body)
      }
      case 'POST /channels/force-close': {
        if (h.forceClose === undefined) return send(res, 404, { error: `no route ${route}` })
        const b = parse(forceCloseBody, await readJson(req))
        const r = await h.forceClose(b.channel_id)
        return send(res, r.status, r.body)
      }
      case 'POST /channels/splice-in': {
        if (h.spliceIn === undefined) return send(res, 404, { error: `no route ${route}` })
        const b = parse(spliceInBody, await readJson(req))
        const r = await h.spliceIn(b.channel_id, b.amount_sat)
        return send(res, r.status, r.body)
      }
      case 'POST /channels/splice-rbf': {
        if (h.spliceRbf === undefined) return send(res, 404, { error: `no route ${route}` })
        const b = parse(spliceRbfBody, await readJson(req))
        const r = await h.spliceRbf(b.channel_id, b.txid, b.feerate_per_kw)
        return send(res, r.status, r.body)
      }
      case 'GET /splices': return send(res, 200, h.splices?.() ?? [])
      case 'POST /regtest/mine': {
        if (h.mine === undefined) return send(res, 409, { error: 'mining is only available with the managed regtest node' })
        const b = parse(mineBody, await readJson(req))
        return send(res, 200, await h.mine(b.blocks))
      }
      case 'POST /regtest/faucet': {
        const b = parse(faucetBody, await readJson(req))
        const r = await h.faucet(b.address, b.amount_sat, b.confirm ?? true)
        return send(res, r.status, r.body)
      }
      default: {
        if (h.ledger !== undefined && await accountingRoute(h.ledger, req, res)) return
        const path = (req.url ?? '/').split('?')[0]!
        const r = h.settlement === undefined ? undefined : await settlementRoute(
          h.settlement, req.method ?? 'GET', path, async () => await readJson(req),
        )
        if (r !== undefined) return send(res, r.status, r.body)
        return send(res, 404, { error: `no route ${route} (GET / lists the routes)` })
      }
    }
  } catch (e) {
    send(res, 400, { error: (e as Error).message })
  }
}
