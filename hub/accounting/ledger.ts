// The hub's ledger of settled payments and the fees it earned on them. The router records an entry in
// the batch that stores a circuit's fulfilment (hub/router/router.ts resolve): the fee is on disk
// exactly when the payment is, and survives restarts. One entry per forwarded payment, indexed by time
// (GET /fees) and by each party's node id (GET /accounts/:node_id/accounting).
//
//   ledger/<at ms>/<in channel>/<in htlc>              the entry
//   ledger-acct/<node>/<at ms>/<in channel>/<in htlc>  the same entry, under the payer and the payee
//   ledger-chain/<node>/<at ms>/<txid>                 a splice or close of that node's channel
//                                                      (chain-moves.ts): what its balance moved
import { z } from 'zod'
import { counter, keys } from '../../host/store/keys.ts'
import { del, parseJsonValue, put, type Store, type StoreOp } from '../../host/store/store.ts'

export const ledgerEntry = z.strictObject({
  /** When the fulfilment was recorded, ms since 1970. */
  at: z.number().int().min(0),
  payment_hash: z.string().regex(/^[0-9a-f]{64}$/),
  payer: z.string().regex(/^0[23][0-9a-f]{64}$/),
  payee: z.string().regex(/^0[23][0-9a-f]{64}$/),
  /** What the payer's HTLC carried, what the payee's carried, and the difference: the hub's fee. */
  in_msat: z.number().int().min(0),
  out_msat: z.number().int().min(0),
  fee_msat: z.number().int().min(0),
  in_channel: z.string(),
  in_htlc: z.number().int().min(0),
  out_channel: z.string(),
  /** A stream tick (DESIGN.md "Streams"): the Merkle root its metadata named. */
  stream_root: z.string().optional(),
  /** Kind of payment, for exports: a split's leg carries its split id (the split helper sets it). */
  split_id: z.string().optional(),
})
export type LedgerEntry = z.infer<typeof ledgerEntry>

/** A splice or close of an account's channel, or what the chain did after a force close (an HTLC it
 *  gave the account, a claim of the account), as the account's balance saw it (chain-moves.ts). */
export const chainEntry = z.strictObject({
  at: z.number().int().min(0),
  node: z.string().regex(/^0[23][0-9a-f]{64}$/),
  channel_id: z.string().regex(/^[0-9a-f]{64}$/),
  kind: z.enum(['splice_out', 'splice_in', 'splice_dropped', 'close_mutual', 'close_force', 'htlc_onchain', 'sweep']),
  /** The splice's (a dropped splice's), mutual close's or claim's transaction; a force close's channel
   *  id; an HTLC's payment hash. */
  txid: z.string().regex(/^[0-9a-f]{64}$/),
  /** What the account's balance moved (signed), what went on-chain to it or from its wallet, the rest. */
  amount_msat: z.number().int(),
  /** Both negative only in a splice_dropped entry (the reversed splice's, negated). */
  onchain_sat: z.number().int(),
  fee_msat: z.number().int(),
  /** A splice_dropped entry: the transaction that spent the splice's input ('unknown' if the hub saw
   *  the spend only deeper than the blocks it looked at). */
  spent_by: z.string().regex(/^([0-9a-f]{64}|unknown)$/).optional(),
}).refine(e => e.kind === 'splice_dropped' || (e.onchain_sat >= 0 && e.fee_msat >= 0), {
  message: 'onchain_sat and fee_msat are negative only in a splice_dropped entry',
})
export type ChainEntry = z.infer<typeof chainEntry>

/** Periods GET /fees sums by. */
export const FEE_PERIODS = { hour: 3_600_000, day: 86_400_000 } as const
export type FeePeriod = keyof typeof FEE_PERIODS

export class Ledger {
  constructor (private readonly store: Store) {}

