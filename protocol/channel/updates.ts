// Proposing and receiving updates (BOLT #2 update_add_htlc, update_fulfill_htlc, update_fail_htlc,
// update_fee). Updates go into the *receiver's* next commitment first; nothing here signs anything.
import { channelError } from '../errors.ts'
import type { Msat, NodeId } from '../types.ts'
import type { HtlcFailureReason, HtlcMetadata, UpdateAddHtlc, UpdateFailHtlc, UpdateFee, UpdateFulfillHtlc } from '../wire/index.ts'
import type { StepBuilder } from './effects.ts'
import { onCommandError, onPeerError } from './failure.ts'
import { checkAddOrder, checkOfferedAdd, checkReceivedAdd, receivedAddPolicy } from './rules/add-htlc.ts'
import { checkLocalRemoval, checkPreimage, checkRemoteRemoval } from './rules/remove-htlc.ts'
import { checkOfferedFee, checkReceivedFee } from './rules/update-fee.ts'
import { findHtlc, reduce } from './spec.ts'
import { commits, type ChannelState, type CommitmentSpec, type HeldUpdate, type Htlc, type Update } from './state.ts'
import { specsForEveryFunding } from './splice/state.ts'
import { mayAddHtlc, mayProposeUpdate, quiescence } from './splice/quiescence.ts'

/** The first result of `check` over `specs` that is not undefined. */
function firstError<T> (specs: readonly CommitmentSpec[], check: (spec: CommitmentSpec) => T | undefined): T | undefined {
  for (const spec of specs) {
    const r = check(spec)
    if (r !== undefined) return r
  }
  return undefined
}

export interface AddHtlcCommand {
  type: 'add_htlc'; amountMsat: Msat; paymentHash: string; cltvExpiry: number; recipient: NodeId; metadata?: HtlcMetadata
}

/** The peer's next commitment as it would be with `extra` appended to our proposed updates. */
export function nextRemoteSpec (s: ChannelState, extra: Update[] = []): CommitmentSpec {
  const base = s.nextRemoteCommit?.commit.spec ?? commits(s).remote.spec
  return reduce(base, [...s.localChanges.proposed, ...extra], s.remoteChanges.acked)
}
/** Our next commitment as it would be with `extra` appended to the peer's proposed updates. */
export function nextLocalSpec (s: ChannelState, extra: Update[] = []): CommitmentSpec {
  return reduce(commits(s).local.spec, s.localChanges.acked, [...s.remoteChanges.proposed, ...extra])
}

function toWire (s: ChannelState, u: Update): UpdateAddHtlc | UpdateFulfillHtlc | UpdateFailHtlc | UpdateFee {
  const channel_id = s.channelId
  switch (u.kind) {
    case 'add': {
      const h = u.htlc
      return {
        type: 'update_add_htlc', channel_id, id: h.id, amount_msat: h.amountMsat, payment_hash: h.paymentHash,
        cltv_expiry: h.cltvExpiry as UpdateAddHtlc['cltv_expiry'], recipient: h.recipient,
        ...(h.metadata !== undefined ? { metadata: h.metadata } : {})
      }
    }
    case 'fulfill': return { type: 'update_fulfill_htlc', channel_id, id: u.id, payment_preimage: u.preimage }
    case 'fail': return {
      type: 'update_fail_htlc', channel_id, id: u.id, reason: u.reason, ...(u.detail !== undefined ? { detail: u.detail } : {})
    }
    case 'fee': return { type: 'update_fee', channel_id, feerate_per_kw: u.feeratePerKw }
  }
}
export const updateToWire = toWire

// ── Our commands ──

