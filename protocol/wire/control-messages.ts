// BOLT #1 control messages (error, warning, ping, pong) and the hub's authentication handshake.
import { z } from 'zod'
import { MAX_ERROR_TEXT_CHARS, MAX_PING_IGNORED_BYTES, MAX_PONG_BYTES } from '../limits.ts'
import { channelId, hex32, hexBytesBetween, nodeId, signature64, text, u16 } from './fields.ts'

// ── BOLT #1 "Error and Warning Messages" ──

/** BOLT #1: "The channel is referred to by `channel_id`, unless `channel_id` is 0 (i.e. all bytes are
 *  0), in which case it refers to all channels." `data` is text here, not bytes. */
export const errorMessage = z.strictObject({
  type: z.literal('error'),
  channel_id: channelId,
  data: text(MAX_ERROR_TEXT_CHARS),
})

export const warningMessage = z.strictObject({
  type: z.literal('warning'),
  channel_id: channelId,
  data: text(MAX_ERROR_TEXT_CHARS),
})

// ── BOLT #1 "The ping and pong Messages" ──

/** BOLT #1's "num_pong_bytes ≥ 65532 means do not answer" is not used: a pong must fit one frame. */
export const ping = z.strictObject({
  type: z.literal('ping'),
  num_pong_bytes: u16.max(MAX_PONG_BYTES, { error: `must be ≤ ${MAX_PONG_BYTES}` }),
  ignored: hexBytesBetween(0, MAX_PING_IGNORED_BYTES),
})

export const pong = z.strictObject({
  type: z.literal('pong'),
  ignored: hexBytesBetween(0, MAX_PONG_BYTES),
})

// ── Authentication (DESIGN.md "Authentication") ──
// hub → client: hub_hello; client → hub: client_auth; hub → client: hub_auth; client → hub: auth_ok
// (the client accepted the hub's key; the hub starts the session only then — see protocol/auth).
// Each signature is BIP-340 over sha256(tag ‖ challenge ‖ hub_id ‖ client_id) (see protocol/auth/signature.ts), so a
// signature for one hub, client or connection is useless for any other.

export const hubHello = z.strictObject({
  type: z.literal('hub_hello'),
  /** Fresh random 32 bytes per connection, chosen by the hub. */
  challenge: hex32,
  hub_id: nodeId,
})

export const clientAuth = z.strictObject({
  type: z.literal('client_auth'),
  client_id: nodeId,
  /** BIP-340 over the client tag, the hub's challenge, hub_id and client_id. */
  signature: signature64,
  /** Fresh random 32 bytes chosen by the client, for the hub to sign. */
  client_challenge: hex32,
})

export const hubAuth = z.strictObject({
  type: z.literal('hub_auth'),
  /** BIP-340 by hub_id over the hub tag, client_challenge, hub_id and client_id. */
  signature: signature64,
})

export const authOk = z.strictObject({
  type: z.literal('auth_ok'),
})

export type ErrorMessage = z.infer<typeof errorMessage>
export type WarningMessage = z.infer<typeof warningMessage>
export type Ping = z.infer<typeof ping>
export type Pong = z.infer<typeof pong>
export type HubHello = z.infer<typeof hubHello>
export type ClientAuth = z.infer<typeof clientAuth>
export type HubAuth = z.infer<typeof hubAuth>
export type AuthOk = z.infer<typeof authOk>
