// Channel establishment (BOLT #2 "Channel Establishment v1"): open_channel → accept_channel →
// (the opener's host builds the funding tx) → funding_created → funding_signed → channel_ready both ways.
// Durable writes: the acceptor stores the channel before sending funding_signed, the opener before
// broadcasting the funding tx (BOLT #2 "MUST remember the channel for reconnection" from those points).
import type { ChannelError } from '../errors.ts'
import { channelError } from '../errors.ts'
import { err, ok, type Result } from '../result.ts'
import type { ChannelId, Msat, Sat, Txid } from '../types.ts'
import { hexToBytes, bytesToHex } from '../types.ts'
import type { AcceptChannel, ChannelReady, ChannelType, FundingCreated, FundingSigned, OpenChannel } from '../wire/index.ts'
import { StepBuilder, type Step } from './effects.ts'
import { failChannel, onCommandError, onPeerError } from './failure.ts'
import { abandon, checkFundingOutput, fundingDeadlineFrom, requiredFundingDepth, type FundingOutputSeen } from './funding-check.ts'
import { checkAcceptChannel, checkOpenChannel } from './rules/open.ts'
import { checkPoint } from './rules/commitment.ts'
import type { ChannelSigner } from './signer.ts'
import { ZERO_SECRET, type ChannelSetup, type ChannelState, type CommitmentSpec, type LocalPolicy, type SideParams } from './state.ts'

export interface OpenParams {
  temporaryChannelId: ChannelId
  chainHash: string
  channelType: ChannelType
  fundingSat: Sat
  pushMsat: Msat
  feeratePerKw: number
  local: SideParams
  policy: LocalPolicy
  localShutdownScript: string
  height: number
}
export interface AcceptParams {
  chainHash: string
  minimumDepth: number
  local: SideParams
  policy: LocalPolicy
  localShutdownScript: string
  height: number
}

function newState (
  setup: ChannelSetup, policy: LocalPolicy, temporaryChannelId: ChannelId, height: number, phase: ChannelState['phase'],
): ChannelState {
  return {
    phase, link: 'up', channelId: temporaryChannelId, temporaryChannelId, setup, policy, height,
    localChanges: { proposed: [], signed: [], acked: [] }, remoteChanges: { proposed: [], acked: [], signed: [] },
    nextLocalHtlcId: 0, nextRemoteHtlcId: 0, lastRemoteSecret: ZERO_SECRET,
    channelReady: { sent: false, received: false }, closing: {}, holding: [], autoFail: [], outbox: [],
    writes: { issued: 0, acked: 0 }, monitorSeq: 0,
  }
}

const wireParams = (p: SideParams) => ({
  dust_limit_satoshis: p.dustLimitSat, max_htlc_value_in_flight_msat: p.maxHtlcValueInFlightMsat,
  channel_reserve_satoshis: p.channelReserveSat, htlc_minimum_msat: p.htlcMinimumMsat, to_self_delay: p.toSelfDelay,
  max_accepted_htlcs: p.maxAcceptedHtlcs, funding_pubkey: p.fundingPubkey, revocation_basepoint: p.revocationBasepoint,
  payment_basepoint: p.paymentBasepoint, delayed_payment_basepoint: p.delayedPaymentBasepoint, htlc_basepoint: p.htlcBasepoint,
  ...(p.upfrontShutdownScript !== undefined ? { upfront_shutdown_script: p.upfrontShutdownScript } : {}),
})
const sideParams = (m: OpenChannel | AcceptChannel): SideParams => ({
  dustLimitSat: m.dust_limit_satoshis, maxHtlcValueInFlightMsat: m.max_htlc_value_in_flight_msat,
  channelReserveSat: m.channel_reserve_satoshis, htlcMinimumMsat: m.htlc_minimum_msat, toSelfDelay: m.to_self_delay,
  maxAcceptedHtlcs: m.max_accepted_htlcs, fundingPubkey: m.funding_pubkey, revocationBasepoint: m.revocation_basepoint,
  paymentBasepoint: m.payment_basepoint, delayedPaymentBasepoint: m.delayed_payment_basepoint, htlcBasepoint: m.htlc_basepoint,
  ...(m.upfront_shutdown_script !== undefined ? { upfrontShutdownScript: m.upfront_shutdown_script } : {}),
})

/** The opener: a new channel state and its open_channel. No write: nothing is at stake yet. */
export function openChannel (p: OpenParams, signer: ChannelSigner): Step {
  const setup: ChannelSetup = {
    chainHash: p.chainHash, channelType: p.channelType, isFunder: true, capacitySat: p.fundingSat, pushMsat: p.pushMsat, minimumDepth: 0,
    localShutdownScript: p.localShutdownScript, local: p.local,
  }
  const b = new StepBuilder(newState(setup, p.policy, p.temporaryChannelId, p.height, 'awaiting_accept'))
  const msg: OpenChannel = {
    type: 'open_channel', chain_hash: p.chainHash, temporary_channel_id: p.temporaryChannelId, funding_satoshis: p.fundingSat,
    push_msat: p.pushMsat, feerate_per_kw: p.feeratePerKw, first_per_commitment_point: signer.perCommitmentPoint(0),
    channel_flags: 0, channel_type: p.channelType, ...wireParams(p.local),
  }
  b.state.pendingOpen = msg
  b.send(msg)
  return b.done()
}

