// An account's accounting rows: one per payment it made or received and one per on-chain move of its
// channel balance (a splice, a close), the same shape whoever exports them — the SDK from its own
// records (client-sdk/accounting.ts), the hub from its ledger (hub/accounting/export.ts) — so an
// account can reconcile the two row by row. Every row's amount_msat is what the account's channel
// balance moved, so the rows sum to the balance's change to the msat.

export const ACCOUNTING_KINDS = [
  'payment_in', 'payment_out', 'stream_tick_in', 'stream_tick_out', 'split_leg_in', 'split_leg_out',
  /** A splice paid part of the balance to an address (onchain_sat; fee_msat: our share of the
   *  transaction's fee), or added coins of the wallet to it (onchain_sat, the wallet paid the fee). */
  'splice_out', 'splice_in',
  /** A signed splice dropped because an input of its transaction was spent elsewhere (it can never
   *  confirm): the reversal of its splice_out or splice_in row, every amount negated (onchain_sat and
   *  fee_msat negative or 0); ref `<splice txid>/<spending txid>` (`unknown` when the host saw the
   *  spend only deeper than the blocks it looked at). */
  'splice_dropped',
  /** The channel closed: its whole balance left it. onchain_sat is what the closing transaction pays
   *  us; fee_msat the rest (our share of the fee, the msat rounded away, a balance left out as dust). */
  'close_mutual',
  /** The channel failed and goes on-chain with a commitment: its whole balance (our side of the
   *  exporter's latest commitment) left it. onchain_sat is what the exporter's commitment pays us;
   *  fee_msat the rest (the commitment fee if we funded, the msat rounded away, an output trimmed as
   *  dust); ref the channel id. HTLCs in flight and the sweeps: htlc_onchain and sweep. */
  'close_force',
  /** An HTLC in flight at a force close that the chain gave to us (one we offered, timed out; one we
   *  received, claimed with its preimage): it left the channel. onchain_sat is its output in the
   *  exporter's commitment (0 if trimmed), fee_msat the rest; payment_hash the HTLC's, ref the channel
   *  id (protocol/accounting/onchain.ts). */
  'htlc_onchain',
  /** One of our claims of a force-closed channel's outputs confirmed (the to_local sweep after its
   *  delay, an HTLC-success or -timeout transaction, the sweep of its output): amount_msat 0 (the
   *  channel's rows took the balance), fee_msat its fee, onchain_sat what it paid that no other claim
   *  spends, ref its txid. */
  'sweep',
] as const
export type AccountingKind = (typeof ACCOUNTING_KINDS)[number]

export interface AccountingRow {
  /** When the payment got its outcome (made) or was accepted (received): ms since 1970. */
  at: number
  kind: AccountingKind
  /** What the account's channel balance moved: + received, − paid (the hub's fee included). */
  amount_msat: number
  /** The hub's fee in it (paid by the payer; 0 for what was received); for a splice or close, the
   *  on-chain fee and rounding it cost the balance. */
  fee_msat: number
  payment_hash: string
  /** The other party ('' where the exporter does not know it: the SDK is not told who paid it). */
  counterparty: string
  /** The stream tick's root, the split's id, the platform's reference, a splice's, mutual close's or
   *  sweep's txid, a force-closed channel's id (close_force, htlc_onchain), a dropped splice's txid and
   *  its spender's (splice_dropped). */
  ref: string
  /** What a splice or close paid on-chain (sat; 0 for a payment; a splice_dropped row negates its splice's). */
  onchain_sat: number
}

export const ACCOUNTING_FIELDS: ReadonlyArray<keyof AccountingRow> = [
  'at', 'kind', 'amount_msat', 'fee_msat', 'payment_hash', 'counterparty', 'ref', 'onchain_sat',
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
