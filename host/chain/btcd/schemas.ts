// zod schemas for the btcd replies we read (btcjson/chainsvrresults.go, v0.26.2). Only the fields
// we use are checked; unknown fields are ignored. Bounds: heights and counts are non-negative safe
// integers, hashes are 64 lowercase hex characters, hex blobs are bounded by regtest's block size.
import { z } from 'zod'
import { MAX_MONEY_SAT, MAX_TX_OUTPUT_SCRIPT_BYTES } from '../../../protocol/limits.ts'

export const hash64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex characters')
const height = z.number().int().min(0).max(100_000_000)
/** 4 MB weight limit → a serialized block or transaction is at most 4 MB (8 M hex characters). */
const hexBlob = z.string().max(8_000_000).regex(/^(?:[0-9a-f]{2})+$/, 'expected lowercase hex')

export const bestBlockSchema = z.object({ hash: hash64, height })

export const blockHashSchema = hash64

export const verboseBlockSchema = z.object({
  hash: hash64,
  height,
  time: z.number().int().min(0),
  previousblockhash: hash64.optional(),
  rawtx: z.array(z.object({ hex: hexBlob, txid: hash64 })).min(1).max(100_000)
})

/** getblock <hash> 0: the block's serialization. */
export const rawBlockSchema = hexBlob

export const blockHeaderSchema = z.object({
  hash: hash64,
  height,
  confirmations: z.number().int()
})

export const blockHeaderWithBitsSchema = blockHeaderSchema.extend({
  time: z.number().int().min(0),
  bits: z.string().regex(/^[0-9a-f]{8}$/, 'expected 8 hex characters')
})

export const rawTransactionSchema = z.object({
  hex: hexBlob,
  txid: hash64,
  blockhash: hash64.optional(),
  confirmations: z.number().int().min(0).optional()
})

/** BTC as a float; at most MAX_MONEY. Converted to satoshis by rounding (exact below 2^53 / 1e8 BTC). */
const btc = z.number().min(0).max(MAX_MONEY_SAT / 1e8)

export const txOutSchema = z.object({
  bestblock: hash64,
  confirmations: z.number().int().min(0),
  value: btc,
  scriptPubKey: z.object({ hex: z.string().max(2 * MAX_TX_OUTPUT_SCRIPT_BYTES).regex(/^(?:[0-9a-f]{2})*$/, 'expected lowercase hex') }),
  coinbase: z.boolean()
}).nullable()

export const txidSchema = hash64

export const generateSchema = z.array(hash64).max(10_000)

/** submitblock: null when accepted, "rejected: <reason>" otherwise. */
export const submitBlockSchema = z.string().max(10_000).nullable()

export const nullSchema = z.null()

/** getmempoolinfo: only the transaction count is read. */
export const mempoolInfoSchema = z.object({ size: z.number().int().min(0).max(100_000_000) })
