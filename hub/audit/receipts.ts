// Receipts of settled payments (DESIGN.md "Audit anchoring and receipts"), the hub's side.
//
// When a payment settles (the router records the payee's fulfil), its audit entry
// ({kind: 'payment', payment hash, amount, fee, payer, payee, reference}) and an index from the payment
// hash to the entry ride in the router's own batch (prepare): the receipt exists exactly when the
// circuit says fulfilled. Once that batch is durable, the receipt joins the outbox (deliver); the outbox
// is signed by the hub's node key and sent to payers and payees after the current turn of the event
// loop, at most RECEIPTS_SIGNED_PER_TURN at a time: the fulfil that settles the payer's HTLC never waits
// for a signature, and a burst of settlements does not stall the loop. Either party may ask again with
// receipt_request (a receipt missed while offline or while the hub stopped, or the inclusion proof once
// the entry is anchored); the hub answers only the payer or the payee of that payment.
import { z } from 'zod'
import { random32 } from '../../host/random.ts'
import { RECEIPTS_SIGNED_PER_TURN } from '../../protocol/limits.ts'
import { keys } from '../../host/store/keys.ts'
import { parseJsonValue, put, type Store, type StoreOp } from '../../host/store/store.ts'
import { paymentRecordSchema, receiptOf, signReceipt, type PaymentAuditRecord, type Receipt } from '../../protocol/receipt/receipt.ts'
import type { NodeId } from '../../protocol/types.ts'
import type { PaymentReceipt, PeerMessage, ReceiptProofMessage } from '../../protocol/wire/index.ts'
import type { Anchoring } from './anchoring.ts'
import type { AuditLog } from './log.ts'

const indexSchema = z.strictObject({ entry: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) })

export interface HubReceiptsOptions {
  store: Store
  audit: AuditLog
  anchoring: Anchoring
  hubId: NodeId
  nodeKey: Uint8Array
  /** Sends to a connected peer (false: not connected). */
  send: (peer: NodeId, msg: PeerMessage) => boolean
  log?: (event: Record<string, unknown>) => void
}

export interface SettledPayment {
  paymentHash: string
  /** What the payee received. */
  amountMsat: number
  feeMsat: number
  payer: NodeId
  payee: NodeId
  reference: string | null
}

export class HubReceipts {
  /** Receipts whose entries are durable, waiting to be signed and sent to their payer and payee. */
  private readonly outbox: Array<{ receipt: Receipt; payer: NodeId; payee: NodeId }> = []
  private scheduled = false

  constructor (private readonly opts: HubReceiptsOptions) {}

  /**
   * The payment's audit entry and index, as ops for the caller's batch. Advances the audit log's head
   * (AuditLog.prepare): the caller MUST write the ops in the same synchronous step. `deliver()` once
   * the batch is durable.
   */
  prepare (p: SettledPayment): { ops: StoreOp[]; deliver: () => void } {
    const record: PaymentAuditRecord = {
      kind: 'payment', payment_hash: p.paymentHash, amount_msat: p.amountMsat, fee_msat: p.feeMsat, payer: p.payer, payee: p.payee,
      reference: p.reference,
    }
    const { entry, ops } = this.opts.audit.prepare(record)
    const receipt = receiptOf(this.opts.hubId, record, entry.n, entry.time_ms)
    return {
      ops: [...ops, put(keys.auditReceipt(p.paymentHash), { entry: entry.n })],
      deliver: () => { this.outbox.push({ receipt, payer: p.payer, payee: p.payee }); this.schedule() },
    }
  }

  private schedule (): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => { this.scheduled = false; this.sendOut() })
  }

  /** Signs and sends the oldest receipts of the outbox; the rest go on the next turn. */
  private sendOut (): void {
    const batch = this.outbox.splice(0, RECEIPTS_SIGNED_PER_TURN)
    if (this.outbox.length > 0) this.schedule()
    let sent = 0
    for (const { receipt, payer, payee } of batch) {
      const msg = this.signed(receipt)
      if (this.opts.send(payer, msg)) sent++
      if (this.opts.send(payee, msg)) sent++
    }
    this.opts.log?.({
      event: 'receipts_sent', level: 'debug', receipts: batch.length, messages: sent, first_entry: batch[0]?.receipt.entry,
      last_entry: batch.at(-1)?.receipt.entry,
    })
  }

  private signed (r: Receipt): PaymentReceipt {
    return { type: 'payment_receipt', receipt: r, signature: signReceipt(r, this.opts.nodeKey, random32()) }
  }

  /** The receipt of a payment, from its stored entry; undefined when the hub has none. */
  async receipt (paymentHash: string): Promise<Receipt | undefined> {
    const v = await this.opts.store.get(keys.auditReceipt(paymentHash))
    if (v === undefined) return undefined
    const index = indexSchema.parse(parseJsonValue(v))
    const entry = await this.opts.audit.entry(index.entry)
    const record = paymentRecordSchema.safeParse(entry?.record)
    if (entry === undefined || !record.success) throw new Error(`audit entry ${index.entry} is not the payment ${paymentHash}`)
    return receiptOf(this.opts.hubId, record.data, entry.n, entry.time_ms)
  }

  /** receipt_request from `peer`: the receipt (if `peer` paid or was paid), then the proof's status. */
  async request (peer: NodeId, paymentHash: string): Promise<void> {
    const answer = (m: Omit<ReceiptProofMessage, 'type' | 'payment_hash'>): void => {
      this.opts.send(peer, { type: 'receipt_proof', payment_hash: paymentHash, ...m })
    }
    const r = await this.receipt(paymentHash)
    if (r === undefined || (r.payer !== peer && r.payee !== peer)) return answer({ status: 'unknown' })
    this.opts.send(peer, this.signed(r))
    const proof = await this.opts.anchoring.proof(r.entry)
    if (proof === undefined) return answer({ status: 'not_anchored' })
    answer({
      status: 'anchored',
      entry: { ...proof.entry, record: proof.entry.record as Record<string, unknown> },
      path: proof.path,
      anchor: proof.anchor,
    })
  }
}
