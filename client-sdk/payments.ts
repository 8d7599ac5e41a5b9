// Invoices we issue and payments we make, kept durably in the client's store (records.ts), and the
// promises pay() callers wait on. Channel mechanics live in channels.ts; this file only decides and
// remembers.
import { sha256 } from '@noble/hashes/sha2.js'
import { decodeInvoice, encodeInvoice, expiresAt, isExpired, type Invoice } from '../protocol/invoice/index.ts'
import { openPushSecret } from '../protocol/push/secret.ts'
import { bytesToHex, hexToBytes, type Msat, type NodeId } from '../protocol/types.ts'
import type { Htlc, MonitorUpdate } from '../protocol/channel/index.ts'
import type { HtlcFailureReason } from '../protocol/wire/index.ts'
import { keys, parseJsonValue, type Store, type StoreOp } from '../host/store/index.ts'
import { random32 } from '../host/random.ts'
import { crashPoints } from '../host/crash-points.ts'
import type { EventOutbox } from './event-outbox.ts'
import { LiveRecords, type Attached } from './live-records.ts'
import type { StreamReceiver } from './stream-receive.ts'
import { parseTickReference } from '../protocol/stream/tick.ts'
import { invoiceRecord, paymentRecord, putRecord, readRecord, type InvoiceRecord, type PaymentRecord } from './records.ts'

/** Why pay() did not succeed: a reason the hub or payee gave (BOLT #4 names), or one of ours. */
export type PayFailureReason =
  | HtlcFailureReason
  | 'invalid_invoice'      // not a BOLT #11 invoice, bad signature, or not for regtest
  | 'no_amount'            // "any amount" invoices are not supported by pay()
  | 'wrong_payee'          // the invoice is ours (paying ourselves through the hub is refused)
  | 'no_channel'           // no usable channel with the hub
  | 'insufficient_balance' // our channel cannot afford amount + hub fee
  | 'channel_failed'       // the channel failed before the payment's HTLC entered a commitment
  | 'timed_out_onchain'    // the channel closed with the HTLC in it, and it timed out on-chain (at depth)
  | 'idempotency_key_reused' // the idempotency key names a payment of another invoice: nothing was paid
  | 'timeout'              // no outcome within payTimeoutMs: still in flight, resolves later (not final)
  | 'pending'              // a push payment the hub holds for its offline payee: resolves when the payee returns or the hold ends (not
                           // final)

export type PayResult =
  | { ok: true; paymentHash: string; preimage: string; amountMsat: Msat; feeMsat: Msat }
  | { ok: false; paymentHash: string | null; reason: PayFailureReason; detail: string }

export interface ReceiveDecision { action: 'fulfill'; preimage: string; firstTime: boolean; record: InvoiceRecord }
export interface RefuseDecision { action: 'fail'; reason: HtlcFailureReason; detail: string }

/** Invoices kept in memory besides unpaid ones written in this run (a cache: the store has them all). */
const INVOICE_CACHE = 10_000

const nowSec = (): number => Math.floor(Date.now() / 1000)
const crashPoint = crashPoints('SDK_CRASH_AT')

/** Records that ride on a channel's persist batch (channels.ts puts `ops` into the batch and calls
 *  `durable` once it is on disk, or `failed` if the write failed). */
export interface Carried { ops: StoreOp[]; durable: () => void; failed: (e: unknown) => void }

