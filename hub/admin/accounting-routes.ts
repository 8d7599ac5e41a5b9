// Admin routes of the hub's ledger (hub/accounting/ledger.ts): what each account paid and received
// through the hub, as CSV or JSON lines, and the fees the hub earned by period. Registered in ROUTES
// (hub/admin/server.ts). Times are ms since 1970; `from` is inclusive, `to` exclusive.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { z } from 'zod'
import { ACCOUNTING_FIELDS, accountingCsv, accountingJsonLines, type AccountingRow } from '../../protocol/accounting/rows.ts'
import { accountRows, chainRow } from '../accounting/export.ts'
import type { Ledger } from '../accounting/ledger.ts'
import type { RouteDoc } from './server.ts'

/** Rows one export answers at most; the answer's `next-from` header says where the next page starts. */
export const MAX_EXPORT_ROWS = 10_000

export const ACCOUNTING_ROUTES: readonly RouteDoc[] = [
  {
    method: 'GET', path: '/accounts/:node_id/accounting',
    answer: `query from, to, format=csv|jsonl, limit. CSV (a header line, then one row per entry) or JSON lines: ` +
      `${ACCOUNTING_FIELDS.join(', ')}, for every payment node_id paid or received through the hub and every splice and ` +
      'close (mutual or forced) of its channels, with from ≤ at < to (ms since 1970; default: all). kind: payment_in | ' +
      'payment_out | stream_tick_in | stream_tick_out | split_leg_in | split_leg_out | splice_out | splice_in | close_mutual | ' +
      'close_force; amount_msat is signed ' +
      '(what its channel balance moved), fee_msat the hub\'s fee (paid by the payer, included in amount_msat); for a splice or ' +
      'close, ref is its txid (a force close: the channel id), onchain_sat what went on-chain (a force close: what the hub\'s ' +
      'latest commitment pays the account) and fee_msat the rest (the on-chain fee, rounding, dust). ' +
      `At most limit (≤ ${MAX_EXPORT_ROWS}) rows; header next-from: the from of the ` +
      'next page',
  },
  {
    method: 'GET', path: '/fees',
    answer: 'query from, to, period=hour|day. {periods: [{start, payments, fees_msat}], total_fees_msat, payments}: the fees the hub ' +
      'earned on payments it settled, ' +
      'from its durable ledger (kept across restarts)',
  },
]

const time = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const exportQuery = z.strictObject({
  from: time.default(0), to: time.default(Number.MAX_SAFE_INTEGER), format: z.enum(['csv', 'jsonl']).default('jsonl'),
  limit: z.coerce.number().int().min(1).max(MAX_EXPORT_ROWS).default(MAX_EXPORT_ROWS),
})
const feesQuery = z.strictObject({
  from: time.default(0), to: time.default(Number.MAX_SAFE_INTEGER), period: z.enum(['hour', 'day']).default('day'),
})
const ACCOUNT_PATH = /^\/accounts\/(0[23][0-9a-f]{64})\/accounting$/

function query<T> (schema: z.ZodType<T>, url: URL): T {
  const r = schema.safeParse(Object.fromEntries(url.searchParams))
  if (!r.success) throw new Error(r.error.issues.map(i => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '))
  return r.data
}

/** Answers the request if it is one of these routes; false otherwise. Throws (→ 400) on a bad query. */
export async function accountingRoute (ledger: Ledger, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (req.method !== 'GET') return false
  const url = new URL(req.url ?? '/', 'http://admin')
  if (url.pathname === '/fees') {
    const q = query(feesQuery, url)
    const text = JSON.stringify(await ledger.fees(q.from, q.to, q.period))
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
    res.end(text)
    return true
  }
  const m = ACCOUNT_PATH.exec(url.pathname)
  if (m === null) {
    if (url.pathname.startsWith('/accounts/') && url.pathname.endsWith('/accounting')) throw new Error(
      'node_id: must be a node id (33-byte compressed key, hex)'
    )
    return false
  }
  const q = query(exportQuery, url)
  const node = m[1]!
  const chain = (await ledger.accountChain(node, q.from, q.to)).map(chainRow)
  /** Payments and chain moves, merged by time. */
  async function * byTime (): AsyncGenerator<{ at: number; rows: AccountingRow[] }> {
    let i = 0
    for await (const e of ledger.account(node, q.from, q.to)) {
      while (i < chain.length && chain[i]!.at <= e.at) { const r = chain[i++]!; yield { at: r.at, rows: [r] } }
      yield { at: e.at, rows: accountRows(node, e) }
    }
    while (i < chain.length) { const r = chain[i++]!; yield { at: r.at, rows: [r] } }
  }
  const rows: AccountingRow[] = []
  let nextFrom: number | undefined
  for await (const e of byTime()) {
    // A page ends between two times, so the next page (from = next-from) repeats nothing and misses nothing.
    if (rows.length >= q.limit && e.at !== rows[rows.length - 1]!.at) { nextFrom = e.at; break }
    rows.push(...e.rows)
  }
  const body = q.format === 'csv' ? accountingCsv(rows) : accountingJsonLines(rows)
  res.writeHead(200, {
    'Content-Type': q.format === 'csv' ? 'text/csv' : 'application/x-ndjson', 'Content-Length': Buffer.byteLength(body),
    ...(nextFrom !== undefined ? { 'next-from': String(nextFrom) } : {}),
  })
  res.end(body)
  return true
}
