// Durable forwarding circuits (scenario 9, LND's "switch circuit persistence"): for every incoming
// HTLC the hub forwards, a record of where it went, written BEFORE the downstream update_add_htlc is
// sent, and updated with the outcome (preimage or failure) BEFORE the upstream fulfill or fail. So
// after a crash the hub knows, for every incoming HTLC, whether it was forwarded (never forward twice)
// and how it ended (never lose a fulfill).
import { z } from 'zod'
import { HTLC_FAILURE_REASONS, type HtlcFailureReason } from '../../protocol/wire/index.ts'
import type { ChannelId, Msat, NodeId } from '../../protocol/types.ts'
import { crashPoint } from '../crash-points.ts'
import { keys } from '../store/keys.ts'
import { del, parseJsonValue, put, type Store } from '../store/store.ts'

export interface Circuit {
  in: { channelId: ChannelId; htlcId: number; amountMsat: Msat; paymentHash: string; cltvExpiry: number }
  out: { channelId: ChannelId; amountMsat: Msat; cltvExpiry: number; recipient: NodeId; htlcId?: number }
  state: 'forwarding' | 'fulfilled' | 'failed'
  preimage?: string
  reason?: HtlcFailureReason
}

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const circuitSchema = z.strictObject({
  in: z.strictObject({ channelId: hex32, htlcId: z.number().int().min(0), amountMsat: z.number().int().min(1), paymentHash: hex32, cltvExpiry: z.number().int().min(0) }),
  out: z.strictObject({ channelId: hex32, amountMsat: z.number().int().min(1), cltvExpiry: z.number().int().min(0), recipient: z.string().regex(/^0[23][0-9a-f]{64}$/), htlcId: z.number().int().min(0).optional() }),
  state: z.enum(['forwarding', 'fulfilled', 'failed']),
  preimage: hex32.optional(),
  reason: z.enum(HTLC_FAILURE_REASONS).optional(),
})

export const circuitKey = (channelId: string, htlcId: number): string => keys.forward(channelId, String(htlcId))

export class CircuitStore {
  private readonly byIn = new Map<string, Circuit>()

  constructor (private readonly store: Store) {}

  async load (): Promise<Circuit[]> {
    for await (const [key, value] of this.store.iterate('fwd/')) {
      const r = circuitSchema.safeParse(parseJsonValue(value))
      if (!r.success) throw new Error(`store: ${key} is not a circuit (${r.error.issues[0]?.message ?? 'invalid'}): refusing to start`)
      const c = r.data as Circuit
      this.byIn.set(circuitKey(c.in.channelId, c.in.htlcId), c)
    }
    return this.all()
  }

  get (channelId: string, htlcId: number): Circuit | undefined { return this.byIn.get(circuitKey(channelId, htlcId)) }
  all (): Circuit[] { return [...this.byIn.values()] }
  outgoing (channelId: string): Circuit[] { return this.all().filter(c => c.out.channelId === channelId) }

  /** Writes the circuit durably (crash point `circuit:<state>`, `forward` for a new one). */
  async save (c: Circuit): Promise<void> {
    const point = `circuit:${c.state === 'forwarding' ? 'forward' : c.state}`
    this.byIn.set(circuitKey(c.in.channelId, c.in.htlcId), c)
    crashPoint('before', point)
    const { htlcId: _id, ...out } = c.out
    await this.store.write([put(circuitKey(c.in.channelId, c.in.htlcId), { ...c, out })])
    crashPoint('after', point)
  }

  /** The upstream HTLC is gone for good (its removal irrevocably committed): forget the circuit. */
  async remove (channelId: string, htlcId: number): Promise<void> {
    if (!this.byIn.delete(circuitKey(channelId, htlcId))) return
    await this.store.write([del(circuitKey(channelId, htlcId))])
  }
}
