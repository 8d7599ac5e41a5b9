// platform.stream(to) → push({ id, amountMsat, memo }): line items paid to one payee, aggregated into
// one push payment (one HTLC) per tick whose reference commits to the Merkle root of its items
// (DESIGN.md "Streams", protocol/stream). Each item gets a receipt anyone can check offline: the item,
// its proof, the tick and the payee's signature over the tick (receipt(), receipts()).
//
// Exactly once, across crashes of either side:
// - an item is durable once its tick is: the tick (items, root, sealed secret) is written in one
//   synced write before its payment begins, and push() resolves then. One write per tick, not per item.
// - an id already in a tick of this stream (or queued) is ignored: pushing again after a restart pays
//   nothing twice. An item that was queued but in no durable tick was never offered: push it again.
// - a tick's payment is a push payment (PaymentBook, HubClient.offer), with its crash-safety; a
//   failure of its HTLC is final, so the tick is tried again under a new payment hash (the record is
//   rewritten), up to STREAM_MAX_TICK_ATTEMPTS; then its items are reported failed and may be pushed again.
// - the payee refuses a tick with an id it was paid for before (stream-receive.ts).
import { amountToOffer } from '../protocol/forwarding.ts'
import { getCurve } from '../protocol/crypto/index.ts'
import {
  MAX_STREAM_QUEUED_ITEMS, MAX_STREAM_TICK_ITEMS, MAX_STREAM_TICKS_IN_FLIGHT, STREAM_CHUNK_TARGET_BYTES, MAX_STREAM_CHUNK_ITEMS,
  STREAM_MAX_TICK_ATTEMPTS, STREAM_RESEND_MAX_MS, STREAM_RESEND_MS,
} from '../protocol/limits.ts'
import { sealPushSecret } from '../protocol/push/secret.ts'
import {
  packedIds, packedLeafHashes, plainStreamItem, receiptOf, streamItem, tickReference, tickTree, tickTreeHex, tickTreeProofHex,
  tickTreeRoot, unpackStreamItems, verifyTickSignature, type StreamItem, type StreamReceipt, type TickStatement, type TickTree,
  type WireStreamItem,
} from '../protocol/stream/index.ts'
import { bytesToHex, hexToBytes, type NodeId } from '../protocol/types.ts'
import type { PeerMessage } from '../protocol/wire/index.ts'
import type { StreamReceiptMessage } from '../protocol/wire/hub-messages.ts'
import { random32 } from '../host/random.ts'
import { crashPoints } from '../host/crash-points.ts'
import { keys, put, type Store } from '../host/store/index.ts'
import { parseArgs } from './options.ts'
import type { PayResult } from './payments.ts'
import type { PushPayHost } from './push-pay.ts'
import { readRecord } from './records.ts'
import { outgoingTick, type OutgoingTick } from './stream-records.ts'
import { streamArgs, type StreamOptions } from './stream-options.ts'

/** What a stream needs of the HubClient. */
export interface StreamHost extends PushPayHost {
  store: Store
  send (msg: PeerMessage): void
  warn (detail: string): void
}

/** What flush() reports: everything pushed before it is paid with a receipt, or failed. */
export interface StreamSummary { ticksPaid: number; itemsPaid: number; msatPaid: number; failedIds: string[] }

/** Items waiting for a tick that were pushed together: push() resolves once all of them are durable. */
interface Run { left: number; promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void; sealed: boolean }

const crashPoint = crashPoints('SDK_CRASH_AT')
const nowSec = (): number => Math.floor(Date.now() / 1000)
const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