export function addHtlc (b: StepBuilder, cmd: AddHtlcCommand): void {
  const s = b.state
  if (s.phase !== 'normal') return onCommandError(b, 'add_htlc', channelError(
    s.phase === 'shutting_down' ? 'update_after_shutdown' : 'unexpected_message', `cannot add an HTLC in phase ${s.phase}`, 'ignore',
  ))
  if (s.link !== 'up') return onCommandError(b, 'add_htlc', channelError('unexpected_message', 'peer is not connected', 'ignore'))
  // Quiescence for a splice: no new HTLC of ours until it ends (splice/quiescence.ts).
  if (!mayAddHtlc(s)) return onCommandError(
    b, 'add_htlc', channelError('channel_quiescent', `the channel is ${quiescence(s)} for a splice`, 'ignore'),
  )
  // BOLT #2: "for the first HTLC it offers: MUST set `id` to 0. MUST increase the value of `id` by 1
  // for each successive offer."
  const htlc: Htlc = {
    offerer: 'local', id: s.nextLocalHtlcId, amountMsat: cmd.amountMsat, paymentHash: cmd.paymentHash, cltvExpiry: cmd.cltvExpiry,
    recipient: cmd.recipient, ...(cmd.metadata !== undefined ? { metadata: cmd.metadata } : {})
  }
  const u: Update = { kind: 'add', htlc }
  // BOLT #2 splicing: "payments must be valid for all splice transactions" — checked against the
  // commitment on the current funding and on each pending splice's.
  const specs = [...specsForEveryFunding(s, nextRemoteSpec(s, [u])), ...specsForEveryFunding(s, reduce(
    commits(s).local.spec, [...s.localChanges.acked, ...s.localChanges.signed, ...s.localChanges.proposed, u],
    s.remoteChanges.proposed.filter(x => x.kind === 'add'),
  ))]
  const err = firstError(specs, spec => checkOfferedAdd(s, htlc, spec))
  if (err !== undefined) return onCommandError(b, 'add_htlc', { ...err, action: 'ignore' })
  s.nextLocalHtlcId++
  s.localChanges.proposed.push(u)
  b.send(toWire(s, u))
}

/** Fulfill, fail or fee: sent now if the link is up, else kept until reestablish. A fulfill stores
 *  its preimage first (DESIGN.md rule 2: "store a preimage the moment it is learned"): once our
 *  update_fulfill_htlc leaves, the peer can claim upstream with it, so we must be able to claim ours
 *  on-chain even if we crash right after. */
export function proposeUpdate (b: StepBuilder, u: HeldUpdate, fromHolding = false): void {
  const s = b.state
  const cmd = u.kind === 'fulfill' ? 'fulfill_htlc' : u.kind === 'fail' ? 'fail_htlc' : 'update_fee'
  if (!(s.phase === 'normal' || s.phase === 'shutting_down')) {
    if (u.kind === 'fulfill' && !fromHolding) storePreimageOnChain(b, u.id, u.preimage)
    return onCommandError(b, cmd, channelError('unexpected_message', `cannot ${cmd} in phase ${s.phase}`, 'ignore'))
  }
  if (u.kind === 'fee') {
    const err = firstError(specsForEveryFunding(s, nextRemoteSpec(s, [u])), spec => checkOfferedFee(s, u.feeratePerKw, spec))
    if (err !== undefined) return onCommandError(b, cmd, err)
  } else {
    const r = checkLocalRemoval(s, u.id)
    if (!r.ok) {
      // A held removal may have become unnecessary (e.g. the HTLC was already removed): drop it, nothing to send.
      return onCommandError(b, cmd, r.error)
    }
    if (u.kind === 'fulfill') {
      const bad = checkPreimage(r.value, u.preimage, 'local')
      if (bad !== undefined) return onCommandError(b, cmd, bad)
      if (!fromHolding) b.persist({ kind: 'preimage', paymentHash: r.value.paymentHash, preimage: u.preimage })
    }
  }
  // Held while the link is down, or while the channel is quiescent (BOLT #2 stfu: "MUST NOT send an
  // update message after `stfu`"): sent by flushHolding when the link or the updates come back.
  if (s.link !== 'up' || !mayProposeUpdate(s)) { s.holding.push(u); return }
  s.localChanges.proposed.push(u)
  b.send(toWire(s, u))
}

