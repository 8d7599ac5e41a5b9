// HubClient's arguments, checked at the boundary (DESIGN.md rule 4). SDK arguments are programmer
// input: a bad one throws a TypeError whose message names the field ("createInvoice.amountMsat: ...").
// The client's options (clientOptionsSchema) and the host parts it runs over (clientHostSchema) are
// browser-safe; the Node entry's options (client-sdk/node.ts) add where those parts come from.
import { z } from 'zod'
import * as secp from '@noble/secp256k1'
import { isValidNodeId } from '../protocol/auth/signature.ts'
import {
  DEFAULT_MAX_CLTV_EXPIRY_DELTA, DEFAULT_MAX_FEERATE_PER_KW, MAX_MONEY_SAT, DEFAULT_MIN_FUNDING_SATOSHIS, DEFAULT_PUSH_HOLD_BLOCKS,
  FEERATE_PER_KW_FLOOR,
  MAX_FUNDING_SATOSHIS, MAX_LIST_PAGE, MAX_PUSH_HOLD_BLOCKS, MAX_REFERENCE_CHARS,
} from '../protocol/limits.ts'
import { regtestAddress } from '../host/wallet/address.ts'
import { MAX_FIELD_BYTES } from '../protocol/invoice/index.ts'
import { hexToBytes, type NodeId } from '../protocol/types.ts'
import { text } from '../protocol/wire/fields.ts'
import { IDEMPOTENCY_KEY } from '../protocol/wire/index.ts'
import type { ChainBackend } from '../host/chain/backend.ts'
import type { Store } from '../host/store/index.ts'
import type { Wallet } from '../host/wallet/wallet.ts'
import type { SocketFactory } from './transport/socket.ts'
import { wsUrlSchema } from './transport/options.ts'

const HEX32 = /^[0-9a-f]{64}$/

/** 64 hex digits in either case: the same 32 bytes. */
const HEX32_ANY_CASE = /^[0-9a-fA-F]{64}$/

/** A 32-byte secp256k1 secret key, as bytes or 64 hex characters (upper or lower case). One schema,
 *  not a union, so a bad value is told what is expected rather than "Invalid input". */
const secretKey = z.custom<Uint8Array | string>(v => v instanceof Uint8Array || typeof v === 'string', {
  error: 'must be a Uint8Array of 32 bytes or a string of 64 hex characters',
}).transform((v, ctx) => {
  if (v instanceof Uint8Array) return v
  if (!HEX32_ANY_CASE.test(v)) {
    ctx.addIssue({
      code: 'custom',
      message: `must be 64 hex characters (32 bytes), got ${v.length} characters${/^[0-9a-fA-F]*$/.test(v) ? '' : ', not all hex'}`,
    })
    return z.NEVER
  }
  return hexToBytes(v.toLowerCase())
}).refine(k => k.length === 32 && secp.utils.isValidSecretKey(k), { error: 'must be a valid 32-byte secp256k1 secret key' })

const nodeId = z.string().refine(
  isValidNodeId, { error: 'must be a 33-byte compressed secp256k1 key, lowercase hex' },
).transform(s => s as NodeId)

/** An object with these methods (host parts are checked by their methods, not their class, so any
 *  implementation fits). */
const hasMethods = <T>(what: string, methods: readonly string[]) => z.custom<T>(v => {
  const o = v as Record<string, unknown> | null
  return typeof o === 'object' && o !== null && methods.every(m => typeof o[m] === 'function')
}, { error: `must be a ${what} (${methods.join(', ')})` })

export const chainBackend = hasMethods<ChainBackend>('ChainBackend',
  ['tip', 'getBlockHash', 'getBlock', 'getRawTransaction', 'getTxOut', 'broadcast', 'follow', 'close'])
export const storeLike = hasMethods<Store>('Store', ['get', 'write', 'iterate', 'close'])
export const socketFactory = z.custom<SocketFactory>(v => typeof v === 'function',
  { error: 'must be a function (url) => Promise<SocketLike>' })

/** How long a call may wait (ms): from a tenth of a second (tests) to a day. */
const waitMs = z.number().int({ error: 'must be an integer (ms)' }).min(100).max(86_400_000)
/** A call's own timeout, overriding the client's. */
const callTimeout = { timeoutMs: waitMs.optional() }

