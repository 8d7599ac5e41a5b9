// Starting a splice or an RBF of the pending one (BOLT #2 "Channel Splicing": splice_init, splice_ack,
// tx_init_rbf, tx_ack_rbf), up to the first tx_add_input. Our host asks with the `splice` or
// `splice_rbf` command; the channel becomes quiescent first (quiescence.ts), then the quiescence
// initiator sends splice_init (or tx_init_rbf). The other side's host decides its own contribution
// (`splice_requested` event → `splice_respond` or `splice_reject`), then the interactive transaction
// starts (construct.ts). Nothing here is stored: a disconnection forgets it all.
import { channelError, type ChannelError } from '../../errors.ts'
import { startNegotiation, type NegotiationParams, type Role } from '../../interactive-tx/index.ts'
import { MAX_COMMITMENT_BATCH_SIZE } from '../../limits.ts'
import { fundingScriptPubkey } from '../../tx/funding.ts'
import { bytesToHex, hexToBytes, type NodeId, type Sat } from '../../types.ts'
import { replyMessage } from '../../interactive-tx/index.ts'
import type { SpliceAck, SpliceInit, TxAckRbf, TxInitRbf } from '../../wire/index.ts'
import type { StepBuilder } from '../effects.ts'
import { onCommandError, onPeerError } from '../failure.ts'
import { checkPoint } from '../rules/commitment.ts'
import { remoteParams, type ChannelState, type Side } from '../state.ts'
import { abortNegotiation } from './abort.ts'
import { quiescence } from './quiescence.ts'
import { checkContribution, checkNewCapacity, checkRbfFeerate, checkSpliceBalances, checkSpliceFeerate } from './rules.ts'
import { spliceOf, type SpliceContribution, type SpliceRequest, type SpliceSession } from './state.ts'

export interface SpliceCommandArgs {
  feeratePerKw: number
  locktime: number
  contribution: SpliceContribution
  nodeIds: { local: NodeId; remote: NodeId }
}

/** The interactive transaction's agreed parameters, from a session (both sides build the same). */
export function negotiationParams (
  s: ChannelState, session: Pick<SpliceSession, 'feeratePerKw' | 'locktime' | 'contributionSat' | 'fundingPubkey' | 'own'>, role: Role,
): NegotiationParams {
  const batch = session.own?.batch
  const f = s.setup.funding!
  const remote = remoteParams(s)
  const c = session.contributionSat
  return {
    role,
    feeratePerKw: session.feeratePerKw,
    locktime: session.locktime,
    // Both sides' dust limits: an output one of them refuses would end the negotiation.
    dustLimitSat: Math.max(s.setup.local.dustLimitSat, remote.dustLimitSat) as Sat,
    sharedInput: {
      txid: f.txid, vout: f.outputIndex, valueSat: s.setup.capacitySat,
      script: bytesToHex(fundingScriptPubkey(hexToBytes(s.setup.local.fundingPubkey), hexToBytes(remote.fundingPubkey))),
    },
    sharedOutput: {
      script: bytesToHex(fundingScriptPubkey(hexToBytes(session.fundingPubkey.local), hexToBytes(session.fundingPubkey.remote))),
      valueSat: (s.setup.capacitySat + c.local + c.remote) as Sat,
    },
    contributionSat: c,
    ...(batch !== undefined
      ? { batch: { payoutSerialId: batch.payoutSerialId, payoutScript: batch.payoutScript, payoutSat: batch.payoutSat } }
      : {}),
  }
}

/** The funding keys of a new splice: ours stays the channel's funding key (BOLT #2 "SHOULD use a
 *  different `funding_pubkey`": a SHOULD; the signer holds one funding key per channel, and every
 *  commitment signature commits to its funding outpoint, so none can be replayed on another). An RBF
 *  keeps the keys of the splice it replaces. */
function fundingKeys (s: ChannelState, rbf: boolean): Record<Side, string> {
  const last = s.splice?.candidates.at(-1)
  if (rbf && last !== undefined) return last.fundingPubkey
  return { local: s.setup.local.fundingPubkey, remote: remoteParams(s).fundingPubkey }
}

