// Cooperative close (BOLT #2 "Channel Close"): shutdown, then closing_signed fee negotiation with
// fee_range. Every closing_signed we send is stored first (the peer can broadcast the closing tx as
// soon as it has our signature), and the agreement is stored before the host is told.
import { channelError } from '../errors.ts'
import { sat, type Sat } from '../types.ts'
import type { ClosingSigned, Shutdown } from '../wire/index.ts'
import type { StepBuilder } from './effects.ts'
import { onCommandError, onPeerError } from './failure.ts'
import { CLOSING_TX_WEIGHT } from './fees.ts'
import { funderMaxClosingFee } from './close-preview.ts'
import { hasCommittedHtlcs, hasPendingUpdates } from './queries.ts'
import { checkClosingFee, checkReceivedShutdown, isAllowedShutdownScript } from './rules/shutdown.ts'
import { signedClosingTx } from './closing-tx.ts'
import type { ChannelSigner, ClosingRef, ClosingVariant } from './signer.ts'
import type { ChannelState, LocalCommit, RemoteCommit } from './state.ts'

/** Local command: start a cooperative close. */
export function commandShutdown (b: StepBuilder, signer: ChannelSigner, script?: string): void {
  const s = b.state
  const to = script ?? s.setup.localShutdownScript
  if (!(s.phase === 'normal' || s.phase === 'shutting_down') || s.closing.localScript !== undefined) {
    return onCommandError(b, 'shutdown', channelError('unexpected_message', `cannot shut down in phase ${s.phase}`, 'ignore'))
  }
  if (!isAllowedShutdownScript(to)) return onCommandError(
    b, 'shutdown', channelError('bad_shutdown_script', 'not an allowed scriptpubkey', 'ignore'),
  )
  // BOLT #2 (shutdown, sender): "if there are updates pending on the receiving node's commitment
  // transaction: MUST NOT send a `shutdown`." Sign them first.
  if (s.localChanges.proposed.length > 0) return onCommandError(
    b, 'shutdown', channelError('unexpected_message', 'sign pending updates before shutdown', 'ignore'),
  )
  s.setup.localShutdownScript = to
  sendShutdown(b)
  maybeStartClosing(b, signer)
}

function sendShutdown (b: StepBuilder): void {
  const s = b.state
  s.closing.localScript = s.setup.localShutdownScript
  s.phase = 'shutting_down'
  // Remembering that we sent shutdown (and where to) must survive a restart: BOLT #2 "upon
  // reconnection: if it has sent a previous `shutdown`: MUST retransmit `shutdown`."
  b.persist()
  if (s.link === 'up') b.send(shutdownMessage(s))
}

export function shutdownMessage (s: ChannelState): Shutdown {
  return { type: 'shutdown', channel_id: s.channelId, scriptpubkey: s.closing.localScript! }
}

export function receiveShutdown (b: StepBuilder, signer: ChannelSigner, msg: Shutdown): void {
  const s = b.state
  const err = checkReceivedShutdown(s, msg.scriptpubkey)
  if (err !== undefined) return onPeerError(b, err)
  if (s.closing.remoteScript === undefined) {
    s.closing.remoteScript = msg.scriptpubkey
    if (s.phase === 'normal') s.phase = 'shutting_down'
    b.persist()
  }
  maybeReplyShutdown(b)
  maybeStartClosing(b, signer)
}

/** BOLT #2 (shutdown, receiver): "once there are no outstanding updates on the peer, UNLESS it has
 *  already sent a `shutdown`: MUST reply to a `shutdown` message with a `shutdown`". */
export function maybeReplyShutdown (b: StepBuilder): void {
  const s = b.state
  if (s.closing.remoteScript !== undefined && s.closing.localScript === undefined && s.localChanges.proposed.length === 0) sendShutdown(b)
}

/** The current commitments. A close may start before channel_ready (BOLT #2: "MAY send a `shutdown`
 *  before a `channel_ready`"), when the peer's next per-commitment point is not known yet: closing
 *  needs only commitment 0. */