export const ROLES = ['platform', 'creator', 'treasury'] as const
export type Role = (typeof ROLES)[number]

export const clientOptionsSchema = z.strictObject({
  /** The node key: identifies this party to the hub, signs invoices, and seeds every channel key. */
  nodeKey: secretKey,
  hubUrl: wsUrlSchema,
  /** The hub's node id: the handshake fails unless the hub proves this key. */
  hubId: nodeId,
  /** What this party does (informational: events and the demo use it). */
  role: z.enum(ROLES).default('platform'),
  /** Commitment feerate we propose when we open a channel (sat per 1000 weight units). */
  commitmentFeeratePerKw: z.number().int().min(FEERATE_PER_KW_FLOOR).max(100_000).default(1_000),
  /** Feerate of the splice transactions we start, unless a call gives its own (sat per 1000 weight
   *  units; the channel's policy bounds it, as the hub's does). */
  spliceFeeratePerKw: z.number().int().min(FEERATE_PER_KW_FLOOR).max(DEFAULT_MAX_FEERATE_PER_KW).default(1_000),
  /** Splices the hub starts on our channels (a top-up of its side): accepted, taking no part, or
   *  refused. Either way each is checked against the channel's rules first. */
  acceptHubSplices: z.boolean().default(true),
  /** Legs of split payments to us (paySplit of a payer, DESIGN.md "Splits"): taken part in, or
   *  refused (every leg to us fails back, and with it the whole split). */
  acceptSplits: z.boolean().default(true),
  /** The hub sends channel_ready only after this many confirmations of a channel we fund (≥ 1). */
  fundingConfirmations: z.number().int().min(1).max(100).default(1),
  /** How long connect() and untilReestablished() wait for the hub (a connection that proves `hubId`,
   *  the hub's policy, every channel reestablished) before they reject with a ClientError saying what
   *  they waited for (client-sdk/README.md "Timeouts"). Each call may pass its own `timeoutMs`. */
  connectTimeoutMs: waitMs.default(30_000),
  /** openChannel(), requestChannel() and close() reject once what they wait for has not moved for
   *  this long: no message from the hub taking the channel a step further, and, while the funding
   *  waits for confirmations, no new block. Each call may pass its own `timeoutMs`. On a chain with
   *  real block times, allow for the gaps between blocks (an hour is not rare). */
  progressTimeoutMs: waitMs.default(60_000),
  /** How long pay() waits for the outcome before it gives up waiting (the HTLC stays in flight and
   *  still resolves; the payment record says how). */
  payTimeoutMs: waitMs.default(60_000),
  /** Reconnect backoff, ms. */
  reconnectInitialMs: z.number().int().min(1).max(60_000).default(100),
  reconnectMaxMs: z.number().int().min(1).max(3_600_000).default(2_000),
  /** Blocks we ask the hub's HTLC expiry to be above the current height (final CLTV delta). */
  finalCltvDelta: z.number().int().min(9).max(DEFAULT_MAX_CLTV_EXPIRY_DELTA).default(40),
  /** An event a listener threw on (or rejected) is delivered again after this long (and at every
   *  start) until every listener takes it (client-sdk/event-outbox.ts). */
  eventRetryMs: z.number().int().min(10).max(3_600_000).default(5_000),
})

export type ClientOptions = z.output<typeof clientOptionsSchema>
export type ClientOptionsInput = z.input<typeof clientOptionsSchema>

/** The parts a client runs over, owned by whoever made them: `release`, if given, is called once
 *  when the client is done with them (stop(), or a create() that failed) to close what should be
 *  closed. */
export const clientHostSchema = z.strictObject({
  /** Channel states, invoices, payments, events: the client's own durable store. */
  store: storeLike,
  /** The client's own view of the chain (it watches its channels' funding and the monitors' claims). */
  chain: chainBackend,
  /** The on-chain wallet that funds the channels we open and receives what the monitors claim. */
  wallet: hasMethods<Wallet>('Wallet', ['newAddress', 'buildTx', 'broadcast', 'balance', 'close']),
  /** Opens the WebSocket to the hub (a browser's native WebSocket; `ws` in Node, client-sdk/node.ts). */
  socket: socketFactory,
  release: z.custom<() => void | Promise<void>>(v => typeof v === 'function', { error: 'must be a function' }).optional(),
})
export type ClientHost = z.output<typeof clientHostSchema>

