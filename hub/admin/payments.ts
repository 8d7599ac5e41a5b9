// The operator's payment figures: counts since the hub was first started (forwarded, fulfilled, failed
// by reason, fees earned) and the most recent payments with how they ended (GET /stats, GET /payments,
// the dashboard). They are kept in the store (one record, `ops/stats`) so a restart does not reset
// them. They are figures, not money: a payment's durable truth is its circuit (hub/router/circuits.ts).
// So the record is written at most once per STATS_WRITE_EVERY_MS, not in the circuit's batch, and a
// crash may lose the figures of that last moment.
import { z } from 'zod'
import type { Store } from '../../host/store/store.ts'
import { parseJsonValue, put } from '../../host/store/store.ts'
import type { PaymentEvent } from '../router/router.ts'

export const STATS_KEY = 'ops/stats'
/** Payments listed by GET /payments: enough for an operator's "what just happened", small enough to
 *  rewrite with the figures. */
export const MAX_RECENT_PAYMENTS = 200
/** The figures are written at most this often: a write per payment would double the store's load. */
export const STATS_WRITE_EVERY_MS = 1_000

export interface PaymentRow {
  /** ms since 1970 when it ended. */
  at: number
  status: 'fulfilled' | 'failed'
  channel_in: string
  htlc_in: number
  payment_hash: string | null
  amount_msat: number | null
  fee_msat: number | null
  payee: string | null
  reason: string | null
  detail: string | null
  /** From forwarded to ended; null when it was never forwarded. */
  latency_ms: number | null
}

export interface PaymentStats {
  forwarded: number
  fulfilled: number
  failed: number
  fees_msat: number
  failed_by_reason: Record<string, number>
}

const count = z.number().int().min(0)
const statsRecord = z.strictObject({
  forwarded: count, fulfilled: count, failed: count, fees_msat: count,
  failed_by_reason: z.record(z.string().max(64), count),
  recent: z.array(z.record(z.string(), z.unknown())).max(MAX_RECENT_PAYMENTS),
})

export class PaymentFigures {
  private stats: PaymentStats = { forwarded: 0, fulfilled: 0, failed: 0, fees_msat: 0, failed_by_reason: {} }
  private recent: PaymentRow[] = []
  /** Forwarded payments not ended yet: when they were forwarded and for how much. */
  private readonly open = new Map<string, { at: number; amountMsat: number; payee: string }>()
  private timer: NodeJS.Timeout | undefined
  private writing: Promise<void> = Promise.resolve()

  constructor (private readonly store: Store, private readonly fatal: (e: unknown) => void, private readonly now = Date.now) {}

  /** Reads the stored figures (none on a first start). */
  async load (): Promise<void> {
    const raw = await this.store.get(STATS_KEY)
    if (raw === undefined) return
    const r = statsRecord.safeParse(parseJsonValue(raw))
    if (!r.success) throw new Error(`${STATS_KEY}: ${r.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
    const { recent, ...stats } = r.data
    this.stats = stats
    this.recent = recent as unknown as PaymentRow[]
  }

  /** Counts the event; returns the payment's row when it ended. */
  record (e: PaymentEvent): PaymentRow | undefined {
    const k = `${e.channelIn}/${e.htlcIn}`
    if (e.type === 'forwarded') {
      this.stats.forwarded++
      this.open.set(k, { at: this.now(), amountMsat: e.amountMsat, payee: e.payee })
    } else {
      const started = this.open.get(k)
      this.open.delete(k)
      const at = this.now()
      const row: PaymentRow = {
        at, status: e.type, channel_in: e.channelIn, htlc_in: e.htlcIn, payment_hash: e.paymentHash ?? null,
        amount_msat: e.amountMsat ?? started?.amountMsat ?? null,
        fee_msat: e.type === 'fulfilled' ? e.feeMsat : null,
        payee: e.payee ?? started?.payee ?? null,
        reason: e.type === 'failed' ? e.reason : null, detail: e.type === 'failed' ? e.detail ?? null : null,
        latency_ms: started !== undefined ? at - started.at : null,
      }
      if (e.type === 'fulfilled') { this.stats.fulfilled++; this.stats.fees_msat += e.feeMsat } else {
        this.stats.failed++
        this.stats.failed_by_reason[e.reason] = (this.stats.failed_by_reason[e.reason] ?? 0) + 1
      }
      this.recent.push(row)
      if (this.recent.length > MAX_RECENT_PAYMENTS) this.recent.splice(0, this.recent.length - MAX_RECENT_PAYMENTS)
      this.scheduleWrite()
      return row
    }
    this.scheduleWrite()
    return undefined
  }

  private scheduleWrite (): void {
    this.timer ??= setTimeout(() => { this.timer = undefined; void this.write() }, STATS_WRITE_EVERY_MS)
  }

  figures (): PaymentStats { return { ...this.stats, failed_by_reason: { ...this.stats.failed_by_reason } } }

  /** Newest first; `failed` keeps the failures only. */
  payments (o: { limit: number; failed: boolean }): PaymentRow[] {
    return this.recent.filter(r => !o.failed || r.status === 'failed').slice(-o.limit).reverse()
  }

  /** Payments forwarded and not ended yet. */
  get inFlight (): number { return this.open.size }

  private async write (): Promise<void> {
    this.writing = this.writing.then(async () => {
      await this.store.write([put(STATS_KEY, { ...this.stats, recent: this.recent })])
    }).catch(e => { this.fatal(e) })
    await this.writing
  }

  /** Writes what is not written yet (the hub stops). */
  async flush (): Promise<void> {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined; await this.write() }
    await this.writing
  }
}
