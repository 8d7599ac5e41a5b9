// Anchoring the audit log on-chain (DESIGN.md "Audit anchoring and receipts").
//
// An anchor commits the durable entries written since the last anchor that is final (at
// `depth` confirmations), chained to that anchor's commitment (protocol/audit/anchor.ts). Its life:
//   prepared  its record is durable (range, root, commitment); no transaction carries it yet
//   carried   a transaction that carries its OP_RETURN is recorded (durable BEFORE that transaction is
//             broadcast); several when the carrier was replaced (RBF)
//   final     a carrier is `depth` deep in the main chain: its entries count as anchored
//   dropped   no carrier can confirm any more (refused by the node), or none was ever recorded
// Entries count as anchored only under a final anchor. An anchor that is reorged out or never
// confirms is not final, so the next anchor builds on the last final one and covers its entries again.
//
// Two ways to carry an anchor: on its own (anchorNow: a small transaction of the hub wallet with the
// OP_RETURN and change, the operator's `POST /audit/anchor`), or as one more output of another
// transaction (a settlement): output() prepares it and gives the script, carriedBy(seq, txid) records
// the transaction before it is broadcast.
//
// Restart: a prepared anchor whose own transaction the wallet built but whose carrier was not recorded
// (a crash between the two writes) is found among the wallet's pending transactions by its script and
// recorded then; a carried one whose transaction the node lost is broadcast again; a prepared one with
// no transaction is dropped (nothing carrying it can have been broadcast: carriers are recorded first).
import { z } from 'zod'
import { GENESIS_COMMITMENT, anchorCommitment, anchorScript } from '../../protocol/audit/anchor.ts'
import { merklePath, merkleRoot } from '../../protocol/audit/merkle.ts'
import type { AuditEntry } from '../../protocol/audit/entry.ts'
import { MAX_ANCHOR_ENTRIES } from '../../protocol/limits.ts'
import { hexToBytes } from '../../protocol/types.ts'
import type { ChainBackend } from '../../host/chain/backend.ts'
import { crashPoints } from '../../host/crash-points.ts'
import { keys } from '../../host/store/keys.ts'
import { parseJsonValue, put, type Store } from '../../host/store/store.ts'
import type { Wallet } from '../../host/wallet/wallet.ts'
import type { AuditLog } from './log.ts'

const crashPoint = crashPoints('HUB_CRASH_AT')
/** Final anchors whose entry hashes are kept in memory for proofs (receipts ask about recent payments,
 *  so mostly the last anchor; each costs up to MAX_ANCHOR_ENTRIES hashes). */
const PROOF_ANCHORS_CACHED = 2

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
export const anchorRecordSchema = z.strictObject({
  seq: count,
  /** The final anchor it builds on (null: the first). */
  prev_seq: count.nullable(),
  prev_commitment: hex32,
  root: hex32,
  from: count,
  to: count,
  commitment: hex32,
  status: z.enum(['prepared', 'carried', 'final', 'dropped']),
  /** Transactions carrying it, latest last. */
  txids: z.array(hex32).max(64),
  /** Our own anchoring transaction (anchorNow), to broadcast again; absent for another's carrier. */
  tx_hex: z.string().regex(/^[0-9a-f]+$/).max(200_000).optional(),
  /** The carrier that reached depth, and its block. */
  txid: hex32.nullable(),
  block: z.strictObject({ height: count, hash: hex32 }).nullable(),
  created_ms: count,
  created_height: count,
})
export type AnchorRecord = z.infer<typeof anchorRecordSchema>

/** An output a transaction adds to carry an anchor (value 0: OP_RETURN). */
export interface AnchorOutput { seq: number; script: string; value: 0 }

/** What GET /audit/proof and the SDK's receipt proof carry (protocol/receipt/proof.ts). */
export interface EntryProof {
  entry: AuditEntry
  path: string[]
  anchor: { prev_commitment: string; root: string; from: number; to: number; commitment: string; txid: string }
}

