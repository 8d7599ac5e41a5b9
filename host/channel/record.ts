// The one stored form of a channel, the hub's and an SDK client's alike: one record per channel under
// chan/<channel id>/state, holding who the counterparty is, the channel's key seed, and the channel
// machine's whole state; monitor updates beside it under chan/<channel id>/monitor/<seq>
// (host/store/keys.ts). The batch that writes them is host/channel/persist.ts.
//
// Two small indexes let a restart read only what it needs, whatever the channels' history:
//   chan-index/<channel id>   {v, peer}: every stored channel. chan/<id>/state sorts after all of the
//                             channel's monitor updates (chan/<id>/monitor/…), so listing channels by
//                             scanning chan/ would read every update ever written — millions after a
//                             busy day.
//   preimage/<payment hash>   the preimage, for every monitor update of kind 'preimage': a payment's
//                             preimage is one point read, never a scan of the channels' updates.
// Both are written in the same atomic batch as the channel write that makes them true (persist.ts), so
// a channel or preimage without its entry is never stored.
//
// A new channel first claims its id: its index entry, written alone with a create-only op
// (host/store/store.ts) and marked `claimed`; it is refused if the id has an entry (every stored channel
// has one), so no new channel ever replaces another's record, seed or monitor updates. The claim is a
// write of its own because a refused write must carry nothing else: the channel's first full write
// holds what its host carries along (the hub's audit-log entry, whose chain would break if one never
// reached the store; the SDK's payment records). The first full write then stores the record and the
// entry without the mark. A claim whose channel never got that far (a crash in between) is deleted at
// startup (loadStoredChannels); an entry without the mark and without a record is a corrupt store. A
// channel abandoned before its funding confirmed can be deleted whole (abandonedChannelOps), its chain
// monitor's checkpoint with it.
import { z } from 'zod'
import type { ChannelState, MonitorUpdate } from '../../protocol/channel/index.ts'
import type { NodeId } from '../../protocol/types.ts'
import { keys } from '../store/keys.ts'
import { create, del, parseJsonValue, put, type Store, type StoreOp } from '../store/store.ts'

export interface ChannelRecord {
  v: 1
  /** The node id of the counterparty: the only connection allowed to touch this channel. */
  peer: NodeId
  /** 32-byte hex seed of this channel's keys (protocol/keys/channel.ts). */
  seed: string
  state: ChannelState
}

export interface ChannelIndexEntry {
  channelId: string
  peer: NodeId
  /** A claim whose channel has not written its record yet. */
  claimed?: true
}

const INDEX_PREFIX = keys.channelIndexPrefix
const PREIMAGE_PREFIX = keys.preimagePrefix

const hex32 = /^[0-9a-f]{64}$/
const peerId = z.string().regex(/^0[23][0-9a-f]{64}$/)

// Our own writes: the shape is checked (a corrupt store must stop its owner, not half-load a channel);
// the channel state itself is the channel machine's plain data, written by us. Checked by hand: this
// runs for every channel at startup, and a schema that copies the record costs more than the parse.
function checkRecord (v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null) return 'not an object'
  const r = v as Record<string, unknown>
  if (r.v !== 1) return 'v: expected 1'
  if (typeof r.peer !== 'string' || !/^0[23][0-9a-f]{64}$/.test(r.peer)) return 'peer: expected a node id'
  if (typeof r.seed !== 'string' || !hex32.test(r.seed)) return 'seed: expected 32 bytes of hex'
  const st = r.state
  if (typeof st !== 'object' || st === null) return 'state: expected an object'
  const s = st as Record<string, unknown>
  if (typeof s.phase !== 'string') return 'state.phase: expected a string'
  if (typeof s.channelId !== 'string' || !hex32.test(s.channelId)) return 'state.channelId: expected 32 bytes of hex'
  return undefined
}
const indexSchema = z.strictObject({ v: z.literal(1), peer: peerId, claimed: z.literal(true).optional() })

export const channelStateKey = keys.channelState
export const monitorKey = keys.monitorUpdate
export const channelIndexKey = keys.channelIndex
export const preimageKey = keys.preimage

/** The index entry of a channel (written with its first persist). */
export function channelIndexOp (channelId: string, peer: NodeId): StoreOp {
  return put(channelIndexKey(channelId), { v: 1, peer })
}

/** A new channel's claim of its id, written alone before its first full write: refused
 *  (StoreConflict) if the id has an index entry. */
