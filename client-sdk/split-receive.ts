// The recipient's side of split payments (DESIGN.md "Splits"). A leg's HTLC (metadata split_leg)
// irrevocably committed in our channel is not fulfilled at once: its preimage needs the payer's split
// secret x, which the payer releases only once every leg is locked.
//
//   1. the leg's r_i opens with our key for what the leg says in clear (protocol/split/secrets.ts):
//      its record is stored (split-leg/<payment hash>), and only then our signed leg locked leaves;
//   2. split_release: x opens for our leg and gives its preimage: stored (released), then fulfilled;
//   3. split_abort signed by the leg's payer: stored (aborted), then the HTLC failed back;
//   4. neither by release_by + SPLIT_RELEASE_GRACE_SECONDS: stored (expired), then failed back.
//
// A leg refused at step 1 (it does not open, carries less than sealed, is past its release deadline,
// or we take no splits) is failed back at once, before any leg locked: the payer then aborts the
// split. While a leg is locked our leg locked is sent again every SPLIT_LOCKED_RESEND_MS (and after a
// restart or a reconnect), and the payer answers with what it decided: nothing lost on the way (the
// hub relays only to a connected payer) holds a split up.
import { committedIncoming, type Htlc } from '../protocol/channel/index.ts'
import { SPLIT_LOCKED_RESEND_MS, SPLIT_RELEASE_GRACE_SECONDS } from '../protocol/limits.ts'
import { openLeg, openRelease, rCommitment } from '../protocol/split/secrets.ts'
import { abortDigest, legLockedDigest, signDigest, verifyDigest } from '../protocol/split/statements.ts'
import { bytesToHex, hexToBytes, type Msat } from '../protocol/types.ts'
import type { PeerMessage, SplitAbort, SplitRelease } from '../protocol/wire/index.ts'
import { keys, put, type Store } from '../host/store/index.ts'
import { random32 } from '../host/random.ts'
import { crashPoints } from '../host/crash-points.ts'
import type { ClientChannel } from './channels.ts'
import type { PaymentBook } from './payments.ts'
import { readRecord } from './records.ts'
import { receivedLegRecord, type ReceivedLegRecord } from './split-records.ts'

const crashPoint = crashPoints('SDK_CRASH_AT')
/** Node's timers fire at most this far out (2^31 - 1 ms); a later deadline re-arms when it fires. */
const MAX_TIMER_MS = 2_147_483_647

export interface SplitReceiverHost {
  store: Store
  nodeKey: Uint8Array
  nodeId: string
  book: PaymentBook
  acceptSplits: boolean
  send (msg: PeerMessage): boolean
  channel (channelId: string): ClientChannel | undefined
  warn (detail: string): void
}

const nowSec = (): number => Math.floor(Date.now() / 1000)

export class SplitReceiver {
  /** Legs still locked, by payment hash (the store has them all). */
  private readonly locked = new Map<string, ReceivedLegRecord>()
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>()
  /** One decision per leg at a time. */
  private readonly busy = new Map<string, Promise<void>>()
  private resender: ReturnType<typeof setInterval> | undefined

  constructor (private readonly host: SplitReceiverHost) {}

  /** Starts repeating leg locked for the legs still locked (until none is). */
  private repeat (): void {
    this.resender ??= setInterval(() => {
      if (this.locked.size === 0) { clearInterval(this.resender); this.resender = undefined; return }
      for (const rec of this.locked.values()) this.sendLocked(rec)
    }, SPLIT_LOCKED_RESEND_MS)
    this.resender.unref?.()
  }

  /** Legs stored as locked by an earlier run: armed again (their leg locked is sent on reconnect). */
  async load (): Promise<void> {
    for await (const [key] of this.host.store.iterate(keys.splitLegPrefix)) {
      const rec = await readRecord(this.host.store, key, receivedLegRecord)
      if (rec?.state === 'locked') { this.locked.set(rec.paymentHash, rec); this.arm(rec) }
    }
  }

  stop (): void {
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
    clearInterval(this.resender)
    this.resender = undefined
  }