export type AnchorNowResult =
  | { ok: true; anchor: AnchorRecord }
  | { ok: false; reason: 'nothing_to_anchor' | 'wallet' | 'broadcast'; detail: string }

export interface AnchoringOptions {
  store: Store
  audit: AuditLog
  chain: ChainBackend
  /** The hub wallet (anchorNow and restart); without it only output()/carriedBy() work. */
  wallet?: Wallet
  /** Confirmations before an anchor is final. */
  depth: number
  now: () => number
  height: () => number
  log?: (event: Record<string, unknown>) => void
}

export class Anchoring {
  private readonly anchors: AnchorRecord[] = []
  private readonly log: (event: Record<string, unknown>) => void
  /** Entry hashes of recent final anchors, by seq (their entries do not change: they are anchored). */
  private readonly proofHashes = new Map<number, string[]>()
  /** One anchoring step at a time (prepare, record, block updates): they read and write the same records. */
  private queue: Promise<unknown> = Promise.resolve()

  private constructor (private readonly opts: AnchoringOptions) {
    this.log = opts.log ?? (() => {})
  }

  static async open (opts: AnchoringOptions): Promise<Anchoring> {
    const a = new Anchoring(opts)
    for await (const [key, v] of opts.store.iterate(keys.auditAnchorPrefix)) {
      const r = anchorRecordSchema.safeParse(parseJsonValue(v))
      if (!r.success) throw new Error(
        `store: ${key} is not an anchor record (${r.error.issues[0]?.message ?? 'invalid'}): refusing to start`
      )
      a.anchors.push(r.data)
    }
    a.anchors.sort((x, y) => x.seq - y.seq)
    return a
  }

  /** Every anchor, oldest first. */
  list (): readonly AnchorRecord[] { return this.anchors }

  /** The final anchor the next one builds on: the one reaching furthest. */
  private base (): AnchorRecord | undefined {
    let best: AnchorRecord | undefined
    for (const a of this.anchors) if (a.status === 'final' && (best === undefined || a.to > best.to)) best = a
    return best
  }

  /** How many entries, from the first, are anchored at depth. */
  anchoredCount (): number { return this.base()?.to ?? 0 }

