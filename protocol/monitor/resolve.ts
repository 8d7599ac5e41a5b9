// BOLT #5 as a function of what the monitor knows: given the stored commitments, secrets and
// preimages, and the relevant confirmed transactions, what must be broadcast now, which HTLCs are
// decided, and whether the channel is irrevocably resolved. It is recomputed from scratch after every
// input, so a reorg (which only removes seen transactions) undoes decisions by construction, and a
// claim that a reorg removed is simply wanted again.
import type { ChannelSetup, Htlc } from '../channel/state.ts'
import { getCurve } from '../crypto/index.ts'
import { equalBytes, sha256 } from '../crypto/hash.ts'
import {
  buildClaimTx, claimRemoteHtlcSuccess, claimRemoteHtlcTimeout, claimRevokedHtlc, claimRevokedToLocal, claimToLocalDelayed,
  claimToRemote, type Claim,
} from '../tx/claims.ts'
import { deriveCommitmentKeys, htlcWitnessScript } from '../tx/commitment.ts'
import { finalizeHtlcTx, signHtlcTx } from '../tx/htlc.ts'
import { p2wpkh, p2wsh, toLocalWitnessScript, toRemoteAnchorsWitnessScript } from '../tx/script.ts'
import { txid as txidOf } from '../tx/serialize.ts'
import type { CommitmentKeys, Tx } from '../tx/types.ts'
import { bytesToHex, hexToBytes, sat, type Txid } from '../types.ts'
import { buildLocal, identifyFundingSpend, type FundingSpend } from './commitments.ts'
import { claimFeerate } from './fees.ts'
import { basepoints, htlcPrivkey, revocationPrivkey, type MonitorKeys } from './keys.ts'
import { confirmedCandidate, knownFundings, latestSigned, spliceTx, type KnownFunding } from './splice.ts'
import type { LocalCommitRecord, MonitorState, SeenTx } from './state.ts'

export type WantReason =
  | 'commitment'          // our latest commitment (force close)
  | 'to_local'            // our to_local, after to_self_delay
  | 'htlc_timeout'        // our HTLC-timeout tx, at cltv_expiry
  | 'htlc_success'        // our HTLC-success tx, with the preimage
  | 'second_stage'        // the output of our HTLC tx, after to_self_delay
  | 'to_remote'           // our output on the peer's commitment
  | 'remote_htlc_success' // an HTLC the peer offered, on its commitment, with the preimage
  | 'remote_htlc_timeout' // an HTLC we offered, on the peer's commitment, after cltv_expiry
  | 'penalty'             // every output of a revoked commitment and of its second-stage txs
  | 'splice'              // a signed splice transaction, until it or a replacement confirms

export interface Want { key: string; tx: Tx; txid: Txid; reason: WantReason; feeratePerKw?: number }

export interface HtlcOutcome {
  htlc: Htlc
  outcome: 'fulfilled' | 'failed'
  preimage?: string
  /** The transaction that decided it is `depth` deep. */
  final: boolean
}

export interface Resolution {
  spend?: { tx: SeenTx; kind: FundingSpend['kind'] }
  wants: Want[]
  preimages: Array<{ paymentHash: string; preimage: string }>
  outcomes: HtlcOutcome[]
  /** Outpoints whose spend matters ("txid:vout"). */
  watched: string[]
  /** BOLT #5: every output is irrevocably resolved (here: at the configured depth). */
  resolved: boolean
}

const htlcKey = (h: Pick<Htlc, 'offerer' | 'id'>): string => `${h.offerer}:${h.id}`

/** One resolve() pass: what the monitor knows, and what the pass has found and decided so far. */
class Ctx {
  readonly wants: Want[] = []
  readonly outcomes = new Map<string, HtlcOutcome>()
  readonly watched: string[] = []
  /** Our outputs (or HTLC outputs) not yet spent by a final transaction. */
  open = 0
  readonly spenders = new Map<string, { tx: SeenTx; witness: string[] }>()
  /** HTLCs with an output on the confirmed commitment (htlcKey). */
  readonly onChain = new Set<string>()
  /** Preimages revealed by the spends we saw, by payment hash. */
  readonly preimages = new Map<string, string>()

  constructor (readonly s: MonitorState, readonly keys: MonitorKeys) {
    for (const tx of s.seen) for (const i of tx.inputs) this.spenders.set(`${i.txid}:${i.vout}`, { tx, witness: i.witness })
  }

  spender (txid: string, vout: number): { tx: SeenTx; witness: string[] } | undefined { return this.spenders.get(`${txid}:${vout}`) }
  final (tx: SeenTx): boolean { return this.s.height - tx.height + 1 >= this.s.config.depth }

