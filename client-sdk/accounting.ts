// exportAccounting({ from, to, format }): this account's payments in and out, and what the chain
// moved of its channel balance, as CSV or JSON lines, a page at a time, from what is durable in the
// client's store (listing.ts's indexes, chain-moves.ts): every payment that succeeded (what left our
// channel: its amount and the hub's fee), every one we received (what arrived), every splice and
// mutual close (what left or joined the balance, what went on-chain, the fee). The same row shape as
// the hub's export (hub/accounting/export.ts, GET /accounts/:node_id/accounting), so an account can
// reconcile both: the rows sum to the channel balance's change, to the msat. A stream tick (DESIGN.md
// "Streams") is a push payment whose reference is the tick's (`stream:<count>:<root>`); a split's leg
// is a payment whose record names its split (splitLeg on the payer's side, splitId on a recipient's).
import { counter, keys, type Store } from '../host/store/index.ts'
import { accountingCsv, accountingJsonLines, type AccountingRow } from '../protocol/accounting/rows.ts'
import { parseTickReference } from '../protocol/stream/tick.ts'
import { chainMove, type ChainMove } from './chain-moves.ts'
import { invoiceRecord, paymentRecord, readRecord, type InvoiceRecord, type PaymentRecord } from './records.ts'

export type { AccountingRow } from '../protocol/accounting/rows.ts'

const MS_PER_SECOND = 1_000

export interface AccountingQuery { from: number; to: number; format: 'csv' | 'jsonl'; limit: number; cursor?: string | undefined }
export interface AccountingPage { format: 'csv' | 'jsonl'; data: string; rows: number; nextCursor: string | null }

/** The split a payment is a leg of: named by the payer's record (its split_leg metadata) or the
 *  recipient's (the split id its leg opened to). */
export const splitLegOf = (r: PaymentRecord | InvoiceRecord): string | undefined =>
  'splitLeg' in r ? r.splitLeg?.split_id : 'splitId' in r ? r.splitId : undefined

function kindOf (
  reference: string | undefined, split: string | undefined, dir: 'in' | 'out',
): { kind: AccountingRow['kind']; ref: string } {
  if (split !== undefined) return { kind: `split_leg_${dir}`, ref: split }
  const tick = reference !== undefined ? parseTickReference(reference) : undefined
  if (tick !== undefined) return { kind: `stream_tick_${dir}`, ref: tick.root }
  return { kind: `payment_${dir}`, ref: reference ?? '' }
}

function paymentRow (p: PaymentRecord): AccountingRow {
  const { kind, ref } = kindOf(p.reference, splitLegOf(p), 'out')
  return {
    at: (p.settledAt ?? p.createdAt) * MS_PER_SECOND, kind, amount_msat: -p.offeredMsat, fee_msat: p.offeredMsat - p.amountMsat,
    payment_hash: p.paymentHash,
    counterparty: p.payee, ref, onchain_sat: 0,
  }
}

function receivedRow (r: InvoiceRecord): AccountingRow {
  const { kind, ref } = kindOf(r.push === true ? r.memo : undefined, splitLegOf(r), 'in')
  return {
    at: (r.paidAt ?? r.createdAt) * MS_PER_SECOND, kind, amount_msat: r.receivedMsat ?? 0, fee_msat: 0, payment_hash: r.paymentHash,
    counterparty: '',
    ref: kind === 'payment_in' ? r.memo : ref, onchain_sat: 0,
  }
}

function chainRow (m: ChainMove): AccountingRow {
  // An HTLC's record keeps its payment hash where the others keep a txid; its row names the channel.
  // A dropped splice's reversal names the splice and the transaction that spent its input.
  const htlc = m.kind === 'htlc_onchain'
  const ref = htlc ? m.channelId : m.kind === 'splice_dropped' ? `${m.txid}/${m.spentBy ?? 'unknown'}` : m.txid
  return {
    at: m.at, kind: m.kind, amount_msat: m.amountMsat, fee_msat: m.feeMsat, payment_hash: htlc ? m.txid : '', counterparty: '',
    ref, onchain_sat: m.onchainSat,
  }
}

/**
 * One page of rows with from ≤ created < to (ms since 1970; payment records keep whole seconds), payments
 * made first, then payments received, then splices and closes, each by time. The cursor names where
 * the page stopped ("out:<created>/<hash>", "in:…" or "chain:<at>/<channel>/<txid>").
 */
export async function exportAccounting (store: Store, q: AccountingQuery): Promise<AccountingPage> {
  const rows: AccountingRow[] = []
  let next: string | null = null
  const sources = [
    { tag: 'out', prefix: keys.paymentByTimePrefix, msPerUnit: MS_PER_SECOND, row: async (hash: string) => {
      const p = await readRecord(store, keys.payment(hash), paymentRecord)
      return p?.status === 'succeeded' ? paymentRow(p) : undefined
    } },
    { tag: 'in', prefix: keys.invoiceByTimePrefix, msPerUnit: MS_PER_SECOND, row: async (hash: string) => {
      const r = await readRecord(store, keys.invoice(hash), invoiceRecord)
      return r?.paidBy !== undefined ? receivedRow(r) : undefined
    } },
    { tag: 'chain', prefix: keys.chainMoveByTimePrefix, msPerUnit: 1, row: async (channelAndTxid: string) => {
      const [channelId, txid] = channelAndTxid.split('/') as [string, string]
      const m = await readRecord(store, keys.chainMove(channelId, txid), chainMove)
      return m === undefined ? undefined : chainRow(m)
    } },
  ] as const
  const [cursorTag, cursorKey] = q.cursor !== undefined ? q.cursor.split(':') as [string, string] : ['out', undefined]
  const startAt = sources.findIndex(s => s.tag === cursorTag)
  if (startAt < 0 || (q.cursor !== undefined && cursorKey === undefined)) throw new TypeError(
    'exportAccounting.cursor: not a cursor of ours'
  )
  outer:
  for (let i = startAt; i < sources.length; i++) {
    const s = sources[i]!
    // A source keyed by whole seconds: created·1000 ≥ from ⇔ created ≥ ⌈from/1000⌉, and likewise for to.
    const fromUnit = Math.ceil(q.from / s.msPerUnit)
    const toUnit = Math.ceil(q.to / s.msPerUnit)
    const fromKey = fromUnit > 0 ? `${s.prefix}${counter(fromUnit - 1)}/~` : undefined
    const after = i === startAt && cursorKey !== undefined ? `${s.prefix}${cursorKey}` : fromKey
    for await (const [key] of store.iterate(s.prefix, after !== undefined ? { after } : {})) {
      const rest = key.slice(s.prefix.length)
      const created = rest.slice(0, rest.indexOf('/'))
      const subject = rest.slice(created.length + 1)
      if (Number(created) >= toUnit) break
      const row = await s.row(subject)
      if (row === undefined) continue
      rows.push(row)
      if (rows.length === q.limit) { next = `${s.tag}:${created}/${subject}`; break outer }
    }
  }
  const data = q.format === 'csv' ? accountingCsv(rows) : accountingJsonLines(rows)
  return { format: q.format, data, rows: rows.length, nextCursor: next }
}