  private serial<T> (f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f, f)
    this.queue = p.catch(() => {})
    return p
  }

  private async save (a: AnchorRecord): Promise<void> {
    await this.opts.store.write([put(keys.auditAnchor(a.seq), a)])
  }

  /**
   * Prepares an anchor of the durable entries not under a final anchor, durably, and answers the output
   * that carries it; undefined when every durable entry is anchored already. The caller adds the output
   * to its transaction and calls carriedBy() before broadcasting it.
   */
  output (): Promise<AnchorOutput | undefined> {
    return this.serial(async () => {
      const a = await this.prepare()
      return a === undefined ? undefined : { seq: a.seq, script: anchorScript(a.commitment), value: 0 as const }
    })
  }

  private async prepare (): Promise<AnchorRecord | undefined> {
    const base = this.base()
    const from = base?.to ?? 0
    const durable = (await this.opts.audit.root()).count
    const to = Math.min(durable, from + MAX_ANCHOR_ENTRIES)
    if (to <= from) return undefined
    const hashes = await this.entryHashes(from, to)
    const root = merkleRoot(hashes)
    const prevCommitment = base?.commitment ?? GENESIS_COMMITMENT
    const a: AnchorRecord = {
      seq: (this.anchors[this.anchors.length - 1]?.seq ?? -1) + 1,
      prev_seq: base?.seq ?? null,
      prev_commitment: prevCommitment,
      root, from, to,
      commitment: anchorCommitment({ prev_commitment: prevCommitment, root, from, to }),
      status: 'prepared', txids: [], txid: null, block: null,
      created_ms: this.opts.now(), created_height: this.opts.height(),
    }
    await this.save(a)
    this.anchors.push(a)
    this.log({ event: 'audit_anchor_prepared', seq: a.seq, from, to, commitment: a.commitment })
    return a
  }

  /** Records that transaction `txid` carries anchor `seq` (durable when it resolves): call it before
   *  broadcasting that transaction. `txHex` only for a transaction the anchoring itself broadcasts. */
  carriedBy (seq: number, txid: string, txHex?: string): Promise<void> {
    return this.serial(async () => { await this.recordCarrier(seq, txid, txHex) })
  }

  private async recordCarrier (seq: number, txid: string, txHex?: string): Promise<AnchorRecord> {
    const a = this.anchors.find(x => x.seq === seq)
    if (a === undefined) throw new Error(`anchoring: no anchor ${seq}`)
    if (a.status === 'final' || a.status === 'dropped') throw new Error(`anchoring: anchor ${seq} is ${a.status}`)
    const next: AnchorRecord = {
      ...a, status: 'carried', txids: a.txids.includes(txid) ? a.txids : [...a.txids, txid].slice(-64),
      ...(txHex !== undefined ? { tx_hex: txHex } : {}),
    }
    await this.save(next)
    this.replace(next)
    return next
  }

  private replace (a: AnchorRecord): void {
    const i = this.anchors.findIndex(x => x.seq === a.seq)
    this.anchors[i] = a
  }

  /** The operator's "anchor now": a transaction of the hub wallet with the anchor's OP_RETURN. */
  anchorNow (): Promise<AnchorNowResult> {
    return this.serial(async (): Promise<AnchorNowResult> => {
      const wallet = this.opts.wallet
      if (wallet === undefined) return { ok: false, reason: 'wallet', detail: 'no wallet to pay for an anchoring transaction' }
      const a = await this.prepare()
      if (a === undefined) return { ok: false, reason: 'nothing_to_anchor', detail: 'every durable audit entry is under a final anchor' }
      const built = wallet.buildTx([{ script: hexToBytes(anchorScript(a.commitment)), value: 0 }])
      if (!built.ok) {
        await this.drop(a, `wallet: ${JSON.stringify(built.error)}`)
        return { ok: false, reason: 'wallet', detail: JSON.stringify(built.error) }
      }
      crashPoint('before', 'anchor:carrier')
      const carried = await this.recordCarrier(a.seq, built.value.txid, built.value.hex)
      crashPoint('after', 'anchor:carrier')
      const sent = await wallet.broadcast(built.value.txid)
      if (!sent.ok) {
        this.log({ event: 'audit_anchor_broadcast_failed', seq: a.seq, txid: built.value.txid, detail: JSON.stringify(sent.error) })
        if (sent.error.kind === 'broadcast_failed' && sent.error.failure.kind === 'rejected') {
          await this.drop(carried, `refused by the node: ${sent.error.failure.detail}`)
          return { ok: false, reason: 'broadcast', detail: sent.error.failure.detail }
        }
      }
      this.log({ event: 'audit_anchor_broadcast', seq: a.seq, txid: built.value.txid, from: a.from, to: a.to })
      return { ok: true, anchor: this.anchors.find(x => x.seq === a.seq)! }
    })
  }

  private async drop (a: AnchorRecord, why: string): Promise<void> {
    const next: AnchorRecord = { ...a, status: 'dropped' }
    await this.save(next)
    this.replace(next)
    this.log({ event: 'audit_anchor_dropped', seq: a.seq, why })
  }

  /** After a restart: see the class comment. */
  resume (): Promise<void> {
    return this.serial(async () => {
      for (const a of [...this.anchors]) {
        if (a.status !== 'prepared') continue
        const script = anchorScript(a.commitment)
        const own = this.opts.wallet?.pendingTxs().find(p => carriesScript(p.hex, script))
        if (own === undefined) { await this.drop(a, 'no transaction carries it (prepared before a restart)'); continue }
        await this.recordCarrier(a.seq, own.txid, own.hex)
        this.log({ event: 'audit_anchor_adopted', seq: a.seq, txid: own.txid })
      }
      await this.check()
    })
  }

  /** A new block (or a reorg): carried anchors reach depth, or are broadcast again if the node lost them. */
  onBlock (): Promise<void> { return this.serial(async () => { await this.check() }) }

  private async check (): Promise<void> {
    for (const a of [...this.anchors]) {
      if (a.status !== 'carried') continue
      let seen = false
      for (const txid of a.txids) {
        const r = await this.opts.chain.getRawTransaction(txid)
        if (!r.ok) return // the node is busy or down: the next block tries again
        if (r.value === null) continue
        seen = true
        if (r.value.confirmations >= this.opts.depth && r.value.block !== undefined) {
          const next: AnchorRecord = { ...a, status: 'final', txid, block: { height: r.value.block.height, hash: r.value.block.hash } }
          await this.save(next)
          this.replace(next)
          this.log({ event: 'audit_anchor_final', seq: a.seq, txid, from: a.from, to: a.to, height: r.value.block.height })
          break
        }
      }
      if (seen || a.tx_hex === undefined) continue
      // Our own carrier is neither in the chain nor in the mempool (reorged out and evicted, or lost by
      // a node restart): broadcast it again; refused means it can never confirm.
      const sent = await this.opts.chain.broadcast(a.tx_hex)
      if (sent.ok) { this.log({ event: 'audit_anchor_rebroadcast', seq: a.seq, txid: sent.value }); continue }
      if (sent.error.kind === 'rejected' && sent.error.reason !== 'already_in_mempool' && sent.error.reason !== 'already_in_chain') {
        this.opts.wallet?.release(a.txids[a.txids.length - 1]!)
        await this.drop(a, `its transaction was refused: ${sent.error.detail}`)
      }
    }
  }

  /** The final anchor covering entry n (the earliest), or undefined while n is not anchored at depth. */
  anchorOf (n: number): AnchorRecord | undefined {
    return this.anchors.find(a => a.status === 'final' && a.from <= n && n < a.to)
  }

  /** The inclusion proof of entry n under its final anchor; undefined while it has none. */
  async proof (n: number): Promise<EntryProof | undefined> {
    const a = this.anchorOf(n)
    if (a === undefined || a.txid === null) return undefined
    const entry = await this.opts.audit.entry(n)
    if (entry === undefined) return undefined
    let hashes = this.proofHashes.get(a.seq)
    if (hashes === undefined) {
      hashes = await this.entryHashes(a.from, a.to)
      this.proofHashes.set(a.seq, hashes)
      for (const seq of this.proofHashes.keys()) if (this.proofHashes.size > PROOF_ANCHORS_CACHED) this.proofHashes.delete(seq)
    }
    return {
      entry,
      path: merklePath(hashes, n - a.from),
      anchor: { prev_commitment: a.prev_commitment, root: a.root, from: a.from, to: a.to, commitment: a.commitment, txid: a.txid },
    }
  }

  private async entryHashes (from: number, to: number): Promise<string[]> {
    const lines = await this.opts.audit.range(from, to)
    if (lines.length !== to - from) throw new Error(`anchoring: audit entries ${from}..${to - 1} are not all in the store`)
    return lines.map(l => (JSON.parse(l) as AuditEntry).hash)
  }
}

/** Whether the serialized transaction has an output with this script (hex). */
function carriesScript (txHex: string, scriptHex: string): boolean {
  // The script is 38 bytes behind its length byte and an 8-byte zero value; a search of the hex is
  // enough to tell our own pending transactions apart (each anchor's commitment is unique).
  return txHex.includes(`0000000000000000${(scriptHex.length / 2).toString(16).padStart(2, '0')}${scriptHex}`)
}
