// The hub's settings: one strict schema with bounds and defaults (DESIGN.md rule 4). A config file
// (JSON, --config) and command-line flags are merged and parsed here; an error names the field.
import { z } from 'zod'
import { isValidNodeId } from '../protocol/auth/signature.ts'
import {
  DEFAULT_FINALITY_DEPTH, DEFAULT_FUNDING_SIGNED_TIMEOUT_MS, DEFAULT_FUNDING_TIMEOUT_BLOCKS, DEFAULT_MAX_CLTV_EXPIRY_DELTA,
  DEFAULT_HOLD_MS, DEFAULT_IDEMPOTENCY_DAYS, DEFAULT_MAX_HELD_PER_PAYEE, DEFAULT_MAX_PAYEE_HOLD_BLOCKS, DEFAULT_MAX_TO_SELF_DELAY,
  DEFAULT_MAX_UNCONFIRMED_CHANNELS, DEFAULT_MAX_UNCONFIRMED_CHANNELS_PER_PEER,
  DEFAULT_MIN_CLTV_EXPIRY_DELTA, DEFAULT_MIN_FUNDING_SATOSHIS, FEERATE_PER_KW_FLOOR, MAX_ACCEPTED_HTLCS_LIMIT, MAX_FUNDING_SATOSHIS,
  MAX_FUNDING_TIMEOUT_BLOCKS, MAX_HOLD_MS, MAX_MONEY_SAT, MIN_DUST_LIMIT_SATOSHIS, DEFAULT_SPLICE_MINIMUM_DEPTH, MIN_SPLICE_MINIMUM_DEPTH,
  DEFAULT_MAX_FEERATE_PER_KW,
} from '../protocol/limits.ts'
import { MAX_MSAT, type NodeId } from '../protocol/types.ts'
import { settlementConfigSchema } from './settlement/config.ts'
import { isLoopback } from './admin/auth.ts'
import { transportConfigSchema } from './transport/config.ts'
import { tlsFilesSchema } from './transport/tls-files.ts'

const int = (min: number, max: number) => z.number().int({ error: 'must be an integer' }).min(min).max(max)
const nodeId = z.string().refine(
  isValidNodeId, { error: 'must be a 33-byte compressed secp256k1 key, lowercase hex' },
).transform(s => s as NodeId)
/** The slowest auto-miner: an hour per block is as slow as a test chain is useful. */
const MAX_AUTO_MINE_SECONDS = 3_600
/** The largest allow-list: it is held in memory and looked up on each request. */
const MAX_ALLOWED_NODE_IDS = 100_000
/** The hub's WebSocket port unless configured: BOLT #1's default port for Lightning nodes, the one
 *  the SDK's documents use (ws://127.0.0.1:9735). */
export const DEFAULT_HUB_PORT = 9735

/** The transport's settings with the hub's default port (the transport alone defaults to a free one). */
const hubTransportSchema = transportConfigSchema.extend({
  port: int(0, 65_535).default(DEFAULT_HUB_PORT),
  /** Serve wss:// with the certificate and key in these PEM files, rotated when the files are
   *  replaced (hub/transport/tls-files.ts). Absent: plain ws://. */
  tls: tlsFilesSchema.optional(),
})

const channelsDefaults = {
  fundingSat: 1_000_000, minimumDepth: 1, finalityDepth: DEFAULT_FINALITY_DEPTH,
  maxUnconfirmedPerPeer: DEFAULT_MAX_UNCONFIRMED_CHANNELS_PER_PEER,
  maxUnconfirmed: DEFAULT_MAX_UNCONFIRMED_CHANNELS, fundingTimeoutBlocks: DEFAULT_FUNDING_TIMEOUT_BLOCKS,
  fundingSignedTimeoutMs: DEFAULT_FUNDING_SIGNED_TIMEOUT_MS, openOnPayment: true, zeroConf: false,
  feeratePerKw: FEERATE_PER_KW_FLOOR, dustLimitSat: 546, reservePercent: 1, toSelfDelay: 144, maxAcceptedHtlcs: 100, htlcMinimumMsat: 1,
}