/** The acceptor: checks open_channel and answers accept_channel, or refuses with an error value. */
export function acceptChannel (p: AcceptParams, open: OpenChannel, signer: ChannelSigner): Result<Step, ChannelError> {
  const refused = checkOpenChannel(open, p.policy, p.chainHash, p.local.channelReserveSat, p.local.dustLimitSat)
  if (refused !== undefined) return err(refused)
  const setup: ChannelSetup = {
    chainHash: p.chainHash, channelType: open.channel_type, isFunder: false, capacitySat: open.funding_satoshis, pushMsat: open.push_msat,
    minimumDepth: p.minimumDepth, localShutdownScript: p.localShutdownScript, local: p.local, remote: sideParams(open),
  }
  const b = new StepBuilder(newState(setup, p.policy, open.temporary_channel_id, p.height, 'awaiting_funding_created'))
  b.state.pendingOpen = open
  b.state.remoteFirstPoint = open.first_per_commitment_point
  b.send({
    type: 'accept_channel', temporary_channel_id: open.temporary_channel_id, minimum_depth: p.minimumDepth,
    first_per_commitment_point: signer.perCommitmentPoint(0), channel_type: open.channel_type, ...wireParams(p.local)
  })
  return ok(b.done())
}

export function receiveAcceptChannel (b: StepBuilder, msg: AcceptChannel): void {
  const s = b.state
  const open = s.pendingOpen!
  const err = checkAcceptChannel(msg, open, s.policy)
  if (err !== undefined) return failChannel(b, err)
  s.setup.remote = sideParams(msg)
  s.setup.minimumDepth = msg.minimum_depth
  s.remoteFirstPoint = msg.first_per_commitment_point
  s.phase = 'awaiting_funding_tx'
  b.emit({
    type: 'funding_needed', capacitySat: s.setup.capacitySat,
    fundingScriptPubkeys: { local: s.setup.local.fundingPubkey, remote: msg.funding_pubkey },
  })
}

/** BOLT #2: "This message introduces the `channel_id` ... derived from the funding transaction by
 *  combining the `funding_txid` and the `funding_output_index`, using big-endian exclusive-OR (i.e.
 *  `funding_output_index` alters the last 2 bytes)." The txid bytes are in internal (reversed) order. */
export function channelIdFromFunding (txid: Txid, outputIndex: number): ChannelId {
  const b = hexToBytes(txid).reverse()
  b[30]! ^= outputIndex >> 8
  b[31]! ^= outputIndex & 0xff
  return bytesToHex(b) as ChannelId
}

function initialSpec (s: ChannelState): CommitmentSpec {
  const funding = s.setup.capacitySat * 1000
  const push = s.setup.pushMsat
  const feeratePerKw = s.pendingOpen!.feerate_per_kw
  return s.setup.isFunder
    ? { htlcs: [], toLocalMsat: (funding - push) as Msat, toRemoteMsat: push, feeratePerKw }
    : { htlcs: [], toLocalMsat: push, toRemoteMsat: (funding - push) as Msat, feeratePerKw }
}

/** The opener's host built the funding tx (not broadcast): sign the acceptor's first commitment. */
export function fundingBuilt (b: StepBuilder, signer: ChannelSigner, txid: Txid, outputIndex: number): void {
  const s = b.state
  if (s.phase !== 'awaiting_funding_tx') return onCommandError(
    b, 'funding_built', channelError('unexpected_message', `funding_built in phase ${s.phase}`, 'ignore'),
  )
  s.setup.funding = { txid, outputIndex }
  const spec = initialSpec(s)
  const point = s.remoteFirstPoint!
  const sig = signer.signCommitment(s.setup, { holder: 'remote', number: 0, perCommitmentPoint: point, spec })
  s.remoteCommit = { index: 0, spec, perCommitmentPoint: point }
  s.phase = 'awaiting_funding_signed'
  const msg: FundingCreated = {
    type: 'funding_created', temporary_channel_id: s.temporaryChannelId, funding_txid: txid, funding_output_index: outputIndex,
    signature: sig.signature,
  }
  b.send(msg)
  s.channelId = channelIdFromFunding(txid, outputIndex)
}

