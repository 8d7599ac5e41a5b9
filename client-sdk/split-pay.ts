// paySplit({ total, shares, reference }): one payment to several recipients, each paid its share or
// none (DESIGN.md "Splits"). The decisions are protocol/split/payer.ts's; this file stores, sends and
// waits:
//
//   - the split record (x, every r_i, the machine state) is durable before any leg's HTLC can be
//     signed; each leg is a payment of the PaymentBook (its record carries the split_leg metadata),
//     offered like any other;
//   - every state change of the machine is written before the messages it causes leave (`persist`
//     comes first among its effects), so a release never leaves undecided and x leaves only once
//     `released` is on disk;
//   - a leg's outcome comes from the PaymentBook (fulfilled or failed back, durably), a leg_locked
//     from the hub's relay; a one-second tick aborts a split past its release deadline;
//   - at a restart, splits not over are taken up again: a `locking` one aborts once its deadline has
//     passed (or releases if every leg locked is stored in time), a `released` one sends its
//     releases again, an `aborted` one its abort; legs whose HTLC never left fail at once.
import { amountToOffer } from '../protocol/forwarding.ts'
import { getCurve } from '../protocol/crypto/index.ts'
import { isOver, step, type PayerEffect, type PayerInput, type PayerSplit } from '../protocol/split/payer.ts'
import { legPaymentHash, rCommitment, sealLeg, sealRelease } from '../protocol/split/secrets.ts'
import { splitAmounts } from '../protocol/split/shares.ts'
import { abortDigest, signDigest } from '../protocol/split/statements.ts'
import { bytesToHex, hexToBytes, type Msat, type NodeId } from '../protocol/types.ts'
import type { PeerMessage, SplitLegLocked } from '../protocol/wire/index.ts'
import { keys, put, type Store } from '../host/store/index.ts'
import { random32 } from '../host/random.ts'
import { crashPoints } from '../host/crash-points.ts'
import { parseArgs } from './options.ts'
import type { PushPayHost } from './push-pay.ts'
import { readRecord, type PaymentRecord } from './records.ts'
import { legKey, paySplitArgs, type PaySplitArgs } from './split-options.ts'
import { payerSplitRecord, type PayerSplitRecord } from './split-records.ts'

const crashPoint = crashPoints('SDK_CRASH_AT')
/** How often splits still locking are checked against their release deadline (ms). */
const TICK_MS = 1_000

export interface SplitLegResult { to: string; amountMsat: Msat; paymentHash: string; status: 'succeeded' | 'failed' | 'pending' }

/** Why paySplit did not succeed. `aborted`: nobody was paid (every leg failed back), final.
 *  `partial`: released, but a recipient did not claim its leg before the HTLC's expiry (that leg came
 *  back to us), final. `timeout`: not over within payTimeoutMs, not final. `duplicate_payment`: the
 *  hub refused the legs because our node paid a split under this key already (from another data
 *  directory): nobody was paid by this call, final. `idempotency_key_reused`: the key names a split
 *  with other parameters (known here, or to the hub); nothing was paid by this call. The others:
 *  refused before anything was stored or sent. */
export type SplitFailureReason =
  | 'aborted' | 'partial' | 'timeout' | 'no_channel' | 'insufficient_balance' | 'wrong_payee' | 'duplicate_payment'
  | 'idempotency_key_reused'

export type SplitResult =
  | { ok: true; splitId: string; totalMsat: Msat; feeMsat: Msat; legs: SplitLegResult[] }
  | { ok: false; splitId: string | null; reason: SplitFailureReason; detail: string; legs: SplitLegResult[] }

export interface SplitPayHost extends PushPayHost {
  nodeKey: Uint8Array
  store: Store
  /** A payment's HTLC is in one of our channels (anywhere: proposed, signed or committed). */
  inFlight (paymentHash: string): boolean
  send (msg: PeerMessage): boolean
  warn (detail: string): void
}

interface Live { rec: PayerSplitRecord; queue: Promise<void>; waiters: Array<() => void> }

const nowSec = (): number => Math.floor(Date.now() / 1000)

export class SplitPayer {
  private readonly live = new Map<string, Live>()
  private readonly byHash = new Map<string, { splitId: string; index: number }>()
  private ticker: ReturnType<typeof setInterval> | undefined
  /** paySplit calls under one idempotency key run one after another: the second finds the first. */
  private readonly keyQueue = new Map<string, Promise<unknown>>()

  constructor (private readonly host: SplitPayHost) {}

  /** Splits an earlier run left unfinished (before the payments are recovered: see mayOffer). */
  async load (): Promise<void> {
    for await (const [key] of this.host.store.iterate(keys.splitPrefix)) {
      const rec = await readRecord(this.host.store, key, payerSplitRecord)
      if (rec !== undefined && !isOver(rec.state)) this.track(rec)
    }
  }

