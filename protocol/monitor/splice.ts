// Splicing as the chain monitor sees it (BOLT #2 "Channel Splicing"; the channel's side is
// protocol/channel/splice). BOLT #2 "Splice Completion": "Nodes keep track of multiple commitment
// transactions (one for the current funding transaction and one for each splice transaction)". A
// splice transaction spends the funding output; until both sides sent splice_locked, the splice and
// its RBF replacements ("candidates") are pending: any of them may confirm, and a commitment may then
// spend its output. Every candidate's commitments have the channel's commitment numbers,
// per-commitment points and HTLCs, each side's balance moved by its contribution. So:
//  - the funding outputs a commitment may spend are the current one, each candidate's, and the older
//    ones a locked splice spent, until that splice is `depth` deep (knownFundings);
//  - a known splice transaction spending one of them is not a close (spliceTxids);
//  - the peer's commitments are recognised by number and found by script whatever output they spend,
//    so one revocation covers every candidate of its number (resolve.ts onRemote);
//  - our commitment on a candidate is ours on the current funding moved to the candidate, with the
//    peer's signatures for that candidate (candidateLocal).
import type { MonitorUpdate } from '../channel/effects.ts'
import { candidateSetup, candidateSpec } from '../channel/splice/state.ts'
import type { ChannelSetup } from '../channel/state.ts'
import { parseTx } from '../tx/serialize.ts'
import type { Tx } from '../tx/types.ts'
import type { Txid } from '../types.ts'
import type { CandidateSigs, LocalCommitRecord, MonitorSplices, MonitorState, SpliceCandidateRecord, SplicedFunding } from './state.ts'

export type SpliceUpdate = Extract<MonitorUpdate,
{ kind: 'splice_candidate' | 'splice_local_commitment' | 'splice_signed' | 'splice_locked' | 'splice_dropped' }>

/** A funding output a commitment of this channel may spend. */
export interface KnownFunding {
  /** 'current': the channel's funding output; 'candidate': a pending splice's; 'spliced': one that a
   *  locked splice spent. */
  kind: 'current' | 'candidate' | 'spliced'
  txid: string
  outputIndex: number
  /** The channel's setup as seen from this output: its outpoint, capacity and funding keys. */
  setup: ChannelSetup
  /** Our commitments spending it that the peer signed, newest first. */
  locals: LocalCommitRecord[]
}

/** Records are never modified (steps replace them): a candidate's version of a commitment is built
 *  once per (signatures, commitment) pair, so its transaction is signed once (commitments.ts cache). */
const derived = new WeakMap<CandidateSigs, { base: LocalCommitRecord; rec: LocalCommitRecord }>()

/** Our commitment `base` (on the current funding) moved to candidate `c`, if the peer signed it there. */
export function candidateLocal (c: SpliceCandidateRecord, base: LocalCommitRecord | undefined): LocalCommitRecord | undefined {
  if (base === undefined) return undefined
  const sigs = c.sigs.find(x => x.number === base.number)
  if (sigs === undefined) return undefined
  const hit = derived.get(sigs)
  if (hit !== undefined && hit.base === base) return hit.rec
  const rec: LocalCommitRecord = {
    number: base.number, perCommitmentPoint: base.perCommitmentPoint, spec: candidateSpec(base.spec, c),
    signature: sigs.signature, htlcSignatures: sigs.htlcSignatures,
  }
  derived.set(sigs, { base, rec })
  return rec
}

const defined = <T>(xs: Array<T | undefined>): T[] => xs.filter((x): x is T => x !== undefined)

/** Every funding output a commitment of the channel may spend: the current one first. */
export function knownFundings (s: MonitorState): KnownFunding[] {
  const setup = s.setup
  if (setup?.funding === undefined || setup.remote === undefined) return []
  const out: KnownFunding[] = [{
    kind: 'current', txid: setup.funding.txid, outputIndex: setup.funding.outputIndex, setup, locals: defined([s.local, s.previousLocal]),
  }]
  for (const c of s.splice?.candidates ?? []) {
    out.push({
      kind: 'candidate', txid: c.txid, outputIndex: c.outputIndex, setup: candidateSetup(setup, asFunding(c)),
      locals: defined([candidateLocal(c, s.local), candidateLocal(c, s.previousLocal)]),
    })
  }
  for (const f of s.splice?.spliced ?? []) {
    out.push({
      kind: 'spliced', txid: f.txid, outputIndex: f.outputIndex, setup: candidateSetup(setup, asFunding(f)),
      locals: defined([f.local, f.previousLocal]),
    })
  }
  return out
}

