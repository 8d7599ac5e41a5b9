// Hub-specific messages (DESIGN.md: "Hub-specific messages ... are added beside them"). They are not
// BOLT messages: they exist because every party has exactly one counterparty, the hub.
import { z } from 'zod'
import { MAX_FUNDING_SATOSHIS } from '../limits.ts'
import { hex32, msatAmount, satAmount, u16, u32 } from './fields.ts'

const fundingSatoshis = satAmount.refine((n) => n <= MAX_FUNDING_SATOSHIS, {
  error: `must be ≤ ${MAX_FUNDING_SATOSHIS} (BOLT #2: less than 2^24 without option_large_channel)`,
})

/** client → hub: "open a channel to me with your funds" (inbound liquidity for a creator or a
 *  treasury). The hub answers with open_channel (the usual BOLT #2 flow, hub as opener) or with an
 *  `error` saying why not. `funding_satoshis` is a wish: the hub caps it at its configured size. */
export const requestChannel = z.strictObject({
  type: z.literal('request_channel'),
  funding_satoshis: fundingSatoshis.optional(),
})

/** hub → client, right after authentication: what the hub charges and expects, so the client can
 *  compute what to offer (protocol/forwarding.ts) and which expiry to set. */
export const hubPolicy = z.strictObject({
  type: z.literal('hub_policy'),
  chain_hash: hex32,
  /** BOLT #7 fee_base_msat / fee_proportional_millionths, charged on the forwarded amount. */
  fee_base_msat: msatAmount,
  fee_proportional_millionths: u32,
  /** The hub subtracts this from the incoming cltv_expiry for the HTLC it forwards. */
  cltv_expiry_delta: u16,
  /** Size of the channels the hub opens on request. */
  funding_satoshis: fundingSatoshis,
  /** Confirmations the hub waits for before a channel it accepts is usable. */
  minimum_depth: u32,
})

export type RequestChannel = z.infer<typeof requestChannel>
export type HubPolicy = z.infer<typeof hubPolicy>
