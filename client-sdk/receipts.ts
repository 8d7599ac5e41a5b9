// Receipts of our payments (DESIGN.md "Audit anchoring and receipts"), the SDK's side.
//
// The hub sends payer and payee a signed receipt of each settled payment (payment_receipt). A receipt
// is a claim to check: it must come from the hub we connect to, name us as payer or payee, carry the
// hub's signature, and say what our own records say of the payment. The first two are checked on
// arrival, and the receipt is written at once (receipt/<payment hash>, marked unchecked), so its write
// joins the store batch of whatever else arrived with it (the channel update that settles the payment)
// instead of costing a synced write of its own. The signature and our records are checked when the
// receipt is first read (receipt(), getReceiptProof(), a second receipt of the same payment): a receipt
// that fails is never returned, and a later good receipt replaces it. Of two good receipts of one
// payment that differ, the first is kept: it is evidence. Once the hub anchored the audit entry that
// records it, the inclusion proof (the entry, its Merkle path, the anchor) is fetched with
// receipt_request, checked (protocol/receipt/proof.ts), and stored with the checked receipt.
//
// verifyReceipt() needs nothing from the hub: the receipt's signature, the proof, and a chain backend
// that shows the anchor's commitment in an OP_RETURN of its transaction at the required depth. A log
// the hub rewrote or from which it dropped an entry after anchoring cannot give a proof that passes,
// and the failure names the receipt's entry.
import { z } from 'zod'
import { anchorScript } from '../protocol/audit/anchor.ts'
import {
  checkReceiptProof, receiptProofSchema, receiptSchema, receiptSignatureValid, type ProofCheck, type ProofFailureReason, type Receipt,
  type ReceiptProof,
} from '../protocol/receipt/index.ts'
import type { NodeId } from '../protocol/types.ts'
import type { PaymentReceipt, PeerMessage, ReceiptProofMessage } from '../protocol/wire/index.ts'
import type { ChainBackend } from '../host/chain/backend.ts'
import { keys } from '../host/store/keys.ts'
import { create, parseJsonValue, put, StoreConflict, type Store } from '../host/store/store.ts'

/** A receipt as the SDK keeps it: the hub's signature, and the proof once anchored. */
export interface StoredReceipt {
  receipt: Receipt
  signature: string
  proof: ReceiptProof | null
}

const storedSchema = z.strictObject({
  receipt: receiptSchema,
  signature: z.string().regex(/^[0-9a-f]{128}$/),
  proof: receiptProofSchema.nullable(),
  /** false: written on arrival, its signature and our records not checked yet; absent: checked. */
  checked: z.literal(false).optional(),
})
type StoredRecord = z.infer<typeof storedSchema>

export type ReceiptProofStatus = 'anchored' | 'not_anchored' | 'unknown'

export type ReceiptVerification =
  | { readonly ok: true; readonly entry: number; readonly txid: string; readonly confirmations: number }
  | {
    readonly ok: false
    readonly entry: number
    readonly reason: ReceiptVerifyReason
    readonly detail: string
  }
/** Why a receipt does not verify: the signature, the proof (protocol/receipt/proof.ts names each), or
 *  the chain: the anchor's transaction is not there with the commitment, or not deep enough yet. */
export type ReceiptVerifyReason =
  | 'bad_signature' | 'no_proof' | ProofFailureReason | 'anchor_not_on_chain' | 'anchor_not_deep' | 'chain_unavailable'

/**
 * Checks a receipt against the chain, offline from the hub: the hub's signature, the inclusion proof,
 * and the anchor's transaction carrying the commitment at `minDepth` confirmations or more.
 */
export async function verifyReceipt (
  r: { receipt: Receipt; signature: string; proof: ReceiptProof | null }, chain: ChainBackend, o: { minDepth: number },
): Promise<ReceiptVerification> {
  const n = r.receipt.entry
  if (!receiptSignatureValid(r.receipt, r.signature)) {
    return { ok: false, entry: n, reason: 'bad_signature', detail: `entry ${n}: the receipt is not signed by ${r.receipt.hub_id}` }
  }
  if (r.proof === null) return { ok: false, entry: n, reason: 'no_proof', detail: `entry ${n}: no inclusion proof yet` }
  const c = checkReceiptProof(r.receipt, r.proof)
  if (!c.ok) return c
  const tx = await chain.getRawTransaction(c.txid)
  if (!tx.ok) return { ok: false, entry: n, reason: 'chain_unavailable', detail: `entry ${n}: ${c.txid}: ${tx.error.detail}` }
  if (tx.value === null || tx.value.confirmations === 0) {
    return {
      ok: false, entry: n, reason: 'anchor_not_on_chain', detail: `entry ${n}: the anchoring transaction ${c.txid} is not in the chain`,
    }
  }
  const script = anchorScript(c.commitment)
  if (!tx.value.tx.outputs.some(x => x.scriptPubKey === script)) {
    return {
      ok: false, entry: n, reason: 'anchor_not_on_chain',
      detail: `entry ${n}: ${c.txid} carries no OP_RETURN with commitment ${c.commitment}`,
    }
  }
  if (tx.value.confirmations < o.minDepth) {
    return {
      ok: false, entry: n, reason: 'anchor_not_deep',
      detail: `entry ${n}: ${c.txid} has ${tx.value.confirmations} confirmations, ${o.minDepth} needed`,
    }
  }
  return { ok: true, entry: n, txid: c.txid, confirmations: tx.value.confirmations }
}

