// How a channel is kept in the store: one record per channel under chan/<channel id>/state, holding
// who the counterparty is, the channel's key seed, and the channel machine's whole state; monitor
// updates beside it under chan/<channel id>/monitor/<seq> (hub/store/keys.ts).
import { z } from 'zod'
import type { ChannelState, MonitorUpdate } from '../../protocol/channel/index.ts'
import type { NodeId } from '../../protocol/types.ts'
import { keys } from '../store/keys.ts'
import { parseJsonValue, type Store } from '../store/store.ts'

export interface ChannelRecord {
  v: 1
  /** The node id of the counterparty: the only connection allowed to touch this channel. */
  peer: NodeId
  /** 32-byte hex seed of this channel's keys (protocol/driver/channel-keys.ts). */
  seed: string
  state: ChannelState
}

// Our own writes: the shape is checked (a corrupt store must stop the hub, not half-load a channel);
// the channel state itself is the channel machine's plain data, written by us.
const recordSchema = z.object({
  v: z.literal(1),
  peer: z.string().regex(/^0[23][0-9a-f]{64}$/),
  seed: z.string().regex(/^[0-9a-f]{64}$/),
  state: z.object({ phase: z.string(), channelId: z.string().regex(/^[0-9a-f]{64}$/) }).passthrough(),
})

export async function loadChannelRecords (store: Store): Promise<ChannelRecord[]> {
  const out: ChannelRecord[] = []
  for await (const [key, value] of store.iterate('chan/')) {
    if (!key.endsWith('/state')) continue
    const r = recordSchema.safeParse(parseJsonValue(value))
    if (!r.success) throw new Error(`store: ${key} is malformed (${r.error.issues[0]?.message ?? 'invalid'}): refusing to start`)
    out.push(r.data as unknown as ChannelRecord)
  }
  return out
}

/** Every preimage any channel learned or revealed (monitor updates of kind 'preimage'). */
export async function loadPreimages (store: Store): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for await (const [key, value] of store.iterate('chan/')) {
    if (!key.includes('/monitor/')) continue
    const u = parseJsonValue(value) as MonitorUpdate
    if (u.kind === 'preimage') out.set(u.paymentHash, u.preimage)
  }
  return out
}

export const channelStateKey = keys.channelState
export const monitorKey = keys.monitorUpdate
