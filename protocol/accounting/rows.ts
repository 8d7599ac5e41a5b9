// An account's accounting rows: one per payment it made or received, the same shape whoever exports
// them — the SDK from its own records (client-sdk/accounting.ts), the hub from its ledger
// (hub/accounting/export.ts) — so an account can reconcile the two row by row.

export const ACCOUNTING_KINDS = [
  'payment_in', 'payment_out', 'stream_tick_in', 'stream_tick_out', 'split_leg_in', 'split_leg_out',
] as const
export type AccountingKind = (typeof ACCOUNTING_KINDS)[number]

export interface AccountingRow {
  /** When the payment got its outcome (made) or was accepted (received): ms since 1970. */
  at: number
  kind: AccountingKind
  /** What the account's channel balance moved: + received, − paid (the hub's fee included). */
  amount_msat: number
  /** The hub's fee in it (paid by the payer; 0 for what was received). */
  fee_msat: number
  payment_hash: string
  /** The other party ('' where the exporter does not know it: the SDK is not told who paid it). */
  counterparty: string
  /** The stream tick's root, the split's id, or the platform's reference. */
  ref: string
}

export const ACCOUNTING_FIELDS: ReadonlyArray<keyof AccountingRow> = [
  'at', 'kind', 'amount_msat', 'fee_msat', 'payment_hash', 'counterparty', 'ref',
]

/** RFC 4180 CSV: a header line, then one line per row; a field with a comma, quote or line break is
 *  quoted, its quotes doubled (a reference is free text). */
export function accountingCsv (rows: readonly AccountingRow[]): string {
  const line = (r: AccountingRow): string => ACCOUNTING_FIELDS.map(f => csvField(r[f])).join(',')
  return [ACCOUNTING_FIELDS.join(','), ...rows.map(line)].join('\r\n') + '\r\n'
}

/** JSON lines: one row per line. */
export function accountingJsonLines (rows: readonly AccountingRow[]): string {
  return rows.map(r => JSON.stringify(r) + '\n').join('')
}

function csvField (v: string | number): string {
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}
