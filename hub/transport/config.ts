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
  /** Bytes the hub will hold for one peer that is not reading. Past it the peer is disconnected: hub
   *  memory per peer stays bounded whatever the peer does. At least a few maximal frames. */
  maxSendBufferBytes: count(256 * 1024, 1024 * 1024 * 1024).default(8 * 1024 * 1024),
  /** Connection attempts one IP address may make per `rateWindowMs` (scenario 20). */
  maxConnectsPerIp: count(1, 100_000).default(30),
  rateWindowMs: ms(10, 3_600_000).default(10_000),
  /** Connections still in the handshake, over all addresses and per address (scenario 20). */
  maxUnauthenticated: count(1, 100_000).default(256),
  maxUnauthenticatedPerIp: count(1, 100_000).default(8),
  /** All open connections. */
  maxConnections: count(1, 1_000_000).default(10_000),
  /** Frames a session may get wrong (malformed, unknown type, schema violation) before it is
   *  disconnected. Each one is answered with a warning naming the problem. */
  maxBadFrames: count(0, 1_000).default(5),
})

export type TransportConfig = z.infer<typeof transportConfigSchema>
export type TransportConfigInput = z.input<typeof transportConfigSchema>

/** Parses settings; the error names each bad field ("pongTimeoutMs: Too small: expected …"). */
export function parseTransportConfig (input: unknown): { ok: true; config: TransportConfig } | { ok: false; error: string } {
  const r = transportConfigSchema.safeParse(input ?? {})
  if (r.success) return { ok: true, config: r.data }
  return { ok: false, error: r.error.issues.map(i => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ') }
}