  /** The ops that record `e`, for the batch that stores the payment's fulfilment. */
  ops (e: LedgerEntry): StoreOp[] {
    const entry = put(keys.ledger(e.at, e.in_channel, e.in_htlc), e)
    return [
      entry,
      put(keys.ledgerAccount(e.payer, e.at, e.in_channel, e.in_htlc), ''),
      put(keys.ledgerAccount(e.payee, e.at, e.in_channel, e.in_htlc), ''),
    ]
  }

  /** Records a splice or close of an account's channel (its own write: see chain-moves.ts). */
  async recordChain (e: ChainEntry, replaces: readonly ChainEntry[] = []): Promise<void> {
    // Checked as it will be read back: an entry accountChain would refuse is never stored.
    const checked = chainEntry.safeParse(e)
    if (!checked.success) {
      throw new Error(`not a ledger chain entry: ${checked.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
    }
    await this.store.write([
      ...replaces.map(r => del(keys.ledgerChain(r.node, r.at, r.txid))),
      put(keys.ledgerChain(e.node, e.at, e.txid), e),
    ])
  }

  /** One account's splices and closes with from ≤ at < to, oldest first. */
  async accountChain (node: string, from: number, to: number): Promise<ChainEntry[]> {
    const out: ChainEntry[] = []
    for await (const [key, value] of this.store.iterate(keys.ledgerChainPrefix(node))) {
      const r = chainEntry.safeParse(parseJsonValue(value))
      if (!r.success) throw new Error(`store: ${key} is not a ledger chain entry (${r.error.issues[0]?.message ?? 'invalid'})`)
      if (r.data.at >= from && r.data.at < to) out.push(r.data)
    }
    return out
  }

  /** Entries with from ≤ at < to (ms), oldest first. */
  async * entries (from: number, to: number): AsyncGenerator<LedgerEntry> {
    const after = from > 0 ? `${keys.ledgerPrefix}${counter(from - 1)}/~` : undefined
    for await (const [key, value] of this.store.iterate(keys.ledgerPrefix, after !== undefined ? { after } : {})) {
      const e = parseEntry(key, value)
      if (e.at >= to) return
      if (e.at >= from) yield e
    }
  }

  /** One party's entries (as payer or payee) with from ≤ at < to, oldest first. */
  async * account (node: string, from: number, to: number): AsyncGenerator<LedgerEntry> {
    const prefix = keys.ledgerAccountPrefix(node)
    const after = from > 0 ? `${prefix}${counter(from - 1)}/~` : undefined
    for await (const [key] of this.store.iterate(prefix, after !== undefined ? { after } : {})) {
      const [at, channel, htlc] = key.slice(prefix.length).split('/') as [string, string, string]
      if (Number(at) >= to) return
      const raw = await this.store.get(keys.ledger(Number(at), channel, Number(htlc)))
      if (raw === undefined) throw new Error(`store: ${key} names no ledger entry`)
      yield parseEntry(key, raw)
    }
  }

  /** Fees earned with from ≤ at < to, summed by period (start of each period, ms since 1970). */
  async fees (from: number, to: number, period: FeePeriod): Promise<{
    periods: Array<{ start: number; payments: number; fees_msat: number }>; total_fees_msat: number; payments: number
  }> {
    const size = FEE_PERIODS[period]
    const byStart = new Map<number, { start: number; payments: number; fees_msat: number }>()
    let total = 0
    let count = 0
    for await (const e of this.entries(from, to)) {
      const start = Math.floor(e.at / size) * size
      const p = byStart.get(start) ?? byStart.set(start, { start, payments: 0, fees_msat: 0 }).get(start)!
      p.payments++; p.fees_msat += e.fee_msat
      total += e.fee_msat; count++
    }
    return { periods: [...byStart.values()], total_fees_msat: total, payments: count }
  }
}

function parseEntry (key: string, raw: Uint8Array): LedgerEntry {
  const r = ledgerEntry.safeParse(parseJsonValue(raw))
  if (!r.success) throw new Error(`store: ${key} is not a ledger entry (${r.error.issues[0]?.message ?? 'invalid'})`)
  return r.data
}