  /** Tracks an output: counts it open until a final tx spends it; returns its spender if any. */
  track (txid: string, vout: number): { tx: SeenTx; witness: string[] } | undefined {
    this.watched.push(`${txid}:${vout}`)
    const sp = this.spender(txid, vout)
    if (sp === undefined || !this.final(sp.tx)) this.open++
    return sp
  }

  decide (h: Htlc, outcome: 'fulfilled' | 'failed', by: SeenTx, preimage?: string): void {
    if (this.outcomes.get(htlcKey(h))?.outcome === 'fulfilled') return
    this.outcomes.set(htlcKey(h), { htlc: h, outcome, ...(preimage !== undefined ? { preimage } : {}), final: this.final(by) })
  }

  claim (key: string, reason: WantReason, claims: Claim[]): void {
    if (claims.length === 0) return
    const feeratePerKw = claimFeerate(this.s, key)
    const r = buildClaimTx({ claims, destinationScript: hexToBytes(this.s.config.sweepScript), feeratePerKw })
    // BOLT #5: outputs too small to be worth spending (below dust after the fee) are left.
    if (!r.ok) return
    this.wants.push({ key, tx: r.tx, txid: txidOf(r.tx), reason, feeratePerKw })
  }

  want (key: string, reason: WantReason, tx: Tx): void { this.wants.push({ key, tx, txid: txidOf(tx), reason }) }
}

/** A 32-byte witness item that hashes to `paymentHash`. */
function preimageIn (witness: string[], paymentHash: string): string | undefined {
  const hash = hexToBytes(paymentHash)
  for (const w of witness) if (w.length === 64 && equalBytes(sha256(hexToBytes(w)), hash)) return w
  return undefined
}

/** HTLCs whose fate the owner cares about: in our latest commitment or an unrevoked one of the peer. */
function candidateHtlcs (s: MonitorState): Map<string, Htlc> {
  const out = new Map<string, Htlc>()
  for (const h of s.local?.spec.htlcs ?? []) out.set(htlcKey(h), h)
  for (const r of s.remotes) if (r.number > s.revokedUpTo) for (const h of r.htlcs) out.set(htlcKey(h), h)
  return out
}

export function resolve (s: MonitorState, keys: MonitorKeys): Resolution {
  const c = new Ctx(s, keys)
  const fundings = knownFundings(s)
  if (fundings.length === 0) return { wants: [], preimages: [], outcomes: [], watched: [], resolved: false }
  // The close: a transaction in the chain spending a funding output the channel's commitments may
  // spend (splice transactions are not recorded as spends: step.ts connect).
  let spend: { tx: SeenTx } | undefined
  let on = fundings[0]!
  for (const f of fundings) {
    c.watched.push(`${f.txid}:${f.outputIndex}`)
    const sp = spend === undefined ? c.spender(f.txid, f.outputIndex) : undefined
    if (sp !== undefined) { spend = sp; on = f }
  }

  // Preimages revealed in any spend we saw (BOLT #5: "MUST extract the payment preimage from the
  // transaction input witness").
  const candidates = candidateHtlcs(s)
  const preimages = c.preimages
  const hashes = new Set([...candidates.values()].map(h => h.paymentHash))
  for (const r of s.remotes) for (const h of r.htlcs) hashes.add(h.paymentHash)
  for (const tx of s.seen) {
    if (tx.stage === 0) continue
    for (const i of tx.inputs) {
      for (const w of i.witness) {
        if (w.length !== 64) continue
        const hash = bytesToHex(sha256(hexToBytes(w)))
        if (hashes.has(hash)) preimages.set(hash, w)
      }
    }
  }

  if (spend === undefined) {
    whileOpen(c, fundings)
    return {
      wants: c.wants, preimages: [...preimages].map(([paymentHash, preimage]) => ({ paymentHash, preimage })), outcomes: [],
      watched: c.watched, resolved: false,
    }
  }

  const what = identifyFundingSpend(s, keys, spend.tx, on)
  const C = spend.tx
  switch (what.kind) {
    case 'local': onLocal(c, C, what.rec, on.setup); break
    case 'remote': onRemote(c, { tx: C, point: hexToBytes(what.rec.perCommitmentPoint), htlcs: what.rec.htlcs }); break
    case 'revoked': onRemote(c, { tx: C, point: getCurve().pubkey(what.secret), htlcs: what.htlcs, secret: what.secret }); break
    case 'unknown': onRemote(c, { tx: C, htlcs: [] }); break
    case 'mutual': break
  }
  // HTLCs that are not on the confirmed commitment (trimmed, or not in it at all) are decided by it:
  // BOLT #5 "if the commitment transaction HTLC output is trimmed [...] MUST fail the corresponding
  // incoming HTLC (if any) once the commitment transaction has reached reasonable depth".
  for (const h of candidates.values()) {
    if (c.onChain.has(htlcKey(h)) || c.outcomes.has(htlcKey(h))) continue
    const pre = preimages.get(h.paymentHash)
    if (pre !== undefined && h.offerer === 'local') c.decide(h, 'fulfilled', C, pre)
    else c.decide(h, 'failed', C)
  }
  return {
    spend: { tx: C, kind: what.kind },
    wants: c.wants,
    preimages: [...preimages].map(([paymentHash, preimage]) => ({ paymentHash, preimage })),
    outcomes: [...c.outcomes.values()],
    watched: c.watched,
    resolved: c.final(C) && c.open === 0 && c.wants.length === 0,
  }
}

