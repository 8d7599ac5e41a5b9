// The monitor's single entry point (STYLE.md §1): monitorStep(state, input, keys) → { state, actions }.
// Pure: the input state is not modified. Actions are data, run by the host in order: persist (the
// new state, durably), then broadcasts, then the decisions it reports.
import type { Htlc } from '../channel/state.ts'
import type { MonitorUpdate } from '../channel/effects.ts'
import { commitmentIndex, insertSecret, shachainFromJson, shachainToJson } from '../keys/index.ts'
import { txHex } from '../tx/serialize.ts'
import { hexToBytes } from '../types.ts'
import type { FundingSpend } from './commitments.ts'
import type { MonitorKeys } from './keys.ts'
import { resolve, type WantReason } from './resolve.ts'
import { applySpliceUpdate, candidateConfirmed, candidatesDisconnected, dropSpliced, fundingOutpoints, spliceTxids } from './splice.ts'
import type { MonitorState, SeenTx } from './state.ts'
import { deadlineReason } from './triggers.ts'

/** A transaction as the monitor reads it from a block (hex scripts and witness items). */
export interface MonitorTx {
  txid: string
  locktime: number
  inputs: Array<{ txid: string; vout: number; sequence: number; witness: string[] }>
  outputs: Array<{ valueSat: number; script: string }>
}
export interface MonitorBlock { height: number; hash: string; txs: MonitorTx[] }

export type MonitorInput =
  | { kind: 'update'; update: MonitorUpdate }
  | { kind: 'block_connected'; block: MonitorBlock }
  | { kind: 'block_disconnected'; height: number; hash: string }
  /** The owner asks to close with our latest commitment (hub admin, SDK forceClose). */
  | { kind: 'force_close'; reason: string }
  /** Re-evaluate and re-announce what should be broadcast (the host's retry timer). */
  | { kind: 'tick' }

export type MonitorAction =
  /** Store the new state durably before doing anything else. */
  | { kind: 'persist' }
  /** A new outpoint whose spend matters (for hosts that filter blocks). */
  | { kind: 'watch'; outpoint: string }
  /** Broadcast now, and again until it confirms (the same txid, or a replacement, comes back each step). */
  | { kind: 'broadcast'; txid: string; hex: string; reason: WantReason; feeratePerKw?: number }
  /** We go on-chain with our commitment: the channel must stop (fail) if it has not. */
  | { kind: 'force_closing'; reason: string }
  /** A transaction spending the funding output confirmed: which one, and how the channel ended with
   *  it. Reported once per spending transaction (a reorg may bring another). */
  | { kind: 'funding_spent'; txid: string; how: FundingSpend['kind'] }
  /** Seen in a spend on-chain: fulfil upstream (scenario 8). Reported once. */
  | { kind: 'preimage_learned'; paymentHash: string; preimage: string }
  /** An HTLC of ours resolved on-chain. 'failed' only once `depth` deep; 'fulfilled' as soon as the
   *  preimage is known (knowing it can never be undone). Reported once. */
  | { kind: 'htlc_resolved'; htlc: Htlc; outcome: 'fulfilled' | 'failed'; preimage?: string }
  | { kind: 'funding_depth'; depth: number }
  /** Every output is resolved, `depth` deep. The monitor may be archived. */
  | { kind: 'closed'; how: FundingSpend['kind'] }
  /** Something the owner should know (an ignored update, a peer that sent a bad secret). */
  | { kind: 'warning'; detail: string }

export interface MonitorStep { state: MonitorState; actions: MonitorAction[] }

