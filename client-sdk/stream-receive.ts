// The payee's side of streams (DESIGN.md "Streams"): the items of each tick arrive in stream_items
// messages relayed by the hub beside the tick's HTLC; when the HTLC is committed, PaymentBook asks
// decide() whether to fulfil it. Fulfilled only if the items match the reference's count and root,
// sum to the amount the payer sealed, and pay no item id this payer paid before. The tick's record
// (its items, so its ids, and our signature) rides on the fulfil's batch; the signature goes back to the payer
// (stream_receipt) once that batch is durable, and again whenever the payer asks.
//
// Each chunk is checked and its items' leaf hashes computed when it arrives (packedLeafHashes, one pass
// over its characters), so decide() hashes only the levels above the leaves.
import { random32 } from '../host/random.ts'
import { keys, put, type Store, type StoreOp } from '../host/store/index.ts'
import { MAX_STREAM_BUFFERED_TICKS, MAX_STREAM_CHUNK_ITEMS, MAX_STREAM_TICK_ITEMS, STREAM_ITEMS_WAIT_MS } from '../protocol/limits.ts'
import {
  packedCount, packedIds, packedLeafHashes, signTick, tickTree, tickTreeRoot, unpackStreamItems, type TickStatement,
} from '../protocol/stream/index.ts'
import { bytesToHex, type NodeId } from '../protocol/types.ts'
import type { PeerMessage } from '../protocol/wire/index.ts'
import type { StreamItemsMessage } from '../protocol/wire/hub-messages.ts'
import type { Attached } from './live-records.ts'
import { readRecord } from './records.ts'
import { storedIncomingTick, type IncomingTick, type StoredIncomingTick } from './stream-records.ts'

/** A tick's items as they arrive: the chunks (packed, by the index of their first item), their leaf
 *  hashes in place, their ids and the sum of their amounts. A chunk overlapping items already here is
 *  dropped (a payer chunks a tick the same way every time it sends it). */
interface Buffered {
  payer: NodeId
  count: number
  root: string
  chunks: Map<number, string>
  leaves: Uint8Array
  have: Uint8Array
  ids: string[]
  sumMsat: number
  filled: number
  waiters: Array<() => void>
}

export type TickDecision =
  | { ok: true; attached: Attached; tick: StoredIncomingTick }
  | { ok: false; detail: string }

/** A tick we were paid, as the application sees it (HubClient's `stream_tick` event). */
export interface ReceivedTick { payer: string; paymentHash: string; count: number; amountMsat: number }

export class StreamReceiver {
  /** Items of ticks whose HTLC may come (or is waiting for them), by payment hash. */
  private readonly buffers = new Map<string, Buffered>()
  /** Item ids each payer has paid, with the tick that paid each: built from the stored ticks the first
   *  time a tick is decided (the tick records are the durable dedupe: one key per tick, not per item). */
  private seen: Promise<Map<string, Map<string, string>>> | undefined
  /** Ticks fulfilled in this run: their payer and signature, to answer a payer that asks again. */
  private readonly signed = new Map<string, { payer: string; signature: string }>()

  constructor (
    private readonly store: Store,
    private readonly nodeKey: Uint8Array,
    private readonly nodeId: NodeId,
    private readonly send: (msg: PeerMessage) => void,
    private readonly received: (t: ReceivedTick) => void,
    private readonly warn: (detail: string) => void,
    private readonly waitMs = STREAM_ITEMS_WAIT_MS,
  ) {}

  /** A chunk of a tick's items, or (no items) a payer asking for a receipt again. */
  async onItems (msg: StreamItemsMessage): Promise<void> {
    const payer = msg.peer as NodeId
    // A tick whose items are buffered was not fulfilled (its buffer goes when it is decided), so only
    // the first chunk of a tick, or a payer asking for a receipt, looks in the store.
    const buffered = this.buffers.has(msg.payment_hash)
    const done = this.signed.get(msg.payment_hash) ?? (buffered ? undefined : await this.storedSignature(msg.payment_hash))
    if (done !== undefined) {
      if (done.payer === payer) this.sendReceipt(payer, msg.payment_hash, done.signature)
      return
    }
    if (msg.items.length === 0) return
    let b = this.buffers.get(msg.payment_hash)
    if (b !== undefined && (b.payer !== payer || b.count !== msg.count || b.root !== msg.root)) {
      this.buffers.delete(msg.payment_hash); b = undefined
    }
    if (b?.chunks.has(msg.first) === true) return
    const n = packedCount(msg.items)
    if (n > MAX_STREAM_CHUNK_ITEMS || msg.first + n > msg.count) {
      this.warn(`stream_items from ${payer}: items ${msg.first}..${msg.first + n - 1} of a tick of ${msg.count}: dropped`); return
    }
    if (b === undefined) {
      this.evictOldest(payer)
      b = {
        payer, count: msg.count, root: msg.root, chunks: new Map(), leaves: new Uint8Array(msg.count * 32),
        have: new Uint8Array(msg.count), ids: new Array<string>(msg.count), sumMsat: 0, filled: 0, waiters: [],
      }
      this.buffers.set(msg.payment_hash, b)
    }
    for (let i = msg.first; i < msg.first + n; i++) if (b.have[i] === 1) return
    const read = packedLeafHashes(msg.items, b.leaves, msg.first * 32, msg.first, n)
    if (!read.ok) { this.warn(`stream_items from ${payer}: ${read.detail}: dropped`); return }
    b.chunks.set(msg.first, msg.items)
    for (let i = 0; i < n; i++) { b.have[msg.first + i] = 1; b.ids[msg.first + i] = read.ids[i]! }
    b.sumMsat += read.sumMsat
    b.filled += n
    if (b.filled === b.count) for (const w of b.waiters.splice(0)) w()
  }