export class PaymentStream {
  /** Items not in a tick yet, oldest first (from `head`), a column per field: no object per item. */
  private queue: Queued = { ids: [], amounts: [], memos: [], runs: [] }
  private head = 0
  private run: Run | undefined
  /** Every id of this stream: the seq of its tick, or the run it waits in. */
  private readonly ids = new Map<string, number | Run>()
  /** Ticks not finished (pending, or paid without the payee's signature yet), by seq and payment hash. */
  private readonly open = new Map<number, OutgoingTick>()
  private readonly byHash = new Map<string, number>()
  /** Signatures that came before the tick's payment outcome. */
  private readonly earlySignatures = new Map<string, string>()
  private readonly receiptWaiters = new Map<number, () => void>()
  private inFlight = 0
  private nextSeq = 0
  private oldestQueuedAt = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private draining = 0
  private readonly roomWaiters: Array<() => void> = []
  private readonly idleWaiters: Array<() => void> = []
  private stopped = false
  private loaded = false
  private readonly ready: Promise<void>
  private readonly opts: StreamOptions
  private readonly failedIds: string[] = []
  readonly stats = { ticksPaid: 0, itemsPaid: 0, msatPaid: 0, ticksFailed: 0, itemsFailed: 0, writes: 0 }
  /** The last tick whose tree was built for receipts (receipt() of items of one tick builds it once). */
  private treeCache: TickReceipts | undefined

  constructor (private readonly host: StreamHost, readonly payee: NodeId, options: unknown = {}) {
    this.opts = parseArgs(streamArgs, options, 'stream')
    this.ready = this.load()
    this.ready.catch(e => { this.host.warn(`stream to ${payee}: could not load its ticks: ${String(e)}`) })
  }

  /** Reads this stream's ticks: their ids, the next seq, and the ticks to carry on with. */
  private async load (): Promise<void> {
    const resume: OutgoingTick[] = []
    const prefix = keys.streamOutPrefix(this.payee)
    for await (const [key] of this.host.store.iterate(prefix)) {
      const t = await readRecord(this.host.store, key, outgoingTick)
      if (t === undefined) continue
      this.nextSeq = Math.max(this.nextSeq, t.seq + 1)
      if (t.status === 'failed') continue
      for (const id of packedIds(t.packed)) this.ids.set(id, t.seq)
      if (t.status === 'paid') {
        this.stats.ticksPaid++; this.stats.itemsPaid += t.count; this.stats.msatPaid += t.amountMsat; continue
      }
      resume.push(t)
    }
    this.loaded = true
    for (const t of resume) { this.track(t); this.inFlight++; void this.drive(t) }
  }

  /**
   * Adds a line item. Resolves once it is durable in a tick (then it is paid exactly once, or reported
   * failed by flush()); waits while the queue is full. An id this stream has already taken is ignored
   * (it resolves when that item is durable). A TypeError names a bad field.
   */
  push (input: { id: string; amountMsat: number; memo?: string }): Promise<void> {
    // The common case without an await: a plain new item, the stream loaded, room in the queue.
    const it = plainStreamItem(input)
    if (it === undefined || it.amountMsat > this.opts.maxTickMsat || this.stopped || !this.loaded ||
      this.queued() >= MAX_STREAM_QUEUED_ITEMS || this.ids.has(it.id)) return this.pushChecked(input)
    return this.enqueue(it)
  }

  private async pushChecked (input: { id: string; amountMsat: number; memo?: string }): Promise<void> {
    const it = plainStreamItem(input) ?? parseArgs(streamItem, input, 'stream.push')
    if (it.amountMsat > this.opts.maxTickMsat) {
      throw new TypeError(`stream.push.amountMsat: ${it.amountMsat} msat is more than the stream's maxTickMsat (${this.opts.maxTickMsat})`)
    }
    if (this.stopped) throw new Error('stream.push: the client stopped')
    if (!this.loaded) await this.ready
    const prior = this.ids.get(it.id)
    if (prior !== undefined) { if (typeof prior !== 'number') await prior.promise; return }
    while (this.queued() >= MAX_STREAM_QUEUED_ITEMS) {
      await new Promise<void>(resolve => this.roomWaiters.push(resolve))
      if (this.stopped) throw new Error('stream.push: the client stopped')
      if (this.ids.has(it.id)) return
    }
    await this.enqueue(it)
  }

  private queued (): number { return this.queue.ids.length - this.head }

