// One account's view of the hub's ledger (ledger.ts): a row per payment it paid or received, with the
// amount its channel balance moved (signed) and the hub's fee, in the rows the SDK exports too
// (protocol/accounting/rows.ts), so an account can reconcile the two.
import type { AccountingRow } from '../../protocol/accounting/rows.ts'
import type { ChainEntry, LedgerEntry } from './ledger.ts'

/** A splice's, close's or claim's row: its txid (a force close: its channel id) in `ref`, what went
 *  on-chain in `onchain_sat`; an HTLC's: its payment hash (kept in the txid slot), the channel id in `ref`;
 *  a dropped splice's reversal: `<splice txid>/<spending txid>` in `ref`. */
export const chainRow = (e: ChainEntry): AccountingRow => {
  const htlc = e.kind === 'htlc_onchain'
  const ref = htlc ? e.channel_id : e.kind === 'splice_dropped' ? `${e.txid}/${e.spent_by ?? 'unknown'}` : e.txid
  return {
    at: e.at, kind: e.kind, amount_msat: e.amount_msat, fee_msat: e.fee_msat, payment_hash: htlc ? e.txid : '', counterparty: '',
    ref, onchain_sat: e.onchain_sat,
  }
}

export function accountRows (node: string, e: LedgerEntry): AccountingRow[] {
  const base = e.stream_root !== undefined ? 'stream_tick' : e.split_id !== undefined ? 'split_leg' : 'payment'
  const ref = e.stream_root ?? e.split_id ?? ''
  const rows: AccountingRow[] = []
  if (e.payer === node) {
    rows.push({
      at: e.at, kind: `${base}_out`, amount_msat: -e.in_msat, fee_msat: e.fee_msat, payment_hash: e.payment_hash, counterparty: e.payee,
      ref, onchain_sat: 0,
    })
  }
  if (e.payee === node) {
    rows.push({
      at: e.at, kind: `${base}_in`, amount_msat: e.out_msat, fee_msat: 0, payment_hash: e.payment_hash, counterparty: e.payer, ref,
      onchain_sat: 0,
    })
  }
  return rows
}
