// What the host stores per monitor, and how it keeps a monitor small: cheap per payment and per idle
// channel.
//
// A monitor's state is derived from durable inputs: the channel's numbered updates (stored under
// chan/<id>/monitor/<seq> in the channel's own persist batch) and the chain. So the host stores it as
// a checkpoint (mon/<id>), not after every update: on restart it replays the updates newer than the
// checkpoint. Beside it, a small summary (mon-idx/<id>) says what the host must know of a monitor it
// has not loaded: the funding outpoint (to spot the blocks that concern it), and whether anything is
// at stake (then it is loaded at startup and stepped every block).
//
// Compaction. A revoked commitment of the peer is kept by protocol/monitor only for its HTLC list,
// which a penalty needs to find the HTLC outputs; a preimage is kept forever. With one revoked
// commitment per payment both grow without bound. The host drops them from memory and from the
// checkpoint: a revoked commitment's HTLC list is in the store already (its remote_commitment
// update), and is put back (restoreRevoked) before the monitor sees the transaction spending the
// funding output; a preimage matters only while its HTLC is in a commitment that can still confirm.
import { z } from 'zod'
import type { MonitorUpdate } from '../../protocol/channel/index.ts'
import { fundingDepth, type MonitorState, type MonitorTx } from '../../protocol/monitor/index.ts'
import { commitmentNumberOf } from '../../protocol/monitor/commitments.ts'
import { keys as storeKeys, parseJsonValue, type Store } from '../store/index.ts'
import { err, ok, type Result } from '../../protocol/result.ts'

/** The summary's key (host/store/keys.ts). */
export const INDEX_PREFIX = storeKeys.monitorSummaryPrefix
export const indexKey = storeKeys.monitorSummary

export interface Summary {
  /** The checkpoint's lastSeq. */
  seq: number
  /** The funding outpoint, once known. */
  funding: { txid: string; vout: number } | null
  fundingHeight: number
  /** Nothing at stake (see isQuiet): need not be loaded until a block concerns it. */
  quiet: boolean
  closed: boolean
}

const summarySchema = z.strictObject({
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  funding: z.strictObject({ txid: z.string().regex(/^[0-9a-f]{64}$/), vout: z.number().int().min(0).max(100_000) }).nullable(),
  fundingHeight: z.number().int().min(0).max(10_000_000),
  quiet: z.boolean(),
  closed: z.boolean(),
})

export function parseSummary (json: unknown): Result<Summary, string> {
  const r = summarySchema.safeParse(json)
  if (!r.success) return err(r.error.issues.map(i => `summary.${i.path.join('.')}: ${i.message}`).join('; '))
  return ok(r.data)
}

export function summaryOf (s: MonitorState): Summary {
  const f = s.setup?.funding
  return {
    seq: s.lastSeq, funding: f === undefined ? null : { txid: f.txid, vout: f.outputIndex }, fundingHeight: s.fundingHeight,
    quiet: isQuiet(s), closed: s.closed,
  }
}

/**
 * Nothing at stake until the funding output is spent: the funding tx is `depth` deep, no splice is
 * pending or spent an output that is not `depth` deep yet, nothing of the channel is on-chain, we are
 * not closing, and no HTLC is in a commitment that can confirm (so no deadline can pass). Such a monitor need not see blocks that do not
 * touch its funding output: it would only move its height. A closed monitor is done.
 */
export function isQuiet (s: MonitorState): boolean {
  if (s.closed) return true
  if (s.setup?.funding === undefined || s.local === undefined) return false
  if (s.fundingHeight === 0 || fundingDepth(s) < s.config.depth) return false
  if (s.splice !== undefined) return false
  if (s.forceClose !== undefined || s.seen.length > 0 || Object.keys(s.firstWanted).length > 0) return false
  if (s.local.spec.htlcs.length > 0) return false
  for (const r of s.remotes) if (r.number > s.revokedUpTo && r.htlcs.length > 0) return false
  return true
}

/** Drops revoked commitments and dead preimages (see the file comment). Same object when nothing to drop. */
export function compact (s: MonitorState): MonitorState {
  // Once anything is on-chain (or we are closing), keep everything resolve() may look at.
  if (s.seen.length > 0 || s.forceClose !== undefined) return s
  const remotes = s.remotes.some(r => r.number <= s.revokedUpTo) ? s.remotes.filter(r => r.number > s.revokedUpTo) : s.remotes
  const live = new Set<string>()
  for (const h of s.local?.spec.htlcs ?? []) live.add(h.paymentHash)
  for (const h of s.previousLocal?.spec.htlcs ?? []) live.add(h.paymentHash)
  for (const f of s.splice?.spliced ?? []) for (const h of [
    ...f.local?.spec.htlcs ?? [], ...f.previousLocal?.spec.htlcs ?? []
  ]) live.add(h.paymentHash)
  for (const r of remotes) for (const h of r.htlcs) live.add(h.paymentHash)
  let preimages = s.preimages
  for (const hash in s.preimages) {
    if (live.has(hash)) continue
    preimages = {}
    for (const [k, v] of Object.entries(s.preimages)) if (live.has(k)) preimages[k] = v
    break
  }
  if (remotes === s.remotes && preimages === s.preimages) return s
  return { ...s, remotes, preimages }
}

/**
 * Before the monitor sees `tx` (which spends the funding output): if it is a revoked commitment of
 * the peer whose HTLC list compaction dropped, put the list back from the channel's stored
 * remote_commitment update, with the preimages we held for those HTLCs (so that one revealed again
 * on-chain is not reported as news). The channel's updates are scanned once: at most once per breach.
 */
export async function restoreRevoked (store: Store, s: MonitorState, tx: MonitorTx): Promise<MonitorState> {
  if (s.setup?.remote === undefined) return s
  const n = commitmentNumberOf(
    s.setup, { txid: tx.txid, height: 0, blockHash: '', stage: 0, locktime: tx.locktime, inputs: tx.inputs, outputs: tx.outputs },
  )
  if (n === undefined || n > s.revokedUpTo || s.remotes.some(r => r.number === n)) return s
  let found: Extract<MonitorUpdate, { kind: 'remote_commitment' }> | undefined
  const preimages = new Map<string, string>()
  for await (const [, v] of store.iterate(storeKeys.monitorPrefix(s.channelId))) {
    const u = parseJsonValue(v) as MonitorUpdate
    if (u.kind === 'remote_commitment' && u.number === n) found = u // the last one for n wins, as in the monitor
    else if (u.kind === 'preimage') preimages.set(u.paymentHash, u.preimage)
  }
  if (found === undefined || found.spec.htlcs.length === 0) return s
  const held = { ...s.preimages }
  for (const h of found.spec.htlcs) {
    const p = preimages.get(h.paymentHash)
    if (p !== undefined) held[h.paymentHash] = p
  }
  return {
    ...s, remotes: [...s.remotes, { number: n, perCommitmentPoint: found.perCommitmentPoint, htlcs: found.spec.htlcs }], preimages: held,
  }
}