/**
 * Nothing spent a funding output yet. A signed splice is broadcast until it (or a replacement)
 * confirms. If we are closing, our latest commitment goes out: BOLT #5: a node that must fail the
 * channel "MUST broadcast the most recent commitment transaction" — unless we know we lost state
 * (BOLT #2 data-loss protection: "MUST NOT broadcast its commitment transaction"). With a splice
 * pending, its version on the candidate that confirmed; while none is confirmed, its version on the
 * newest signed candidate after that candidate's transaction (the node takes the child with its
 * parent), then on the current funding: whichever of the chains the node takes (the splice may never
 * confirm: a double-spent input), each is handled when it confirms.
 */
function whileOpen (c: Ctx, fundings: KnownFunding[]): void {
  const s = c.s
  const confirmed = confirmedCandidate(s)
  const latest = latestSigned(s)
  if (confirmed === undefined && latest !== undefined) c.want(`splice:${latest.txid}`, 'splice', spliceTx(latest))
  if (s.forceClose === undefined || s.doNotBroadcast || s.local === undefined) return
  const ours = (f: KnownFunding | undefined): LocalCommitRecord | undefined => f?.locals.find(r => r.number === s.local!.number)
  const candidate = fundings.find(f => f.kind === 'candidate' && f.txid === (confirmed ?? latest)?.txid)
  const onCandidate = ours(candidate)
  if (onCandidate !== undefined) c.want(
    `commitment:${candidate!.txid}`, 'commitment', buildLocal(candidate!.setup, c.keys, onCandidate).signedTx,
  )
  if (confirmed === undefined) c.want('commitment', 'commitment', buildLocal(fundings[0]!.setup, c.keys, s.local).signedTx)
}

/** Our commitment confirmed (BOLT #5 "Unilateral Close Handling: Local Commitment Transaction"),
 *  spending the funding output `setup` describes. */
