// The wallet's persisted state: one JSON value, replaced durably by the wallet's storage (storage.ts)
// after every change, and checked by a zod schema when read back (what comes back from disk is
// outside input too).
import { z } from 'zod'
import { MAX_MONEY_SAT } from '../../protocol/limits.ts'
import type { Height } from '../../protocol/types.ts'

const hash64 = z.string().regex(/^[0-9a-f]{64}$/)
const sat = z.number().int().min(0).max(MAX_MONEY_SAT)
const height = z.number().int().min(0).max(100_000_000)
const hex = z.string().max(2_000_000).regex(/^(?:[0-9a-f]{2})*$/)
/** A block reference as the chain code types it (Height is a branded number). */
const blockRef = z.object({ height: height.transform(h => h as Height), hash: hash64 }).strict()
const outpoint = z.string().regex(/^[0-9a-f]{64}:\d{1,6}$/)

const utxo = z.object({
  txid: hash64,
  vout: z.number().int().min(0).max(100_000),
  value: sat,
  /** Hex P2WPKH script. */
  script: hex,
  chain: z.union([z.literal(0), z.literal(1)]),
  index: z.number().int().min(0).max(1_000_000),
  height,
  coinbase: z.boolean()
}).strict()
export type Utxo = z.infer<typeof utxo>

/** What a connected block changed, so a disconnect can undo exactly that. */
const undo = z.object({
  height,
  added: z.array(outpoint),
  spent: z.array(utxo),
  /** Our unconfirmed transactions this block confirmed: back to pending on disconnect. */
  confirmed: z.array(z.object({ txid: hash64, hex, inputs: z.array(outpoint) }).strict())
}).strict()

const pending = z.object({ txid: hash64, hex, inputs: z.array(outpoint) }).strict()
export type PendingTx = z.infer<typeof pending>

export const walletStateSchema = z.object({
  version: z.literal(1),
  next: z.object({ receive: z.number().int().min(0).max(1_000_000), change: z.number().int().min(0).max(1_000_000) }).strict(),
  /** Recent main-chain headers we processed (the follower resumes from them). */
  headers: z.array(blockRef).max(1000),
  utxos: z.record(outpoint, utxo),
  /** Keyed by block hash. */
  undo: z.record(hash64, undo),
  /** Our transactions broadcast (or about to be) and not yet confirmed; their inputs are locked. */
  pending: z.record(hash64, pending),
  /** Set once the chain under us vanished (scenario 12): the wallet refuses to run until an operator acts. */
  wiped: z.string().max(2000).nullable(),
  finality: z.object({ checkpoints: z.array(blockRef).max(64), finalTxids: z.array(hash64).max(1000) }).strict()
}).strict()
export type WalletState = z.infer<typeof walletStateSchema>

export function emptyState (): WalletState {
  return {
    version: 1, next: { receive: 0, change: 0 }, headers: [], utxos: {}, undo: {}, pending: {}, wiped: null,
    finality: { checkpoints: [], finalTxids: [] },
  }
}

export type LoadResult = { ok: true; state: WalletState | null } | { ok: false; detail: string }

/** The stored state, checked (null: none stored yet); `name` says where it came from in messages. */
export function parseWalletState (json: unknown, name: string): LoadResult {
  if (json === null) return { ok: true, state: null }
  const r = walletStateSchema.safeParse(json)
  if (!r.success) {
    const i = r.error.issues[0]
    return { ok: false, detail: `${name}: ${['wallet', ...(i?.path ?? []).map(String)].join('.')}: ${i?.message ?? 'invalid'}` }
  }
  return { ok: true, state: r.data }
}