/**
 * Durability without fsyncs of its own. A payment's records are written in the persist batches of
 * the channel that carries its HTLC (carry()), which the channel writes anyway:
 *
 * - begin(): the pending record (and its idempotency key) rides on the channel's next batch. The
 *   add_htlc that follows is an unsigned update, forgotten on disconnect and unusable by the hub until
 *   our commitment_signed for it, which leaves only after a later (or the same) batch of that channel
 *   is durable (DESIGN.md rule 2). So a payment record that never became durable stands for an HTLC
 *   that never left in a signed commitment: after a crash, paying again pays once.
 * - the preimage: the batch in which the channel stores a learned preimage also stores the payment
 *   as succeeded; pay() resolves once that batch is durable, never before.
 * - a failure is written on its own (before it is reported: a restart must not offer it again).
 * - the payee's "paid by" mark rides on the batch that stores the fulfil's preimage, which is durable
 *   before the fulfil leaves: the mark is on disk before anyone can learn the preimage from us.
 * - the event each final change causes (payment_sent, payment_failed, payment_received) is attached
 *   to that change's record and written in the same batch (event-outbox.ts), and delivered once that
 *   batch is durable; acknowledgements of delivered events ride on the batches too.
 */
export class PaymentBook {
  private readonly waiters = new Map<string, Array<(r: PayResult) => void>>()
  private readonly locks = new Map<string, Promise<void>>()
  /** Payments begun or found pending in this run, until their final record is durable. */
  private readonly payments = new LiveRecords<PaymentRecord>(keys.payment, r => r.status === 'pending', Infinity,
    r => [
      putRecord(keys.paymentByTime(r.createdAt, r.paymentHash), ''),
      ...(r.idempotencyKey !== undefined ? [putRecord(keys.idempotency(r.idempotencyKey), r.paymentHash)] : [])
    ],
    (_, r) => {
      if (r.idempotencyKey !== undefined && this.byKey.get(r.idempotencyKey) === r.paymentHash) this.byKey.delete(r.idempotencyKey)
    })
  /** Idempotency key → payment hash, for the payments above. */
  private readonly byKey = new Map<string, string>()
  /** Payment hashes being settled (events may repeat after a reconnect or restart). */
  private readonly settling = new Set<string>()
  /** Payments the hub holds for their offline payee (its payment_held): until when, seconds since
   *  1970. In memory only: the hub says it again when the channel reestablishes. */
  private readonly heldUntil = new Map<string, number>()
  private readonly heldListeners = new Map<string, Array<() => void>>()
  /** Our invoices: unpaid ones (a cache), and paid ones until the mark is durable. */
  private readonly invoices = new LiveRecords<InvoiceRecord>(
    keys.invoice, r => r.paidBy === undefined && r.cancelled !== true, INVOICE_CACHE,
  )

  /** The payee's side of streams (set by HubClient): decides push payments that are stream ticks. */
  streams: StreamReceiver | undefined

  constructor (
    private readonly store: Store,
    private readonly nodeKey: Uint8Array,
    private readonly nodeId: NodeId,
    /** A payment got its final outcome, durably (called once per payment). */
    private readonly onSettled: (rec: PaymentRecord) => void = () => {},
    /** Where the events of final changes are recorded (none: no events). */
    private readonly events?: EventOutbox,
  ) {}

  // ── Invoices (payee) ──

  /** A new BOLT #11 invoice; its preimage is durable before the string is returned. */
  async createInvoice (
    amountMsat: number, memo: string, expirySec: number, minFinalCltvDelta: number, nowSec: number,
  ): Promise<InvoiceRecord> {
    const preimage = random32()
    const paymentHash = bytesToHex(sha256(preimage))
    const enc = encodeInvoice({
      network: 'bcrt', amountMsat: amountMsat as Msat, timestamp: nowSec, paymentHash, paymentSecret: bytesToHex(random32()),
      description: memo, expirySeconds: expirySec, minFinalCltvExpiryDelta: minFinalCltvDelta, includeNodeId: false,
    }, this.nodeKey)
    if (!enc.ok) throw new TypeError(`createInvoice.${enc.error.field}: ${enc.error.detail}`)
    const record: InvoiceRecord = {
      paymentHash, preimage: bytesToHex(preimage), invoice: enc.value, amountMsat, memo, createdAt: nowSec, expiresAt: nowSec + expirySec,
    }
    crashPoint('before', 'record:invoice')
    await this.store.write([putRecord(keys.invoice(paymentHash), record), putRecord(keys.invoiceByTime(nowSec, paymentHash), '')])
    crashPoint('after', 'record:invoice')
    this.invoices.remember(paymentHash, record)
    return record
  }

