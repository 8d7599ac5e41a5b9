// exportAccounting({ from, to, format }): this account's payments in and out as CSV or JSON lines, a
// page at a time, from what is durable in the client's store (listing.ts's indexes): every payment
// that succeeded (what left our channel: its amount and the hub's fee) and every one we received (what
// arrived). The same row shape as the hub's export (hub/accounting/export.ts, GET
// /accounts/:node_id/accounting), so an account can reconcile both: the rows sum to the channel
// balance's change, to the msat. A stream tick (DESIGN.md "Streams") is a push payment whose reference
// is the tick's (`stream:<count>:<root>`); a split's leg is named by `splitLegOf` (the split helper
// classifies its legs there: it builds them in parallel with this file).
import { counter, keys, type Store } from '../host/store/index.ts'
import { accountingCsv, accountingJsonLines, type AccountingRow } from '../protocol/accounting/rows.ts'
import { parseTickReference } from '../protocol/stream/tick.ts'
import { invoiceRecord, paymentRecord, readRecord, type InvoiceRecord, type PaymentRecord } from './records.ts'

export type { AccountingRow } from '../protocol/accounting/rows.ts'

const MS_PER_SECOND = 1_000

export interface AccountingQuery { from: number; to: number; format: 'csv' | 'jsonl'; limit: number; cursor?: string | undefined }
export interface AccountingPage { format: 'csv' | 'jsonl'; data: string; rows: number; nextCursor: string | null }

/** Hook for split legs: the split id a payment's reference names, if it is a leg of a split. */
export const splitLegOf = (_reference: string | undefined): string | undefined => undefined

function kindOf (reference: string | undefined, dir: 'in' | 'out'): { kind: AccountingRow['kind']; ref: string } {
  const tick = reference !== undefined ? parseTickReference(reference) : undefined
  if (tick !== undefined) return { kind: `stream_tick_${dir}`, ref: tick.root }
  const split = splitLegOf(reference)
  if (split !== undefined) return { kind: `split_leg_${dir}`, ref: split }
  return { kind: `payment_${dir}`, ref: reference ?? '' }
}

function paymentRow (p: PaymentRecord): AccountingRow {
  const { kind, ref } = kindOf(p.reference, 'out')
  return {
    at: (p.settledAt ?? p.createdAt) * MS_PER_SECOND, kind, amount_msat: -p.offeredMsat, fee_msat: p.offeredMsat - p.amountMsat,
    payment_hash: p.paymentHash,
    counterparty: p.payee, ref,
  }
}

function receivedRow (r: InvoiceRecord): AccountingRow {
  const { kind, ref } = kindOf(r.push === true ? r.memo : undefined, 'in')
  return {
    at: (r.paidAt ?? r.createdAt) * MS_PER_SECOND, kind, amount_msat: r.receivedMsat ?? 0, fee_msat: 0, payment_hash: r.paymentHash,
    counterparty: '',
    ref: kind === 'payment_in' ? r.memo : ref,
  }
}

/**
 * One page of rows with from ≤ created < to (ms since 1970; our records keep whole seconds), payments
 * made first, then payments received,
 * each by time. The cursor names where the page stopped ("out:<created>/<hash>" or "in:…").
 */
export async function exportAccounting (store: Store, q: AccountingQuery): Promise<AccountingPage> {
  const rows: AccountingRow[] = []
  let next: string | null = null
  // Records are keyed by whole seconds: created·1000 ≥ from ⇔ created ≥ ⌈from/1000⌉, and likewise for to.
  const fromSec = Math.ceil(q.from / MS_PER_SECOND)
  const toSec = Math.ceil(q.to / MS_PER_SECOND)
  const sources = [
    { tag: 'out', prefix: keys.paymentByTimePrefix, row: async (hash: string) => {
      const p = await readRecord(store, keys.payment(hash), paymentRecord)
      return p?.status === 'succeeded' ? paymentRow(p) : undefined
    } },
    { tag: 'in', prefix: keys.invoiceByTimePrefix, row: async (hash: string) => {
      const r = await readRecord(store, keys.invoice(hash), invoiceRecord)
      return r?.paidBy !== undefined ? receivedRow(r) : undefined
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
    const fromKey = fromSec > 0 ? `${s.prefix}${counter(fromSec - 1)}/~` : undefined
    const after = i === startAt && cursorKey !== undefined ? `${s.prefix}${cursorKey}` : fromKey
    for await (const [key] of store.iterate(s.prefix, after !== undefined ? { after } : {})) {
      const [created, hash] = key.slice(s.prefix.length).split('/') as [string, string]
      if (Number(created) >= toSec) break
      const row = await s.row(hash)
      if (row === undefined) continue
      rows.push(row)
      if (rows.length === q.limit) { next = `${s.tag}:${created}/${hash}`; break outer }
    }
  }
  const data = q.format === 'csv' ? accountingCsv(rows) : accountingJsonLines(rows)
  return { format: q.format, data, rows: rows.length, nextCursor: next }
}
