// Idempotency keys, checked by the hub as well as by the payer's SDK (DESIGN.md "Idempotency keys"). An
// SDK refuses a key it used already, but a payer can run a second SDK data directory that does not
// know it (a restore from an old backup, a second server with the same node key): its pay() starts a
// new payment. The HTLC names the key (metadata `idempotency_key`), and the hub keeps, per payer node id
// and key, the payment it was first used for:
//
//   the same key for the same payee, amount and reference: while that payment is in flight or once it
//     succeeded, a new HTLC is refused (`duplicate_payment`): one key never moves money twice; once it
//     failed, the new one is the key's payment from now on (a retry);
//   the same key with another payee, amount or reference: refused (`idempotency_key_reused`).
//
// A record is written in the same batch as the payment's circuit or hold (so no HTLC is forwarded or
// held under a key the hub could forget), and its outcome in the batch of the circuit's or hold's
// outcome. Ended records are kept router.idempotencyDays, then deleted.
import { z } from 'zod'
import { MAX_REFERENCE_CHARS } from '../../protocol/limits.ts'
import type { ChannelId, Msat, NodeId } from '../../protocol/types.ts'
import { IDEMPOTENCY_KEY } from '../../protocol/wire/index.ts'
import { keys } from '../../host/store/keys.ts'
import { del, parseJsonValue, put, type Store, type StoreOp } from '../../host/store/store.ts'

export interface KeyRecord {
  payer: NodeId
  key: string
  paymentHash: string
  recipient: NodeId
  /** What the payee is to receive. */
  amountMsat: Msat
  reference?: string
  /** The incoming HTLC the key was last used for. */
  in: { channelId: ChannelId; htlcId: number }
  state: 'pending' | 'succeeded' | 'failed'
  /** When the state last changed, ms since 1970. */
  at: number
}

/** What a new HTLC under a key may do. */
export type KeyVerdict =
  | { kind: 'go' }                                 // a new key, the key's own HTLC again, or a retry after a failure
  | { kind: 'duplicate'; record: KeyRecord }       // same parameters, payment in flight or succeeded
  | { kind: 'reused'; record: KeyRecord }          // other parameters

/** A key's use by an HTLC: its record without the outcome. */
export type KeyUse = Omit<KeyRecord, 'state' | 'at'>

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const nodeId = z.string().regex(/^0[23][0-9a-f]{64}$/)
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const recordSchema = z.strictObject({
  payer: nodeId, key: z.string().regex(IDEMPOTENCY_KEY), paymentHash: hex32, recipient: nodeId, amountMsat: count.min(1),
  reference: z.string().max(MAX_REFERENCE_CHARS).optional(),
  in: z.strictObject({ channelId: hex32, htlcId: count }),
  state: z.enum(['pending', 'succeeded', 'failed']),
  at: count,
})

const recordKey = (payer: string, key: string): string => keys.payerKey(payer, key)
const inKey = (channelId: string, htlcId: number): string => `${channelId}/${htlcId}`

export class PayerKeys {
  private readonly byKey = new Map<string, KeyRecord>()
  /** The same records by the incoming HTLC they were last used for. */
  private readonly byIn = new Map<string, KeyRecord>()

  constructor (private readonly store: Store) {}

  async load (): Promise<number> {
    for await (const [k, value] of this.store.iterate(keys.payerKeyPrefix)) {
      const r = recordSchema.safeParse(parseJsonValue(value))
      if (!r.success) throw new Error(
        `store: ${k} is not an idempotency key record (${r.error.issues[0]?.message ?? 'invalid'}): refusing to start`
      )
      this.remember(r.data as KeyRecord)
    }
    return this.byKey.size
  }

  private remember (r: KeyRecord): void {
    const old = this.byKey.get(recordKey(r.payer, r.key))
    if (old !== undefined) this.byIn.delete(inKey(old.in.channelId, old.in.htlcId))
    this.byKey.set(recordKey(r.payer, r.key), r)
    this.byIn.set(inKey(r.in.channelId, r.in.htlcId), r)
  }

  check (u: KeyUse): KeyVerdict {
    const r = this.byKey.get(recordKey(u.payer, u.key))
    if (r === undefined) return { kind: 'go' }
    if (r.in.channelId === u.in.channelId && r.in.htlcId === u.in.htlcId) return { kind: 'go' }
    if (r.recipient !== u.recipient || r.amountMsat !== u.amountMsat || (r.reference ?? '') !== (u.reference ?? '')) return {
      kind: 'reused', record: r,
    }
    return r.state === 'failed' ? { kind: 'go' } : { kind: 'duplicate', record: r }
  }

  /** The key's payment is now this HTLC's: the op for the batch that forwards or holds it. In memory
   *  at once, so an HTLC checked after this call sees it. */
  use (u: KeyUse, now: number): StoreOp {
    const r: KeyRecord = { ...u, state: 'pending', at: now }
    this.remember(r)
    return put(recordKey(r.payer, r.key), r)
  }

  /** The payment of the incoming HTLC ended: the op recording it (none if it has no key). */
  ended (channelId: string, htlcId: number, state: 'succeeded' | 'failed', now: number): StoreOp[] {
    const r = this.byIn.get(inKey(channelId, htlcId))
    if (r === undefined || r.state !== 'pending') return []
    r.state = state
    r.at = now
    return [put(recordKey(r.payer, r.key), r)]
  }

  /** Deletes the records of payments that ended before `before` (ms since 1970). */
  async prune (before: number): Promise<number> {
    const old = [...this.byKey.values()].filter(r => r.state !== 'pending' && r.at < before)
    if (old.length === 0) return 0
    for (const r of old) {
      this.byKey.delete(recordKey(r.payer, r.key))
      this.byIn.delete(inKey(r.in.channelId, r.in.htlcId))
    }
    await this.store.write(old.map(r => del(recordKey(r.payer, r.key))))
    return old.length
  }
}