  async invoice (paymentHash: string): Promise<InvoiceRecord | undefined> {
    return this.invoices.get(paymentHash) ?? await readRecord(this.store, keys.invoice(paymentHash), invoiceRecord)
  }

  /**
   * An HTLC for us is irrevocably committed: fulfil it if it pays one of our invoices in full and in
   * time. BOLT #4 (final node): an unknown payment hash or a short amount is
   * `incorrect_or_unknown_payment_details`. The first HTLC that pays an invoice is marked on the
   * invoice, carried by `channelId`'s next persist batch — the one storing the fulfil's preimage,
   * durable before the fulfil goes out — with its `payment_received` event, delivered once durable.
   */
  async decideIncoming (channelId: string, htlc: Htlc, nowSec: number): Promise<ReceiveDecision | RefuseDecision> {
    return await this.locked(htlc.paymentHash, () => this.decide(channelId, htlc, nowSec))
  }

  /** One decision per payment hash at a time: two HTLCs for one invoice must not both see it unpaid. */
  private async locked<T> (paymentHash: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(paymentHash) ?? Promise.resolve()
    const run = prev.then(fn)
    const tail = run.then(() => undefined, () => undefined)
    this.locks.set(paymentHash, tail)
    void tail.then(() => { if (this.locks.get(paymentHash) === tail) this.locks.delete(paymentHash) })
    return await run
  }

  private async decide (channelId: string, htlc: Htlc, nowSec: number): Promise<ReceiveDecision | RefuseDecision> {
    if (htlc.recipient !== this.nodeId) return { action: 'fail', reason: 'unknown_next_peer', detail: 'not addressed to us' }
    const rec = await this.invoice(htlc.paymentHash)
    if (rec === undefined && htlc.metadata?.push !== undefined) return await this.decidePush(channelId, htlc, nowSec)
    if (rec === undefined) return { action: 'fail', reason: 'incorrect_or_unknown_payment_details', detail: 'unknown payment hash' }
    const by = `${channelId}:${htlc.id}`
    if (rec.paidBy !== undefined) {
      // The same HTLC again (after a restart): fulfil again, report nothing new. Another HTLC for
      // an invoice already paid: refuse it, so nobody pays one invoice twice.
      if (rec.paidBy === by) return { action: 'fulfill', preimage: rec.preimage, firstTime: false, record: rec }
      return { action: 'fail', reason: 'incorrect_or_unknown_payment_details', detail: 'invoice already paid' }
    }
    if (rec.cancelled === true) return { action: 'fail', reason: 'incorrect_or_unknown_payment_details', detail: 'invoice cancelled' }
    if (htlc.amountMsat < rec.amountMsat) return {
      action: 'fail', reason: 'incorrect_or_unknown_payment_details',
      detail: `amount ${htlc.amountMsat} msat is below the invoice's ${rec.amountMsat} msat`,
    }
    if (nowSec > rec.expiresAt) return { action: 'fail', reason: 'invoice_expired', detail: 'invoice expired' }
    const paid: InvoiceRecord = { ...rec, paidBy: by, receivedMsat: htlc.amountMsat, paidAt: nowSec }
    this.invoices.set(rec.paymentHash, paid, channelId, this.events?.attach(
      'payment_received', rec.paymentHash,
      { paymentHash: rec.paymentHash, amountMsat: htlc.amountMsat, memo: rec.memo, channelId, paidAt: nowSec }, nowSec,
    ))
    return { action: 'fulfill', preimage: rec.preimage, firstTime: true, record: paid }
  }

