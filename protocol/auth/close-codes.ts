// Why the hub closed a connection, as WebSocket close codes (RFC 6455 §7.4.2: 4000–4999 are for
// applications). Shared by the hub (which sends them) and the SDK (which reads them to decide whether
// reconnecting can help). Kept beside the handshake because most of them end one.

export const CLOSE = {
  /** RFC 6455: the endpoint is going away (hub shutting down). Reconnect later. */
  going_away: 1001,
  /** RFC 6455: a frame larger than we accept (`ws` sends this itself past maxPayload). */
  too_big: 1009,
  /** No proof of key within the handshake timeout. */
  handshake_timeout: 4000,
  /** The handshake failed: bad signature, wrong hub id, a message out of order. Do not retry as is. */
  auth_failed: 4001,
  /** A newer connection proved the same node id; this one is obsolete. Do not fight it. */
  replaced: 4002,
  /** No pong within the timeout. */
  ping_timeout: 4003,
  /** Too many malformed or invalid frames. */
  bad_frames: 4004,
  /** The session was ended by the hub's own logic (e.g. a protocol error that says disconnect). */
  disconnected: 4005,
  /** The session sent messages faster than the hub's per-peer rate limit, after a warning. Reconnecting
   *  is fine; sending at that rate again is not. */
  rate_limited: 4006,
} as const

export type CloseReason = keyof typeof CLOSE | 'send_buffer_full' | 'peer_closed'

/** Close codes after which a client should not reconnect automatically. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([CLOSE.auth_failed, CLOSE.replaced])