export const hubConfigSchema = z.strictObject({
  /** Everything durable lives here: the LevelDB store, the wallet seed and state, the node key. */
  dataDir: z.string().min(1).max(4096),
  /** The chain: a btcd the hub starts itself (regtest, loopback: the embedded default), or one that
   *  runs elsewhere. */
  btcd: z.discriminatedUnion('mode', [
    z.strictObject({
      mode: z.literal('managed'),
      /** Mine a block every this many seconds while transactions wait in the mempool (regtest, the
       *  managed node only; host/chain/btcd/auto-miner.ts). Absent: off, blocks are mined on request. */
      autoMineSeconds: int(1, MAX_AUTO_MINE_SECONDS).optional(),
    }),
    z.strictObject({
      mode: z.literal('external'),
      host: z.string().min(1).max(253),
      port: int(1, 65_535),
      user: z.string().min(1).max(256),
      pass: z.string().min(1).max(256),
    }),
  ]).default({ mode: 'managed' }),
  /** The WebSocket server (hub/transport/config.ts); port DEFAULT_HUB_PORT unless set (0: a free port). */
  transport: hubTransportSchema.default(hubTransportSchema.parse({})),
  /** Admin API: JSON over HTTP, loopback only (hub/admin/server.ts). 0 picks a free port. */
  adminPort: int(0, 65_535).default(0),
  fees: z.strictObject({
    /** BOLT #7 fee_base_msat charged per forwarded payment. */
    baseMsat: int(0, 100_000_000).default(1_000),
    /** BOLT #7 fee_proportional_millionths. */
    ppm: int(0, 100_000).default(100),
  }).default({ baseMsat: 1_000, ppm: 100 }),
  /** Blocks the hub keeps between an incoming HTLC's expiry and the one it forwards: time to claim
   *  upstream on-chain if the downstream claims at the last moment (BOLT #2 cltv_expiry_delta). */
  cltvExpiryDelta: int(DEFAULT_MIN_CLTV_EXPIRY_DELTA, DEFAULT_MAX_CLTV_EXPIRY_DELTA).default(40),
  /** An outgoing HTLC must leave the payee at least this many blocks (its own minimum window). */
  minFinalCltvExpiry: int(1, DEFAULT_MAX_CLTV_EXPIRY_DELTA).default(DEFAULT_MIN_CLTV_EXPIRY_DELTA),
  channels: z.strictObject({
    /** Size of the channels the hub opens with its own funds (inbound liquidity for payees). */
    fundingSat: int(DEFAULT_MIN_FUNDING_SATOSHIS, MAX_FUNDING_SATOSHIS).default(1_000_000),
    /** Confirmations the hub asks for (as acceptor) before a channel is used. */
    minimumDepth: int(1, 144).default(1),
    /** Confirmations before an on-chain event counts: a funding transaction is final (chain-wipe
     *  detection) and a chain monitor's decision goes upstream (protocol/limits.ts says why). */
    finalityDepth: int(1, 1_000).default(DEFAULT_FINALITY_DEPTH),
    /** Channels one peer may have opened to the hub whose funding is not confirmed yet, from
     *  open_channel until the channel is ready (scenario 20; protocol/limits.ts says why). */
    maxUnconfirmedPerPeer: int(1, 100).default(DEFAULT_MAX_UNCONFIRMED_CHANNELS_PER_PEER),
    /** The same over all peers: what unconfirmed channels may cost the hub in all. */
    maxUnconfirmed: int(1, 100_000).default(DEFAULT_MAX_UNCONFIRMED_CHANNELS),
    /** Blocks after funding_created before a channel the peer funded, whose funding has not made it
     *  ready, is abandoned and forgotten (BOLT #2: at most 2016; protocol/limits.ts says why). */
    fundingTimeoutBlocks: int(6, MAX_FUNDING_TIMEOUT_BLOCKS).default(DEFAULT_FUNDING_TIMEOUT_BLOCKS),
    /** How long the hub waits for funding_signed on a channel it funds, its coins set aside (ms);
     *  then the channel is forgotten and the coins freed (protocol/limits.ts says why). */
    fundingSignedTimeoutMs: int(1_000, 3_600_000).default(DEFAULT_FUNDING_SIGNED_TIMEOUT_MS),
    /** Open a hub-funded channel to a payee when a payment for it arrives and it has none. */
    openOnPayment: z.boolean().default(true),
    /** Zero-conf for hub-funded channels: when the payee's accept_channel asks for minimum_depth 0,
     *  the hub treats its own funding transaction as deep enough once broadcast (it only risks its
     *  own money: the payee cannot double-spend the hub's inputs). */
    zeroConf: z.boolean().default(false),
    feeratePerKw: int(FEERATE_PER_KW_FLOOR, 100_000).default(FEERATE_PER_KW_FLOOR),
    dustLimitSat: int(MIN_DUST_LIMIT_SATOSHIS, 100_000).default(546),
    reservePercent: z.number().min(0).max(20).default(1),
    toSelfDelay: int(6, DEFAULT_MAX_TO_SELF_DELAY).default(144),
    maxAcceptedHtlcs: int(1, MAX_ACCEPTED_HTLCS_LIMIT).default(100),
    htlcMinimumMsat: int(1, 1_000_000_000).default(1),
  }).default(channelsDefaults),
  /** Who gets channels funded by the hub (request_channel, or channels.openOnPayment). Such a channel
   *  locks the hub's coins at no cost to whoever asked; these bound it. The operator's own opens (admin
   *  API) are not limited. */
  hubFunded: z.strictObject({
    /** Only these node ids get hub-funded channels. Absent: any node id (within the budgets). */
    allow: z.array(nodeId).max(MAX_ALLOWED_NODE_IDS).optional(),
    /** Hub funds one node id may hold in hub-funded channels that are unconfirmed or idle (no payment
     *  made in them yet), sat. Absent: one channel of channels.fundingSat. */
    maxIdleSatPerPeer: int(0, MAX_MONEY_SAT).optional(),
    /** The same over all node ids. Absent: DEFAULT_IDLE_HUB_FUNDED_CHANNELS (protocol/limits.ts)
     *  channels of channels.fundingSat. */
    maxIdleSat: int(0, MAX_MONEY_SAT).optional(),
    /** The most the hub asks the payee to keep in a channel the hub funds (its channel_reserve_satoshis
     *  in open_channel), sat: at most this, where channels.reservePercent of the capacity is more.
     *  Every channel the hub funds: requested, opened on a payment, or opened by the operator.
     *  A small reserve lets a payee pay out nearly all it received; the hub bears the risk that the
     *  payee broadcasts a revoked commitment while the hub is not watching, since the payee has
     *  little to lose. Never below channels.dustLimitSat: BOLT #2 (open_channel sender) "MUST set
     *  `channel_reserve_satoshis` greater than or equal to `dust_limit_satoshis`", so zero is not a
     *  valid reserve and 354 sat (MIN_DUST_LIMIT_SATOSHIS) with a dust limit that low is the least.
     *  Absent: channels.reservePercent, as for every channel. */
    payeeReserveSat: int(MIN_DUST_LIMIT_SATOSHIS, MAX_FUNDING_SATOSHIS).optional(),
  }).default({}),
  router: z.strictObject({
    /** How long a payment for an offline payee (or one whose channel is still opening) is held, at
     *  most, before it fails back with `recipient_offline` (protocol/limits.ts says why). The hold is
     *  stored: it survives restarts of the hub, and ends sooner if the payment's expiry leaves no room. */
    holdMs: int(0, MAX_HOLD_MS).default(DEFAULT_HOLD_MS),
    /** Payments held for one payee at once; more fail back with `recipient_offline` at once. */
    maxHeldPerPayee: int(1, MAX_ACCEPTED_HTLCS_LIMIT).default(DEFAULT_MAX_HELD_PER_PAYEE),
    /** msat held for one payee at once (what the hub will owe its channel when it returns). Absent:
     *  channels.fundingSat × 1000, what one hub-funded channel can carry to it. */
    maxHeldMsatPerPayee: int(1, MAX_MSAT).optional(),
    /** Days a payer's idempotency key is remembered after its payment ended (protocol/limits.ts says why). */
    idempotencyDays: int(1, 3_650).default(DEFAULT_IDEMPOTENCY_DAYS),
    /** The latest expiry a forwarded HTLC gets, in blocks above the current height: how long a payee
     *  may hold it before the hub fails the channel and the payment (protocol/limits.ts says why). At
     *  least minFinalCltvExpiry, the payee's own window. */
    maxHoldBlocks: int(DEFAULT_MIN_CLTV_EXPIRY_DELTA, DEFAULT_MAX_CLTV_EXPIRY_DELTA).default(DEFAULT_MAX_PAYEE_HOLD_BLOCKS),
  }).default({
    holdMs: DEFAULT_HOLD_MS, maxHoldBlocks: DEFAULT_MAX_PAYEE_HOLD_BLOCKS, maxHeldPerPayee: DEFAULT_MAX_HELD_PER_PAYEE,
    idempotencyDays: DEFAULT_IDEMPOTENCY_DAYS,
  }),
  /** Splicing (BOLT #2 "Channel Splicing"; hub/channels/splicing.ts). A peer's splice costs the hub no
   *  coins (its initiator pays the fee, the hub takes no part); the hub's own top-ups spend its wallet. */
  splices: z.strictObject({
    /** Take part (with nothing) in splices peers start: a creator's splice-out to an on-chain payout,
     *  a platform's splice-in. Off: every splice_init is answered with tx_abort. */
    acceptFromPeers: z.boolean().default(true),
    /** The largest splice-in a peer may make, sat: what it adds to a channel whose other side is the
     *  hub's to honour (a splice-out is bounded by the peer's own balance). */
    maxPeerSpliceInSat: int(0, MAX_FUNDING_SATOSHIS).default(MAX_FUNDING_SATOSHIS),
    /** Confirmations of a splice before the hub sends splice_locked, for channels opened from now on
     *  (protocol/limits.ts DEFAULT_SPLICE_MINIMUM_DEPTH says why; at least MIN_SPLICE_MINIMUM_DEPTH). */
    minimumDepth: int(MIN_SPLICE_MINIMUM_DEPTH, 144).default(DEFAULT_SPLICE_MINIMUM_DEPTH),
    /** Feerate of the hub's own splices (top-ups), sat per 1000 weight units. */
    feeratePerKw: int(FEERATE_PER_KW_FLOOR, DEFAULT_MAX_FEERATE_PER_KW).default(1_000),
    /** The largest top-up (a splice-in of the hub's wallet funds into a channel), sat. */
    maxTopUpSat: int(0, MAX_FUNDING_SATOSHIS).default(MAX_FUNDING_SATOSHIS),
    /** How long an admin top-up waits for both signatures before it answers 504 (the splice goes on). */
    topUpTimeoutMs: int(1_000, 3_600_000).default(60_000),
    /** Automatic top-ups of the hub's side of payee channels (those the hub funded): when the hub's
     *  balance in one falls below `belowSat`, the hub splices in `amountSat` of its wallet, so the payee
     *  keeps receiving. Absent: off. */
    autoTopUp: z.strictObject({
      belowSat: int(0, MAX_FUNDING_SATOSHIS),
      amountSat: int(1, MAX_FUNDING_SATOSHIS),
      /** Only these payees' channels. Absent: every hub-funded channel. */
      peers: z.array(nodeId).max(MAX_ALLOWED_NODE_IDS).optional(),
    }).optional(),
  }).default({
    acceptFromPeers: true, maxPeerSpliceInSat: MAX_FUNDING_SATOSHIS, minimumDepth: DEFAULT_SPLICE_MINIMUM_DEPTH, feeratePerKw: 1_000,
    maxTopUpSat: MAX_FUNDING_SATOSHIS, topUpTimeoutMs: 60_000,
  }),
  /** On-chain fee rate of the hub's wallet transactions (btcd has no estimatesmartfee), sat/vB. */
  walletFeeRate: z.number().min(1).max(10_000).default(2),
  /** Payout batches (docs/DESIGN.md "Batched settlement"; hub/settlement/): the bounds of accounts'
   *  payout policies and how batches are built. */
  settlement: settlementConfigSchema.default(settlementConfigSchema.parse({})),
  /** The audit log's anchors on the chain (hub/audit/anchoring.ts). */
  audit: z.strictObject({
    /** Confirmations before an anchor counts (its entries are anchored, receipts get their proofs):
     *  below it a reorg can take the anchor out, and the next anchor covers its entries again. */
    anchorDepth: int(1, 144).default(DEFAULT_FINALITY_DEPTH),
  }).default({ anchorDepth: DEFAULT_FINALITY_DEPTH }),
  /** Where the admin API listens (its port is adminPort). Its bearer tokens are files in the data
   *  directory (hub/admin/tokens.ts). Off loopback it needs TLS: the tokens would cross the network in
   *  clear otherwise. */
  admin: z.strictObject({
    host: z.string().min(1).max(253).default('127.0.0.1'),
    /** PEM files of the admin API's certificate (chain) and private key: HTTPS instead of HTTP. */
    tls: z.strictObject({ certFile: z.string().min(1).max(4096), keyFile: z.string().min(1).max(4096) }).optional(),
  }).default({ host: '127.0.0.1' }),
  /** Structured logs (hub/log.ts): JSON lines on stdout, one event a line. */
  logging: z.strictObject({
    /** The least severe level written (pino's levels). */
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'),
  }).default({ level: 'info' }),
}).refine(c => c.router.maxHoldBlocks >= c.minFinalCltvExpiry, {
  error: 'must be at least minFinalCltvExpiry (the payee needs that many blocks to act)', path: ['router', 'maxHoldBlocks'],
}).refine(c => c.hubFunded.payeeReserveSat === undefined || c.hubFunded.payeeReserveSat >= c.channels.dustLimitSat, {
  error: 'must be at least channels.dustLimitSat (BOLT #2: a channel reserve is never below the sender\'s dust limit)',
  path: ['hubFunded', 'payeeReserveSat'],
}).refine(c => c.splices.autoTopUp === undefined || c.splices.autoTopUp.amountSat <= c.splices.maxTopUpSat, {
  error: 'must be at most splices.maxTopUpSat', path: ['splices', 'autoTopUp', 'amountSat'],
}).refine(c => isLoopback(c.admin.host) || c.admin.tls !== undefined, {
  error: 'a host other than loopback needs admin.tls (the bearer tokens must not cross the network in clear)', path: ['admin', 'host'],
})

export type HubConfig = z.infer<typeof hubConfigSchema>
export type HubConfigInput = z.input<typeof hubConfigSchema>

export function parseHubConfig (input: unknown): { ok: true; config: HubConfig } | { ok: false; error: string } {
  const r = hubConfigSchema.safeParse(input)
  if (r.success) return { ok: true, config: r.data }
  return { ok: false, error: r.error.issues.map(i => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ') }
}