export interface ReceiptBookOptions {
  store: Store
  nodeId: NodeId
  /** The hub we are connected to (its proven node id). */
  hubId: () => NodeId | undefined
  /** Whether `id` is a key of the hub we trust, now or before one of its node-key rotations
   *  (client-sdk/hub-keys.ts). Default: only the key of this connection. */
  isHubKey?: (id: NodeId) => boolean
  send: (msg: PeerMessage) => boolean
  warn: (detail: string) => void
  /** What our own records say against the receipt: undefined when they agree, else why not. */
  disagrees: (r: Receipt) => Promise<string | undefined>
}

/** A proof the hub sent that does not prove our receipt: why, naming the entry. */
export type RefusedProof = Extract<ProofCheck, { ok: false }>

export class ReceiptBook {
  private readonly waiters = new Map<string, Array<(m: ReceiptProofMessage) => void>>()
  /** The last proof of each payment that did not check (kept until a good one comes). */
  private readonly refused = new Map<string, RefusedProof>()
  /** Receipts being written on arrival, by payment hash: a read of one waits for its write. */
  private readonly arriving = new Map<string, Promise<void>>()
  /** Steps that read a stored receipt and write it again, in order (a receipt and its proof may
   *  arrive back to back). */
  private queue: Promise<unknown> = Promise.resolve()

  constructor (private readonly opts: ReceiptBookOptions) {}

