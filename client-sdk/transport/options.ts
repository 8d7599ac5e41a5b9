// The SDK transport's arguments, checked at the boundary (DESIGN.md rule 4): a bad URL, key or
// timeout is refused with the field named, before any socket is opened.
import { z } from 'zod'
import type { NodeId } from '../../protocol/types.ts'
import { isValidNodeId } from '../../protocol/auth/signature.ts'
import { getCurve } from '../../protocol/crypto/index.ts'

/** A client trusts its hub's current key and, during a rotation's grace, the one rotated out. */
const MAX_ACCEPTED_HUB_IDS = 1

const ms = (min: number, max: number) => z.number().int({ error: 'must be an integer (ms)' }).min(min).max(max)

export const connectOptionsSchema = z.strictObject({
  /** The hub's node id, if known (pin it: without it, any key the server proves is accepted). */
  expectedHubId: z.string().refine(isValidNodeId, { error: 'must be a 33-byte compressed secp256k1 key, lowercase hex' })
    .transform(s => s as NodeId).optional(),
  /** Further hub ids the handshake accepts besides `expectedHubId` (a hub rotating its node key proves
   *  either key during the grace: DESIGN.md "Node-key rotation"). The hub is asked for `expectedHubId`. */
  acceptedHubIds: z.array(
    z.string().refine(isValidNodeId, { error: 'must be a 33-byte compressed secp256k1 key, lowercase hex' }).transform(s => s as NodeId),
  ).max(MAX_ACCEPTED_HUB_IDS).optional(),
  /** Sign an admission token for this hub id and send it in the upgrade request (default:
   *  `expectedHubId`). A hub that has a channel with us then admits us to the handshake slots it keeps
   *  for its channel partners, even while strangers flood it. It pins nothing: the handshake still
   *  checks the hub's key against `expectedHubId` only. */
  admissionHubId: z.string().refine(isValidNodeId, { error: 'must be a 33-byte compressed secp256k1 key, lowercase hex' })
    .transform(s => s as NodeId).optional(),
  /** The hub must have proven its key by then, or the attempt fails. */
  handshakeTimeoutMs: ms(10, 120_000).default(10_000),
  /** How often the client pings the hub, to notice a dead connection that TCP has not reported. */
  pingIntervalMs: ms(10, 600_000).default(30_000),
  pongTimeoutMs: ms(10, 600_000).default(20_000),
})

export const backoffSchema = z.strictObject({
  /** Delay before the first retry; it doubles (`factor`) up to `maxMs`, with jitter. */
  initialMs: ms(1, 60_000).default(250),
  maxMs: ms(1, 3_600_000).default(30_000),
  factor: z.number().min(1).max(10).default(2),
  /** Give up after this many failed attempts in a row; absent: never give up. */
  maxAttempts: z.number().int().min(1).max(1_000_000).optional(),
})

export type ConnectOptions = z.infer<typeof connectOptionsSchema>
export type ConnectOptionsInput = z.input<typeof connectOptionsSchema>
export type BackoffOptions = z.infer<typeof backoffSchema>
export type BackoffOptionsInput = z.input<typeof backoffSchema>

/** Longest hub URL: far more than a host, port and path need (the admission token is added later). */
const MAX_URL_CHARS = 2_048

/** A ws:// or wss:// URL. */
export const wsUrlSchema = z.string().max(MAX_URL_CHARS).refine(s => {
  try {
    const u = new URL(s)
    return u.protocol === 'ws:' || u.protocol === 'wss:'
  } catch { return false }
}, { error: 'must be a ws:// or wss:// URL' })

function issues (e: z.ZodError, prefix: string): string {
  return e.issues.map(i => `${[prefix, ...i.path.map(String)].join('.')}: ${i.message}`).join('; ')
}

/** Checks connect()'s arguments; throws a TypeError naming the field (SDK arguments are programmer input). */
export function parseConnectArgs (url: unknown, nodeKey: unknown, options: unknown): {
  url: string; nodeKey: Uint8Array; options: ConnectOptions
} {
  const u = wsUrlSchema.safeParse(url)
  if (!u.success) throw new TypeError(issues(u.error, 'url'))
  if (!(nodeKey instanceof Uint8Array) || nodeKey.length !== 32 || !getCurve().isPrivkey(nodeKey)) {
    throw new TypeError('nodeKey: must be a valid 32-byte secp256k1 secret key')
  }
  const o = connectOptionsSchema.safeParse(options ?? {})
  if (!o.success) throw new TypeError(issues(o.error, 'options'))
  return { url: u.data, nodeKey, options: o.data }
}

export function parseBackoff (backoff: unknown): BackoffOptions {
  const b = backoffSchema.safeParse(backoff ?? {})
  if (!b.success) throw new TypeError(issues(b.error, 'backoff'))
  if (b.data.maxMs < b.data.initialMs) throw new TypeError('backoff.maxMs: must be ≥ backoff.initialMs')
  return b.data
}
