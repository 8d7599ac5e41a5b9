// The admin routes of payout policies (docs/DESIGN.md "Batched settlement"; README "Operators: payout
// batches"). Paths carry a node id, so they are matched here and registered in hub/admin/server.ts's
// default branch; their documentation joins ROUTES.
import type { RouteDoc } from './server.ts'
import { parsePayoutPolicy, policyWire, type PolicyStore, type StoredPolicy } from '../settlement/policy.ts'
import type { SettlementConfig } from '../settlement/config.ts'
import type { SettlementCoordinator } from '../settlement/coordinator.ts'

export const SETTLEMENT_ROUTES: readonly RouteDoc[] = [
  {
    method: 'GET', path: '/policies',
    answer: '[{node_id, policy: {payout_script, threshold_sat, interval_blocks, keep_sat, close_idle_blocks?}, set_by, height} | '
      + '{node_id, error}]: every stored payout policy; error: a stored policy outside today\'s settlement.policy bounds (not used)',
  },
  { method: 'GET', path: '/accounts/:node_id/policy', answer: 'the account\'s payout policy as in GET /policies; 404 none' },
  {
    method: 'GET', path: '/settlement',
    answer: '{height, window_blocks, next_window_height, feerate_per_kw, schedule, in_progress: batch | null, last_batches: '
      + '[batch], last_closes: [close]}; batch: {id, stage (negotiating, signed, broadcast, confirmed, abandoned), round, txid, '
      + 'channels, payouts_sat, payouts, fee_sat, vbytes, anchor_root, confirmed, dropped, ...}; close (an idle channel closed '
      + 'at a window end): {channel_id, node_id, height, idle_blocks, stage (shutdown, refused, agreed), closing_txid, account_sat, '
      + 'account_script, phase, ...}',
  },
  {
    method: 'POST', path: '/settlement/run',
    answer: '{started: true, batch, deferred} | {started: false, reason, deferred, waiting}: plans and starts a payout batch now '
      + '(settle now), as at a window end; 409 while a batch is being negotiated',
  },
  {
    method: 'POST', path: '/accounts/:node_id/policy',
    body: '{payout_script, threshold_sat, interval_blocks, keep_sat, close_idle_blocks?}',
    answer: '{node_id, policy, set_by: "operator", height}: the operator sets the account\'s policy, within settlement.policy; stored '
      + 'before the answer; 400 names the field out of bounds',
  },
]

export interface SettlementAdmin {
  policies: PolicyStore
  bounds: SettlementConfig['policy']
  height: () => number
  /** The batch coordinator (hub/settlement/coordinator.ts). */
  batches?: Pick<SettlementCoordinator, 'status' | 'run'>
}

const POLICY_PATH = /^\/accounts\/(0[23][0-9a-f]{64})\/policy$/

const view = (p: StoredPolicy | { nodeId: string; error: string }): unknown => 'error' in p
  ? { node_id: p.nodeId, error: p.error }
  : { node_id: p.nodeId, policy: policyWire(p.policy), set_by: p.setBy, height: p.height }

/** The answer of a settlement route, or undefined if `method path` is not one. `body` reads the
 *  request's JSON only when the route takes one. */
export async function settlementRoute (
  s: SettlementAdmin, method: string, path: string, body: () => Promise<unknown>,
): Promise<{ status: number; body: unknown } | undefined> {
  if (method === 'GET' && path === '/policies') return { status: 200, body: (await s.policies.list()).map(view) }
  if (s.batches !== undefined && method === 'GET' && path === '/settlement') return { status: 200, body: s.batches.status() }
  if (s.batches !== undefined && method === 'POST' && path === '/settlement/run') {
    const r = await s.batches.run('operator')
    return { status: !r.started && r.reason === 'a batch is in progress' ? 409 : 200, body: r }
  }
  const m = POLICY_PATH.exec(path)
  if (m === null) {
    if (path.startsWith('/accounts/') && path.endsWith('/policy')) {
      return { status: 400, body: { error: 'node_id: must be a node id (33-byte compressed key, lowercase hex)' } }
    }
    return undefined
  }
  const nodeId = m[1]!
  if (method === 'GET') {
    const p = await s.policies.get(nodeId)
    return p === undefined ? { status: 404, body: { error: `no payout policy for ${nodeId}` } } : { status: 200, body: view(p) }
  }
  if (method !== 'POST') return undefined
  const parsed = parsePayoutPolicy(await body(), s.bounds)
  if (!parsed.ok) return { status: 400, body: { error: parsed.error } }
  const height = s.height()
  await s.policies.set(nodeId, parsed.policy, 'operator', height)
  return { status: 200, body: { node_id: nodeId, policy: policyWire(parsed.policy), set_by: 'operator', height } }
}
