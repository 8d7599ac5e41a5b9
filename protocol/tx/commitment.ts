// The commitment transaction (BOLT #3 "Commitment Transaction" and "Commitment Transaction
// Construction"), for static_remotekey and anchors channels.
import { compareBytes } from '../crypto/hash.ts'
import { getCurve, type Curve } from '../crypto/index.ts'
import { derivePubkey, deriveRevocationPubkey, obscuringFactor, xor48 } from '../keys/derive.ts'
import { sat, type Sat } from '../types.ts'
import { ANCHOR_OUTPUT_SAT, commitmentBaseFeeSat, isHtlcTrimmed } from './fees.ts'
import {
  anchorWitnessScript, offeredHtlcWitnessScript, p2wpkh, p2wsh, receivedHtlcWitnessScript,
  toLocalWitnessScript, toRemoteAnchorsWitnessScript,
} from './script.ts'
import { txid } from './serialize.ts'
import type {
  ChannelBasepoints, Commitment, CommitmentHtlc, CommitmentKeys, CommitmentOutput, CommitmentParams, HtlcOutput, Tx, TxOutput,
} from './types.ts'

/**
 * The keys of the commitment held by `holder`, whose per_commitment_point is `holderPerCommitmentPoint`.
 * For our own commitment: holder = us, counterparty = peer, point = our point for that number.
 * For the peer's commitment: holder = peer, counterparty = us, point = the peer's point.
 */
export function deriveCommitmentKeys (
  holder: ChannelBasepoints, counterparty: ChannelBasepoints, holderPerCommitmentPoint: Uint8Array, curve?: Curve,
): CommitmentKeys {
  const c = getCurve(curve)
  // The two HTLC keys are derived on first use: a commitment whose HTLCs are all trimmed (micro-
  // payments) never needs them, and each is a point multiplication.
  let localHtlcPubkey: Uint8Array | undefined
  let remoteHtlcPubkey: Uint8Array | undefined
  return {
    revocationPubkey: deriveRevocationPubkey(counterparty.revocationBasepoint, holderPerCommitmentPoint, c),
    localDelayedPubkey: derivePubkey(holder.delayedPaymentBasepoint, holderPerCommitmentPoint, c),
    get localHtlcPubkey () { return (localHtlcPubkey ??= derivePubkey(holder.htlcBasepoint, holderPerCommitmentPoint, c)) },
    get remoteHtlcPubkey () { return (remoteHtlcPubkey ??= derivePubkey(counterparty.htlcBasepoint, holderPerCommitmentPoint, c)) },
    // BOLT #3 "remotepubkey Derivation": "The remotepubkey is simply the remote node's payment_basepoint."
    remotePaymentPubkey: counterparty.paymentBasepoint,
    localFundingPubkey: holder.fundingPubkey,
    remoteFundingPubkey: counterparty.fundingPubkey,
  }
}

/** The witness script of one HTLC's output on a commitment with these keys. */
export function htlcWitnessScript (htlc: CommitmentHtlc, keys: CommitmentKeys, anchors: boolean): Uint8Array {
  return htlc.direction === 'offered'
    ? offeredHtlcWitnessScript(keys, htlc.paymentHash, anchors)
    : receivedHtlcWitnessScript(keys, htlc.paymentHash, htlc.cltvExpiry, anchors)
}

/**
 * BOLT #3: "locktime: upper 8 bits are 0x20, lower 24 bits are the lower 24 bits of the obscured
 * commitment number"; "sequence: upper 8 bits are 0x80, lower 24 bits are upper 24 bits of the
 * obscured commitment number".
 */
export function commitmentLocktime (obscured: number): number { return 0x20000000 + (obscured % 2 ** 24) }
export function commitmentSequence (obscured: number): number { return 0x80000000 + Math.floor(obscured / 2 ** 24) }
/** The obscured commitment number a commitment tx carries (what the monitor reads back). */
export function obscuredNumberOf (tx: Tx): number | undefined {
  const seq = tx.inputs[0]?.sequence
  if (seq === undefined || Math.floor(seq / 2 ** 24) !== 0x80 || Math.floor(tx.locktime / 2 ** 24) !== 0x20) return undefined
  return (seq % 2 ** 24) * 2 ** 24 + (tx.locktime % 2 ** 24)
}

