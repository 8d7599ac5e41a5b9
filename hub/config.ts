// The hub's settings: one strict schema with bounds and defaults (DESIGN.md rule 4). A config file
// (JSON, --config) and command-line flags are merged and parsed here; an error names the field.
import { z } from 'zod'
import { transportConfigSchema } from './transport/config.ts'

const int = (min: number, max: number) => z.number().int({ error: 'must be an integer' }).min(min).max(max)

export const hubConfigSchema = z.strictObject({
  /** Everything durable lives here: the LevelDB store, the wallet seed and state, the node key. */
  dataDir: z.string().min(1).max(4096),
  /** The chain: a btcd the hub starts itself (regtest, loopback: the embedded default), or one that
   *  runs elsewhere. */
  btcd: z.discriminatedUnion('mode', [
    z.strictObject({ mode: z.literal('managed') }),
    z.strictObject({
      mode: z.literal('external'),
      host: z.string().min(1).max(253),
      port: int(1, 65_535),
      user: z.string().min(1).max(256),
      pass: z.string().min(1).max(256),
    }),
  ]).default({ mode: 'managed' }),
  /** The WebSocket server (hub/transport/config.ts). */
  transport: transportConfigSchema.default(transportConfigSchema.parse({})),
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
  cltvExpiryDelta: int(18, 2_016).default(40),
  /** An outgoing HTLC must leave the payee at least this many blocks (its own minimum window). */
  minFinalCltvExpiry: int(1, 2_016).default(18),
  channels: z.strictObject({
    /** Size of the channels the hub opens with its own funds (inbound liquidity for payees). */
    fundingSat: int(20_000, 2 ** 24 - 1).default(1_000_000),
    /** Confirmations the hub asks for (as acceptor) before a channel is used. */
    minimumDepth: int(1, 144).default(1),
    /** Confirmations before the hub treats a funding transaction as final (chain-wipe detection). */
    finalityDepth: int(1, 1_000).default(6),
    /** Channels a peer may have opened and not yet funded (scenario 20). */
    maxUnfundedPerPeer: int(1, 100).default(2),
    /** Open a hub-funded channel to a payee when a payment for it arrives and it has none. */
    openOnPayment: z.boolean().default(true),
    /** Zero-conf for hub-funded channels: when the payee's accept_channel asks for minimum_depth 0,
     *  the hub treats its own funding transaction as deep enough once broadcast (it only risks its
     *  own money: the payee cannot double-spend the hub's inputs). */
    zeroConf: z.boolean().default(false),
    feeratePerKw: int(253, 100_000).default(253),
    dustLimitSat: int(354, 100_000).default(546),
    reservePercent: z.number().min(0).max(20).default(1),
    toSelfDelay: int(6, 2_016).default(144),
    maxAcceptedHtlcs: int(1, 483).default(100),
    htlcMinimumMsat: int(1, 1_000_000_000).default(1),
  }).default({ fundingSat: 1_000_000, minimumDepth: 1, finalityDepth: 6, maxUnfundedPerPeer: 2, openOnPayment: true, zeroConf: false, feeratePerKw: 253, dustLimitSat: 546, reservePercent: 1, toSelfDelay: 144, maxAcceptedHtlcs: 100, htlcMinimumMsat: 1 }),
  router: z.strictObject({
    /** How long a payment for an offline payee (or one whose channel is still opening) is held
     *  before it fails back with `recipient_offline`. */
    holdMs: int(0, 3_600_000).default(30_000),
  }).default({ holdMs: 30_000 }),
  /** On-chain fee rate of the hub's wallet transactions (btcd has no estimatesmartfee), sat/vB. */
  walletFeeRate: z.number().min(1).max(10_000).default(2),
})

export type HubConfig = z.infer<typeof hubConfigSchema>
export type HubConfigInput = z.input<typeof hubConfigSchema>

export function parseHubConfig (input: unknown): { ok: true; config: HubConfig } | { ok: false; error: string } {
  const r = hubConfigSchema.safeParse(input)
  if (r.success) return { ok: true, config: r.data }
  return { ok: false, error: r.error.issues.map(i => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ') }
}
