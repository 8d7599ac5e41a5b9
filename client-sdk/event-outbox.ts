// The events an application acts on (payment_received, payment_sent, payment_failed, channel_closed),
// delivered at least once across crashes, each with a stable id to de-duplicate by.
//
// - An event is stored (evt/<id>) in the same atomic write as the state change that causes it: a
//   payment's outcome and its payment_sent/payment_failed, an invoice's "paid by" mark and its
//   payment_received (PaymentBook attaches them to its records, which ride on the channel's persist
//   batch or a write of their own). So after any crash either both are on disk or neither is, and a
//   change that happened is never without its event.
// - It is delivered only once that write is durable, and only once the application has started
//   delivery (HubClient.connect(), after it registered its listeners: restoring channels at create()
//   can already record events), and stays stored until the application has taken it: every listener returned (or the promise it returned
//   resolved). A listener that throws or rejects leaves it stored; it is delivered again after `retryMs`, and at every start.
// - The acknowledgement (deleting evt/<id>) needs no fsync of its own: it rides on the client's next
//   write, or is written on its own after a short while. A crash before it is durable only delivers
//   the event again, with the same id.
// - Ids name what happened, not when: `<type>:<payment hash>` or `channel_closed:<channel id>`. An
//   event recorded again for the same thing (the chain monitor reports at least once) keeps its id.
// New kinds of events (e.g. a settlement) join by adding a type and its data schema below.
import { z } from 'zod'
import { del, keys, parseJsonValue, put, type Store, type StoreOp } from '../host/store/index.ts'
import { crashPoints } from '../host/crash-points.ts'
import type { Attached } from './live-records.ts'

const crashPoint = crashPoints('SDK_CRASH_AT')

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const msat = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

export const eventData = {
  /** An invoice of ours was paid, or a push payment reached us: the HTLC is irrevocably committed and we fulfil it. */
  payment_received: z.strictObject({
    paymentHash: hex32, amountMsat: msat, memo: z.string(), channelId: z.string(), paidAt: z.number().int(),
    /** A push payment (no invoice), with the payer's reference. */
    push: z.literal(true).optional(), reference: z.string().optional(),
    /** A leg of a split payment (DESIGN.md "Splits"): the split it belongs to. */
    splitId: hex32.optional(),
  }),
  /** A payment we made succeeded (its preimage is stored). */
  payment_sent: z.strictObject({
    paymentHash: hex32, amountMsat: msat, feeMsat: msat, preimage: hex32, idempotencyKey: z.string().optional(),
    reference: z.string().optional(),
  }),
  /** A payment we made failed for good (pay()'s final failures). */
  payment_failed: z.strictObject({
    paymentHash: hex32, reason: z.string(), detail: z.string(), idempotencyKey: z.string().optional(), reference: z.string().optional(),
  }),
  /** A channel's funding output is spent and everything on it is resolved on-chain, at depth. */
  channel_closed: z.strictObject({ channelId: z.string(), how: z.enum(['mutual', 'local', 'remote', 'revoked', 'unknown']) }),
} as const
export type EventType = keyof typeof eventData
export type EventData<K extends EventType> = z.output<(typeof eventData)[K]>

const storedEvent = z.strictObject({
  id: z.string().min(1).max(200),
  /** Order of recording in the run that recorded it (delivery order after a restart). */
  seq: z.number().int().min(0),
  type: z.enum(Object.keys(eventData) as [EventType, ...EventType[]]),
  /** When it was recorded, seconds since 1970. */
  at: z.number().int(),
  data: z.record(z.string(), z.unknown()),
}).superRefine((e, ctx) => {
  const r = eventData[e.type].safeParse(e.data)
  if (!r.success) ctx.addIssue({
    code: 'custom', path: ['data'], message: r.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; '),
  })
})
export type StoredEvent = z.output<typeof storedEvent>

/** Acknowledgements held for a ride on another write at most this long before they are written on
 *  their own (a crash in between only delivers those events again). */
const ACK_FLUSH_MS = 1_000
/** More acknowledgements than this waiting: written at once (bounds what a crash re-delivers). */
const ACK_FLUSH_COUNT = 256

export const eventId = (type: EventType, subject: string): string => `${type}:${subject}`

export class EventOutbox {
  private seq = 0
  /** Durable and not acknowledged, by id. */
  private readonly unacked = new Map<string, StoredEvent>()
  private readonly delivering = new Set<string>()
  /** Acknowledged ids whose deletion is not in any write yet. */
  private acked = new Set<string>()
  private ackTimer: ReturnType<typeof setTimeout> | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  /** Delivery has begun (start()); events recorded before wait for it. */
  private started = false
  private stopped = false

  constructor (
    private readonly store: Store,
    /** Hands an event to the application; true once every listener has taken it. */
    private readonly deliverTo: (ev: StoredEvent) => Promise<boolean>,
    private readonly warn: (detail: string) => void,
    /** A delivery that a listener refused is tried again after this long. */
    private readonly retryMs: number,
  ) {}

