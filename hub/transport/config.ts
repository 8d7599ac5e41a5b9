// Settings of the hub's WebSocket transport, parsed by a strict schema (DESIGN.md rule 4): a typo or
// an absurd value in a config file is refused with the field named, never silently defaulted.
import { z } from 'zod'

const ms = (min: number, max: number) => z.number().int({ error: 'must be an integer (ms)' }).min(min).max(max)
const count = (min: number, max: number) => z.number().int({ error: 'must be an integer' }).min(min).max(max)

export const transportConfigSchema = z.strictObject({
  /** Loopback by default: exposing the hub is a decision, made by setting this (behind TLS). */
  host: z.string().min(1).max(253).default('127.0.0.1'),
  /** 0 picks a free port (tests); read the real one from `HubTransport.port`. */
  port: count(0, 65_535).default(0),
  /** A connection that has not proven its key by then is closed: an unauthenticated socket costs
   *  memory and a slot of `maxUnauthenticated`, and an honest client needs one round trip. */
  handshakeTimeoutMs: ms(10, 120_000).default(10_000),
  /** How often the hub pings an idle authenticated peer (BOLT #1 ping). */
  pingIntervalMs: ms(10, 600_000).default(30_000),
  /** A peer that has not answered a ping by then is dead (or hostile) and is disconnected. */
  pongTimeoutMs: ms(10, 600_000).default(20_000),
  /** Memory the hub will hold for one peer that is not reading: the bytes of the frames the kernel
   *  has not taken plus SEND_FRAME_OVERHEAD_BYTES for each (measured: a queued small frame costs the hub that much beside
   *  its bytes, so a byte count alone let a peer that elicits small frames hold 5× its cap). Past it
   *  the peer is disconnected. 1 MiB: 16 frames of the largest size (MAX_FRAME_BYTES), enough for a
   *  full channel_reestablish retransmission (483 HTLC adds and their commitment_signed), and it keeps
   *  10,000 stalled peers within 10 GiB. A slow but honest reader that falls this far behind
   *  reconnects and is brought up to date by channel_reestablish. */
  maxSendBufferBytes: count(256 * 1024, 1024 * 1024 * 1024).default(1024 * 1024),
  /** Connection attempts one IP address may make per `rateWindowMs` (scenario 20). */
  maxConnectsPerIp: count(1, 100_000).default(30),
  rateWindowMs: ms(10, 3_600_000).default(10_000),
  /** Connections still in the handshake, over all addresses and per address (scenario 20). A TCP
   *  connection counts from its accept, before its upgrade request, against caps of these sizes too
   *  (pre-request.ts: past a cap the oldest such socket of the address, or of all, is closed), and is
   *  closed if its request has not come within handshakeTimeoutMs. */
  maxUnauthenticated: count(1, 100_000).default(256),
  maxUnauthenticatedPerIp: count(1, 100_000).default(8),
  /** Open connections of strangers: peers without a channel at the hub (in their handshake or
   *  authenticated). Peers with a channel are not counted here and never refused by it: they are at
   *  most a session and `maxHandshakesPerKnownPeer` handshakes per channel partner. */
  maxConnections: count(1, 1_000_000).default(10_000),
  /** Handshakes a known peer (a node id with a channel here) may have open at once in the slots kept
   *  for known peers, admitted by its admission token. An honest client makes one attempt at a time;
   *  two lets it retry while a stale attempt (e.g. from before a network change) times out. Only the
   *  holder of the node key can make tokens, so no one else can use up these slots. */
  maxHandshakesPerKnownPeer: count(1, 100).default(2),
  /** How far an admission token's time may be from the hub's clock. Tokens are good once (the hub
   *  takes a node's token only if it is newer than the last), so the window does not let a token be
   *  replayed; it bounds how long the hub must remember a node's last token time and how far a
   *  client's clock may be off and still get a kept slot. 10 minutes covers unsynchronised clocks;
   *  a client outside it is admitted like a stranger. */
  admissionTokenMaxAgeMs: ms(1_000, 86_400_000).default(600_000),
  /** Messages per second a session may send on average (token bucket, refilled at this rate), and the
   *  burst it may send at once. Every frame counts: channel messages, pings, pongs, bad frames. Over
   *  the limit the peer gets a warning; once it has sent another burst's worth over the limit it is
   *  disconnected (close code 4006). A payment costs its payer 5 messages to the hub (add,
   *  commitment_signed, revoke_and_ack; then revoke_and_ack and commitment_signed for the fulfil);
   *  the hub's best measured rate (npm run bench) is about 50 payments/s through one payer, i.e. about
   *  250 messages/s: 1,000/s leaves 4× headroom, and stops a flood (22,000 pings in 3 s) within a
   *  second. Nothing is dropped below the disconnect: a dropped channel message would desynchronise
   *  the channel, while a disconnect is healed by channel_reestablish. */
  peerMessagesPerSecond: count(1, 1_000_000).default(1_000),
  peerMessageBurst: count(1, 1_000_000).default(2_000),
  /** Frames a session may get wrong (malformed, unknown type, schema violation) before it is
   *  disconnected. Each one is answered with a warning naming the problem. */
  maxBadFrames: count(0, 1_000).default(5),
})

/** What the hub pays per held frame beyond its bytes (the frame's Buffer and ws's header Buffer,
 *  the socket's write request and callback): measured at 700–800 bytes per small frame with Node 20
 *  and ws 8 (test/e2e/transport/fixtures/memory-hub.ts), rounded up. Counted against
 *  maxSendBufferBytes for every frame the socket holds because the kernel did not take it at once. */
export const SEND_FRAME_OVERHEAD_BYTES = 1_024

export type TransportConfig = z.infer<typeof transportConfigSchema>
export type TransportConfigInput = z.input<typeof transportConfigSchema>

/** Parses settings; the error names each bad field ("pongTimeoutMs: Too small: expected …"). */
export function parseTransportConfig (input: unknown): { ok: true; config: TransportConfig } | { ok: false; error: string } {
  const r = transportConfigSchema.safeParse(input ?? {})
  if (r.success) return { ok: true, config: r.data }
  return { ok: false, error: r.error.issues.map(i => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ') }
}