  /**
   * A push payment (no invoice of ours): its preimage came sealed to our node key in the HTLC's
   * metadata (protocol/push/secret.ts). Fulfilled if it opens with our key for this payment hash and
   * reference, and the HTLC carries at least the amount the payer sealed; otherwise failed (a payee
   * that cannot open it claims nothing). Recorded as a paid invoice record (`push`), carried by the
   * fulfil's batch with its listInvoices index entry and its payment_received, like an invoice paid.
   */
  private async decidePush (channelId: string, htlc: Htlc, nowSec: number): Promise<ReceiveDecision | RefuseDecision> {
    const reference = htlc.metadata?.reference ?? ''
    const opened = openPushSecret({
      secret: htlc.metadata!.push!, nodeKey: this.nodeKey, paymentHash: htlc.paymentHash, htlcAmountMsat: htlc.amountMsat, reference,
    })
    if (!opened.ok) return {
      action: 'fail', reason: 'incorrect_or_unknown_payment_details',
      detail: `push payment refused: ${opened.error.reason}: ${opened.error.detail}`,
    }
    // A stream tick (DESIGN.md "Streams"): fulfilled only if its items, relayed beside it, match.
    const tick = parseTickReference(reference)
    let tickOps: Attached | undefined
    if (tick !== undefined && this.streams !== undefined) {
      if (htlc.metadata?.stream_root !== undefined && htlc.metadata.stream_root !== tick.root) {
        return {
          action: 'fail', reason: 'incorrect_or_unknown_payment_details', detail: 'stream tick: stream_root is not the reference\'s',
        }
      }
      const d = await this.streams.decide(htlc.paymentHash, opened.value.amountMsat, tick, nowSec)
      if (!d.ok) return { action: 'fail', reason: 'incorrect_or_unknown_payment_details', detail: d.detail }
      tickOps = d.attached
    }
    return this.revealedPaid(channelId, htlc, opened.value.preimage, opened.value.amountMsat, reference, nowSec, undefined, tickOps)
  }

  /**
   * An HTLC for us whose preimage the payer revealed (a push payment's sealed preimage, or a split
   * leg's, computed from the released secret: client-sdk/split-receive.ts): recorded as a paid invoice
   * record (`push`), carried by the fulfil's batch with its listInvoices index entry and its
   * payment_received, like an invoice paid.
   */
  revealedPaid (
    channelId: string, htlc: Htlc, preimage: string, amountMsat: Msat, reference: string, nowSec: number, splitId?: string,
    /** A stream tick's record (its items and our signature), carried by the same batch. */
    tickOps?: Attached,
  ): ReceiveDecision {
    const hash = htlc.paymentHash
    const paid: InvoiceRecord = {
      paymentHash: hash, preimage, invoice: '', amountMsat, memo: reference,
      createdAt: nowSec, expiresAt: nowSec, paidBy: `${channelId}:${htlc.id}`, receivedMsat: htlc.amountMsat, paidAt: nowSec, push: true,
      ...(splitId !== undefined ? { splitId } : {}),
    }
    this.invoices.set(hash, paid, channelId, { ops: [putRecord(keys.invoiceByTime(nowSec, hash), '')], durable: () => {} })
    if (tickOps !== undefined) this.invoices.set(hash, paid, channelId, tickOps)
    this.invoices.set(hash, paid, channelId, this.events?.attach('payment_received', hash, {
      paymentHash: hash, amountMsat: htlc.amountMsat, memo: '', channelId, paidAt: nowSec, push: true,
      ...(reference !== '' ? { reference } : {}), ...(splitId !== undefined ? { splitId } : {}),
    }, nowSec))
    return { action: 'fulfill', preimage, firstTime: true, record: paid }
  }

  /** Resolves once the invoice's latest record (its "paid by" mark) is durable; writes it itself if
   *  its carrier has not taken it (e.g. the fulfil was refused, so that channel wrote nothing). */
  async invoiceDurable (paymentHash: string): Promise<void> {
    const written = this.invoices.whenWritten(paymentHash)
    if (this.invoices.waitsForCarrier(paymentHash)) await this.writeOwn(this.invoices, paymentHash, 'record:invoice')
    await written
  }

