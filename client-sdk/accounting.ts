// exportAccounting({ from, to, format }): this account's payments in and out as CSV or JSON lines, a
// page at a time, from what is durable in the client's store (listing.ts's indexes): every payment
// that succeeded (what left our channel: its amount and the hub's fee) and every one we received (what
// arrived). The same row shape as the hub's export (hub/accounting/export.ts, GET
// /accounts/:node_id/accounting), so an account can reconcile both: the rows sum to the channel
// balance's change, to the msat. A stream tick (DESIGN.md "Streams") is a push payment whose reference
// is the tick's (`stream:<count>:<root>`); a split's leg is named by `splitLegOf` (the split helper
// classifies its legs there: it builds them in parallel with this file).
import { counter, keys, type Store } from '../host/store/index.ts'
import { parseTickReference } from '../protocol/stream/tick.ts'
import { invoiceRecord, paymentRecord, readRecord, type InvoiceRecord, type PaymentRecord } from './records.ts'

export interface AccountingRow {
  /** Seconds since 1970: when the payment got its outcome (a payment made) or was accepted (received). */
  at: number
  kind: 'payment_in' | 'payment_out' | 'stream_tick_in' | 'stream_tick_out' | 'split_leg_in' | 'split_leg_out'
  /** What our channel balance moved: + received, − paid (the hub's fee included). */
  amount_msat: number
  /** The hub's fee in it (ours to pay as payer; 0 for what we received). */
  fee_msat: number
  payment_hash: string
  /** The payee of a payment we made ('' for one we received: the hub does not name the payer). */
  counterparty: string
  /** The stream tick's root, the split's id, or the platform's reference. */
  ref: string
}

export const ACCOUNTING_FIELDS: ReadonlyArray<keyof AccountingRow> = [
  'at', 'kind', 'amount_msat', 'fee_msat', 'payment_hash', 'counterparty', 'ref',
]

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
    at: p.settledAt ?? p.createdAt, kind, amount_msat: -p.offeredMsat, fee_msat: p.offeredMsat - p.amountMsat, payment_hash: p.paymentHash,
    counterparty: p.payee, ref,
  }
}

function receivedRow (r: InvoiceRecord): AccountingRow {
  const { kind, ref } = kindOf(r.push === true ? r.memo : undefined, 'in')
  return {
    at: r.paidAt ?? r.createdAt, kind, amount_msat: r.receivedMsat ?? 0, fee_msat: 0, payment_hash: r.paymentHash, counterparty: '',
    ref: kind === 'payment_in' ? r.memo : ref,
  }
}

/**
 * One page of rows with from ≤ created < to (seconds), payments made first, then payments received,
 * each by time. The cursor names where the page stopped ("out:<created>/<hash>" or "in:…").
 */
export async function exportAccounting (store: Store, q: AccountingQuery): Promise<AccountingPage> {
  const rows: AccountingRow[] = []
  let next: string | null = null
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
    const fromKey = q.from > 0 ? `${s.prefix}${counter(q.from - 1)}/~` : undefined
    const after = i === startAt && cursorKey !== undefined ? `${s.prefix}${cursorKey}` : fromKey
    for await (const [key] of store.iterate(s.prefix, after !== undefined ? { after } : {})) {
      const [created, hash] = key.slice(s.prefix.length).split('/') as [string, string]
      if (Number(created) >= q.to) break
      const row = await s.row(hash)
      if (row === undefined) continue
      rows.push(row)
      if (rows.length === q.limit) { next = `${s.tag}:${created}/${hash}`; break outer }
    }
  }
  const data = q.format === 'csv'
    ? [ACCOUNTING_FIELDS.join(','), ...rows.map(r => ACCOUNTING_FIELDS.map(f => csvField(r[f])).join(','))].join('\r\n') + '\r\n'
    : rows.map(r => JSON.stringify(r) + '\n').join('')
  return { format: q.format, data, rows: rows.length, nextCursor: next }
}

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled (a reference is free text). */
function csvField (v: string | number): string {
  const s = String(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}