export function claimChannelOp (channelId: string, peer: NodeId): StoreOp {
  return create(channelIndexKey(channelId), { v: 1, peer, claimed: true })
}

/** Deletes everything stored of an abandoned channel (protocol/channel/funding-check.ts: nothing of it
 *  is on-chain): its record, index entry and monitor updates, and with `monitor` its chain monitor's
 *  checkpoint and summary (only while no MonitorHost has it open: the host deletes those itself,
 *  MonitorHost.forget). */
export async function abandonedChannelOps (store: Store, channelId: string, opts: { monitor: boolean }): Promise<StoreOp[]> {
  const ops: StoreOp[] = [del(channelStateKey(channelId)), del(channelIndexKey(channelId))]
  for await (const [key] of store.iterate(keys.monitorPrefix(channelId))) ops.push(del(key))
  if (opts.monitor) ops.push(del(keys.monitorState(channelId)), del(keys.monitorSummary(channelId)))
  return ops
}

/** Index entries for the preimages among a persist's monitor updates. */
export function preimageOps (updates: readonly MonitorUpdate[]): StoreOp[] {
  const out: StoreOp[] = []
  for (const u of updates) if (u.kind === 'preimage') out.push(put(preimageKey(u.paymentHash), u.preimage))
  return out
}

function parseRecord (key: string, value: Uint8Array): ChannelRecord {
  const r = parseJsonValue(value)
  const bad = checkRecord(r)
  if (bad !== undefined) throw new Error(`store: ${key} is malformed (${bad}): refusing to start`)
  return r as ChannelRecord
}

/** Every stored channel (id and peer), from the index. */
export async function loadChannelIndex (store: Store): Promise<ChannelIndexEntry[]> {
  const out: ChannelIndexEntry[] = []
  for await (const [key, value] of store.iterate(INDEX_PREFIX)) {
    const channelId = key.slice(INDEX_PREFIX.length)
    const r = indexSchema.safeParse(parseJsonValue(value))
    if (!hex32.test(channelId) || !r.success) throw new Error(`store: ${key} is malformed: refusing to start`)
    out.push({ channelId, peer: r.data.peer as NodeId, ...(r.data.claimed === true ? { claimed: true as const } : {}) })
  }
  return out
}

/** One channel's stored record (undefined: not stored). */
export async function loadChannelRecord (store: Store, channelId: string): Promise<ChannelRecord | undefined> {
  const key = channelStateKey(channelId)
  const value = await store.get(key)
  return value === undefined ? undefined : parseRecord(key, value)
}

/** Every stored channel record (reads in parallel batches; the index says which exist). The ids of
 *  claims whose channel never wrote its record go to `unfinished`, if given. */
export async function loadChannelRecords (store: Store, unfinished?: string[]): Promise<ChannelRecord[]> {
  const index = await loadChannelIndex(store)
  const out: ChannelRecord[] = []
  const BATCH = 256
  for (let i = 0; i < index.length; i += BATCH) {
    const got = await Promise.all(index.slice(i, i + BATCH).map(e => loadChannelRecord(store, e.channelId)))
    for (let j = 0; j < got.length; j++) {
      const r = got[j]
      const e = index[i + j]!
      if (r === undefined && e.claimed === true) { unfinished?.push(e.channelId); continue }
      if (r === undefined) throw new Error(`store: channel ${e.channelId} is indexed but has no state: refusing to start`)
      out.push(r)
    }
  }
  return out
}

/** Every stored channel record, after deleting the claims of channels that never wrote theirs (a crash
 *  between the claim and the first full write). Nothing depends on such a channel: an acceptor's
 *  funding_signed and an opener's funding broadcast both wait for the record. */
export async function loadStoredChannels (store: Store): Promise<ChannelRecord[]> {
  const unfinished: string[] = []
  const records = await loadChannelRecords(store, unfinished)
  if (unfinished.length > 0) await store.write(unfinished.map(id => del(channelIndexKey(id))))
  return records
}

/** A stored preimage by payment hash. */
export async function loadPreimage (store: Store, paymentHash: string): Promise<string | undefined> {
  const v = await store.get(preimageKey(paymentHash))
  return v === undefined ? undefined : parseJsonValue(v) as string
}

/** Every stored preimage (tests, tools; hub and SDK look them up one at a time with loadPreimage). */
export async function loadPreimages (store: Store): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for await (const [key, value] of store.iterate(PREIMAGE_PREFIX)) out.set(
    key.slice(PREIMAGE_PREFIX.length), parseJsonValue(value) as string,
  )
  return out
}
