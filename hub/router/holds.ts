// Payments held for an offline payee (DESIGN.md "Offline payees"): an incoming HTLC, irrevocably
// committed by the payer, for a payee that has no usable channel now (offline, reconnecting, or its
// channel still opening). The hold is a durable record, written BEFORE the payer is told its payment
// is held (payment_held), so a hub that restarts keeps every hold with its deadline:
//
//   held    → the payee came back: the hold is deleted in the same batch that writes the payment's
//             circuit (hub/router/circuits.ts), before the downstream update_add_htlc leaves; from
//             then on the circuit is the payment's record.
//   held    → failed: the deadline passed, or the payment can no longer be forwarded. Recorded with
//             the reason before the upstream fail leaves (a restart fails it again, never forwards
//             it), and deleted once that removal is irrevocably committed (htlc_settled), like a
//             circuit.
//   held    → gone: the payer's channel failed or the HTLC is no longer in it (the chain decides it).
//
// A hold never holds anything the router forwards: its record carries no metadata, no preimage (the
// hub never has one before the payee fulfils; a push payment's secret stays sealed in the HTLC).
import { z } from 'zod'
import { MAX_FAIL_DETAIL_CHARS } from '../../protocol/limits.ts'
import { HTLC_FAILURE_REASONS, type HtlcFailureReason } from '../../protocol/wire/index.ts'
import type { ChannelId, Msat, NodeId } from '../../protocol/types.ts'
import { crashPoints } from '../../host/crash-points.ts'
import { keys } from '../../host/store/keys.ts'
import { del, parseJsonValue, put, type Store, type StoreOp } from '../../host/store/store.ts'

const crashPoint = crashPoints('HUB_CRASH_AT')

export interface Hold {
  in: { channelId: ChannelId; htlcId: number; amountMsat: Msat; paymentHash: string; cltvExpiry: number }
  recipient: NodeId
  /** What the payee is to receive: the incoming amount minus the hub's fee. */
  outAmountMsat: Msat
  /** When the hold began, ms since 1970. */
  heldAt: number
  /** The hold ends at this time (ms since 1970) or at this block height, whichever comes first. */
  untilTime: number
  untilHeight: number
  state: 'held' | 'failed'
  reason?: HtlcFailureReason
  detail?: string
}

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const holdSchema = z.strictObject({
  in: z.strictObject({ channelId: hex32, htlcId: count, amountMsat: count.min(1), paymentHash: hex32, cltvExpiry: count }),
  recipient: z.string().regex(/^0[23][0-9a-f]{64}$/),
  outAmountMsat: count.min(1),
  heldAt: count,
  untilTime: count,
  untilHeight: count,
  state: z.enum(['held', 'failed']),
  reason: z.enum(HTLC_FAILURE_REASONS).optional(),
  detail: z.string().max(MAX_FAIL_DETAIL_CHARS).optional(),
})

const holdKey = (channelId: string, htlcId: number): string => keys.hold(channelId, htlcId)

export class HoldStore {
  private readonly byIn = new Map<string, Hold>()

  constructor (private readonly store: Store) {}

  async load (): Promise<Hold[]> {
    for await (const [key, value] of this.store.iterate(keys.holdPrefix)) {
      const r = holdSchema.safeParse(parseJsonValue(value))
      if (!r.success) throw new Error(`store: ${key} is not a held payment (${r.error.issues[0]?.message ?? 'invalid'}): refusing to start`)
      const h = r.data as Hold
      this.byIn.set(holdKey(h.in.channelId, h.in.htlcId), h)
    }
    return this.all()
  }

  get (channelId: string, htlcId: number): Hold | undefined { return this.byIn.get(holdKey(channelId, htlcId)) }
  all (): Hold[] { return [...this.byIn.values()] }
  /** Payments held now (not failed) for `recipient`. */
  heldFor (recipient: NodeId): Hold[] { return this.all().filter(h => h.recipient === recipient && h.state === 'held') }

  /** Writes the hold durably (crash point `hold:<state>`), with `also` in the same batch (its
   *  payer's idempotency key record, payer-keys.ts). It counts against the payee's caps from
   *  the call on, so two payments checked at once cannot both pass a cap with room for one. */
  async save (h: Hold, also: readonly StoreOp[] = []): Promise<void> {
    const point = `hold:${h.state}`
    this.byIn.set(holdKey(h.in.channelId, h.in.htlcId), h)
    crashPoint('before', point)
    await this.store.write([put(holdKey(h.in.channelId, h.in.htlcId), h), ...also])
    crashPoint('after', point)
  }

  /** The payee is back: the op that deletes the hold, for the batch that writes the payment's
   *  circuit. The hold is forgotten in memory at once (the router owns it until that batch lands). */
  release (h: Hold): StoreOp {
    this.byIn.delete(holdKey(h.in.channelId, h.in.htlcId))
    return del(holdKey(h.in.channelId, h.in.htlcId))
  }

  /** The upstream HTLC is gone for good (its removal irrevocably committed, or its channel failed):
   *  forget the hold. */
  async remove (channelId: string, htlcId: number): Promise<void> {
    const k = holdKey(channelId, htlcId)
    if (!this.byIn.has(k)) return
    this.byIn.delete(k)
    await this.store.write([del(k)])
  }
}