/** Our own side of a splice against the channel as it is (the same rules the peer applies to us). */
function checkOurSide (
  s: ChannelState, kind: 'splice' | 'rbf', a: Omit<SpliceCommandArgs, 'nodeIds'>, remoteContribution: number, role: Role,
): ChannelError | undefined {
  // A batched settlement's initiator knows the peer's contribution from the plan: the dry run builds
  // the whole batch with it.
  const expected = role === 'initiator' ? a.contribution.batch?.expect?.remoteContributionSat : undefined
  const contributionSat = { local: a.contribution.contributionSat, remote: expected ?? remoteContribution }
  const err = (kind === 'rbf' && role === 'initiator' ? checkRbfFeerate(s, a.feeratePerKw) : undefined) ??
    checkSpliceFeerate(s, a.feeratePerKw) ??
    checkContribution(s, 'local', contributionSat.local) ??
    checkNewCapacity(s, contributionSat) ??
    checkSpliceBalances(s, contributionSat, { local: a.contribution.outputs.length > 0, remote: false })
  if (err !== undefined) return err
  // Our inputs must pay our share of the fee at this feerate (checked again when we start).
  const session = {
    feeratePerKw: a.feeratePerKw, locktime: a.locktime, contributionSat, fundingPubkey: fundingKeys(s, kind === 'rbf'), own: a.contribution,
  }
  const dry = startNegotiation(negotiationParams(s, session, role), a.contribution)
  return dry.ok ? undefined : dry.error
}

/** Commands `splice` and `splice_rbf`: checked now, started once the channel is quiescent with us as
 *  its initiator (quiescence.ts afterStep → startRequest). */
export function commandSplice (b: StepBuilder, kind: 'splice' | 'rbf', a: SpliceCommandArgs): void {
  const s = b.state
  const command = kind === 'rbf' ? 'splice_rbf' : 'splice'
  const refuse = (err: ChannelError): void => onCommandError(b, command, { ...err, action: 'ignore' })
  // BOLT #2 (splice_init sender): "MUST NOT send `splice_init` before sending and receiving
  // `channel_ready`"; "if it has previously sent `shutdown`".
  if (s.phase !== 'normal' || s.link !== 'up') return refuse(channelError(
    'unexpected_message', `cannot splice in phase ${s.phase} / link ${s.link}`,
  ))
  const sp = s.splice
  if (quiescence(s) !== 'none' || sp?.session !== undefined || sp?.request !== undefined || sp?.abortSent === true) {
    return refuse(channelError('splice_pending', 'a splice is already being negotiated'))
  }
  const pending = sp?.candidates ?? []
  if (kind === 'splice' && pending.length > 0) {
    // "MUST NOT send `splice_init` if another splice has been negotiated but `splice_locked` has not
    // been sent and received."
    return refuse(channelError('splice_pending', `splice ${pending[0]!.txid} is not locked yet (RBF it instead)`))
  }
  if (kind === 'rbf') {
    if (pending.length === 0) return refuse(channelError('unexpected_message', 'no pending splice to RBF'))
    // BOLT #2 (tx_init_rbf sender): "MUST NOT send `tx_init_rbf` if it has previously sent `splice_locked`."
    if (pending.some(c => c.txid === sp?.localLocked)) return refuse(channelError(
      'splice_pending', 'we sent splice_locked for a pending splice',
    ))
    // Each candidate adds one commitment_signed to every batch (BOLT #2 start_batch: at most 20).
    if (pending.length + 1 >= MAX_COMMITMENT_BATCH_SIZE) return refuse(channelError(
      'splice_rejected', `${pending.length} RBF attempts pending`,
    ))
  }
  const err = checkOurSide(s, kind, a, 0, 'initiator')
  if (err !== undefined) return refuse(err)
  const q = spliceOf(s)
  q.request = { kind, feeratePerKw: a.feeratePerKw, locktime: a.locktime, contribution: a.contribution, nodeIds: a.nodeIds }
  q.quiescence.wanted = true
}

/** Quiescent, and we are its initiator: send splice_init or tx_init_rbf for our host's request. The
 *  balances are final now; if the request no longer fits them, tx_abort ends the quiescence. */