const asFunding = (f: SpliceCandidateRecord | SplicedFunding) => ({
  txid: f.txid as Txid, outputIndex: f.outputIndex, capacitySat: f.capacitySat as ChannelSetup['capacitySat'],
  fundingPubkey: f.fundingPubkey,
})

/** "txid:vout" of every funding output a commitment of the channel may spend. */
export function fundingOutpoints (s: MonitorState): string[] {
  const f = s.setup?.funding
  if (f === undefined) return []
  return [
    `${f.txid}:${f.outputIndex}`, ...[...s.splice?.candidates ?? [], ...s.splice?.spliced ?? []].map(x => `${x.txid}:${x.outputIndex}`)
  ]
}

/** The splice transactions we know: they spend a funding output and are not a close. */
export function spliceTxids (s: MonitorState): Set<string> {
  return new Set([...(s.splice?.candidates ?? []).map(c => c.txid), ...(s.splice?.spliced ?? []).map(f => f.splicedBy)])
}

/** The candidate whose splice transaction is confirmed (at most one: they double-spend each other). */
export const confirmedCandidate = (s: MonitorState): SpliceCandidateRecord | undefined => s.splice?.candidates.find(c => c.height > 0)

/** The candidate to broadcast while none is confirmed: the newest complete one (an RBF replaces the
 *  ones before it). */
export const latestSigned = (s: MonitorState): SignedCandidate | undefined =>
  [...s.splice?.candidates ?? []].reverse().find((c): c is SignedCandidate => c.tx !== undefined)
type SignedCandidate = SpliceCandidateRecord & { tx: string }

function withCandidates (s: MonitorState, candidates: SpliceCandidateRecord[]): void {
  setSplices(s, { candidates, spliced: s.splice?.spliced ?? [] })
}

function setSplices (s: MonitorState, sp: MonitorSplices): void {
  if (sp.candidates.length === 0 && sp.spliced.length === 0) delete s.splice
  else s.splice = sp
}

const replace = (s: MonitorState, txid: string, f: (c: SpliceCandidateRecord) => SpliceCandidateRecord): boolean => {
  const list = s.splice?.candidates ?? []
  const i = list.findIndex(c => c.txid === txid)
  if (i < 0) return false
  withCandidates(s, list.map((c, k) => k === i ? f(c) : c))
  return true
}

const parsed = new WeakMap<SpliceCandidateRecord, Tx>()

/** A signed candidate's transaction (parsed once per record). */
export function spliceTx (c: SignedCandidate): Tx {
  let tx = parsed.get(c)
  if (tx === undefined) parsed.set(c, tx = parseTx(c.tx))
  return tx
}

/** Applies a splice update; a warning when it names a candidate the monitor does not know. */
export function applySpliceUpdate (s: MonitorState, u: SpliceUpdate): string | undefined {
  switch (u.kind) {
    case 'splice_candidate': {
      // The same transaction announced again keeps what is known of it (signatures, confirmation).
      const known = s.splice?.candidates.find(x => x.txid === u.txid)
      const c: SpliceCandidateRecord = {
        txid: u.txid, outputIndex: u.outputIndex, capacitySat: u.capacitySat, fundingPubkey: u.fundingPubkey,
        contributionSat: u.contributionSat, sigs: known?.sigs ?? [], height: known?.height ?? 0, blockHash: known?.blockHash ?? '',
        ...(known?.tx !== undefined ? { tx: known.tx } : {}),
      }
      withCandidates(s, [...(s.splice?.candidates ?? []).filter(x => x.txid !== u.txid), c])
      return undefined
    }
    case 'splice_local_commitment': {
      const sigs: CandidateSigs = { number: u.number, signature: u.signature, htlcSignatures: u.htlcSignatures }
      // Those of `local` and `previousLocal` are all we may broadcast or recognise (the local record).
      const keep = (c: SpliceCandidateRecord): CandidateSigs[] => [
        ...c.sigs.filter(x => x.number !== u.number), sigs,
      ].sort((x, y) => x.number - y.number).slice(-2)
      return replace(s, u.txid, c => ({ ...c, sigs: keep(c) })) ? undefined : `splice_local_commitment for unknown splice ${u.txid}`
    }
    case 'splice_signed':
      return replace(s, u.txid, c => ({ ...c, tx: u.tx })) ? undefined : `splice_signed for unknown splice ${u.txid}`
    case 'splice_dropped':
      withCandidates(s, (s.splice?.candidates ?? []).filter(c => c.txid !== u.txid))
      return undefined
    case 'splice_locked': return promote(s, u.txid)
  }
}