export const openChannelArgs = z.strictObject({
  capacitySat: z.number().int({ error: 'must be an integer (sat)' }).min(DEFAULT_MIN_FUNDING_SATOSHIS).max(MAX_FUNDING_SATOSHIS),
  ...callTimeout,
})
export const requestChannelArgs = z.strictObject({
  /** A wish: the hub caps it at its configured channel size. */
  capacitySat: z.number().int({ error: 'must be an integer (sat)' }).min(DEFAULT_MIN_FUNDING_SATOSHIS).max(MAX_FUNDING_SATOSHIS).optional(),
  ...callTimeout,
})
export const connectArgs = z.strictObject({ ...callTimeout })
export const untilReestablishedArgs = z.strictObject({ ...callTimeout })
export const paymentHashArg = z.string().regex(HEX32, { error: 'must be a payment hash (32 bytes of lowercase hex)' })
export const receiptProofArgs = z.strictObject({ paymentHash: paymentHashArg, ...callTimeout })
export const verifyReceiptArgs = z.strictObject({
  paymentHash: paymentHashArg,
  /** Confirmations the anchor needs (default: the finality depth, protocol/limits.ts DEFAULT_FINALITY_DEPTH). */
  minDepth: z.number().int({ error: 'must be an integer' }).min(1).max(1_000).optional(),
})
/** setPayoutPolicy(): the hub bounds every field further (its settlement.policy config) and names the one it refuses. */
export const payoutPolicyArgs = z.strictObject({
  /** Where payouts go (a regtest address). */
  address: regtestAddress,
  /** A payout is due once the balance above keepSat reaches this. */
  thresholdSat: z.number().int({ error: 'must be an integer (sat)' }).min(0).max(MAX_MONEY_SAT),
  /** At least this many blocks between two payouts. */
  intervalBlocks: z.number().int({ error: 'must be an integer (blocks)' }).min(1).max(0xffff_ffff),
  /** The balance left in the channel after a payout. */
  keepSat: z.number().int({ error: 'must be an integer (sat)' }).min(0).max(MAX_MONEY_SAT),
  /** Close the channel once idle for this many blocks. */
  closeIdleBlocks: z.number().int({ error: 'must be an integer (blocks)' }).min(1).max(0xffff_ffff).optional(),
  ...callTimeout,
})
export const createInvoiceArgs = z.strictObject({
  amountMsat: z.number().int({ error: 'must be an integer (msat)' }).min(1).max(Number.MAX_SAFE_INTEGER),
  /** The invoice's description (BOLT #11 `d`, one tagged field). */
  memo: z.string().max(MAX_FIELD_BYTES).default(''),
  expirySec: z.number().int().min(1).max(31_536_000).default(3_600),
})
export const closeArgs = z.strictObject({
  /** Close even if an output would be left out as dust (its owner is paid nothing). */
  allowDustTrim: z.boolean().default(false),
  ...callTimeout,
})
const spliceCommon = {
  /** Sat per 1000 weight units; default the client's spliceFeeratePerKw. */
  feerateSatPerKw: z.number().int({
    error: 'must be an integer (sat per 1000 weight units)'
  }).min(FEERATE_PER_KW_FLOOR).max(DEFAULT_MAX_FEERATE_PER_KW).optional(),
  /** The channel to splice (default: the open one with the most balance of ours). */
  channelId: z.string().regex(HEX32, { error: 'must be 32 bytes of lowercase hex' }).optional(),
  ...callTimeout,
}
const spliceAmount = z.number().int({ error: 'must be an integer (sat)' }).min(1).max(MAX_FUNDING_SATOSHIS)
export const spliceOutArgs = z.strictObject({
  /** Paid to `address` out of our channel balance (the fee comes out of the balance too). */
  amountSat: spliceAmount,
  address: regtestAddress,
  ...spliceCommon,
})
export const spliceInArgs = z.strictObject({
  /** Added to our channel balance from our wallet (the fee is paid by the wallet's coins). */
  amountSat: spliceAmount,
  ...spliceCommon,
})
export const spliceRbfArgs = z.strictObject({
  /** Our pending splice to replace (spliceOut's, spliceIn's or an earlier spliceRbf's txid). */
  txid: z.string().regex(HEX32, { error: 'must be 32 bytes of lowercase hex' }),
  /** Sat per 1000 weight units: at least 25/24 of the replaced splice's (BOLT #2 tx_init_rbf). */
  feerateSatPerKw: z.number().int({
    error: 'must be an integer (sat per 1000 weight units)'
  }).min(FEERATE_PER_KW_FLOOR).max(DEFAULT_MAX_FEERATE_PER_KW),
  ...callTimeout,
})
export const untilSpliceLockedArgs = z.strictObject({
  /** The splice transaction (spliceOut's or spliceIn's txid). */
  txid: z.string().regex(HEX32, { error: 'must be 32 bytes of lowercase hex' }),
  ...callTimeout,
})
const idempotencyKey = z.string().regex(IDEMPOTENCY_KEY, { error: 'must be 1-64 characters of [0-9A-Za-z_.:-]' })
export const payArgs = z.strictObject({
  /** Paying twice with the same key pays once: the second call returns the first payment's outcome. */
  idempotencyKey: idempotencyKey.optional(),
  /** The platform's own reference, forwarded to the payee in the HTLC metadata. */
  reference: z.string().max(MAX_REFERENCE_CHARS).optional(),
})
/** pay({ to, ... }): a push payment, without an invoice (protocol/push/secret.ts). */
export const pushPayArgs = z.strictObject({
  /** The payee's node id. */
  to: nodeId,
  /** What the payee receives (the hub's fee comes on top). */
  amountMsat: z.number().int({ error: 'must be an integer (msat)' }).min(1).max(Number.MAX_SAFE_INTEGER),
  /** The platform's own reference: forwarded in clear, and bound to the sealed preimage (the hub cannot change it). */
  reference: text(MAX_REFERENCE_CHARS).refine(r => r.length > 0, { error: 'must not be empty' }),
  /** Paying twice with the same key pays once: the second call returns the first payment's outcome. */
  idempotencyKey: idempotencyKey.optional(),
  /** How long the hub may hold the payment for an offline payee, in blocks beyond what forwarding
   *  needs (the HTLC's expiry is that much further out, and the payer's amount locked that long at most). */
  holdBlocks: z.number().int({ error: 'must be an integer (blocks)' }).min(0).max(MAX_PUSH_HOLD_BLOCKS).default(DEFAULT_PUSH_HOLD_BLOCKS),
})