  /** Cancels an unpaid invoice: HTLCs for it are refused from now on. False if unknown or paid. */
  async cancelInvoice (paymentHash: string): Promise<boolean> {
    return await this.locked(paymentHash, async () => {
      const rec = await this.invoice(paymentHash)
      if (rec === undefined || rec.paidBy !== undefined) return false
      const cancelled = { ...rec, cancelled: true }
      crashPoint('before', 'record:invoice')
      await this.store.write([putRecord(keys.invoice(paymentHash), cancelled)])
      crashPoint('after', 'record:invoice')
      this.invoices.remember(paymentHash, cancelled)
      return true
    })
  }

  // ── Payments (payer) ──

  /** Decodes and checks an invoice to pay: a value or a typed failure, never a throw. */
  checkInvoice (invoice: string, nowSec: number): { ok: true; inv: Invoice; amountMsat: Msat } | Extract<PayResult, { ok: false }> {
    const d = decodeInvoice(invoice, { network: 'bcrt' })
    if (!d.ok) return { ok: false, paymentHash: null, reason: 'invalid_invoice', detail: `${d.error.field}: ${d.error.detail}` }
    const inv = d.value
    if (inv.amountMsat === null) return {
      ok: false, paymentHash: inv.paymentHash, reason: 'no_amount', detail: 'the invoice has no amount',
    }
    // BOLT #11 (payer): "after the `timestamp` plus `expiry` has passed: SHOULD NOT attempt a payment."
    if (isExpired(inv, nowSec)) return {
      ok: false, paymentHash: inv.paymentHash, reason: 'invoice_expired', detail: `expired at ${expiresAt(inv)}`,
    }
    if (inv.payee === this.nodeId) return {
      ok: false, paymentHash: inv.paymentHash, reason: 'wrong_payee', detail: 'the invoice is our own',
    }
    return { ok: true, inv, amountMsat: inv.amountMsat }
  }

  async payment (paymentHash: string): Promise<PaymentRecord | undefined> {
    return this.payments.get(paymentHash) ?? await readRecord(this.store, keys.payment(paymentHash), paymentRecord)
  }

  async paymentByKey (idempotencyKey: string): Promise<PaymentRecord | undefined> {
    const live = this.byKey.get(idempotencyKey)
    if (live !== undefined) return await this.payment(live)
    const raw = await this.store.get(keys.idempotency(idempotencyKey))
    if (raw === undefined) return undefined
    const hash = parseJsonValue(raw)
    return typeof hash === 'string' ? await this.payment(hash) : undefined
  }

  /**
   * Records a payment as pending, carried by `channelId`'s next persist batch (see the class comment:
   * durable before the commitment that signs its HTLC leaves). Synchronous, so two pay() calls for
   * one invoice or key cannot both begin: returns the payment already begun, if any.
   */
  begin (rec: PaymentRecord, channelId: string): PaymentRecord | undefined {
    const prior = this.payments.get(rec.paymentHash) ?? (
      rec.idempotencyKey !== undefined ? this.payments.get(this.byKey.get(rec.idempotencyKey) ?? '') : undefined
    )
    if (prior !== undefined) return prior
    this.payments.set(rec.paymentHash, rec, channelId)
    if (rec.idempotencyKey !== undefined) this.byKey.set(rec.idempotencyKey, rec.paymentHash)
    return undefined
  }