function commits (s: ChannelState): { local: LocalCommit; remote: RemoteCommit } {
  if (s.localCommit === undefined || s.remoteCommit === undefined) throw new Error(`no commitments yet in phase ${s.phase}`)
  return { local: s.localCommit, remote: s.remoteCommit }
}

/** No HTLC in either commitment, nothing unsigned or unrevoked: the final commitments are equal. */
function isClean (s: ChannelState): boolean {
  return s.nextRemoteCommit === undefined && !hasCommittedHtlcs(s) && !hasPendingUpdates(s)
}

function closingRef (s: ChannelState, feeSat: number): ClosingRef {
  return { feeSat: feeSat as Sat, localScript: s.closing.localScript!, remoteScript: s.closing.remoteScript!, spec: commits(s).local.spec }
}

/** Our fee range: the funder offers around its estimate, capped by what it can pay; the other side
 *  accepts anything from the floor feerate up (it does not pay). */
function ourRange (s: ChannelState, theirs?: { min: number; max: number }): { min: Sat; max: Sat } {
  const spec = commits(s).local.spec
  const funderSat = Math.floor((s.setup.isFunder ? spec.toLocalMsat : spec.toRemoteMsat) / 1000)
  const floor = Math.floor(s.policy.minFeeratePerKw * CLOSING_TX_WEIGHT / 1000)
  if (s.setup.isFunder) return { min: sat(Math.min(floor, funderSat)), max: funderMaxClosingFee(s) }
  return { min: sat(Math.min(floor, funderSat)), max: sat(Math.min(Math.max(theirs?.max ?? floor, floor), funderSat)) }
}

export function maybeStartClosing (b: StepBuilder, signer: ChannelSigner): void {
  const s = b.state
  if (s.phase !== 'shutting_down' || s.link !== 'up') return
  if (s.closing.localScript === undefined || s.closing.remoteScript === undefined || !isClean(s)) return
  // A closing transaction spends the current funding output: with a splice pending it could conflict
  // with the splice. Negotiation starts once the splice is locked (splice/locked.ts).
  if ((s.splice?.candidates.length ?? 0) > 0) return
  s.phase = 'negotiating_close'
  b.emit({ type: 'shutdown_complete' })
  // BOLT #2 (closing_signed): "The funding node: after `shutdown` has been received, AND no HTLCs
  // remain in either commitment transaction: SHOULD send a `closing_signed` message."
  if (s.setup.isFunder) {
    const range = ourRange(s)
    const fee = Math.floor(commits(s).local.spec.feeratePerKw * CLOSING_TX_WEIGHT / 1000)
    sendClosingSigned(b, signer, Math.max(range.min, Math.min(fee, range.max)), range)
  }
}

function sendClosingSigned (b: StepBuilder, signer: ChannelSigner, feeSat: number, range: { min: Sat; max: Sat }): void {
  const s = b.state
  const ref = closingRef(s, feeSat)
  s.closing.ourRange = range
  s.closing.lastSentFeeSat = feeSat as Sat
  b.persist({ kind: 'closing_signed', feeSat: feeSat as Sat, localScript: ref.localScript, remoteScript: ref.remoteScript })
  const msg: ClosingSigned = {
    type: 'closing_signed', channel_id: s.channelId, fee_satoshis: feeSat as Sat, signature: signer.signClosing(s.setup, ref),
    fee_range: { min_fee_satoshis: range.min, max_fee_satoshis: range.max },
  }
  b.send(msg)
}

/** Both signed the closing transaction at `feeSat`: the peer's signature (`theirSignature`, valid for
 *  `variant`) and ours on the same variant make it whole. It is stored with the agreement, before the
 *  host hears of it, so a restart cannot lose it. */