/** A page of listInvoices / listPayments: records created at or after `since` (seconds since 1970),
 *  after `cursor` (a previous page's nextCursor), at most `limit`, optionally of one status. */
const listArgs = <S extends readonly [string, ...string[]]>(statuses: S) => z.strictObject({
  since: z.number().int({ error: 'must be an integer (seconds since 1970)' }).min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  limit: z.number().int().min(1).max(MAX_LIST_PAGE).default(100),
  cursor: z.string().regex(/^\d{1,15}:[0-9a-f]{64}$/, { error: 'must be the nextCursor of a previous page' }).optional(),
  status: z.enum(statuses).optional(),
})
export const listInvoicesArgs = listArgs(['unpaid', 'paid', 'cancelled', 'expired'] as const)
export const listPaymentsArgs = listArgs(['pending', 'succeeded', 'failed'] as const)

function issues (e: z.ZodError, prefix: string): string {
  return e.issues.map(i => `${[prefix, ...i.path.map(String)].join('.')}: ${i.message}`).join('; ')
}

/** Parses `value` with `schema`, or throws a TypeError naming the field under `prefix`. */
export function parseArgs<S extends z.ZodType> (schema: S, value: unknown, prefix: string): z.output<S> {
  const r = schema.safeParse(value ?? {})
  if (!r.success) throw new TypeError(issues(r.error, prefix))
  return r.data
}

export const isHex32 = (s: string): boolean => HEX32.test(s)
