// Durable forwarding circuits (scenario 9, LND's "switch circuit persistence"): for every incoming
// HTLC the hub forwards, a record of where it went, written BEFORE the downstream update_add_htlc is
// sent, and updated with the outcome (preimage or failure) BEFORE the upstream fulfill or fail. So
// after a crash the hub knows, for every incoming HTLC, whether it was forwarded (never forward twice)
// and how it ended (never lose a fulfill).
import { z } from 'zod'
import { HTLC_FAILURE_REASONS, type HtlcFailureReason } from '../../protocol/wire/index.ts'
import type { ChannelId, Msat, NodeId } from '../../protocol/types.ts'
import { crashPoints } from '../../host/crash-points.ts'
import { keys } from '../../host/store/keys.ts'
import { del, parseJsonValue, put, type Store, type StoreOp } from '../../host/store/store.ts'

const crashPoint = crashPoints('HUB_CRASH_AT')

export interface Circuit {
  in: { channelId: ChannelId; htlcId: number; amountMsat: Msat; paymentHash: string; cltvExpiry: number }
  out: { channelId: ChannelId; amountMsat: Msat; cltvExpiry: number; recipient: NodeId; htlcId?: number }
  state: 'forwarding' | 'fulfilled' | 'failed'
  preimage?: string
  reason?: HtlcFailureReason
}

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const circuitSchema = z.strictObject({
  in: z.strictObject({
    channelId: hex32, htlcId: z.number().int().min(0), amountMsat: z.number().int().min(1), paymentHash: hex32,
    cltvExpiry: z.number().int().min(0),
  }),
  out: z.strictObject({
    channelId: hex32, amountMsat: z.number().int().min(1), cltvExpiry: z.number().int().min(0),
    recipient: z.string().regex(/^0[23][0-9a-f]{64}$/), htlcId: z.number().int().min(0).optional(),
  }),
  state: z.enum(['forwarding', 'fulfilled', 'failed']),
  preimage: hex32.optional(),
  reason: z.enum(HTLC_FAILURE_REASONS).optional(),
})

export const circuitKey = (channelId: string, htlcId: number): string => keys.forward(channelId, String(htlcId))

export class CircuitStore {
  private readonly byIn = new Map<string, Circuit>()
  /** The same circuits by outgoing channel (the router asks per downstream event). */
  private readonly byOut = new Map<string, Map<string, Circuit>>()

  constructor (private readonly store: Store) {}

  async load (): Promise<Circuit[]> {
    for await (const [key, value] of this.store.iterate(keys.forwardPrefix)) {
      const r = circuitSchema.safeParse(parseJsonValue(value))
      if (!r.success) throw new Error(`store: ${key} is not a circuit (${r.error.issues[0]?.message ?? 'invalid'}): refusing to start`)
      this.remember(r.data as Circuit)
    }
    return this.all()
  }

  get (channelId: string, htlcId: number): Circuit | undefined { return this.byIn.get(circuitKey(channelId, htlcId)) }
  all (): Circuit[] { return [...this.byIn.values()] }
  outgoing (channelId: string): Circuit[] { const m = this.byOut.get(channelId); return m === undefined ? [] : [...m.values()] }

  private remember (c: Circuit): void {
    const k = circuitKey(c.in.channelId, c.in.htlcId)
    const old = this.byIn.get(k)
    if (old !== undefined && old !== c) this.forget(k, old)
    this.byIn.set(k, c)
    let m = this.byOut.get(c.out.channelId)
    if (m === undefined) this.byOut.set(c.out.channelId, m = new Map())
    m.set(k, c)
  }

  private forget (k: string, c: Circuit): void {
    this.byIn.delete(k)
    const m = this.byOut.get(c.out.channelId)
    m?.delete(k)
    if (m?.size === 0) this.byOut.delete(c.out.channelId)
  }

  /** Writes the circuit durably (crash point `circuit:<state>`, `forward` for a new one), with `also`
   *  in the same atomic batch (a held payment's record, which the new circuit replaces). */
  async save (c: Circuit, also: readonly StoreOp[] = []): Promise<void> {
    const point = `circuit:${c.state === 'forwarding' ? 'forward' : c.state}`
    this.remember(c)
    crashPoint('before', point)
    const { htlcId: _id, ...out } = c.out
    await this.store.write([put(circuitKey(c.in.channelId, c.in.htlcId), { ...c, out }), ...also])
    crashPoint('after', point)
  }

  /** The upstream HTLC is gone for good (its removal irrevocably committed): forget the circuit. */
  async remove (channelId: string, htlcId: number): Promise<void> {
    const k = circuitKey(channelId, htlcId)
    const c = this.byIn.get(k)
    if (c === undefined) return
    this.forget(k, c)
    await this.store.write([del(circuitKey(channelId, htlcId))])
  }
}
