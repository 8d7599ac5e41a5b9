// The admin API's audit routes (hub/admin/server.ts lists them in ROUTES): anchor the audit log now,
// list the anchors, export the log as JSON lines (hub/audit/export.ts; hub/audit/verify-export.ts and
// scripts/audit-verify.ts check an export against the chain, without the hub).
import type { IncomingMessage, ServerResponse } from 'node:http'
import { z } from 'zod'
import type { RouteDoc } from './server.ts'

export const AUDIT_ROUTES: readonly RouteDoc[] = [
  {
    method: 'POST', path: '/audit/anchor',
    answer: '{seq, from, to, root, commitment, prev_commitment, txid, status}: anchors the durable audit entries not under a final anchor '
      + 'in an OP_RETURN of a new hub wallet transaction, broadcast; they count as anchored at audit.anchorDepth confirmations. 409 '
      + '{error} when there is nothing to anchor or the wallet cannot pay',
  },
  {
    method: 'GET', path: '/audit/anchors',
    answer: '{anchored_to, entries, anchors: [{seq, from, to, root, commitment, prev_commitment, status, txids, txid, block, created_ms, '
      + 'created_height}]}: status prepared | carried | final | dropped; entries [0, anchored_to) are under final anchors',
  },
  {
    method: 'GET', path: '/audit/export', body: 'query ?from=&to= (entry numbers, optional)',
    answer: 'JSON lines (application/x-ndjson): the entries n, from ≤ n < to ({n, prev, hash, time_ms, height, record}), then one '
      + '{anchor: {...}} line per anchor. from defaults to 0, to to the end of the durable log',
  },
]

export interface AuditHandlers {
  anchorNow (): Promise<{ status: number; body: unknown }>
  anchors (): Promise<unknown>
  exportLog (from: number, to: number | undefined): Promise<string>
}

const entryNumber = z.coerce.number({ error: 'must be an entry number' }).int({ error: 'must be an integer' }).min(0)
  .max(Number.MAX_SAFE_INTEGER)
const exportQuery = z.strictObject({ from: entryNumber.optional(), to: entryNumber.optional() })

function json (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

/** Answers an audit route; false when `route` is not one. */
export async function handleAuditRoute (
  h: AuditHandlers | undefined, route: string, req: IncomingMessage, res: ServerResponse,
): Promise<boolean> {
  if (!route.startsWith('POST /audit/') && !route.startsWith('GET /audit/')) return false
  if (h === undefined) { json(res, 404, { error: `no route ${route}` }); return true }
  switch (route) {
    case 'POST /audit/anchor': {
      const r = await h.anchorNow()
      json(res, r.status, r.body)
      return true
    }
    case 'GET /audit/anchors': json(res, 200, await h.anchors()); return true
    case 'GET /audit/export': {
      const params = Object.fromEntries(new URL(req.url ?? '/', 'http://admin').searchParams)
      const q = exportQuery.safeParse(params)
      if (!q.success) {
        json(res, 400, { error: q.error.issues.map(i => `${i.path.join('.') || 'query'}: ${i.message}`).join('; ') })
        return true
      }
      const text = await h.exportLog(q.data.from ?? 0, q.data.to)
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Content-Length': Buffer.byteLength(text) })
      res.end(text)
      return true
    }
    default: return false
  }
}
