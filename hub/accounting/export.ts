// One account's view of the hub's ledger (ledger.ts): a row per payment it paid or received, with the
// amount its channel balance moved (signed) and the hub's fee. The same row shape as the SDK's export
// (client-sdk/accounting.ts), so an account can reconcile the two.
import type { LedgerEntry } from './ledger.ts'

export interface AccountRow {
  /** ms since 1970. */
  at: number
  kind: 'payment_in' | 'payment_out' | 'stream_tick_in' | 'stream_tick_out' | 'split_leg_in' | 'split_leg_out'
  /** What the account's channel balance moved: + received, − paid (the fee included). */
  amount_msat: number
  /** The hub's fee in it (paid by the payer; 0 for the payee). */
  fee_msat: number
  payment_hash: string
  counterparty: string
  /** The stream tick's root, or the split's id. */
  ref: string
}

export const ROW_FIELDS: ReadonlyArray<keyof AccountRow> = ['at', 'kind', 'amount_msat', 'fee_msat', 'payment_hash', 'counterparty', 'ref']

export function accountRows (node: string, e: LedgerEntry): AccountRow[] {
  const base = e.stream_root !== undefined ? 'stream_tick' : e.split_id !== undefined ? 'split_leg' : 'payment'
  const ref = e.stream_root ?? e.split_id ?? ''
  const rows: AccountRow[] = []
  if (e.payer === node) {
    rows.push({
      at: e.at, kind: `${base}_out`, amount_msat: -e.in_msat, fee_msat: e.fee_msat, payment_hash: e.payment_hash, counterparty: e.payee,
      ref,
    })
  }
  if (e.payee === node) {
    rows.push({
      at: e.at, kind: `${base}_in`, amount_msat: e.out_msat, fee_msat: 0, payment_hash: e.payment_hash, counterparty: e.payer, ref,
    })
  }
  return rows
}

/** RFC 4180 CSV: a header, then one line per row (no field here needs quoting: numbers, hex, kinds). */
export function toCsv (rows: readonly AccountRow[]): string {
  return [ROW_FIELDS.join(','), ...rows.map(r => ROW_FIELDS.map(f => String(r[f])).join(','))].join('\r\n') + '\r\n'
}
