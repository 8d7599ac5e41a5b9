// Receipts of settled payments (DESIGN.md "Audit anchoring and receipts"), the hub's side.
//
// When a payment settles (the router records the payee's fulfil), its audit entry
// ({kind: 'payment', payment hash, amount, fee, payer, payee, reference}) and an index from the payment
// hash to the entry ride in the router's own batch (prepare): the receipt exists exactly when the
// circuit says fulfilled. Once that batch is durable, the receipt, signed by the hub's node key, goes to
// the payer and to the payee (deliver). Either may ask again with receipt_request (a receipt missed
// while offline, or the inclusion proof once the entry is anchored); the hub answers only the payer or
// the payee of that payment.
import { z } from 'zod'
import { random32 } from '../../host/random.ts'
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
      deliver: () => {
        const msg = this.signed(receipt)
        const sent = [p.payer, p.payee].filter(peer => this.opts.send(peer, msg))
        this.opts.log?.({ event: 'receipt_sent', payment_hash: p.paymentHash, entry: entry.n, to: sent })
      },
    }
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