function onLocal (c: Ctx, C: SeenTx, rec: LocalCommitRecord, setup: ChannelSetup): void {
  const s = c.s
  const b = buildLocal(setup, c.keys, rec)
  const k = b.params.keys
  const delay = b.params.toSelfDelay
  const delayedClaim = (txid: string, vout: number, valueSat: number): Claim => claimToLocalDelayed({
    outpoint: { txid: txid as Txid, vout }, valueSat: sat(valueSat), revocationPubkey: k.revocationPubkey,
    localDelayedPubkey: k.localDelayedPubkey, toSelfDelay: delay, localDelayedPrivkey: b.delayedPrivkey,
  })
  // A CSV-locked output created at height H can be mined at H + delay: broadcast from H + delay − 1.
  const csvReady = (created: SeenTx): boolean => s.height >= created.height + delay - 1

  for (const o of b.commitment.outputs) {
    if (o.kind === 'to_local') {
      // BOLT #5: "SHOULD spend the to_local output to a convenient address [...] MUST wait until the
      // OP_CHECKSEQUENCEVERIFY delay has passed".
      if (c.track(C.txid, o.vout) === undefined && csvReady(C)) c.claim(
        `to_local:${C.txid}:${o.vout}`, 'to_local', [delayedClaim(C.txid, o.vout, o.valueSat)],
      )
      continue
    }
    if (o.kind !== 'htlc') continue
    const i = b.commitment.htlcOutputs.findIndex(x => x.vout === o.vout)
    const hx = b.htlcTxs[i]!
    const offered = o.htlc.direction === 'offered'
    const h = rec.spec.htlcs.find(x => x.offerer === (offered ? 'local' : 'remote') && x.id === o.htlc.id)!
    c.onChain.add(htlcKey(h))
    const sp = c.track(C.txid, o.vout)
    if (sp !== undefined) {
      const pre = preimageIn(sp.witness, h.paymentHash)
      if (pre !== undefined) c.decide(h, 'fulfilled', sp.tx, pre)
      else c.decide(h, 'failed', sp.tx)
      // Our HTLC-success/timeout tx (witness 0 <remotesig> <localsig> <preimage or empty> <script>):
      // its output is ours after to_self_delay. BOLT #5: "MUST spend the output of the HTLC-timeout
      // [or HTLC-success] transaction [...] once the delay has passed".
      if (sp.witness.length === 5) {
        const out = sp.tx.outputs[0]!
        if (c.track(sp.tx.txid, 0) === undefined && csvReady(sp.tx)) c.claim(
          `second_stage:${sp.tx.txid}`, 'second_stage', [delayedClaim(sp.tx.txid, 0, out.valueSat)],
        )
      }
      continue
    }
    if (offered) {
      // BOLT #5 (local commitment, local offers): "if the commitment transaction HTLC output has
      // timed out and hasn't been resolved: MUST resolve the output by spending it using the
      // HTLC-timeout transaction." Relayable once the tip reaches its locktime.
      if (s.height >= h.cltvExpiry) c.want(
        `htlc:${C.txid}:${o.vout}`, 'htlc_timeout',
        finalizeHtlcTx(hx.htlcTx, hx.counterpartySig, signHtlcTx(hx.htlcTx, b.htlcPrivkey, 'holder')),
      )
    } else {
      // BOLT #5 (local commitment, remote offers): "if it receives (or already possesses) a payment
      // preimage for an unresolved HTLC output that it has been offered [...]: MUST resolve the
      // output by spending it, using the HTLC-success transaction."
      const pre = s.preimages[h.paymentHash] ?? c.preimages.get(h.paymentHash)
      if (pre !== undefined) c.want(
        `htlc:${C.txid}:${o.vout}`, 'htlc_success',
        finalizeHtlcTx(hx.htlcTx, hx.counterpartySig, signHtlcTx(hx.htlcTx, b.htlcPrivkey, 'holder'), hexToBytes(pre)),
      )
    }
  }
}

/** A commitment of the peer's that confirmed, and what we know of it. */
interface RemoteCommitment {
  tx: SeenTx
  /** Its per-commitment point; undefined for a commitment we know nothing of (only our to_remote can
   *  be found on it). */
  point?: Uint8Array
  /** The HTLCs it holds. */
  htlcs: Htlc[]
  /** Its per-commitment secret: we know it once the peer revoked the commitment (a penalty is due). */
  secret?: Uint8Array
}

/**
 * The peer's commitment confirmed: its latest or previous one (point known, no secret), a revoked one
 * (secret known), or one we know nothing of (no point).
 */