  /** Queues a new item in the current run; the run's promise. */
  private enqueue (it: StreamItem): Promise<void> {
    let run = this.run
    if (run === undefined || run.sealed) {
      let resolve!: () => void
      let reject!: (e: unknown) => void
      const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej })
      promise.catch(() => {})
      run = this.run = { left: 0, promise, resolve, reject, sealed: false }
    }
    run.left++
    const q = this.queue
    if (q.ids.length === this.head) this.oldestQueuedAt = Date.now()
    q.ids.push(it.id); q.amounts.push(it.amountMsat); q.memos.push(it.memo); q.runs.push(run)
    this.ids.set(it.id, run)
    // pump() cuts a tick or sets the timer that will: needed when no timer is set or a tick is full.
    if (this.timer === undefined || this.queued() >= MAX_STREAM_TICK_ITEMS) this.pump()
    return run.promise
  }

  /** Cuts ticks while a slot is free and items wait long enough (tickMs) or fill a tick. */
  private pump (): void {
    while (!this.stopped && this.inFlight < MAX_STREAM_TICKS_IN_FLIGHT) {
      const queued = this.queued()
      if (queued === 0) return
      if (queued < MAX_STREAM_TICK_ITEMS && this.draining === 0 && Date.now() - this.oldestQueuedAt < this.opts.tickMs) {
        this.timer ??= setTimeout(() => { this.timer = undefined; this.pump() }, this.opts.tickMs - (Date.now() - this.oldestQueuedAt))
        return
      }
      this.cut()
    }
  }

  private cut (): void {
    const q = this.queue
    let end = this.head
    let sum = 0
    while (end < q.ids.length && end - this.head < MAX_STREAM_TICK_ITEMS && sum + q.amounts[end]! <= this.opts.maxTickMsat) {
      sum += q.amounts[end]!
      end++
    }
    const taken: Queued = {
      ids: q.ids.slice(this.head, end), amounts: q.amounts.slice(this.head, end), memos: q.memos.slice(this.head, end),
      runs: q.runs.slice(this.head, end),
    }
    this.head = end
    if (this.head > 65_536 && this.head * 2 > q.ids.length) {
      this.queue = { ids: q.ids.slice(end), amounts: q.amounts.slice(end), memos: q.memos.slice(end), runs: q.runs.slice(end) }
      this.head = 0
    }
    if (this.run !== undefined && taken.runs[taken.runs.length - 1] === this.run) this.run.sealed = true
    this.oldestQueuedAt = Date.now()
    for (const w of this.roomWaiters.splice(0)) w()
    this.inFlight++
    void this.begin(taken, sum)
  }

  /** A new tick: written (synced), then its items resolve, then its payment runs. Its root is computed
   *  from its packed items as the payee computes it (packedLeafHashes). */
  private async begin (taken: Queued, sum: number): Promise<void> {
    const seq = this.nextSeq++
    const n = taken.ids.length
    let packed = ''
    for (let i = 0; i < n; i++) packed += (i === 0 ? '' : '\n') + taken.ids[i]! + '\t' + String(taken.amounts[i]!) + '\t' + taken.memos[i]!
    const leaves = new Uint8Array(n * 32)
    let t: OutgoingTick
    const read = packedLeafHashes(packed, leaves, 0, 0, MAX_STREAM_TICK_ITEMS)
    try {
      // push() checked every item as packedLeafHashes does: this holds unless the SDK is wrong.
      if (!read.ok || read.count !== n || read.sumMsat !== sum) {
        throw new Error(`stream tick ${seq}: its items do not read back (${read.ok ? `${read.count} items` : read.detail})`)
      }
      const tree = tickTree(leaves, n)
      this.treeCache = { seq, tree }
      t = this.attempt({
        seq, payee: this.payee, packed, count: n, root: bytesToHex(tickTreeRoot(tree)), amountMsat: sum, attempt: 1, paymentHash: '',
        push: { ephemeral_point: '', ciphertext: '', tag: '' },
        status: 'pending', createdAt: nowSec(),
      }, 1)
      await this.write(t)
    } catch (e) {
      // The store refuses writes from now on (or the tick could not be formed): nothing of this tick
      // left; its pushers learn why.
      for (let i = 0; i < n; i++) { this.ids.delete(taken.ids[i]!); taken.runs[i]!.reject(e) }
      this.inFlight--
      return
    }
    for (let i = 0; i < n; i++) {
      this.ids.set(taken.ids[i]!, seq)
      const run = taken.runs[i]!
      if (--run.left === 0 && run.sealed) run.resolve()
    }
    this.track(t)
    await this.drive(t)
  }

  /** The tick under a fresh payment hash: a new preimage sealed to the payee, bound to the tick's reference. */
  private attempt (t: OutgoingTick, n: number): OutgoingTick {
    let ephemeralSecret = random32()
    while (!getCurve().isPrivkey(ephemeralSecret)) ephemeralSecret = random32()
    const { paymentHash, secret } = sealPushSecret({
      preimage: random32(), amountMsat: t.amountMsat, payee: hexToBytes(this.payee), reference: tickReference(t.count, t.root),
      ephemeralSecret,
    })
    return { ...t, attempt: n, paymentHash, push: secret, status: 'pending' }
  }

  /** Tick writes go one after another: ticks become durable in the order they were cut (and each
   *  write is one crash point, host/crash-points.ts `stream:tick`). */
  private writes: Promise<void> = Promise.resolve()
  private async write (t: OutgoingTick): Promise<void> {
    this.stats.writes++
    const w = this.writes.then(async () => {
      crashPoint('before', 'stream:tick')
      await this.host.store.write([put(keys.streamOut(this.payee, t.seq), t)])
      crashPoint('after', 'stream:tick')
    })
    this.writes = w.catch(() => {})
    await w
  }

  private track (t: OutgoingTick): void {
    this.open.set(t.seq, t)
    this.byHash.set(t.paymentHash, t.seq)
  }

  /** Pays a tick until it is paid (then waits for the payee's signature) or out of attempts. */
  private async drive (t: OutgoingTick): Promise<void> {
    let slot = true
    const release = (): void => { if (slot) { slot = false; this.inFlight--; this.pump() } }
    try {
      for (;;) {
        const r = await this.payOnce(t)
        if (r === undefined) return
        if (r.ok) break
        if (t.attempt >= STREAM_MAX_TICK_ATTEMPTS) {
          const failed: OutgoingTick = { ...t, status: 'failed', failure: `${r.reason}: ${r.detail}` }
          await this.write(failed)
          this.finish(failed)
          for (const id of packedIds(t.packed)) { this.ids.delete(id); this.failedIds.push(id) }
          this.stats.ticksFailed++; this.stats.itemsFailed += t.count
          this.host.warn(
            `stream to ${this.payee}: tick ${t.seq} failed ${t.attempt} times (${r.reason}: ${r.detail}); its items are unpaid`
          )
          return
        }
        this.byHash.delete(t.paymentHash)
        t = this.attempt(t, t.attempt + 1)
        await this.write(t)
        this.track(t)
        await sleep(Math.min(STREAM_RESEND_MS, 100 * 2 ** t.attempt))
      }
      release()
      await this.awaitSignature(t)
    } catch (e) {
      this.host.warn(`stream to ${this.payee}: tick ${t.seq}: ${String(e)}`)
    } finally {
      release()
      this.settledCheck()
    }
  }

  /** One attempt's payment: begun (if not yet) and offered, its items sent beside it and again until it
   *  has a final outcome: after STREAM_RESEND_MS, then after twice the last wait, at most
   *  STREAM_RESEND_MAX_MS. Undefined once the client stopped. */
  private async payOnce (t: OutgoingTick): Promise<PayResult | undefined> {
    while (await this.host.book.payment(t.paymentHash) === undefined) {
      if (this.stopped) return undefined
      const ch = await this.host.payingChannelSoon(Date.now() + STREAM_RESEND_MS)
      if (ch === undefined) { await sleep(STREAM_RESEND_MS); continue }
      const offered = amountToOffer(t.amountMsat, await this.host.hubPolicy())
      this.host.book.begin({
        paymentHash: t.paymentHash, invoice: '', push: t.push, holdBlocks: this.opts.holdBlocks, payee: this.payee,
        amountMsat: t.amountMsat,
        offeredMsat: offered, status: 'pending', createdAt: nowSec(), reference: tickReference(t.count, t.root),
      }, ch.driver.channelId)
      this.sendItems(t)
      await this.host.offer(ch, t.paymentHash)
      break
    }
    for (let wait = STREAM_RESEND_MS; ; wait = Math.min(2 * wait, STREAM_RESEND_MAX_MS)) {
      if (this.stopped) return undefined
      const r = await this.host.book.outcomeWithin(t.paymentHash, wait)
      if (r.ok || (r.reason !== 'timeout' && r.reason !== 'pending')) return r
      this.sendItems(t)
      // Offered again if its HTLC is in no channel (the offer is a no-op when it is).
      const ch = await this.host.payingChannelSoon(Date.now())
      if (ch !== undefined) await this.host.offer(ch, t.paymentHash)
    }
  }

  /** The tick's items to the payee, in chunks of at most STREAM_CHUNK_TARGET_BYTES and MAX_STREAM_CHUNK_ITEMS:
   *  slices of its packed string, cut at LFs (the same cuts every time: the payee keeps a chunk by the
   *  index of its first item). */
  private sendItems (t: OutgoingTick): void {
    const p = t.packed
    let first = 0
    let from = 0
    while (from < p.length) {
      let end = from
      let n = 0
      for (;;) {
        const lf = p.indexOf('\n', end)
        const lineEnd = lf < 0 ? p.length : lf
        // Its packed JSON: the line, its two TABs and the LF once more (each escaped in two characters).
        if (n > 0 && (lineEnd - from) + 4 * (n + 1) > STREAM_CHUNK_TARGET_BYTES) break
        n++
        end = lineEnd
        if (lf < 0 || n === MAX_STREAM_CHUNK_ITEMS) break
        end = lf + 1
      }
      const chunkEnd = p.charCodeAt(end - 1) === 10 ? end - 1 : end
      this.host.send({
        type: 'stream_items', peer: this.payee, payment_hash: t.paymentHash, count: t.count, root: t.root, first,
        items: p.slice(from, chunkEnd),
      })
      first += n
      from = chunkEnd + 1
    }
  }

  private statement (t: OutgoingTick): TickStatement {
    return {
      payer: this.host.nodeId, payee: this.payee, paymentHash: t.paymentHash, amountMsat: t.amountMsat, count: t.count, root: t.root,
    }
  }

  /** The payment succeeded: the tick is paid once the payee's signature is here (asked for again
   *  every STREAM_RESEND_MS); written with it. */
  private async awaitSignature (t: OutgoingTick): Promise<void> {
    let signature = this.earlySignatures.get(t.paymentHash)
    while (signature === undefined && !this.stopped) {
      const got = new Promise<void>(resolve => this.receiptWaiters.set(t.seq, resolve))
      this.host.send({
        type: 'stream_items', peer: this.payee, payment_hash: t.paymentHash, count: t.count, root: t.root, first: 0, items: '',
      })
      await Promise.race([got, sleep(STREAM_RESEND_MS)])
      this.receiptWaiters.delete(t.seq)
      signature = this.earlySignatures.get(t.paymentHash)
    }
    if (signature === undefined) return
    this.earlySignatures.delete(t.paymentHash)
    const paid: OutgoingTick = { ...t, status: 'paid', signature, paidAt: nowSec() }
    await this.write(paid)
    this.stats.ticksPaid++; this.stats.itemsPaid += t.count; this.stats.msatPaid += t.amountMsat
    this.finish(paid)
  }

  private finish (t: OutgoingTick): void {
    this.open.delete(t.seq)
    this.byHash.delete(t.paymentHash)
  }

  /** The payee's stream_receipt (relayed by the hub): kept if it is the payee's signature over the tick. */
  onReceipt (msg: StreamReceiptMessage): void {
    const seq = this.byHash.get(msg.payment_hash)
    const t = seq === undefined ? undefined : this.open.get(seq)
    if (t === undefined || t.paymentHash !== msg.payment_hash) return
    if (!verifyTickSignature(this.statement(t), msg.signature)) {
      this.host.warn(`stream to ${this.payee}: a receipt for tick ${t.seq} is not the payee's signature: ignored`)
      return
    }
    this.earlySignatures.set(t.paymentHash, msg.signature)
    this.receiptWaiters.get(t.seq)?.()
  }

  private settledCheck (): void {
    if (this.queued() === 0 && this.inFlight === 0 && this.open.size === 0) for (const w of this.idleWaiters.splice(0)) w()
  }

  /** Resolves once every item pushed so far is paid with the payee's signature, or failed: a summary
   *  of the stream so far (failedIds: items whose tick failed every attempt; they may be pushed again). */
  async flush (): Promise<StreamSummary> {
    await this.ready
    this.draining++
    try {
      this.pump()
      while (!(this.queued() === 0 && this.inFlight === 0 && this.open.size === 0) && !this.stopped) {
        await new Promise<void>(resolve => { this.idleWaiters.push(resolve); setTimeout(resolve, 200) })
        this.pump()
      }
    } finally { this.draining-- }
    return {
      ticksPaid: this.stats.ticksPaid, itemsPaid: this.stats.itemsPaid, msatPaid: this.stats.msatPaid, failedIds: [...this.failedIds],
    }
  }

  /** The receipt of a paid item (undefined: not paid, or not ours). Builds its tick's tree once. */
  async receipt (id: string): Promise<StreamReceipt | undefined> {
    await this.ready
    const seq = this.ids.get(id)
    if (typeof seq !== 'number') return undefined
    const t = await readRecord(this.host.store, keys.streamOut(this.payee, seq), outgoingTick)
    if (t?.status !== 'paid') return undefined
    const r = this.receiptsOf(t)
    const index = r.index.get(id)!
    return receiptOf(this.statement(t), t.signature!, itemOf(r.items[index]!), index, tickTreeProofHex(r.tree, r.hex, index))
  }

  /** Every receipt of every paid tick, tick by tick. */
  async * receipts (): AsyncGenerator<StreamReceipt> {
    await this.ready
    for await (const [key] of this.host.store.iterate(keys.streamOutPrefix(this.payee))) {
      const t = await readRecord(this.host.store, key, outgoingTick)
      if (t?.status !== 'paid') continue
      const r = this.receiptsOf(t)
      const st = this.statement(t)
      for (let i = 0; i < t.count; i++) yield receiptOf(st, t.signature!, itemOf(r.items[i]!), i, tickTreeProofHex(r.tree, r.hex, i))
    }
  }

  /** A paid tick's items, tree (in hex) and the index of each id: built once for its receipts (the
   *  tree may be the one begin() built). */
  private receiptsOf (t: OutgoingTick): Required<TickReceipts> {
    const where = keys.streamOut(this.payee, t.seq)
    let c = this.treeCache
    if (c?.seq !== t.seq) {
      const leaves = new Uint8Array(t.count * 32)
      const read = packedLeafHashes(t.packed, leaves, 0, 0, MAX_STREAM_TICK_ITEMS)
      if (!read.ok || read.count !== t.count) throw new Error(`store record ${where} is not valid: its items are not ${t.count} items`)
      c = this.treeCache = { seq: t.seq, tree: tickTree(leaves, t.count) }
    }
    if (c.items === undefined) {
      const items = unpackStreamItems(t.packed, MAX_STREAM_TICK_ITEMS)
      if (!items.ok) throw new Error(`store record ${where} is not valid: ${items.detail}`)
      c.items = items.items
    }
    c.hex ??= tickTreeHex(c.tree)
    if (c.index === undefined) {
      const index = new Map<string, number>()
      c.items.forEach(([id], i) => index.set(id, i))
      c.index = index
    }
    return c as Required<TickReceipts>
  }

  stop (): void {
    this.stopped = true
    clearTimeout(this.timer)
    for (const w of this.roomWaiters.splice(0)) w()
    for (const w of this.idleWaiters.splice(0)) w()
  }
}

/** A tick's tree and items for its receipts: the levels in hex and the index of each id once asked for. */
interface TickReceipts { seq: number; tree: TickTree; items?: WireStreamItem[]; hex?: string[]; index?: Map<string, number> }

/** Queued items, a column per field, and the run each was pushed in. */
interface Queued { ids: string[]; amounts: number[]; memos: string[]; runs: Run[] }

const itemOf = ([id, amountMsat, memo]: WireStreamItem): { id: string; amountMsat: number; memo: string } => ({ id, amountMsat, memo })