export function startRequest (b: StepBuilder): void {
  const s = b.state
  const sp = spliceOf(s)
  const req = sp.request as SpliceRequest
  delete sp.request
  sp.quiescence.wanted = false
  const rbf = req.kind === 'rbf'
  if (req.cancelled !== undefined) return abortNegotiation(b, channelError('splice_cancelled', req.cancelled))
  const err = checkOurSide(s, req.kind, req, 0, 'initiator')
  if (err !== undefined) {
    onCommandError(b, rbf ? 'splice_rbf' : 'splice', { ...err, action: 'ignore' })
    return abortNegotiation(b, err)
  }
  const c = req.contribution.contributionSat
  sp.session = {
    stage: 'awaiting_ack', initiator: 'local', rbf, feeratePerKw: req.feeratePerKw, locktime: req.locktime,
    contributionSat: { local: c, remote: 0 }, fundingPubkey: fundingKeys(s, rbf), nodeIds: req.nodeIds, own: req.contribution,
  }
  if (rbf) {
    b.send({
      type: 'tx_init_rbf', channel_id: s.channelId, locktime: req.locktime, feerate: req.feeratePerKw,
      ...(c !== 0 ? { funding_output_contribution: c } : {})
    })
  } else {
    // BOLT #2 (splice_init sender): "If it is splicing funds out of the channel: MUST set
    // `funding_contribution_satoshis` to a negative value matching the amount that will be subtracted
    // from its current channel balance" (and positive for funds spliced in).
    b.send({
      type: 'splice_init', channel_id: s.channelId, funding_contribution_satoshis: c, funding_feerate_perkw: req.feeratePerKw,
      locktime: req.locktime, funding_pubkey: s.setup.local.fundingPubkey,
    })
  }
}

/** Rules shared by splice_init and tx_init_rbf: quiescent, from its initiator. */
function checkQuiescentFromPeer (s: ChannelState, what: string): ChannelError | undefined {
  const q = s.splice?.quiescence
  // "If the channel is not quiescent: MUST send a `warning` and close the connection or send an
  // `error` and fail the channel. If the sending node is not the quiescence initiator: [the same]."
  if (q === undefined || !(q.sent && q.received)) return channelError('splice_not_quiescent', `${what} while the channel is not quiescent`)
  if (q.initiator !== 'remote') return channelError('splice_not_quiescent', `${what} from the side that did not initiate quiescence`)
  // "If another splice is already being negotiated: MUST send a `warning` and close the connection".
  if (s.splice?.session !== undefined || s.splice?.abortSent === true) return channelError(
    'splice_pending', `${what} while a splice is being negotiated`,
  )
  // "If it has received `shutdown`: MUST send a `warning` and close the connection".
  if (s.closing.remoteScript !== undefined) return channelError('splice_after_shutdown', `${what} after the peer's shutdown`)
  return undefined
}

export function receiveSpliceInit (b: StepBuilder, msg: SpliceInit): void {
  const s = b.state
  const bad = checkQuiescentFromPeer(s, 'splice_init') ??
    // "If another splice has been negotiated but isn't locked yet: MUST send a `warning` and close the connection".
    ((s.splice?.candidates.length ?? 0) > 0 ? channelError(
      'splice_pending', `splice ${s.splice!.candidates[0]!.txid} is not locked yet`,
    ) : undefined) ??
    checkPoint(msg.funding_pubkey, 'splice_init.funding_pubkey') ??
    checkContribution(s, 'remote', msg.funding_contribution_satoshis) ??
    checkSpliceFeerate(s, msg.funding_feerate_perkw)
  if (bad !== undefined) return onPeerError(b, bad)
  const c = msg.funding_contribution_satoshis
  spliceOf(s).session = {
    stage: 'awaiting_host', initiator: 'remote', rbf: false, feeratePerKw: msg.funding_feerate_perkw, locktime: msg.locktime,
    contributionSat: { local: 0, remote: c }, fundingPubkey: { local: s.setup.local.fundingPubkey, remote: msg.funding_pubkey },
  }
  b.emit({
    type: 'splice_requested', rbf: false, remoteContributionSat: c, feeratePerKw: msg.funding_feerate_perkw,
    capacitySat: s.setup.capacitySat, requireConfirmedInputs: msg.require_confirmed_inputs === true,
  })
}