  /** An HTLC with split_leg metadata is irrevocably committed to us (again, after a restart). */
  async htlc (ch: ClientChannel, htlc: Htlc): Promise<void> {
    await this.one(htlc.paymentHash, () => this.decide(ch, htlc))
  }

  private async one (hash: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.busy.get(hash) ?? Promise.resolve()
    const run = prev.then(fn)
    const tail = run.catch(() => {})
    this.busy.set(hash, tail)
    void tail.then(() => { if (this.busy.get(hash) === tail) this.busy.delete(hash) })
    await run
  }

  private async decide (ch: ClientChannel, htlc: Htlc): Promise<void> {
    const leg = htlc.metadata!.split_leg!
    const channelId = ch.driver.channelId
    const prior = await readRecord(this.host.store, keys.splitLeg(htlc.paymentHash), receivedLegRecord)
    if (prior !== undefined) {
      if (prior.channelId !== channelId || prior.htlcId !== htlc.id) {
        return this.fail(ch, htlc.id, 'a split leg with this payment hash was paid to us already')
      }
      if (prior.state === 'locked') { this.locked.set(prior.paymentHash, prior); this.arm(prior); this.sendLocked(prior); return }
      if (prior.state === 'released') return this.fulfil(ch, htlc, prior)
      return this.fail(ch, htlc.id, `split leg ${prior.state}`)
    }
    if (!this.host.acceptSplits) return this.fail(ch, htlc.id, 'this client takes no split payments (acceptSplits is false)')
    const reference = htlc.metadata?.reference ?? ''
    const ctx = {
      paymentHash: htlc.paymentHash, splitId: leg.split_id, index: leg.index, count: leg.count, payer: leg.payer,
      releaseBy: leg.release_by, reference,
    }
    const opened = openLeg(leg.secret, this.host.nodeKey, ctx, htlc.amountMsat)
    if (!opened.ok) return this.fail(ch, htlc.id, `split leg refused: ${opened.error.reason}: ${opened.error.detail}`)
    if (leg.index >= leg.count) return this.fail(ch, htlc.id, `split leg refused: index ${leg.index} of ${leg.count} legs`)
    if (nowSec() > leg.release_by) return this.fail(ch, htlc.id, 'split leg refused: its release deadline has passed')
    const rec: ReceivedLegRecord = {
      paymentHash: htlc.paymentHash, splitId: leg.split_id, index: leg.index, count: leg.count, payer: leg.payer,
      releaseBy: leg.release_by, reference, r: bytesToHex(opened.value.r), amountMsat: opened.value.amountMsat, channelId, htlcId: htlc.id,
      state: 'locked',
    }
    // Durable before our leg locked leaves: a restart finds the leg and never forgets it was locked.
    await this.write(rec)
    this.locked.set(rec.paymentHash, rec)
    this.arm(rec)
    this.sendLocked(rec)
  }

  /** Our channel with the hub reestablished: leg locked again for each leg still locked on it. */
  reestablished (channelId: string): void {
    for (const rec of this.locked.values()) if (rec.channelId === channelId) this.sendLocked(rec)
  }

  private sendLocked (rec: ReceivedLegRecord): void {
    const rHash = rCommitment(hexToBytes(rec.r))
    const digest = legLockedDigest({
      splitId: rec.splitId, index: rec.index, paymentHash: rec.paymentHash, amountMsat: rec.amountMsat, rHash, payer: rec.payer,
      recipient: this.host.nodeId,
    })
    this.host.send({
      type: 'split_leg_locked', split_id: rec.splitId, index: rec.index, payment_hash: rec.paymentHash, amount_msat: rec.amountMsat as Msat,
      r_hash: rHash, signature: signDigest(digest, this.host.nodeKey, random32()),
    })
  }

