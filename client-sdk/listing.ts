// listInvoices / listPayments: our invoices and payments with their status, by creation time (in
// seconds; within one second by payment hash), oldest first, a page at a time. Read from the store
// (the inv-at/ and pay-at/ indexes, records.ts): a list shows what is durable, never a change still
// on its way to disk, so an application that reconciles from it never credits something a crash
// could undo.
import { counter, keys, type Store } from '../host/store/index.ts'
import { invoiceRecord, paymentRecord, readRecord, type InvoiceRecord, type PaymentRecord } from './records.ts'

export type InvoiceStatus = 'unpaid' | 'paid' | 'cancelled' | 'expired'
export type PaymentStatus = PaymentRecord['status']

export interface InvoiceInfo {
  paymentHash: string
  invoice: string
  amountMsat: number
  memo: string
  status: InvoiceStatus
  /** Seconds since 1970. */
  createdAt: number
  expiresAt: number
  /** Once paid: what the HTLC carried, and when it was accepted. */
  receivedMsat?: number
  paidAt?: number
  /** A push payment we received (no invoice: `invoice` is '', `memo` the payer's reference). */
  push?: true
}

export interface PaymentInfo {
  paymentHash: string
  invoice: string
  payee: string
  /** What the payee receives, and the hub's fee on top. */
  amountMsat: number
  feeMsat: number
  status: PaymentStatus
  /** Seconds since 1970: when pay() began it, and when it got its final outcome. */
  createdAt: number
  settledAt?: number
  preimage?: string
  failure?: { reason: string; detail: string }
  idempotencyKey?: string
  reference?: string
  /** A push payment (pay({ to })): `invoice` is ''. */
  push?: true
}

export interface Page<T> {
  items: T[]
  /** Pass as `cursor` for the next page; null when this page reached the end. */
  nextCursor: string | null
}

export interface ListQuery<S> { since?: number | undefined; limit: number; cursor?: string | undefined; status?: S | undefined }

export function invoiceStatus (r: InvoiceRecord, nowSec: number): InvoiceStatus {
  if (r.paidBy !== undefined) return 'paid'
  if (r.cancelled === true) return 'cancelled'
  return nowSec > r.expiresAt ? 'expired' : 'unpaid'
}

export async function listInvoices (store: Store, q: ListQuery<InvoiceStatus>, nowSec: number): Promise<Page<InvoiceInfo>> {
  return await page(store, keys.invoiceByTimePrefix, q, async hash => {
    const r = await readRecord(store, keys.invoice(hash), invoiceRecord)
    if (r === undefined) return undefined
    const status = invoiceStatus(r, nowSec)
    if (q.status !== undefined && status !== q.status) return undefined
    return {
      paymentHash: r.paymentHash, invoice: r.invoice, amountMsat: r.amountMsat, memo: r.memo, status, createdAt: r.createdAt,
      expiresAt: r.expiresAt,
      ...(r.receivedMsat !== undefined ? { receivedMsat: r.receivedMsat } : {}), ...(r.paidAt !== undefined ? { paidAt: r.paidAt } : {}),
      ...(r.push === true ? { push: true as const } : {}),
    }
  })
}

export async function listPayments (store: Store, q: ListQuery<PaymentStatus>): Promise<Page<PaymentInfo>> {
  return await page(store, keys.paymentByTimePrefix, q, async hash => {
    const r = await readRecord(store, keys.payment(hash), paymentRecord)
    if (r === undefined || (q.status !== undefined && r.status !== q.status)) return undefined
    return {
      paymentHash: r.paymentHash, invoice: r.invoice, payee: r.payee, amountMsat: r.amountMsat, feeMsat: r.offeredMsat - r.amountMsat,
      status: r.status, createdAt: r.createdAt,
      ...(r.settledAt !== undefined ? { settledAt: r.settledAt } : {}), ...(r.preimage !== undefined ? { preimage: r.preimage } : {}),
      ...(r.failure !== undefined ? { failure: r.failure } : {}),
      ...(r.idempotencyKey !== undefined ? { idempotencyKey: r.idempotencyKey } : {}),
      ...(r.reference !== undefined ? { reference: r.reference } : {}), ...(r.push !== undefined ? { push: true as const } : {}),
    }
  })
}

/** One page of an index `<prefix><created>/<hash>`: from `cursor` (exclusive) or `since` (inclusive). */
async function page<T> (
  store: Store, prefix: string, q: ListQuery<unknown>, item: (hash: string) => Promise<T | undefined>,
): Promise<Page<T>> {
  const fromCursor = q.cursor !== undefined ? cursorKey(prefix, q.cursor) : undefined
  // Every key of `since` sorts after "<since − 1>/~" ('~' sorts after any hex digit).
  const fromSince = q.since !== undefined && q.since > 0 ? `${prefix}${counter(q.since - 1)}/~` : undefined
  const after = fromCursor !== undefined && fromSince !== undefined
    ? (fromCursor > fromSince ? fromCursor : fromSince)
    : fromCursor ?? fromSince
  const items: T[] = []
  for await (const [key] of store.iterate(prefix, after !== undefined ? { after } : {})) {
    const [created, hash] = key.slice(prefix.length).split('/')
    const it = await item(hash!)
    if (it !== undefined) items.push(it)
    if (items.length === q.limit) return { items, nextCursor: `${Number(created)}:${hash}` }
  }
  return { items, nextCursor: null }
}

const cursorKey = (prefix: string, cursor: string): string => {
  const [created, hash] = cursor.split(':')
  return `${prefix}${counter(Number(created))}/${hash}`
}