  /**
   * The records `channelId`'s persist batch carries: payments begun on it, invoices it fulfils, and —
   * for every preimage the batch stores (a monitor update) — the payment it completes, as succeeded.
   */
  carry (channelId: string, monitor: readonly MonitorUpdate[]): Carried | undefined {
    const succeeded: PaymentRecord[] = []
    for (const m of monitor) {
      if (m.kind !== 'preimage') continue
      const rec = this.payments.get(m.paymentHash)
      if (rec?.status !== 'pending' || this.settling.has(rec.paymentHash) || !preimageMatches(m.preimage, rec.paymentHash)) continue
      const done: PaymentRecord = { ...rec, status: 'succeeded', preimage: m.preimage, settledAt: nowSec() }
      this.payments.set(rec.paymentHash, done, channelId, this.outcomeEvent(done))
      succeeded.push(done)
    }
    const pay = this.payments.take(channelId)
    const inv = this.invoices.take(channelId)
    const acks = this.events?.takeAcks() ?? []
    if (pay.ops.length === 0 && inv.ops.length === 0 && acks.length === 0) return undefined
    return {
      ops: [...pay.ops, ...inv.ops, ...acks],
      durable: () => {
        this.payments.written(pay.ids)
        this.invoices.written(inv.ids)
        for (const a of [...pay.attached, ...inv.attached]) a.durable()
        for (const done of succeeded) this.finish(done)
      },
      failed: e => { this.payments.failed(pay.ids, e); this.invoices.failed(inv.ids, e) },
    }
  }

  /** Settles a pending payment once: durably, then every waiter is told (and onSettled). Returns the
   *  record if this call settled it (undefined: already settled, e.g. an event replayed after a
   *  restart or a preimage already carried). */
  async settle (
    paymentHash: string, outcome: { preimage: string } | { reason: string; detail: string },
  ): Promise<PaymentRecord | undefined> {
    if (this.settling.has(paymentHash)) return undefined
    this.settling.add(paymentHash)
    try {
      const rec = await this.payment(paymentHash)
      if (rec === undefined || rec.status !== 'pending') return undefined
      if ('preimage' in outcome && !preimageMatches(outcome.preimage, paymentHash)) return undefined
      const done: PaymentRecord = 'preimage' in outcome
        ? { ...rec, status: 'succeeded', preimage: outcome.preimage, settledAt: nowSec() }
        : { ...rec, status: 'failed', failure: { reason: outcome.reason, detail: outcome.detail }, settledAt: nowSec() }
      // Written on its own (this latest value supersedes one still waiting for a carrier).
      this.payments.set(paymentHash, done, '', this.outcomeEvent(done))
      await this.writeOwn(this.payments, paymentHash, 'record:payment')
      this.finish(done)
      return done
    } finally {
      this.settling.delete(paymentHash)
    }
  }

  /** Writes every record still waiting for a carrier's batch, in one write (at stop: a pending
   *  payment whose HTLC was never signed is then offered again after a restart, as recoverPayments
   *  does for any pending payment found in no channel). */
  async flush (): Promise<void> {
    const pay = this.payments.waiting()
    const inv = this.invoices.waiting()
    if (pay.length + inv.length === 0) return
    // Events attached to these records are written with them and delivered at the next start.
    const ops = [
      ...pay.flatMap(id => this.payments.own(id).ops), ...inv.flatMap(id => this.invoices.own(id).ops), ...(this.events?.takeAcks() ?? [])
    ]
    try {
      await this.store.write(ops)
    } catch (e) {
      this.payments.failed(pay, e)
      this.invoices.failed(inv, e)
      throw e
    }
    this.payments.written(pay)
    this.invoices.written(inv)
  }

  /** Writes the latest value of one record (and what is attached to it) in a write of its own. */
  private async writeOwn<T> (records: LiveRecords<T>, id: string, point: string): Promise<void> {
    const own = records.own(id)
    crashPoint('before', point)
    try {
      await this.store.write([...own.ops, ...(this.events?.takeAcks() ?? [])])
    } catch (e) {
      records.failed([id], e)
      throw e
    }
    crashPoint('after', point)
    records.written([id])
    for (const a of own.attached) a.durable()
  }