export function monitorStep (state: MonitorState, input: MonitorInput, keys: MonitorKeys): MonitorStep {
  const s: MonitorState = { ...state }
  const actions: MonitorAction[] = []
  let dirty = false
  const fundingDepthBefore = fundingDepth(state)
  switch (input.kind) {
    case 'update': dirty = applyUpdate(s, input.update, actions); break
    case 'block_connected': dirty = connect(s, input.block); break
    case 'block_disconnected': dirty = disconnect(s, input.height, input.hash); break
    case 'force_close':
      if (s.forceClose === undefined) {
        s.forceClose = { reason: input.reason, height: s.height }; dirty = true;
        actions.push({ kind: 'force_closing', reason: input.reason })
      }
      break
    case 'tick': break
  }
  if (dropSpliced(s, fundingDepth(s))) dirty = true

  const r0 = s.setup === undefined ? undefined : resolve(s, keys)
  // Go on-chain in time, while nothing spent the funding output yet.
  if (r0 !== undefined && r0.spend === undefined && s.forceClose === undefined && s.local !== undefined) {
    const why = deadlineReason(s)
    if (why !== undefined) {
      s.forceClose = { reason: why, height: s.height }
      dirty = true
      actions.push({ kind: 'force_closing', reason: why })
      if (s.doNotBroadcast) actions.push({ kind: 'warning', detail: `${why}, but we lost state: waiting for the peer to close` })
    }
  }
  const r = s.forceClose !== state.forceClose ? resolve(s, keys) : r0

  if (r !== undefined) {
    const firstWanted = { ...s.firstWanted }
    for (const w of r.wants) {
      // The fee bump clock: a splice transaction is the channel's to replace (tx_init_rbf), not ours.
      if (w.reason === 'splice') continue
      if (firstWanted[w.key] === undefined) { firstWanted[w.key] = s.height; dirty = true }
    }
    if (dirty) s.firstWanted = firstWanted
    const reported = new Set(s.reported)
    const report = (key: string, a: MonitorAction): void => {
      if (reported.has(key)) return
      reported.add(key)
      actions.push(a)
    }
    // BOLT #5: "upon the funding transaction being spent, if the channel is NOT already closed: MAY
    // send a descriptive `error`. SHOULD fail the channel." The owner does (host/monitor).
    if (r.spend !== undefined) report(`spent:${r.spend.tx.txid}`, { kind: 'funding_spent', txid: r.spend.tx.txid, how: r.spend.kind })
    const preimages = { ...s.preimages }
    for (const p of r.preimages) {
      // Only news is reported: a preimage we already held (we revealed it claiming) was not learned.
      if (preimages[p.paymentHash] !== undefined) continue
      preimages[p.paymentHash] = p.preimage
      report(`preimage:${p.paymentHash}`, { kind: 'preimage_learned', paymentHash: p.paymentHash, preimage: p.preimage })
    }
    for (const o of r.outcomes) {
      if (o.outcome === 'failed' && !o.final) continue
      report(
        `htlc:${o.htlc.offerer}:${o.htlc.id}`,
        { kind: 'htlc_resolved', htlc: o.htlc, outcome: o.outcome, ...(o.preimage !== undefined ? { preimage: o.preimage } : {}) },
      )
    }
    if (r.resolved && r.spend !== undefined && !s.closed) {
      s.closed = true
      report('closed', { kind: 'closed', how: r.spend.kind })
    }
    if (reported.size !== s.reported.length) { s.reported = [...reported]; dirty = true }
    if (Object.keys(preimages).length !== Object.keys(s.preimages).length) { s.preimages = preimages; dirty = true }
    const watching = new Set(state.watching ?? [])
    for (const w of r.watched) if (!watching.has(w)) actions.push({ kind: 'watch', outpoint: w })
    s.watching = r.watched
    for (const w of r.wants) actions.push({
      kind: 'broadcast', txid: w.txid, hex: txHex(w.tx), reason: w.reason,
      ...(w.feeratePerKw !== undefined ? { feeratePerKw: w.feeratePerKw } : {})
    })
  }

  const depth = fundingDepth(s)
  if (depth !== fundingDepthBefore) actions.push({ kind: 'funding_depth', depth })
  if (dirty || (s.watching ?? []).join() !== (state.watching ?? []).join()) actions.unshift({ kind: 'persist' })
  return { state: s, actions }
}

export function fundingDepth (s: MonitorState): number {
  return s.fundingHeight > 0 && s.height >= s.fundingHeight ? s.height - s.fundingHeight + 1 : 0
}