/**
 * The commitment number a commitment tx (e.g. one seen on chain) carries: its obscured number XOR
 * the channel's obscuring factor. Undefined if the tx does not have a commitment's locktime/sequence.
 */
export function commitmentNumberOf (tx: Tx, openerPaymentBasepoint: Uint8Array, accepterPaymentBasepoint: Uint8Array): number | undefined {
  const obscured = obscuredNumberOf(tx)
  return obscured === undefined ? undefined : xor48(obscured, obscuringFactor(openerPaymentBasepoint, accepterPaymentBasepoint))
}

type WithoutVout<T> = T extends unknown ? Omit<T, 'vout'> : never
/** `tie`: [direction rank, HTLC id] for HTLC outputs, [0, 0] otherwise. */
type Draft = { out: TxOutput, info: WithoutVout<CommitmentOutput>, cltv: number, tie: readonly [number, number] }

/**
 * BOLT #3 "Transaction Output Ordering": "Outputs are ordered according to BIP 69 (lexicographic by
 * value, then scriptPubKey). If two HTLC outputs are identical, they are ordered by ascending
 * cltv_expiry." Anything still equal is ordered by HTLC direction and id, so the mapping is the same
 * whatever order the HTLCs were given in (their bytes are identical then anyway).
 */
function compareOutputs (a: Draft, b: Draft): number {
  return (a.out.valueSat - b.out.valueSat) || compareBytes(a.out.script, b.out.script) || (a.cltv - b.cltv) ||
    (a.tie[0] - b.tie[0]) || (a.tie[1] - b.tie[1])
}

/**
 * Builds the (unsigned) commitment transaction held by the party whose keys are `params.keys.local*`.
 * Throws a RangeError only on inconsistent input (a programmer error): balances and HTLCs that do not
 * add up to the funding amount, or bad numbers.
 */