  /** Connected (again): each split not over says again what it decided. */
  resume (): void {
    for (const l of this.live.values()) void this.apply(l, { kind: 'tick', nowSec: nowSec() }, true)
  }

  stop (): void { clearInterval(this.ticker); this.ticker = undefined }

  /** False for a leg whose split is no longer locking: its HTLC must not leave now. */
  mayOffer (paymentHash: string): boolean {
    const at = this.byHash.get(paymentHash)
    return at === undefined || this.live.get(at.splitId)?.rec.state.phase === 'locking'
  }

  private track (rec: PayerSplitRecord): Live {
    const l: Live = { rec, queue: Promise.resolve(), waiters: [] }
    this.live.set(rec.state.splitId, l)
    rec.state.legs.forEach((leg, index) => this.byHash.set(leg.paymentHash, { splitId: rec.state.splitId, index }))
    this.ticker ??= setInterval(() => {
      for (const x of this.live.values()) if (x.rec.state.phase === 'locking') void this.apply(x, { kind: 'tick', nowSec: nowSec() })
    }, TICK_MS)
    this.ticker.unref?.()
    return l
  }

  async pay (input: object): Promise<SplitResult> {
    const a = parseArgs(paySplitArgs, input, 'paySplit')
    const amounts = splitAmounts(a.total, a.shares)
    if (!amounts.ok) throw new TypeError(`paySplit.${amounts.error.field}: ${amounts.error.detail}`)
    const deadline = Date.now() + this.host.payTimeoutMs
    const key = a.idempotencyKey
    if (key === undefined) return await this.begin(a, amounts.value, deadline)
    const run = (this.keyQueue.get(key) ?? Promise.resolve()).then(async () => {
      const prior = await this.splitByKey(key)
      return prior === undefined ? await this.begin(a, amounts.value, deadline) : await this.priorOutcome(prior, a, amounts.value, deadline)
    })
    const settled = run.catch(() => {})
    this.keyQueue.set(key, settled)
    void settled.then(() => { if (this.keyQueue.get(key) === settled) this.keyQueue.delete(key) })
    return await run
  }

  /** The split a key was first used for: found through its first leg's payment (`<key>:0`), whose
   *  record rides on the channel batch that lets the leg's HTLC leave. */
  private async splitByKey (key: string): Promise<PayerSplitRecord | undefined> {
    const leg = await this.host.book.paymentByKey(legKey(key, 0))
    if (leg?.splitLeg === undefined) return undefined
    const splitId = leg.splitLeg.split_id
    return this.live.get(splitId)?.rec ?? await readRecord(this.host.store, keys.split(splitId), payerSplitRecord)
  }

  /** A paySplit whose key names a split already begun: that split's outcome (waited for until the
   *  deadline while it is not over), unless the key was used with other parameters. */
  private async priorOutcome (prior: PayerSplitRecord, a: PaySplitArgs, amounts: number[], deadline: number): Promise<SplitResult> {
    const same = prior.totalMsat === a.total && prior.reference === a.reference && prior.state.legs.length === amounts.length &&
      prior.state.legs.every((l, i) => l.to === a.shares[i]!.to && l.amountMsat === amounts[i])
    if (!same) {
      return {
        ok: false, splitId: null, reason: 'idempotency_key_reused', legs: [],
        detail: `idempotency key ${JSON.stringify(a.idempotencyKey)} belongs to split ${prior.state.splitId} with other parameters; ` +
          'nothing was paid',
      }
    }
    const l = this.live.get(prior.state.splitId)
    return l === undefined ? resultOf(prior, true) : await this.outcome(l, Math.max(0, deadline - Date.now()))
  }