/** A channel that goes on-chain (failed: our commitment; awaiting_remote_close: the peer's) cannot
 *  fulfill off-chain, but the preimage of an HTLC the peer offered is what our monitor needs to claim
 *  it on-chain (DESIGN.md rule 2: "store a preimage the moment it is learned"). */
function storePreimageOnChain (b: StepBuilder, id: number, preimage: string): void {
  const s = b.state
  if (s.phase !== 'failed' && s.phase !== 'awaiting_remote_close') return
  const specs = [s.localCommit?.spec, s.remoteCommit?.spec, s.nextRemoteCommit?.commit.spec]
  const htlc = specs.map(spec => spec === undefined ? undefined : findHtlc(spec, 'remote', id)).find(h => h !== undefined)
  if (htlc === undefined || checkPreimage(htlc, preimage, 'local') !== undefined) return
  b.persist({ kind: 'preimage', paymentHash: htlc.paymentHash, preimage })
}

/** After reestablish: send what waited for the link, in order. */
export function flushHolding (b: StepBuilder): void {
  const held = b.state.holding
  b.state.holding = []
  for (const u of held) proposeUpdate(b, u, true)
}

// ── The peer's updates ──

export function receiveAdd (b: StepBuilder, msg: UpdateAddHtlc): void {
  const s = b.state
  const order = checkAddOrder(s, msg.id)
  if (order !== undefined) return onPeerError(b, order)
  const htlc: Htlc = {
    offerer: 'remote', id: msg.id, amountMsat: msg.amount_msat, paymentHash: msg.payment_hash, cltvExpiry: msg.cltv_expiry,
    recipient: msg.recipient, ...(msg.metadata !== undefined ? { metadata: msg.metadata } : {})
  }
  const u: Update = { kind: 'add', htlc }
  const specs = specsForEveryFunding(s, nextLocalSpec(s, [u]))
  const err = firstError(specs, spec => checkReceivedAdd(s, htlc, spec))
  if (err !== undefined) return onPeerError(b, err)
  const refuse = firstError(specs, spec => receivedAddPolicy(s, htlc, spec))
  if (refuse !== undefined) s.autoFail.push({ id: htlc.id, reason: refuse })
  s.nextRemoteHtlcId++
  s.remoteChanges.proposed.push(u)
}

/** Receiving update_fulfill_htlc stores the preimage at once (1 durable write) and tells the host,
 *  which may claim upstream immediately: the preimage alone is enough to claim our HTLC on-chain. */
export function receiveFulfill (b: StepBuilder, msg: UpdateFulfillHtlc): void {
  const s = b.state
  const r = checkRemoteRemoval(s, msg.id)
  if (!r.ok) return onPeerError(b, r.error)
  const bad = checkPreimage(r.value, msg.payment_preimage, 'remote')
  if (bad !== undefined) return onPeerError(b, bad)
  s.remoteChanges.proposed.push({ kind: 'fulfill', id: msg.id, preimage: msg.payment_preimage })
  b.persist({ kind: 'preimage', paymentHash: r.value.paymentHash, preimage: msg.payment_preimage })
  b.emit({ type: 'htlc_fulfilled', id: msg.id, paymentHash: r.value.paymentHash, preimage: msg.payment_preimage })
}

export function receiveFail (b: StepBuilder, msg: UpdateFailHtlc): void {
  const s = b.state
  const r = checkRemoteRemoval(s, msg.id)
  if (!r.ok) return onPeerError(b, r.error)
  s.remoteChanges.proposed.push({
    kind: 'fail', id: msg.id, reason: msg.reason as HtlcFailureReason, ...(msg.detail !== undefined ? { detail: msg.detail } : {})
  })
}

export function receiveFee (b: StepBuilder, msg: UpdateFee): void {
  const s = b.state
  const u: Update = { kind: 'fee', feeratePerKw: msg.feerate_per_kw }
  const err = firstError(specsForEveryFunding(s, nextLocalSpec(s, [u])), spec => checkReceivedFee(s, msg.feerate_per_kw, spec))
  if (err !== undefined) return onPeerError(b, err)
  s.remoteChanges.proposed.push(u)
}