export function receiveTxInitRbf (b: StepBuilder, msg: TxInitRbf): void {
  const s = b.state
  const sp = s.splice
  const c = msg.funding_output_contribution ?? 0
  const pending = sp?.candidates ?? []
  const bad = checkQuiescentFromPeer(s, 'tx_init_rbf') ??
    (pending.length === 0 ? channelError('unexpected_message', 'tx_init_rbf without a pending splice') : undefined) ??
    // "If the sender previously sent `splice_locked`: MUST send a `warning` and close the connection".
    (pending.some(p => p.txid === sp?.remoteLocked) ? channelError(
      'splice_pending', 'tx_init_rbf after the peer\'s splice_locked',
    ) : undefined) ??
    checkContribution(s, 'remote', c) ??
    checkRbfFeerate(s, msg.feerate) ??
    checkSpliceFeerate(s, msg.feerate) ??
    (pending.length + 1 >= MAX_COMMITMENT_BATCH_SIZE ? channelError(
      'splice_rejected', `${pending.length} RBF attempts pending`,
    ) : undefined)
  if (bad !== undefined) return onPeerError(b, bad)
  spliceOf(s).session = {
    stage: 'awaiting_host', initiator: 'remote', rbf: true, feeratePerKw: msg.feerate, locktime: msg.locktime,
    contributionSat: { local: 0, remote: c }, fundingPubkey: fundingKeys(s, true),
  }
  b.emit({
    type: 'splice_requested', rbf: true, remoteContributionSat: c, feeratePerKw: msg.feerate, capacitySat: s.setup.capacitySat,
    requireConfirmedInputs: msg.require_confirmed_inputs === true,
  })
}

/** Command `splice_respond`: our contribution to the peer's splice or RBF (0 to take no part). */
export function commandSpliceRespond (b: StepBuilder, contribution: SpliceContribution, nodeIds: { local: NodeId; remote: NodeId }): void {
  const s = b.state
  const sp = s.splice
  const session = sp?.session
  if (session?.stage !== 'awaiting_host') return onCommandError(
    b, 'splice_respond', channelError('unexpected_message', 'no splice request to answer', 'ignore'),
  )
  const err = checkOurSide(
    s, session.rbf ? 'rbf' : 'splice', { feeratePerKw: session.feeratePerKw, locktime: session.locktime, contribution },
    session.contributionSat.remote, 'non_initiator',
  ) ??
    checkNewCapacity(s, { local: contribution.contributionSat, remote: session.contributionSat.remote })
  if (err !== undefined) {
    onCommandError(b, 'splice_respond', { ...err, action: 'ignore' })
    return abortNegotiation(b, err)
  }
  const contributionSat = { local: contribution.contributionSat, remote: session.contributionSat.remote }
  const next = { ...session, contributionSat, own: contribution, nodeIds }
  const started = startNegotiation(negotiationParams(s, next, 'non_initiator'), contribution)
  if (!started.ok) {
    onCommandError(b, 'splice_respond', { ...started.error, action: 'ignore' })
    return abortNegotiation(b, started.error)
  }
  sp!.session = { ...next, stage: 'constructing', negotiation: started.negotiation }
  const c = contribution.contributionSat
  if (session.rbf) b.send({ type: 'tx_ack_rbf', channel_id: s.channelId, ...(c !== 0 ? { funding_output_contribution: c } : {}) })
  else b.send({
    type: 'splice_ack', channel_id: s.channelId, funding_contribution_satoshis: c, funding_pubkey: s.setup.local.fundingPubkey,
  })
}

/** Command `splice_reject`: BOLT #2 (splice_init receiver) "Otherwise (it rejects the splice): MUST
 *  respond with `tx_abort`." */
export function commandSpliceReject (b: StepBuilder, reason: string): void {
  if (b.state.splice?.session?.stage !== 'awaiting_host') return onCommandError(
    b, 'splice_reject', channelError('unexpected_message', 'no splice request to answer', 'ignore'),
  )
  abortNegotiation(b, channelError('splice_rejected', reason))
}