  /** The event a payment's final record causes, written with it. */
  private outcomeEvent (done: PaymentRecord): Attached | undefined {
    const common = {
      paymentHash: done.paymentHash, ...(done.idempotencyKey !== undefined ? { idempotencyKey: done.idempotencyKey } : {}),
      ...(done.reference !== undefined ? { reference: done.reference } : {})
    }
    const at = done.settledAt ?? nowSec()
    if (done.status === 'succeeded') return this.events?.attach(
      'payment_sent', done.paymentHash,
      { ...common, amountMsat: done.amountMsat, feeMsat: done.offeredMsat - done.amountMsat, preimage: done.preimage! }, at,
    )
    return this.events?.attach(
      'payment_failed', done.paymentHash, { ...common, reason: done.failure!.reason, detail: done.failure!.detail }, at,
    )
  }

  /** The outcome of a payment found already begun: its waiters' result once it has one, and a final
   *  outcome only once its record is durable (a record settled in memory may still be on its way). */
  async outcomeOf (rec: PaymentRecord): Promise<PayResult> {
    if (rec.status === 'pending') return await this.wait(rec.paymentHash)
    await this.payments.whenWritten(rec.paymentHash)
    return resultOf(rec)
  }

  /**
   * The outcome of a payment already begun, waiting at most `timeoutMs`: its final result once it is
   * settled and durable, or a `timeout` result (not final: the payment is still in flight).
   */
  async outcomeWithin (paymentHash: string, timeoutMs: number, o: { pendingOnHold?: boolean } = {}): Promise<PayResult> {
    // The waiter is registered before the record is read, so a settlement in between is not missed.
    let timer: ReturnType<typeof setTimeout> | undefined
    let offHeld = (): void => {}
    const waiter = this.waiter(paymentHash)
    const settled = (async (): Promise<PayResult> => {
      const rec = await this.payment(paymentHash)
      if (rec === undefined || rec.status === 'pending') return await waiter.promise
      await this.payments.whenWritten(paymentHash)
      return resultOf(rec)
    })()
    // A push payment's first pay() returns `pending` as soon as the hub holds it; any call returns it
    // instead of `timeout` while the hub holds the payment (markHeld).
    const held = new Promise<PayResult>(resolve => {
      if (o.pendingOnHold !== true) return
      const list = this.heldListeners.get(paymentHash) ?? this.heldListeners.set(paymentHash, []).get(paymentHash)!
      const fn = (): void => resolve(this.pendingResult(paymentHash))
      list.push(fn)
      offHeld = () => {
        const i = list.indexOf(fn); if (i >= 0) list.splice(i, 1); if (list.length === 0) this.heldListeners.delete(paymentHash)
      }
    })
    const timeout = new Promise<PayResult>(resolve => {
      timer = setTimeout(() => resolve(this.heldUntil.has(paymentHash) ? this.pendingResult(paymentHash) : {
        ok: false, paymentHash, reason: 'timeout',
        detail: `no outcome within ${timeoutMs} ms: the payment is still in flight and resolves later; do not pay again (ask again with ` +
          `the same idempotency key or invoice)`,
      }), timeoutMs)
    })
    try { return await Promise.race([settled, held, timeout]) } finally { clearTimeout(timer); offHeld(); waiter.cancel() }
  }

  /** The hub holds a pending push payment of ours for its offline payee until `untilSec`
   *  (payment_held). A payment of an invoice waits for its outcome as before (its payee was online to
   *  issue the invoice; the hub holds it only while the payee reconnects). */
  markHeld (paymentHash: string, untilSec: number): void {
    const rec = this.payments.get(paymentHash)
    if (rec?.status !== 'pending' || rec.push === undefined) return
    this.heldUntil.set(paymentHash, untilSec)
    for (const fn of [...this.heldListeners.get(paymentHash) ?? []]) fn()
  }