function agree (b: StepBuilder, signer: ChannelSigner, feeSat: number, theirSignature: string, variant: ClosingVariant): void {
  const s = b.state
  const ref = { ...closingRef(s, feeSat), dustLimitSat: variant.dustLimitSat }
  const tx = signedClosingTx(s.setup, ref, signer.signClosing(s.setup, ref), theirSignature)
  s.closing.agreedFeeSat = feeSat as Sat
  s.closing.signedTx = tx
  s.phase = 'closing'
  b.persist({ kind: 'closing_signed', feeSat: feeSat as Sat, localScript: ref.localScript, remoteScript: ref.remoteScript })
  const spec = ref.spec
  const local = Math.floor(spec.toLocalMsat / 1000) - (s.setup.isFunder ? feeSat : 0)
  const remote = Math.floor(spec.toRemoteMsat / 1000) - (s.setup.isFunder ? 0 : feeSat)
  b.emit({ type: 'closing_agreed', feeSat: feeSat as Sat, toLocalSat: sat(local), toRemoteSat: sat(remote), tx })
}

export function receiveClosingSigned (b: StepBuilder, signer: ChannelSigner, msg: ClosingSigned): void {
  const s = b.state
  if (s.phase !== 'negotiating_close') return onPeerError(b, channelError('unexpected_message', `closing_signed in phase ${s.phase}`))
  const fee = msg.fee_satoshis
  const spec = commits(s).local.spec
  const funderSat = Math.floor((s.setup.isFunder ? spec.toLocalMsat : spec.toRemoteMsat) / 1000)
  if (fee > funderSat) return onPeerError(b, channelError('closing_fee_out_of_range', `fee ${fee} sat exceeds the funder's balance`))
  // BOLT #2: "if the `signature` is not valid for either variant of closing transaction ... MUST send
  // a `warning` and close the connection, or send an `error` and fail the channel."
  const variant = signer.checkClosing(s.setup, closingRef(s, fee), msg.signature)
  if (variant === undefined) return onPeerError(b, channelError('bad_signature', 'closing_signed signature'))
  s.closing.lastReceivedFeeSat = fee
  const theirs = msg.fee_range === undefined ? undefined : { min: msg.fee_range.min_fee_satoshis, max: msg.fee_range.max_fee_satoshis }
  // "if `fee_satoshis` is equal to its previously sent `fee_satoshis`: SHOULD sign and broadcast the
  // final closing transaction."
  if (s.closing.lastSentFeeSat === fee) return agree(b, signer, fee, msg.signature, variant)
  if (s.setup.isFunder) {
    // "if it is the funder: if `fee_satoshis` is not in the overlap between the sent and received
    // `fee_range`: MUST fail the channel; otherwise: MUST reply with the same `fee_satoshis`."
    const range = s.closing.ourRange ?? ourRange(s)
    const err = checkClosingFee(fee, range, theirs)
    if (err !== undefined) return onPeerError(b, { ...err, action: 'close' })
    sendClosingSigned(b, signer, fee, range)
    return agree(b, signer, fee, msg.signature, variant)
  }
  // Not the funder: "if it has already sent a `closing_signed`: if `fee_satoshis` is not the same as
  // the value it sent: MUST fail the channel; otherwise: MUST propose a `fee_satoshis` in the overlap
  // between received and (about-to-be) sent `fee_range`."
  if (s.closing.lastSentFeeSat !== undefined) return onPeerError(
    b, channelError('closing_fee_out_of_range', `fee ${fee} differs from the ${s.closing.lastSentFeeSat} we sent`, 'close'),
  )
  const range = ourRange(s, theirs)
  if (theirs !== undefined && (theirs.max < range.min || theirs.min > range.max)) {
    return onPeerError(b, channelError('closing_fee_no_overlap', `no overlap with [${range.min}, ${range.max}]`))
  }
  const lo = Math.max(range.min, theirs?.min ?? range.min)
  const hi = Math.min(range.max, theirs?.max ?? range.max)
  const pick = Math.max(lo, Math.min(fee, hi))
  sendClosingSigned(b, signer, pick, range)
  if (pick === fee) agree(b, signer, fee, msg.signature, variant)
}

/** The host's chain monitor found every output of the transaction that spent the funding output
 *  irrevocably resolved (BOLT #5), however the channel ended (mutual close, either commitment, a
 *  penalty): the channel is closed. Stored, so the channel says so after a restart. */
export function closedOnChain (b: StepBuilder): void {
  const s = b.state
  if (s.phase === 'closed') return
  s.phase = 'closed'
  b.persist()
}
