// Reading both accounting exports of an account in tests: the client's own (HubClient.exportAccounting)
// and the hub's (GET /accounts/:node_id/accounting), as rows, and what their amounts sum to.
import type { AccountingRow } from '../../protocol/accounting/rows.ts'
import type { HubClient } from '../../client-sdk/index.ts'
import type { HubProcess } from '../../scripts/lib/hub.ts'

/** JSON lines as accounting rows. */
export const parseAccountingRows = (jsonl: string): AccountingRow[] =>
  jsonl.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as AccountingRow)

/** The client's own export: its first page of `limit` rows. */
export async function sdkAccountingRows (c: HubClient, limit?: number): Promise<AccountingRow[]> {
  return parseAccountingRows((await c.exportAccounting({ format: 'jsonl', ...(limit !== undefined ? { limit } : {}) })).data)
}

/** The hub's export of the account `nodeId`. */
export async function hubAccountingRows (hub: Pick<HubProcess, 'adminFetch'>, nodeId: string): Promise<AccountingRow[]> {
  return parseAccountingRows(await (await hub.adminFetch(`/accounts/${nodeId}/accounting?format=jsonl`)).text())
}

/** What the rows' amounts sum to (msat). */
export const sumMsat = (rows: readonly AccountingRow[]): number => rows.reduce((s, r) => s + r.amount_msat, 0)