  /** Reads the events a previous run left unacknowledged (delivered from start() on). */
  async load (): Promise<void> {
    for await (const [key, raw] of this.store.iterate(keys.eventPrefix)) {
      const r = storedEvent.safeParse(parseJsonValue(raw))
      if (!r.success) throw new Error(
        `store record ${key} is not valid: ${r.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}`
      )
      this.unacked.set(r.data.id, r.data)
      this.seq = Math.max(this.seq, r.data.seq + 1)
    }
  }

  /** A new event, to be attached to the write of the state change that causes it (LiveRecords):
   *  once that write is durable, the event is delivered. */
  attach<K extends EventType> (type: K, subject: string, data: EventData<K>, at: number): Attached {
    const ev = this.make(type, subject, data, at)
    return { ops: [put(keys.event(ev.id), ev)], durable: () => { this.durable(ev) } }
  }

  /** An event with no state change of ours to ride on (the chain closed a channel): written on its
   *  own, then delivered. Resolves once it is durable. */
  async record<K extends EventType> (type: K, subject: string, data: EventData<K>, at: number): Promise<void> {
    const a = this.attach(type, subject, data, at)
    await this.store.write([...a.ops, ...this.takeAcks()])
    a.durable()
  }

  private make<K extends EventType> (type: K, subject: string, data: EventData<K>, at: number): StoredEvent {
    const id = eventId(type, subject)
    // Recorded again (e.g. reported again after a crash): this write stores it, so a pending
    // acknowledgement of the earlier delivery must not delete it.
    this.acked.delete(id)
    return { id, seq: this.seq++, type, at, data: eventData[type].parse(data) as Record<string, unknown> }
  }

  private durable (ev: StoredEvent): void {
    this.unacked.set(ev.id, ev)
    void this.deliver(ev)
  }

  /** Begins delivery: every event recorded and not acknowledged (by an earlier run, or since this
   *  one was created), oldest first, then each as it becomes durable. */
  start (): void {
    this.started = true
    this.redeliver()
  }

  /** Delivers every unacknowledged event not being delivered now, oldest first. */
  private redeliver (): void {
    for (const ev of [...this.unacked.values()].sort((a, b) => a.seq - b.seq)) void this.deliver(ev)
  }

  /** Events recorded and not acknowledged yet, oldest first. */
  pending (): StoredEvent[] { return [...this.unacked.values()].sort((a, b) => a.seq - b.seq) }

  private async deliver (ev: StoredEvent): Promise<void> {
    if (!this.started || this.stopped || this.delivering.has(ev.id)) return
    this.delivering.add(ev.id)
    let taken = false
    try {
      crashPoint('before', 'event:deliver')
      taken = await this.deliverTo(ev)
      crashPoint('after', 'event:deliver')
    } catch (e) {
      this.warn(`delivering event ${ev.id} failed: ${String(e)}`)
    } finally {
      this.delivering.delete(ev.id)
    }
    if (!taken) { this.scheduleRetry(); return }
    // Taken: the id is the application's now, even if it was recorded again during the delivery.
    this.unacked.delete(ev.id)
    this.acked.add(ev.id)
    if (this.acked.size >= ACK_FLUSH_COUNT) void this.flushAcks()
    else this.ackTimer ??= setTimeout(() => { this.ackTimer = undefined; void this.flushAcks() }, ACK_FLUSH_MS)
  }

  private scheduleRetry (): void {
    if (this.stopped || this.retryTimer !== undefined) return
    this.retryTimer = setTimeout(() => { this.retryTimer = undefined; this.redeliver() }, this.retryMs)
  }

  /** Deletions of acknowledged events, to ride on a write the client makes anyway. */
  takeAcks (): StoreOp[] {
    if (this.acked.size === 0) return []
    const ops = [...this.acked].map(id => del(keys.event(id)))
    this.acked = new Set()
    return ops
  }

  /** Writes the acknowledgements no other write took. */
  async flushAcks (): Promise<void> {
    if (this.ackTimer !== undefined) { clearTimeout(this.ackTimer); this.ackTimer = undefined }
    const ops = this.takeAcks()
    if (ops.length === 0) return
    crashPoint('before', 'event:ack')
    try {
      await this.store.write(ops)
    } catch (e) {
      this.warn(`writing event acknowledgements failed (they are delivered again after a restart): ${String(e)}`)
      return
    }
    crashPoint('after', 'event:ack')
  }

  /** No more deliveries; acknowledgements still waiting are written. */
  async stop (): Promise<void> {
    this.stopped = true
    if (this.retryTimer !== undefined) { clearTimeout(this.retryTimer); this.retryTimer = undefined }
    await this.flushAcks()
  }
}