  private serial<T> (f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f, f)
    this.queue = p.catch(() => {})
    return p
  }

  /** The stored receipt of a payment, checked: undefined when there is none, or it fails its check. */
  async get (paymentHash: string): Promise<StoredReceipt | undefined> {
    await this.arriving.get(paymentHash)?.catch(() => {})
    return await this.checked(paymentHash)
  }

  /** get() without waiting for a receipt on its way (in the queue: the arrival may wait for the queue). */
  private async checked (paymentHash: string): Promise<StoredReceipt | undefined> {
    const held = await this.read(paymentHash)
    if (held === undefined) return undefined
    if (held.checked === false) {
      const why = await this.checkReceipt(held.receipt, held.signature)
      if (why !== undefined) { this.opts.warn(`payment_receipt for ${paymentHash} ${why}: not used`); return undefined }
    }
    return { receipt: held.receipt, signature: held.signature, proof: held.proof }
  }

  private async read (paymentHash: string): Promise<StoredRecord | undefined> {
    const v = await this.opts.store.get(keys.receipt(paymentHash))
    if (v === undefined) return undefined
    const r = storedSchema.safeParse(parseJsonValue(v))
    if (!r.success) throw new Error(`store: ${keys.receipt(paymentHash)} is not a receipt`)
    return r.data
  }

  /** Why a receipt is not to be trusted (not the hub's signature, or not what our records say), or undefined. */
  private async checkReceipt (r: Receipt, signature: string): Promise<string | undefined> {
    if (!receiptSignatureValid(r, signature)) return 'has a bad signature'
    const why = await this.opts.disagrees(r)
    return why === undefined ? undefined : `does not match our records (${why})`
  }

  /**
   * payment_receipt from the hub: when it is the hub's and names us, written at once, unchecked, if we
   * hold no receipt of this payment yet (the write is issued before this returns, so it joins the
   * batch of the messages handled with it). Held already: see settleSecond.
   */
  onReceipt (m: PaymentReceipt): Promise<void> {
    const r = m.receipt
    const hub = this.opts.hubId()
    if (hub === undefined || (r.hub_id !== hub && this.opts.isHubKey?.(r.hub_id as NodeId) !== true)) {
      this.opts.warn(`payment_receipt from another hub (${r.hub_id}): ignored`)
      return Promise.resolve()
    }
    if (r.payer !== this.opts.nodeId && r.payee !== this.opts.nodeId) {
      this.opts.warn(`payment_receipt for ${r.payment_hash} names neither payer nor payee as us: ignored`)
      return Promise.resolve()
    }
    const hash = r.payment_hash
    const before = this.arriving.get(hash)
    const written: Promise<void> = (before === undefined
      ? this.opts.store.write([create(keys.receipt(hash), { receipt: r, signature: m.signature, proof: null, checked: false })])
      : before.then(() => { throw new StoreConflict(keys.receipt(hash)) })
    ).catch(async e => {
      if (!(e instanceof StoreConflict)) throw e
      await this.serial(async () => { await this.settleSecond(m) })
    })
    this.arriving.set(hash, written)
    const done = written.finally(() => { if (this.arriving.get(hash) === written) this.arriving.delete(hash) })
    return done
  }

  /**
   * A receipt of a payment we hold a receipt of (the hub answering receipt_request, or sending again):
   * checked now, with the held one. A good held receipt stays (one that differs is refused: the first
   * is evidence); a held receipt that fails its check is replaced by this one if this one is good.
   */
  private async settleSecond (m: PaymentReceipt): Promise<void> {
    const r = m.receipt
    if (!receiptSignatureValid(r, m.signature)) {
      this.opts.warn(`payment_receipt for ${r.payment_hash}: bad signature, ignored`); return
    }
    const why = await this.opts.disagrees(r)
    if (why !== undefined) {
      this.opts.warn(`payment_receipt for ${r.payment_hash} does not match our records (${why}): ignored`); return
    }
    const held = await this.read(r.payment_hash)
    const heldGood = held !== undefined && (held.checked !== false || await this.checkReceipt(held.receipt, held.signature) === undefined)
    if (held !== undefined && heldGood) {
      if (held.signature !== m.signature && JSON.stringify(held.receipt) !== JSON.stringify(r)) {
        this.opts.warn(`payment_receipt for ${r.payment_hash} differs from the one we hold (entry ${held.receipt.entry}): kept ours`)
      }
      return
    }
    if (held !== undefined) this.opts.warn(`payment_receipt for ${r.payment_hash}: the one we held fails its check, replaced`)
    await this.opts.store.write([put(keys.receipt(r.payment_hash), { receipt: r, signature: m.signature, proof: null })])
  }

  /** receipt_proof from the hub: a proof is checked against our receipt before it is stored. */
  onProof (m: ReceiptProofMessage): Promise<void> {
    // After the receipt sent before it (the hub sends payment_receipt, then receipt_proof) is settled.
    const arriving = this.arriving.get(m.payment_hash)?.catch(() => {}) ?? Promise.resolve()
    return arriving.then(() => this.serial(async () => {
      if (m.status === 'anchored') {
        const held = await this.checked(m.payment_hash)
        const p = receiptProofSchema.safeParse({ entry: m.entry, path: m.path, anchor: m.anchor })
        if (held === undefined || !p.success) {
          this.opts.warn(`receipt_proof for ${m.payment_hash}: ${held === undefined ? 'no receipt of ours' : 'incomplete'}: ignored`)
        } else {
          const c = checkReceiptProof(held.receipt, p.data)
          if (!c.ok) {
            this.refused.set(m.payment_hash, c)
            this.opts.warn(`receipt_proof for ${m.payment_hash} does not prove our receipt: ${c.detail}`)
          } else {
            this.refused.delete(m.payment_hash)
            await this.opts.store.write([put(keys.receipt(m.payment_hash), { ...held, proof: p.data })]) // held passed checked()
          }
        }
      }
      for (const w of this.waiters.get(m.payment_hash)?.splice(0) ?? []) w(m)
    }))
  }

  /** The last proof the hub sent for this payment that did not prove our receipt, if any. */
  refusedProof (paymentHash: string): RefusedProof | undefined { return this.refused.get(paymentHash) }

  /** Asks the hub for the receipt and its proof; resolves with the hub's answer once it is handled. */
  request (paymentHash: string): { answer: Promise<ReceiptProofStatus>; cancel: () => void } {
    let done: (m: ReceiptProofMessage) => void = () => {}
    const answer = new Promise<ReceiptProofStatus>(resolve => { done = m => resolve(m.status) })
    this.refused.delete(paymentHash) // what the hub answers now is what counts
    const list = this.waiters.get(paymentHash) ?? []
    list.push(done)
    this.waiters.set(paymentHash, list)
    this.opts.send({ type: 'receipt_request', payment_hash: paymentHash })
    return {
      answer,
      cancel: () => {
        const l = this.waiters.get(paymentHash)?.filter(x => x !== done) ?? []
        if (l.length === 0) this.waiters.delete(paymentHash); else this.waiters.set(paymentHash, l)
      },
    }
  }
}
