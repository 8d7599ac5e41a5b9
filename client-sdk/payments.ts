// Invoices we issue and payments we make, kept durably in the client's store (records.ts), and the
// promises pay() callers wait on. Channel mechanics live in channels.ts; this file only decides and
// remembers.
import { sha256 } from '@noble/hashes/sha2.js'
import { decodeInvoice, encodeInvoice, expiresAt, isExpired, type Invoice } from '../protocol/invoice/index.ts'
import { bytesToHex, hexToBytes, type Msat, type NodeId } from '../protocol/types.ts'
import type { Htlc } from '../protocol/channel/index.ts'
import type { HtlcFailureReason } from '../protocol/wire/index.ts'
import { parseJsonValue, type Store } from '../hub/store/index.ts'
import { invoiceRecord, paymentRecord, putRecord, readRecord, recordKeys, type InvoiceRecord, type PaymentRecord } from './records.ts'

/** Why pay() did not succeed: a reason the hub or payee gave (BOLT #4 names), or one of ours. */
export type PayFailureReason =
  | HtlcFailureReason
  | 'invalid_invoice'      // not a BOLT #11 invoice, bad signature, or not for regtest
  | 'no_amount'            // "any amount" invoices are not supported by pay()
  | 'wrong_payee'          // the invoice is ours (paying ourselves through the hub is refused)
  | 'no_channel'           // no usable channel with the hub
  | 'insufficient_balance' // our channel cannot afford amount + hub fee
  | 'channel_failed'       // the channel failed while the payment was in flight
  | 'timeout'              // no outcome within payTimeoutMs (the HTLC may still resolve later)

export type PayResult =
  | { ok: true; paymentHash: string; preimage: string; amountMsat: Msat; feeMsat: Msat }
  | { ok: false; paymentHash: string | null; reason: PayFailureReason; detail: string }

export interface ReceiveDecision { action: 'fulfill'; preimage: string; firstTime: boolean; record: InvoiceRecord }
export interface RefuseDecision { action: 'fail'; reason: HtlcFailureReason; detail: string }

function random32 (): Uint8Array {
  const b = new Uint8Array(32)
  globalThis.crypto.getRandomValues(b)
  return b
}

export class PaymentBook {
  private readonly waiters = new Map<string, Array<(r: PayResult) => void>>()
  private readonly locks = new Map<string, Promise<void>>()

  constructor (private readonly store: Store, private readonly nodeKey: Uint8Array, private readonly nodeId: NodeId) {}

  // ── Invoices (payee) ──

  /** A new BOLT #11 invoice; its preimage is durable before the string is returned. */
  async createInvoice (amountMsat: number, memo: string, expirySec: number, minFinalCltvDelta: number, nowSec: number): Promise<InvoiceRecord> {
    const preimage = random32()
    const paymentHash = bytesToHex(sha256(preimage))
    const enc = encodeInvoice({
      network: 'bcrt', amountMsat: amountMsat as Msat, timestamp: nowSec, paymentHash, paymentSecret: bytesToHex(random32()),
      description: memo, expirySeconds: expirySec, minFinalCltvExpiryDelta: minFinalCltvDelta, includeNodeId: false,
    }, this.nodeKey)
    if (!enc.ok) throw new TypeError(`createInvoice.${enc.error.field}: ${enc.error.detail}`)
    const record: InvoiceRecord = { paymentHash, preimage: bytesToHex(preimage), invoice: enc.value, amountMsat, memo, createdAt: nowSec, expiresAt: nowSec + expirySec }
    await this.store.write([putRecord(recordKeys.invoice(paymentHash), record)])
    return record
  }

  invoice (paymentHash: string): Promise<InvoiceRecord | undefined> {
    return readRecord(this.store, recordKeys.invoice(paymentHash), invoiceRecord)
  }

  /**
   * An HTLC for us is irrevocably committed: fulfil it if it pays one of our invoices in full and in
   * time. BOLT #4 (final node): an unknown payment hash or a short amount is
   * `incorrect_or_unknown_payment_details`. The first HTLC that pays an invoice is recorded durably
   * before the fulfil goes out, so `payment_received` is reported once, even across restarts.
   */
  async decideIncoming (channelId: string, htlc: Htlc, nowSec: number): Promise<ReceiveDecision | RefuseDecision> {
    // One decision per payment hash at a time: two HTLCs for one invoice must not both see it unpaid.
    const prev = this.locks.get(htlc.paymentHash) ?? Promise.resolve()
    const run = prev.then(() => this.decide(channelId, htlc, nowSec))
    const tail = run.then(() => undefined, () => undefined)
    this.locks.set(htlc.paymentHash, tail)
    void tail.then(() => { if (this.locks.get(htlc.paymentHash) === tail) this.locks.delete(htlc.paymentHash) })
    return await run
  }

  private async decide (channelId: string, htlc: Htlc, nowSec: number): Promise<ReceiveDecision | RefuseDecision> {
    if (htlc.recipient !== this.nodeId) return { action: 'fail', reason: 'unknown_next_peer', detail: 'not addressed to us' }
    const rec = await this.invoice(htlc.paymentHash)
    if (rec === undefined) return { action: 'fail', reason: 'incorrect_or_unknown_payment_details', detail: 'unknown payment hash' }
    const by = `${channelId}:${htlc.id}`
    if (rec.paidBy !== undefined) {
      // The same HTLC again (after a restart): fulfil again, report nothing new. Another HTLC for
      // an invoice already paid: refuse it, so nobody pays one invoice twice.
      if (rec.paidBy === by) return { action: 'fulfill', preimage: rec.preimage, firstTime: false, record: rec }
      return { action: 'fail', reason: 'incorrect_or_unknown_payment_details', detail: 'invoice already paid' }
    }
    if (rec.cancelled === true) return { action: 'fail', reason: 'incorrect_or_unknown_payment_details', detail: 'invoice cancelled' }
    if (htlc.amountMsat < rec.amountMsat) return { action: 'fail', reason: 'incorrect_or_unknown_payment_details', detail: `amount ${htlc.amountMsat} < ${rec.amountMsat}` }
    if (nowSec > rec.expiresAt) return { action: 'fail', reason: 'invoice_expired', detail: 'invoice expired' }
    const paid: InvoiceRecord = { ...rec, paidBy: by, receivedMsat: htlc.amountMsat }
    await this.store.write([putRecord(recordKeys.invoice(rec.paymentHash), paid)])
    return { action: 'fulfill', preimage: rec.preimage, firstTime: true, record: paid }
  }