  private pendingResult (paymentHash: string): PayResult {
    const until = this.heldUntil.get(paymentHash)
    return {
      ok: false, paymentHash, reason: 'pending',
      detail: `the payee is offline and the hub holds the ` +
        `payment${until !== undefined ? ` until ${new Date(until * 1000).toISOString()} at the latest` : ''}: ` +
        'not final; it completes when the payee returns, or fails back with recipient_offline (payment_sent / payment_failed, or pay() ' +
        'again with the same idempotency key)',
    }
  }

  private finish (done: PaymentRecord): void {
    this.heldUntil.delete(done.paymentHash)
    const result = resultOf(done)
    for (const w of this.waiters.get(done.paymentHash) ?? []) w(result)
    this.waiters.delete(done.paymentHash)
    this.onSettled(done)
  }

  /** Resolves with the payment's outcome once it has one. */
  wait (paymentHash: string): Promise<PayResult> { return this.waiter(paymentHash).promise }

  /** The client is stopping: every caller still waiting for an outcome gets `timeout` now (not final:
   *  the payment stays pending in the store and resolves after the next start), so no pay() call
   *  outlives the client or keeps its process alive. */
  abandonWaits (): void {
    for (const [paymentHash, list] of this.waiters) {
      const r: PayResult = {
        ok: false, paymentHash, reason: 'timeout',
        detail: 'the client stopped before the outcome was known: the payment is still in flight and resolves after the next start; do ' +
          'not pay again (ask again with the same idempotency key or invoice)',
      }
      for (const w of list) w(r)
    }
    this.waiters.clear()
  }

  private waiter (paymentHash: string): { promise: Promise<PayResult>; cancel: () => void } {
    let resolve!: (r: PayResult) => void
    const promise = new Promise<PayResult>(r => { resolve = r })
    const list = this.waiters.get(paymentHash) ?? this.waiters.set(paymentHash, []).get(paymentHash)!
    list.push(resolve)
    const cancel = (): void => {
      const l = this.waiters.get(paymentHash)
      if (l === undefined) return
      const i = l.indexOf(resolve)
      if (i >= 0) l.splice(i, 1)
      if (l.length === 0) this.waiters.delete(paymentHash)
    }
    return { promise, cancel }
  }

  /** Payments still pending (after a restart: what to look after), including those begun in this
   *  run whose record is not durable yet. */
  async pending (): Promise<PaymentRecord[]> {
    const out = new Map<string, PaymentRecord>()
    for await (const [key] of this.store.iterate(keys.paymentPrefix)) {
      const hash = key.slice(keys.paymentPrefix.length)
      if (this.payments.has(hash)) continue
      const rec = await readRecord(this.store, key, paymentRecord)
      // Pending records stay in memory until settled (read from there from now on).
      if (rec?.status === 'pending' && !this.payments.has(hash)) {
        this.payments.remember(hash, rec)
        if (rec.idempotencyKey !== undefined) this.byKey.set(rec.idempotencyKey, hash)
      }
    }
    for (const rec of this.payments.values()) if (rec.status === 'pending') out.set(rec.paymentHash, rec)
    return [...out.values()]
  }
}

const preimageMatches = (preimage: string, paymentHash: string): boolean => bytesToHex(sha256(hexToBytes(preimage))) === paymentHash

/** The PayResult a settled record stands for. */
export function resultOf (rec: PaymentRecord): PayResult {
  if (rec.status === 'succeeded') return {
    ok: true, paymentHash: rec.paymentHash, preimage: rec.preimage!, amountMsat: rec.amountMsat as Msat,
    feeMsat: (rec.offeredMsat - rec.amountMsat) as Msat,
  }
  if (rec.status === 'failed') return {
    ok: false, paymentHash: rec.paymentHash, reason: rec.failure!.reason as PayFailureReason, detail: rec.failure!.detail,
  }
  throw new Error('resultOf: payment still pending')
}