  private async begin (a: PaySplitArgs, amountsMsat: number[], deadline: number): Promise<SplitResult> {
    const amounts = { value: amountsMsat }
    const refused = (reason: SplitFailureReason, detail: string): SplitResult => ({ ok: false, splitId: null, reason, detail, legs: [] })
    if (a.shares.some(s => s.to === this.host.nodeId)) return refused('wrong_payee', 'a share names our own node id')
    const ch = await this.host.payingChannelSoon(deadline)
    if (ch === undefined) return refused('no_channel', 'no channel with the hub is ready')
    const policy = await this.host.hubPolicy()
    const offered = amounts.value.map(m => amountToOffer(m, policy))
    const needed = offered.reduce((t, m) => t + m, 0)
    const balanceMsat = ch.driver.state.localCommit!.spec.toLocalMsat
    if (balanceMsat < needed) {
      return refused('insufficient_balance', `the channel's balance ${balanceMsat} msat is below the ${needed} msat to offer (the ` +
        `${a.total} msat of the split and the hub's fee on each leg)`)
    }
    const x = random32()
    const splitId = bytesToHex(random32())
    const rs = a.shares.map(() => random32())
    const releaseBy = nowSec() + Math.ceil(a.lockTimeoutMs / 1000)
    const state: PayerSplit = {
      splitId, payer: this.host.nodeId, releaseBy, phase: 'locking',
      legs: a.shares.map((s, i) => ({
        to: s.to, amountMsat: amounts.value[i]!, paymentHash: legPaymentHash(x, rs[i]!), rHash: rCommitment(rs[i]!),
      })),
    }
    const rec: PayerSplitRecord = {
      x: bytesToHex(x), r: rs.map(bytesToHex), reference: a.reference, totalMsat: a.total, feeMsat: needed - a.total, createdAt: nowSec(),
      ...(a.idempotencyKey !== undefined ? { idempotencyKey: a.idempotencyKey } : {}),
      state,
    }
    // Durable before any leg's HTLC can be signed: a restart always finds the split its legs belong to.
    await this.write(rec, 'begin')
    const l = this.track(rec)
    const outcome = this.outcome(l, Math.max(0, deadline - Date.now()))
    for (const [i, leg] of state.legs.entries()) {
      this.host.book.begin({
        paymentHash: leg.paymentHash, invoice: '', payee: leg.to, amountMsat: leg.amountMsat, offeredMsat: offered[i]!, status: 'pending',
        createdAt: rec.createdAt, reference: a.reference,
        ...(a.idempotencyKey !== undefined ? { idempotencyKey: legKey(a.idempotencyKey, i) } : {}),
        splitLeg: {
          split_id: splitId, index: i, count: state.legs.length, payer: this.host.nodeId, release_by: releaseBy,
          secret: sealLeg(rs[i]!, leg.amountMsat, hexToBytes(leg.to), ephemeralSecret(), {
            paymentHash: leg.paymentHash, splitId, index: i, count: state.legs.length, payer: this.host.nodeId, releaseBy,
            reference: a.reference,
          }),
        },
      }, ch.driver.channelId)
    }
    for (const leg of state.legs) await this.host.offer(ch, leg.paymentHash)
    return await outcome
  }

  /** A recipient's leg_locked, relayed by the hub. */
  legLocked (m: SplitLegLocked): void {
    const at = this.byHash.get(m.payment_hash)
    const l = at === undefined ? undefined : this.live.get(at.splitId)
    if (l === undefined || at!.splitId !== m.split_id) {
      this.host.warn(`split_leg_locked for an unknown leg ${m.payment_hash}: ignored`); return
    }
    void this.apply(l, {
      kind: 'leg_locked', nowSec: nowSec(),
      claim: { index: m.index, paymentHash: m.payment_hash, amountMsat: m.amount_msat, rHash: m.r_hash, signature: m.signature },
    })
  }

  /** A payment got its final outcome, durably (PaymentBook's onSettled): if it is a leg, the split learns it. */
  legSettled (p: PaymentRecord): void {
    const at = this.byHash.get(p.paymentHash)
    const l = at === undefined ? undefined : this.live.get(at.splitId)
    if (l === undefined) return
    const reason = p.failure?.reason
    if (p.status === 'failed' && (reason === 'duplicate_payment' || reason === 'idempotency_key_reused')) {
      l.rec = { ...l.rec, keyRefused: reason }
    }
    void this.apply(l, p.status === 'succeeded'
      ? { kind: 'leg_fulfilled', index: at!.index }
      : { kind: 'leg_failed', index: at!.index, reason: p.failure?.reason ?? 'failed' })
  }

  /** Steps the split's machine and carries out its effects in order, one input at a time. With
   *  `repeat`, what the split decided is sent again (after a reconnect or a restart). */
  private async apply (l: Live, input: PayerInput, repeat = false): Promise<void> {
    const run = l.queue.then(async () => {
      const r = step(l.rec.state, input)
      const before = l.rec
      l.rec = { ...l.rec, state: r.split }
      const effects: PayerEffect[] = [...r.effects]
      if (repeat && !effects.some(e => e.kind === 'send_abort' || e.kind === 'send_release')) {
        if (r.split.phase === 'released') effects.push(...r.split.legs.flatMap((lg, index) => lg.outcome === undefined ? [{
          kind: 'send_release', index,
        } as const] : []))
        if (r.split.phase === 'aborted') effects.push({ kind: 'send_abort' })
      }
      for (const e of effects) {
        if (e.kind === 'persist') await this.write(l.rec, r.split.phase !== before.state.phase ? r.split.phase : 'leg')
        else if (e.kind === 'send_release') this.sendRelease(l.rec, e.index)
        else if (e.kind === 'send_abort') await this.sendAbort(l)
        else this.host.warn(e.detail)
      }
      if (isOver(l.rec.state)) this.finish(l)
    })
    l.queue = run.catch(e => { this.host.warn(`split ${l.rec.state.splitId}: ${String(e)}`) })
    await l.queue
  }