/** Applies one update; returns whether the state changed. Updates are applied once, in order. */
function applyUpdate (s: MonitorState, u: MonitorUpdate, actions: MonitorAction[]): boolean {
  if (u.seq <= s.lastSeq) {
    actions.push({ kind: 'warning', detail: `monitor update ${u.seq} (${u.kind}) ignored: already at ${s.lastSeq}` })
    return false
  }
  s.lastSeq = u.seq
  switch (u.kind) {
    case 'funding': s.setup = u.setup; break
    case 'local_commitment':
      if (s.local !== undefined && u.number <= s.local.number) break
      s.previousLocal = s.local
      s.local = {
        number: u.number, perCommitmentPoint: u.perCommitmentPoint, spec: u.spec, signature: u.signature, htlcSignatures: u.htlcSignatures,
      }
      break
    case 'remote_commitment':
      s.remotes = [
        ...s.remotes.filter(r => r.number !== u.number),
        { number: u.number, perCommitmentPoint: u.perCommitmentPoint, htlcs: u.spec.htlcs },
      ]
      break
    case 'remote_commitment_withdrawn':
      // Never sent, so never on-chain; its HTLCs must not set deadlines (triggers.ts).
      if (u.number > s.revokedUpTo) s.remotes = s.remotes.filter(r => r.number !== u.number)
      break
    case 'revocation': {
      const store = shachainFromJson(s.secrets)
      if (!store.ok) throw new Error(`monitor state: ${store.error}`)
      const r = insertSecret(store.value, commitmentIndex(u.number), hexToBytes(u.secret))
      if (!r.ok) { actions.push({ kind: 'warning', detail: `revocation ${u.number}: ${r.error.reason}: ${r.error.detail}` }); break }
      s.secrets = shachainToJson(r.value)
      s.revokedUpTo = Math.max(s.revokedUpTo, u.number)
      // A revoked commitment without HTLCs needs nothing stored: its outputs are found by script.
      s.remotes = s.remotes.filter(x => x.number > s.revokedUpTo || x.htlcs.length > 0)
      break
    }
    case 'preimage': s.preimages = { ...s.preimages, [u.paymentHash]: u.preimage }; break
    case 'closing_signed': break // a mutual close is recognised by its shape when it confirms
    case 'do_not_broadcast': s.doNotBroadcast = true; break
    case 'force_close':
      if (s.forceClose === undefined) {
        s.forceClose = { reason: u.reason, height: s.height }; actions.push({ kind: 'force_closing', reason: u.reason })
      }
      break
    case 'splice_candidate': case 'splice_local_commitment': case 'splice_signed': case 'splice_locked': case 'splice_dropped': {
      const warning = applySpliceUpdate(s, u)
      if (warning !== undefined) actions.push({ kind: 'warning', detail: warning })
      break
    }
  }
  return true
}

/** Records the block's relevant transactions: the funding tx, a known splice tx (its confirmation),
 *  and any other tx spending a funding output (protocol/monitor/splice.ts knownFundings) or an output
 *  of a relevant tx (up to third-stage sweeps, whose outputs are the owner's wallet's). */
function connect (s: MonitorState, block: MonitorBlock): boolean {
  s.height = block.height
  s.tipHash = block.hash
  const funding = s.setup?.funding
  if (funding === undefined) return false
  let dirty = false
  const fundings = new Set(fundingOutpoints(s))
  const splices = spliceTxids(s)
  const stageOf = new Map(s.seen.map(t => [t.txid, t.stage]))
  const added: SeenTx[] = []
  for (const tx of block.txs) {
    if (tx.txid === funding.txid && s.fundingHeight === 0) { s.fundingHeight = block.height; dirty = true }
    // A splice moves the channel to a new funding output: not a close.
    if (splices.has(tx.txid)) { if (candidateConfirmed(s, tx.txid, block.height, block.hash)) dirty = true; continue }
    let stage: number | undefined
    for (const i of tx.inputs) {
      if (fundings.has(`${i.txid}:${i.vout}`)) stage = 0
      else {
        const parent = stageOf.get(i.txid)
        if (parent !== undefined && parent < 2) stage = Math.min(stage ?? 9, parent + 1)
      }
    }
    if (stage === undefined || stageOf.has(tx.txid)) continue
    stageOf.set(tx.txid, stage)
    added.push({
      txid: tx.txid, height: block.height, blockHash: block.hash, stage, locktime: tx.locktime, inputs: tx.inputs, outputs: tx.outputs,
    })
  }
  if (added.length > 0) { s.seen = [...s.seen, ...added]; dirty = true }
  return dirty
}

/** Undoes a block: its transactions are forgotten, and everything derived from them with them. */
function disconnect (s: MonitorState, height: number, hash: string): boolean {
  s.height = Math.min(s.height, height - 1)
  s.tipHash = ''
  let dirty = false
  const kept = s.seen.filter(t => t.blockHash !== hash && t.height < height)
  if (kept.length !== s.seen.length) { s.seen = kept; dirty = true }
  if (s.fundingHeight >= height) { s.fundingHeight = 0; dirty = true }
  if (candidatesDisconnected(s, height, hash)) dirty = true
  return dirty
}