  /** Cancels an unpaid invoice: HTLCs for it are refused from now on. False if unknown or paid. */
  async cancelInvoice (paymentHash: string): Promise<boolean> {
    const rec = await this.invoice(paymentHash)
    if (rec === undefined || rec.paidBy !== undefined) return false
    await this.store.write([putRecord(recordKeys.invoice(paymentHash), { ...rec, cancelled: true })])
    return true
  }

  // ── Payments (payer) ──

  /** Decodes and checks an invoice to pay: a value or a typed failure, never a throw. */
  checkInvoice (invoice: string, nowSec: number): { ok: true; inv: Invoice; amountMsat: Msat } | Extract<PayResult, { ok: false }> {
    const d = decodeInvoice(invoice, { network: 'bcrt' })
    if (!d.ok) return { ok: false, paymentHash: null, reason: 'invalid_invoice', detail: `${d.error.field}: ${d.error.detail}` }
    const inv = d.value
    if (inv.amountMsat === null) return { ok: false, paymentHash: inv.paymentHash, reason: 'no_amount', detail: 'the invoice has no amount' }
    // BOLT #11 (payer): "after the `timestamp` plus `expiry` has passed: SHOULD NOT attempt a payment."
    if (isExpired(inv, nowSec)) return { ok: false, paymentHash: inv.paymentHash, reason: 'invoice_expired', detail: `expired at ${expiresAt(inv)}` }
    if (inv.payee === this.nodeId) return { ok: false, paymentHash: inv.paymentHash, reason: 'wrong_payee', detail: 'the invoice is our own' }
    return { ok: true, inv, amountMsat: inv.amountMsat }
  }

  payment (paymentHash: string): Promise<PaymentRecord | undefined> {
    return readRecord(this.store, recordKeys.payment(paymentHash), paymentRecord)
  }

  async paymentByKey (idempotencyKey: string): Promise<PaymentRecord | undefined> {
    const raw = await this.store.get(recordKeys.idempotency(idempotencyKey))
    if (raw === undefined) return undefined
    const hash = parseJsonValue(raw)
    return typeof hash === 'string' ? await this.payment(hash) : undefined
  }

  /** Records a payment as pending (durably, with its idempotency key) before its HTLC is offered. */
  async begin (rec: PaymentRecord): Promise<void> {
    const ops = [putRecord(recordKeys.payment(rec.paymentHash), rec)]
    if (rec.idempotencyKey !== undefined) ops.push(putRecord(recordKeys.idempotency(rec.idempotencyKey), rec.paymentHash))
    await this.store.write(ops)
  }

  /** Settles a pending payment once: durably, then every waiter is told. Returns the record if this
   *  call settled it (false: it was already settled, e.g. an event replayed after a restart). */
  async settle (paymentHash: string, outcome: { preimage: string } | { reason: string; detail: string }): Promise<PaymentRecord | undefined> {
    const rec = await this.payment(paymentHash)
    if (rec === undefined || rec.status !== 'pending') return undefined
    if ('preimage' in outcome && bytesToHex(sha256(hexToBytes(outcome.preimage))) !== paymentHash) return undefined
    const done: PaymentRecord = 'preimage' in outcome
      ? { ...rec, status: 'succeeded', preimage: outcome.preimage }
      : { ...rec, status: 'failed', failure: { reason: outcome.reason, detail: outcome.detail } }
    await this.store.write([putRecord(recordKeys.payment(paymentHash), done)])
    const result = resultOf(done)
    for (const w of this.waiters.get(paymentHash) ?? []) w(result)
    this.waiters.delete(paymentHash)
    return done
  }

  /** Resolves with the payment's outcome once it has one. */
  wait (paymentHash: string): Promise<PayResult> {
    return new Promise(resolve => { (this.waiters.get(paymentHash) ?? this.waiters.set(paymentHash, []).get(paymentHash)!).push(resolve) })
  }

  /** Payments still pending (after a restart: what to look after). */
  async pending (): Promise<PaymentRecord[]> {
    const out: PaymentRecord[] = []
    for await (const [key] of this.store.iterate(recordKeys.paymentPrefix)) {
      const rec = await readRecord(this.store, key, paymentRecord)
      if (rec?.status === 'pending') out.push(rec)
    }
    return out
  }
}

/** The PayResult a settled record stands for. */
export function resultOf (rec: PaymentRecord): PayResult {
  if (rec.status === 'succeeded') return { ok: true, paymentHash: rec.paymentHash, preimage: rec.preimage!, amountMsat: rec.amountMsat as Msat, feeMsat: (rec.offeredMsat - rec.amountMsat) as Msat }
  if (rec.status === 'failed') return { ok: false, paymentHash: rec.paymentHash, reason: rec.failure!.reason as PayFailureReason, detail: rec.failure!.detail }
  throw new Error('resultOf: payment still pending')
}