/**
 * BOLT #2 (splice_locked): "Once a node has sent and received `splice_locked`: If the `splice_txid`s
 * match: MUST stop sending `commitment_signed` for RBF attempts and ancestors of this splice
 * transaction. MAY discard RBF attempts and ancestor transactions." The locked transaction's output is
 * the channel's funding; the RBF attempts are discarded (they double-spend it); the ancestor output is
 * kept as spliced until the splice is `depth` deep (a reorg until then could confirm a commitment
 * spending it instead), then dropped (dropSpliced).
 */
function promote (s: MonitorState, txid: string): string | undefined {
  const setup = s.setup
  if (setup?.funding?.txid === txid) return undefined
  const c = s.splice?.candidates.find(x => x.txid === txid)
  if (c === undefined || setup?.funding === undefined || setup.remote === undefined) return `splice_locked for unknown splice ${txid}`
  const old: SplicedFunding = {
    txid: setup.funding.txid, outputIndex: setup.funding.outputIndex, capacitySat: setup.capacitySat,
    fundingPubkey: { local: setup.local.fundingPubkey, remote: setup.remote.fundingPubkey }, splicedBy: c.txid,
    ...(s.local !== undefined ? { local: s.local } : {}), ...(s.previousLocal !== undefined ? { previousLocal: s.previousLocal } : {}),
  }
  const local = candidateLocal(c, s.local)
  const previousLocal = candidateLocal(c, s.previousLocal)
  s.setup = candidateSetup(setup, asFunding(c))
  if (local !== undefined) s.local = local; else delete s.local
  if (previousLocal !== undefined) s.previousLocal = previousLocal; else delete s.previousLocal
  s.fundingHeight = c.height
  setSplices(s, { candidates: [], spliced: [...s.splice?.spliced ?? [], old] })
  return local === undefined && old.local !== undefined
    ? `splice ${txid} locked without the peer's signature on our commitment ${old.local.number}: we cannot close alone on it`
    : undefined
}

/** A candidate's splice transaction confirmed in this block; whether the state changed. */
export function candidateConfirmed (s: MonitorState, txid: string, height: number, blockHash: string): boolean {
  const c = s.splice?.candidates.find(x => x.txid === txid)
  if (c === undefined || c.height !== 0) return false
  return replace(s, txid, x => ({ ...x, height, blockHash }))
}

/** A block disconnected: candidates confirmed in it (or above it) are unconfirmed again. */
export function candidatesDisconnected (s: MonitorState, height: number, blockHash: string): boolean {
  const list = s.splice?.candidates ?? []
  if (!list.some(c => c.height > 0 && (c.height >= height || c.blockHash === blockHash))) return false
  withCandidates(
    s, list.map(c => c.height > 0 && (c.height >= height || c.blockHash === blockHash) ? { ...c, height: 0, blockHash: '' } : c),
  )
  return true
}

/** The older funding outputs are dropped once the current funding is `depth` deep; whether it did. */
export function dropSpliced (s: MonitorState, fundingDepth: number): boolean {
  if ((s.splice?.spliced.length ?? 0) === 0 || fundingDepth < s.config.depth) return false
  setSplices(s, { candidates: s.splice!.candidates, spliced: [] })
  return true
}