function onRemote (c: Ctx, { tx: C, point, htlcs, secret }: RemoteCommitment): void {
  const s = c.s
  const setup = s.setup!
  const anchors = setup.channelType === 'anchors'
  const ourPayment = hexToBytes(setup.local.paymentBasepoint)
  const toRemoteScript = bytesToHex(anchors ? p2wsh(toRemoteAnchorsWitnessScript(ourPayment)) : p2wpkh(ourPayment))
  const keys: CommitmentKeys | undefined = point === undefined ? undefined : deriveCommitmentKeys(
    basepoints(setup.remote!), basepoints(setup.local), point,
  )
  const revPriv = secret === undefined ? undefined : revocationPrivkey(c.keys, secret)
  const toLocalWs = keys === undefined ? undefined : toLocalWitnessScript(
    keys.revocationPubkey, setup.local.toSelfDelay, keys.localDelayedPubkey,
  )
  const toLocalScript = toLocalWs === undefined ? undefined : bytesToHex(p2wsh(toLocalWs))
  const htlcPriv = point === undefined ? undefined : htlcPrivkey(c.keys, point)
  // HTLC output scripts, from the holder's (the peer's) side: what it offered is 'offered'.
  const byScript = new Map<string, Array<{ h: Htlc; ws: Uint8Array }>>()
  if (keys !== undefined) {
    for (const h of htlcs) {
      const ws = htlcWitnessScript({
        direction: h.offerer === 'remote' ? 'offered' : 'received', id: h.id, amountMsat: h.amountMsat,
        paymentHash: hexToBytes(h.paymentHash), cltvExpiry: h.cltvExpiry,
      }, keys, anchors)
      const key = bytesToHex(p2wsh(ws))
      byScript.set(key, [...(byScript.get(key) ?? []), { h, ws }])
    }
  }
  const penalty: Claim[] = []
  const revokedSecondStage = (txid: string, valueSat: number): Claim => claimRevokedToLocal({
    outpoint: { txid: txid as Txid, vout: 0 }, valueSat: sat(valueSat), revocationPubkey: keys!.revocationPubkey,
    localDelayedPubkey: keys!.localDelayedPubkey, toSelfDelay: setup.local.toSelfDelay, revocationPrivkey: revPriv!,
  })

  C.outputs.forEach((o, vout) => {
    const outpoint = { txid: C.txid as Txid, vout }
    if (o.script === toRemoteScript) {
      // BOLT #5: the to_remote output "is resolved by the commitment transaction itself"; with
      // static_remotekey it pays our payment_basepoint, a key the wallet does not watch: sweep it.
      if (c.track(C.txid, vout) === undefined) {
        const claim = claimToRemote({
          channelType: setup.channelType, outpoint, valueSat: sat(o.valueSat), paymentPrivkey: c.keys.paymentBasepointSecret,
        })
        if (revPriv !== undefined) penalty.push(claim)
        else c.claim(`to_remote:${C.txid}:${vout}`, 'to_remote', [claim])
      }
      return
    }
    if (revPriv !== undefined && o.script === toLocalScript) {
      // BOLT #5 (revoked): "MUST resolve the remote node's to_local output by spending it using the
      // revocation private key."
      if (c.track(C.txid, vout) === undefined) penalty.push(claimRevokedToLocal({
        outpoint, valueSat: sat(o.valueSat), revocationPubkey: keys!.revocationPubkey, localDelayedPubkey: keys!.localDelayedPubkey,
        toSelfDelay: setup.local.toSelfDelay, revocationPrivkey: revPriv,
      }))
      return
    }
    const matches = byScript.get(o.script)
    const m = matches?.shift()
    if (m === undefined) return
    const h = m.h
    c.onChain.add(htlcKey(h))
    const sp = c.track(C.txid, vout)
    if (sp !== undefined) {
      const pre = preimageIn(sp.witness, h.paymentHash)
      if (pre !== undefined) c.decide(h, 'fulfilled', sp.tx, pre)
      else c.decide(h, 'failed', sp.tx)
      // BOLT #5 (revoked): resolve the remote node's HTLCs by "spend[ing] the HTLC-timeout tx [or
      // HTLC-success tx], if the remote node has published it" — with the revocation key.
      if (revPriv !== undefined && sp.witness.length === 5 && c.track(sp.tx.txid, 0) === undefined) penalty.push(revokedSecondStage(
        sp.tx.txid, sp.tx.outputs[0]!.valueSat,
      ))
      return
    }
    if (revPriv !== undefined) {
      // BOLT #5 (revoked): "spend the commitment tx using the payment revocation private key".
      penalty.push(claimRevokedHtlc({
        outpoint, valueSat: sat(o.valueSat), witnessScript: m.ws, revocationPubkey: keys!.revocationPubkey, revocationPrivkey: revPriv,
      }))
      return
    }
    if (h.offerer === 'remote') {
      // BOLT #5 (remote commitment, remote offers): "if it receives (or already possesses) a payment
      // preimage [...]: MUST resolve the output by spending it to a convenient address."
      const pre = s.preimages[h.paymentHash] ?? c.preimages.get(h.paymentHash)
      if (pre !== undefined) c.claim(`remote_htlc:${C.txid}:${vout}`, 'remote_htlc_success', [claimRemoteHtlcSuccess({
        channelType: setup.channelType, outpoint, valueSat: sat(o.valueSat), witnessScript: m.ws, htlcPrivkey: htlcPriv!,
        preimage: hexToBytes(pre),
      })])
    } else if (s.height >= h.cltvExpiry) {
      // BOLT #5 (remote commitment, local offers): "if the commitment transaction HTLC output has
      // timed out: MUST resolve the output, by spending it to a convenient address."
      c.claim(`remote_htlc:${C.txid}:${vout}`, 'remote_htlc_timeout', [claimRemoteHtlcTimeout({
        channelType: setup.channelType, outpoint, valueSat: sat(o.valueSat), witnessScript: m.ws, htlcPrivkey: htlcPriv!,
        cltvExpiry: h.cltvExpiry,
      })])
    }
  })
  // One penalty transaction takes every output of the revoked commitment that is still unspent, and
  // the outputs of the second-stage txs the cheater published (BOLT #5: "MAY combine [...] into a
  // single transaction"). Its inputs change as the cheater's txs confirm; each version replaces the last.
  if (penalty.length > 0) c.claim(`penalty:${C.txid}`, 'penalty', penalty)
}