  private sendRelease (rec: PayerSplitRecord, index: number): void {
    const leg = rec.state.legs[index]!
    this.host.send({
      type: 'split_release', split_id: rec.state.splitId, recipient: leg.to as NodeId, payment_hash: leg.paymentHash,
      secret: sealRelease(hexToBytes(rec.x), hexToBytes(leg.to), ephemeralSecret(), rec.state.splitId, leg.paymentHash),
    })
  }

  /** The signed abort to every recipient (through the hub); legs whose HTLC never left fail now (a
   *  leg whose payment was never stored, because we stopped before its channel's batch, has failed). */
  private async sendAbort (l: Live): Promise<void> {
    const rec = l.rec
    this.host.send({
      type: 'split_abort', split_id: rec.state.splitId,
      signature: signDigest(abortDigest(rec.state.splitId, rec.state.payer), this.host.nodeKey, random32()),
    })
    for (const [index, leg] of rec.state.legs.entries()) {
      if (leg.outcome !== undefined || this.host.inFlight(leg.paymentHash)) continue
      const settled = await this.host.book.settle(
        leg.paymentHash, { reason: 'split_aborted', detail: `the split was aborted: ${rec.state.reason ?? ''}` },
      )
      const p = settled ?? await this.host.book.payment(leg.paymentHash)
      if (p === undefined || p.status === 'failed') void this.apply(l, { kind: 'leg_failed', index, reason: 'split_aborted' })
    }
  }

  private async write (rec: PayerSplitRecord, point: string): Promise<void> {
    crashPoint('before', `split:${point}`)
    await this.host.store.write([put(keys.split(rec.state.splitId), rec)])
    crashPoint('after', `split:${point}`)
  }

  private finish (l: Live): void {
    this.live.delete(l.rec.state.splitId)
    for (const leg of l.rec.state.legs) this.byHash.delete(leg.paymentHash)
    for (const w of l.waiters.splice(0)) w()
    if (this.live.size === 0) this.stop()
  }

  /** The split's result once it is over, or `timeout` after `timeoutMs`. */
  private async outcome (l: Live, timeoutMs: number): Promise<SplitResult> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const over = new Promise<boolean>(resolve => { l.waiters.push(() => resolve(true)) })
    const late = new Promise<boolean>(resolve => { timer = setTimeout(() => resolve(false), timeoutMs) })
    const done = await Promise.race([over, late])
    clearTimeout(timer)
    return resultOf(l.rec, done)
  }
}

function ephemeralSecret (): Uint8Array {
  let e = random32()
  while (!getCurve().isPrivkey(e)) e = random32()
  return e
}

function resultOf (rec: PayerSplitRecord, over: boolean): SplitResult {
  const s = rec.state
  const legs: SplitLegResult[] = s.legs.map(l => ({
    to: l.to, amountMsat: l.amountMsat as Msat, paymentHash: l.paymentHash,
    status: l.outcome === 'fulfilled' ? 'succeeded' : l.outcome === 'failed' ? 'failed' : 'pending',
  }))
  const splitId = s.splitId
  if (!over) return {
    ok: false, splitId, reason: 'timeout', legs,
    detail: `the split is ${s.phase} and not over yet: it completes or rolls back on its own; do not pay it again`,
  }
  if (legs.every(l => l.status === 'succeeded')) return {
    ok: true, splitId, totalMsat: rec.totalMsat as Msat, feeMsat: rec.feeMsat as Msat, legs,
  }
  if (legs.every(l => l.status === 'failed')) {
    if (rec.keyRefused !== undefined) return {
      ok: false, splitId, reason: rec.keyRefused, legs,
      detail: `nobody was paid: the hub refused a leg under idempotency key ${JSON.stringify(rec.idempotencyKey)} ` +
        `(${rec.keyRefused === 'duplicate_payment' ? 'our node paid this split already' : 'our node used it for another split'})`,
    }
    return { ok: false, splitId, reason: 'aborted', detail: `nobody was paid: ${s.reason ?? 'every leg failed back'}`, legs }
  }
  return { ok: false, splitId, reason: 'partial', detail: 'released, but not every recipient claimed its leg before its expiry', legs }
}