  /** The payer's release of x, relayed by the hub: checked, stored, then our leg fulfilled. */
  async release (m: SplitRelease): Promise<void> {
    if (m.recipient !== this.host.nodeId) { this.host.warn(`split_release for ${m.recipient}, not us: ignored`); return }
    await this.one(m.payment_hash, async () => {
      const rec = this.locked.get(m.payment_hash)
      if (rec === undefined || rec.splitId !== m.split_id) return
      const opened = openRelease(m.secret, this.host.nodeKey, rec.splitId, rec.paymentHash, hexToBytes(rec.r))
      if (!opened.ok) { this.host.warn(`split_release of leg ${rec.paymentHash} refused: ${opened.error.detail}`); return }
      const released: ReceivedLegRecord = { ...rec, state: 'released', preimage: opened.value }
      await this.write(released)
      this.done(rec.paymentHash)
      const ch = this.host.channel(rec.channelId)
      const htlc = ch === undefined
        ? undefined
        : committedIncoming(ch.driver.state).find(h => h.id === rec.htlcId && h.paymentHash === rec.paymentHash)
      if (ch !== undefined && htlc !== undefined) await this.fulfil(ch, htlc, released)
    })
  }

  /** The payer's abort, relayed by the hub: every locked leg of the split fails back, if the payer signed it. */
  async abort (m: SplitAbort): Promise<void> {
    for (const rec of [...this.locked.values()].filter(r => r.splitId === m.split_id)) {
      if (!verifyDigest(abortDigest(rec.splitId, rec.payer), m.signature, rec.payer)) {
        this.host.warn(`split_abort of split ${m.split_id} is not signed by its payer: ignored`); return
      }
      await this.end(rec, 'aborted', 'the payer aborted the split')
    }
  }

  /** Stores the leg's end, then fails its HTLC back. */
  private async end (rec: ReceivedLegRecord, state: 'aborted' | 'expired', detail: string): Promise<void> {
    await this.one(rec.paymentHash, async () => {
      if (this.locked.get(rec.paymentHash) !== rec) return
      await this.write({ ...rec, state })
      this.done(rec.paymentHash)
      const ch = this.host.channel(rec.channelId)
      if (ch !== undefined) await this.fail(ch, rec.htlcId, detail)
    })
  }

  private arm (rec: ReceivedLegRecord): void {
    this.repeat()
    clearTimeout(this.timers.get(rec.paymentHash))
    const at = (rec.releaseBy + SPLIT_RELEASE_GRACE_SECONDS) * 1000
    const timer = setTimeout(() => {
      if (Date.now() < at) { this.arm(rec); return }
      void this.end(rec, 'expired', 'the split was neither released nor aborted in time').catch(e => {
        this.host.warn(`split leg ${rec.paymentHash}: ${String(e)}`)
      })
    }, Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())))
    timer.unref?.()
    this.timers.set(rec.paymentHash, timer)
  }

  private done (hash: string): void {
    clearTimeout(this.timers.get(hash))
    this.timers.delete(hash)
    this.locked.delete(hash)
  }

  private async write (rec: ReceivedLegRecord): Promise<void> {
    crashPoint('before', `split:leg_${rec.state}`)
    await this.host.store.write([put(keys.splitLeg(rec.paymentHash), rec)])
    crashPoint('after', `split:leg_${rec.state}`)
  }

  private async fulfil (ch: ClientChannel, htlc: Htlc, rec: ReceivedLegRecord): Promise<void> {
    // Marked paid once (its payment_received with it); a fulfil sent again after a restart only fulfils.
    if ((await this.host.book.invoice(htlc.paymentHash))?.paidBy === undefined) {
      this.host.book.revealedPaid(ch.driver.channelId, htlc, rec.preimage!, rec.amountMsat as Msat, rec.reference, nowSec(), rec.splitId)
    }
    await ch.driver.command({ type: 'fulfill_htlc', id: htlc.id, preimage: rec.preimage! })
    await this.host.book.invoiceDurable(htlc.paymentHash)
  }

  private async fail (ch: ClientChannel, htlcId: number, detail: string): Promise<void> {
    await ch.driver.command({ type: 'fail_htlc', id: htlcId, reason: 'incorrect_or_unknown_payment_details', detail })
  }
}