/** Command `splice_abort`: our host cancels its splice, or the peer's it agreed to, while the
 *  transaction is not complete. From tx_complete on the splice is signed through (a splice both sides
 *  stored ends only by a rule failing): aborting then could leave the peer holding signatures it sent. */
export function commandSpliceAbort (b: StepBuilder, reason: string): void {
  const s = b.state
  const sp = s.splice
  const refuse = (detail: string): void => onCommandError(b, 'splice_abort', channelError('unexpected_message', detail, 'ignore'))
  if (sp?.request !== undefined && sp.session === undefined) {
    if (sp.quiescence.sent) { sp.request = { ...sp.request, cancelled: reason }; return }
    delete sp.request
    sp.quiescence.wanted = false
    b.emit({ type: 'splice_aborted', reason: `splice_cancelled: ${reason}`, byPeer: false })
    return
  }
  const session = sp?.session
  if (session === undefined) return refuse('no splice in progress')
  // A batched settlement's session whose commitment_signed we still hold may end: the peer cannot
  // have signed (it signs after our commitment_signed).
  if (session.stage === 'signing' && session.signing!.held !== true) {
    return refuse(`splice ${session.signing!.candidate.txid} is complete: it is being signed`)
  }
  abortNegotiation(b, channelError('splice_cancelled', reason))
}

/** splice_ack or tx_ack_rbf: the peer's contribution; the interactive transaction starts with our
 *  first tx_add_input. */
export function receiveSpliceAck (b: StepBuilder, msg: SpliceAck | TxAckRbf): void {
  const s = b.state
  const sp = s.splice
  const session = sp?.session
  const rbf = msg.type === 'tx_ack_rbf'
  // BOLT #2 (splice_ack receiver): "Otherwise (it has not sent `splice_init`): MUST send a `warning`
  // and close the connection or send an `error` and fail the channel."
  if (session?.stage !== 'awaiting_ack' || session.rbf !== rbf) return onPeerError(
    b, channelError('unexpected_message', `${msg.type} without our ${rbf ? 'tx_init_rbf' : 'splice_init'}`),
  )
  const c = msg.type === 'splice_ack' ? msg.funding_contribution_satoshis : (msg.funding_output_contribution ?? 0)
  const bad = (msg.type === 'splice_ack' ? checkPoint(
    msg.funding_pubkey, 'splice_ack.funding_pubkey',
  ) : undefined) ?? checkContribution(s, 'remote', c)
  if (bad !== undefined) return onPeerError(b, bad)
  const fundingPubkey = msg.type === 'splice_ack' ? {
    local: session.fundingPubkey.local, remote: msg.funding_pubkey,
  } : session.fundingPubkey
  const next = { ...session, contributionSat: { local: session.contributionSat.local, remote: c }, fundingPubkey }
  // "If it accepts the splice attempt: MUST start an `interactive-tx` session ... Otherwise: MUST
  // reject the splice attempt by sending `tx_abort`."
  const cap = checkNewCapacity(s, next.contributionSat)
  if (cap !== undefined) return abortNegotiation(b, cap)
  const params = negotiationParams(s, next, 'initiator')
  // A batched settlement: every session builds the planned transaction only if the peer contributes
  // exactly its planned payout and fee share, to the planned funding output.
  const expect = next.own?.batch?.expect
  if (expect !== undefined && (c !== expect.remoteContributionSat || params.sharedOutput.script !== expect.sharedOutputScript)) {
    return abortNegotiation(b, channelError(
      'batch_terms_violated',
      c !== expect.remoteContributionSat
        ? `the peer contributes ${c} sat, the batch planned ${expect.remoteContributionSat}`
        : 'the peer\'s funding key changes the planned funding output',
    ))
  }
  const started = startNegotiation(params, next.own!)
  if (!started.ok) return abortNegotiation(b, started.error)
  sp!.session = { ...next, stage: 'constructing', negotiation: started.negotiation }
  if (started.reply !== undefined) b.send(replyMessage(started.reply, s.channelId))
}