  /** At most MAX_STREAM_BUFFERED_TICKS ticks of one payer wait in memory: the oldest goes. */
  private evictOldest (payer: NodeId): void {
    const mine = [...this.buffers].filter(([, b]) => b.payer === payer)
    if (mine.length >= MAX_STREAM_BUFFERED_TICKS) this.buffers.delete(mine[0]![0])
  }

  private async storedSignature (paymentHash: string): Promise<{ payer: string; signature: string } | undefined> {
    const rec = await readRecord(this.store, keys.streamIn(paymentHash), storedIncomingTick)
    return rec === undefined ? undefined : { payer: rec.payer, signature: rec.signature }
  }

  private sendReceipt (payer: string, paymentHash: string, signature: string): void {
    this.send({ type: 'stream_receipt', peer: payer as NodeId, payment_hash: paymentHash, signature })
  }

  private async complete (paymentHash: string): Promise<Buffered | undefined> {
    const b = this.buffers.get(paymentHash)
    if (b !== undefined && b.filled === b.count) return b
    const deadline = Date.now() + this.waitMs
    while (Date.now() < deadline) {
      const cur = this.buffers.get(paymentHash)
      if (cur !== undefined && cur.filled === cur.count) return cur
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, Math.min(250, Math.max(0, deadline - Date.now())))
        if (cur !== undefined) cur.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
    return undefined
  }

  private async seenBy (payer: string): Promise<Map<string, string>> {
    this.seen ??= (async () => {
      const all = new Map<string, Map<string, string>>()
      for await (const [key] of this.store.iterate(keys.streamInPrefix)) {
        const t = await readRecord(this.store, key, storedIncomingTick)
        if (t === undefined) continue
        const mine = all.get(t.payer) ?? all.set(t.payer, new Map()).get(t.payer)!
        for (const id of packedIds(t.packed)) mine.set(id, t.paymentHash)
      }
      return all
    })()
    const all = await this.seen
    return all.get(payer) ?? all.set(payer, new Map()).get(payer)!
  }

  /**
   * The HTLC of a push payment whose reference is a tick's (`count`, `root`) is committed: fulfil it?
   * `sealedMsat` is what the payer sealed (PaymentBook checked the HTLC carries it).
   */
  async decide (paymentHash: string, sealedMsat: number, tick: { count: number; root: string }, nowSec: number): Promise<TickDecision> {
    const b = await this.complete(paymentHash)
    if (b === undefined) return { ok: false, detail: `stream tick: its ${tick.count} items did not arrive within ${this.waitMs} ms` }
    if (b.count !== tick.count || b.root !== tick.root) {
      return { ok: false, detail: 'stream tick: the items received are not those of the reference' }
    }
    const root = bytesToHex(tickTreeRoot(tickTree(b.leaves, b.count)))
    if (root !== tick.root) return { ok: false, detail: 'stream tick: the items do not hash to the root' }
    const sum = b.sumMsat
    if (sum !== sealedMsat) return { ok: false, detail: `stream tick: the items sum to ${sum} msat, the payer sealed ${sealedMsat} msat` }
    const seen = await this.seenBy(b.payer)
    // Each id marked as it is checked, so a tick decided meanwhile with one of these ids is refused; the
    // marks are durable with the fulfil (the tick's record, which names them), and taken back if this
    // tick is refused.
    for (let i = 0; i < b.ids.length; i++) {
      const id = b.ids[i]!
      const paidBy = seen.get(id)
      if (paidBy !== undefined) {
        for (let k = 0; k < i; k++) seen.delete(b.ids[k]!)
        return {
          ok: false, detail: `stream tick: item ${JSON.stringify(id)} ${paidBy === paymentHash ? 'appears twice' : 'was paid before'}`,
        }
      }
      seen.set(id, paymentHash)
    }
    this.buffers.delete(paymentHash)
    const statement: TickStatement = {
      payer: b.payer, payee: this.nodeId, paymentHash, amountMsat: sum, count: b.count, root: tick.root,
    }
    const signature = signTick(statement, this.nodeKey, random32())
    // The chunks tile the tick (filled === count, none overlaps): in order, they are its packed items.
    const packed = [...b.chunks].sort((x, y) => x[0] - y[0]).map(([, c]) => c).join('\n')
    const rec: StoredIncomingTick = {
      payer: b.payer, paymentHash, packed, count: b.count, root: tick.root, amountMsat: sum, signature, receivedAt: nowSec,
    }
    const ops: StoreOp[] = [put(keys.streamIn(paymentHash), rec)]
    return {
      ok: true, tick: rec,
      attached: {
        ops,
        durable: () => {
          this.signed.set(paymentHash, { payer: b.payer, signature })
          this.sendReceipt(b.payer, paymentHash, signature)
          this.received({ payer: b.payer, paymentHash, count: b.count, amountMsat: sum })
        },
      },
    }
  }

  /** The ticks we were paid (stored), with their items: for the application's own records. */
  async tick (paymentHash: string): Promise<IncomingTick | undefined> {
    const rec = await readRecord(this.store, keys.streamIn(paymentHash), storedIncomingTick)
    if (rec === undefined) return undefined
    const items = unpackStreamItems(rec.packed, MAX_STREAM_TICK_ITEMS)
    if (!items.ok) throw new Error(`store record ${keys.streamIn(paymentHash)} is not valid: ${items.detail}`)
    const { packed: _, count: __, ...rest } = rec
    return { ...rest, items: items.items }
  }

  /** The tick that paid item `id` of `payer`, if any. */
  async paidItem (payer: string, id: string): Promise<string | undefined> {
    return (await this.seenBy(payer)).get(id)
  }
}