export function buildCommitment (params: CommitmentParams): Commitment {
  const { channelType, funding, keys, feeratePerKw, dustLimitSat } = params
  const anchors = channelType === 'anchors'
  const htlcTotalMsat = params.htlcs.reduce((n, h) => n + h.amountMsat, 0)
  if (params.toLocalMsat + params.toRemoteMsat + htlcTotalMsat !== funding.amountSat * 1000) {
    throw new RangeError(`buildCommitment: to_local ${params.toLocalMsat} + to_remote ${params.toRemoteMsat} + htlcs ${htlcTotalMsat} ` +
      `msat != funding ${funding.amountSat} sat`)
  }
  if (!Number.isSafeInteger(feeratePerKw) || feeratePerKw < 0) throw new RangeError(`buildCommitment: bad feerate ${feeratePerKw}`)

  // 1. "Calculate which committed HTLCs need to be trimmed."
  const untrimmed: CommitmentHtlc[] = []
  const trimmed: CommitmentHtlc[] = []
  for (const h of params.htlcs) (isHtlcTrimmed(h, channelType, feeratePerKw, dustLimitSat) ? trimmed : untrimmed).push(h)

  // 2-3. "Subtract this base fee from the funder ... If option_anchors applies ..., also subtract two
  // times the fixed anchor size of 330 sats from the funder." A funder that cannot pay ends at zero:
  // everything it had goes to fees (BOLT #3 vector "commitment tx with fee greater than funder amount").
  const baseFeeSat = commitmentBaseFeeSat(channelType, feeratePerKw, untrimmed.length)
  const funderCostMsat = (baseFeeSat + (anchors ? 2 * ANCHOR_OUTPUT_SAT : 0)) * 1000
  let toLocalMsat: number = params.toLocalMsat
  let toRemoteMsat: number = params.toRemoteMsat
  if (params.holderIsOpener) toLocalMsat = Math.max(0, toLocalMsat - funderCostMsat)
  else toRemoteMsat = Math.max(0, toRemoteMsat - funderCostMsat)

  const drafts: Draft[] = []
  // 4-5. Offered and received HTLC outputs, if not trimmed.
  for (const h of untrimmed) {
    const witnessScript = htlcWitnessScript(h, keys, anchors)
    const valueSat = sat(Math.floor(h.amountMsat / 1000))
    drafts.push({
      out: { valueSat, script: p2wsh(witnessScript) },
      info: { kind: 'htlc', valueSat, witnessScript, htlc: h },
      cltv: h.cltvExpiry,
      tie: [h.direction === 'offered' ? 0 : 1, h.id],
    })
  }
  // 6. "If the to_local amount is greater or equal to dust_limit_satoshis, add a to_local output."
  const toLocalSat = Math.floor(toLocalMsat / 1000)
  const hasToLocal = toLocalSat >= dustLimitSat
  if (hasToLocal) {
    const witnessScript = toLocalWitnessScript(keys.revocationPubkey, params.toSelfDelay, keys.localDelayedPubkey)
    drafts.push({
      out: { valueSat: sat(toLocalSat), script: p2wsh(witnessScript) },
      info: { kind: 'to_local', valueSat: sat(toLocalSat), witnessScript }, cltv: 0, tie: [0, 0],
    })
  }
  // 7. "If the to_remote amount is greater or equal to dust_limit_satoshis, add a to_remote output."
  const toRemoteSat = Math.floor(toRemoteMsat / 1000)
  const hasToRemote = toRemoteSat >= dustLimitSat
  if (hasToRemote) {
    const witnessScript = anchors ? toRemoteAnchorsWitnessScript(keys.remotePaymentPubkey) : undefined
    const script = witnessScript === undefined ? p2wpkh(keys.remotePaymentPubkey) : p2wsh(witnessScript)
    drafts.push({
      out: { valueSat: sat(toRemoteSat), script }, info: { kind: 'to_remote', valueSat: sat(toRemoteSat), witnessScript }, cltv: 0,
      tie: [0, 0],
    })
  }
  // 8. "if to_local exists or there are untrimmed HTLCs, add a to_local_anchor output; if to_remote
  // exists or there are untrimmed HTLCs, add a to_remote_anchor output".
  if (anchors) {
    const anchorFor = (kind: 'local_anchor' | 'remote_anchor', pubkey: Uint8Array): Draft => {
      const witnessScript = anchorWitnessScript(pubkey)
      return {
        out: { valueSat: ANCHOR_OUTPUT_SAT, script: p2wsh(witnessScript) }, info: { kind, valueSat: ANCHOR_OUTPUT_SAT, witnessScript },
        cltv: 0, tie: [0, 0],
      }
    }
    if (hasToLocal || untrimmed.length > 0) drafts.push(anchorFor('local_anchor', keys.localFundingPubkey))
    if (hasToRemote || untrimmed.length > 0) drafts.push(anchorFor('remote_anchor', keys.remoteFundingPubkey))
  }
  // 9. "Sort the outputs into BIP 69+CLTV order."
  drafts.sort(compareOutputs)

  const tx: Tx = {
    version: 2,
    locktime: commitmentLocktime(params.obscuredCommitmentNumber),
    inputs: [{
      txid: funding.txid, vout: funding.vout, sequence: commitmentSequence(params.obscuredCommitmentNumber), scriptSig: new Uint8Array(0),
      witness: [],
    }],
    outputs: drafts.map(d => d.out),
  }
  const outputs = drafts.map((d, vout) => ({ ...d.info, vout }) as CommitmentOutput)
  const htlcOutputs: HtlcOutput[] = []
  for (const o of outputs) if (o.kind === 'htlc') htlcOutputs.push({
    htlc: o.htlc, vout: o.vout, valueSat: o.valueSat, witnessScript: o.witnessScript,
  })
  const totalOut = tx.outputs.reduce((n, o) => n + o.valueSat, 0)
  // Only possible with anchors when the funder holds less than the two anchors: BOLT #2 reserve and
  // fee checks must have refused such a state before it got here.
  if (totalOut > funding.amountSat) throw new RangeError('buildCommitment: the funder cannot pay for the anchor outputs')
  return {
    tx,
    txid: txid(tx),
    outputs,
    htlcOutputs,
    trimmedHtlcs: trimmed,
    baseFeeSat,
    feeSat: sat(funding.amountSat - totalOut) as Sat,
  }
}