export function receiveFundingCreated (b: StepBuilder, signer: ChannelSigner, msg: FundingCreated): void {
  const s = b.state
  s.setup.funding = { txid: msg.funding_txid, outputIndex: msg.funding_output_index }
  const spec = initialSpec(s)
  const local = { holder: 'local' as const, number: 0, perCommitmentPoint: signer.perCommitmentPoint(0), spec }
  // BOLT #2 (funding_created, recipient): "if `signature` is incorrect OR non-compliant with
  // LOW-S-standard rule: MUST send a `warning` and close the connection, or send an `error` and fail
  // the channel." Nothing is funded yet: failing forgets the channel.
  if (signer.checkCommitment(s.setup, local, msg.signature, []) !== 'ok') return failChannel(
    b, channelError('bad_signature', 'funding_created signature'),
  )
  const point = s.remoteFirstPoint!
  const remote = { holder: 'remote' as const, number: 0, perCommitmentPoint: point, spec }
  const sig = signer.signCommitment(s.setup, remote)
  s.localCommit = { index: 0, spec, signature: msg.signature, htlcSignatures: [] }
  s.remoteCommit = { index: 0, spec, perCommitmentPoint: point }
  s.channelId = channelIdFromFunding(msg.funding_txid, msg.funding_output_index)
  s.phase = 'awaiting_funding_depth'
  const deadline = fundingDeadlineFrom(s)
  if (deadline !== undefined) s.fundingDeadline = deadline
  b.persist(
    { kind: 'funding', setup: s.setup },
    {
      kind: 'local_commitment', number: 0, perCommitmentPoint: local.perCommitmentPoint, spec, signature: msg.signature, htlcSignatures: [],
    },
    { kind: 'remote_commitment', number: 0, perCommitmentPoint: point, spec },
  )
  const reply: FundingSigned = { type: 'funding_signed', channel_id: s.channelId, signature: sig.signature }
  b.send(reply)
}

export function receiveFundingSigned (b: StepBuilder, signer: ChannelSigner, msg: FundingSigned): void {
  const s = b.state
  const spec = s.remoteCommit!.spec
  const local = { holder: 'local' as const, number: 0, perCommitmentPoint: signer.perCommitmentPoint(0), spec }
  // BOLT #2 (funding_signed, recipient): "if `signature` is incorrect ...: MUST send a `warning` and
  // close the connection, or send an `error` and fail the channel. MUST NOT broadcast the funding
  // transaction before receipt of a valid `funding_signed`."
  if (msg.channel_id !== s.channelId) return onPeerError(b, channelError('unexpected_message', 'funding_signed for another channel_id'))
  if (signer.checkCommitment(s.setup, local, msg.signature, []) !== 'ok') return failChannel(
    b, channelError('bad_signature', 'funding_signed signature'),
  )
  s.localCommit = { index: 0, spec, signature: msg.signature, htlcSignatures: [] }
  s.phase = 'awaiting_funding_depth'
  b.persist(
    { kind: 'funding', setup: s.setup },
    {
      kind: 'local_commitment', number: 0, perCommitmentPoint: local.perCommitmentPoint, spec, signature: msg.signature, htlcSignatures: [],
    },
    { kind: 'remote_commitment', number: 0, perCommitmentPoint: s.remoteCommit!.perCommitmentPoint, spec },
  )
  // "on receipt of a valid `funding_signed`: SHOULD broadcast the funding transaction."
  b.out({ kind: 'broadcast_funding', txid: s.setup.funding!.txid })
}

export function channelReadyMessage (s: ChannelState, signer: ChannelSigner): ChannelReady {
  return { type: 'channel_ready', channel_id: s.channelId, second_per_commitment_point: signer.perCommitmentPoint(1) }
}

/** The host's node shows the funding tx `depth` deep (0: in the mempool) with `output` at the funding
 *  index (funding-check.ts): a wrong or missing output abandons the channel (a spent one fails it);
 *  the right one at the required depth sends channel_ready. */
export function fundingDepth (b: StepBuilder, signer: ChannelSigner, depth: number, output: FundingOutputSeen | null): void {
  const s = b.state
  if (s.phase !== 'awaiting_funding_depth') return
  const bad = checkFundingOutput(s.setup, output)
  if (bad !== undefined) return bad.reason === 'funding_output_spent' ? failChannel(b, bad) : abandon(b, bad)
  if (s.channelReady.sent || depth < requiredFundingDepth(s)) return
  s.channelReady.sent = true
  b.persist()
  if (s.link === 'up') b.send(channelReadyMessage(s, signer))
  becomeNormalIfReady(b)
}

export function receiveChannelReady (b: StepBuilder, msg: ChannelReady): void {
  const s = b.state
  // BOLT #2 "upon reconnection: MUST ignore any redundant `channel_ready` it receives."
  if (s.channelReady.received) return
  if (s.phase !== 'awaiting_funding_depth') return onPeerError(b, channelError('unexpected_message', `channel_ready in phase ${s.phase}`))
  const bad = checkPoint(msg.second_per_commitment_point, 'second_per_commitment_point')
  if (bad !== undefined) return onPeerError(b, bad)
  s.channelReady.received = true
  s.remoteNextPoint = msg.second_per_commitment_point
  b.persist()
  becomeNormalIfReady(b)
}

function becomeNormalIfReady (b: StepBuilder): void {
  const s = b.state
  if (s.channelReady.sent && s.channelReady.received && s.phase === 'awaiting_funding_depth') {
    s.phase = 'normal'
    b.emit({ type: 'channel_ready' })
  }
}

