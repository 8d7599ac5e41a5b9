// What a channel error does to the channel and the connection (protocol/errors.ts actions), and the
// force_close command: failing the channel on our owner's (or our monitor's) decision.
import { channelError, errorText as text, type ChannelError } from '../errors.ts'
import type { StepBuilder } from './effects.ts'
import { isFinal } from './phase.ts'
import { onLinkDown } from './disconnect.ts'
import { abandon, nothingAtStake } from './funding-check.ts'
import type { ChannelState } from './state.ts'
import { abortNegotiation } from './splice/abort.ts'

/** Applies a peer-caused error: the message that caused it was not applied to the state. The warning
 *  or error and the disconnect leave at once, even while writes are in flight (StepBuilder.urgent):
 *  held behind a write, they would be dropped with the link and the peer would never hear of them. */
export function onPeerError (b: StepBuilder, err: ChannelError): void {
  const s = b.state
  switch (err.action) {
    case 'ignore': return
    case 'warn':
      b.urgent({ kind: 'send', msg: { type: 'warning', channel_id: s.channelId, data: text(err) } })
      return
    case 'abort':
      return abortNegotiation(b, err)
    case 'disconnect':
      b.urgent({ kind: 'send', msg: { type: 'warning', channel_id: s.channelId, data: text(err) } })
      b.urgent({ kind: 'disconnect' })
      onLinkDown(b, err)
      return
    case 'close':
      failChannel(b, err, 'now')
  }
}

/** BOLT #1/#2 "fail the channel": send `error`, stop using the channel, and (once funded) have the
 *  monitor close it with our latest commitment. Before funding there is nothing on-chain.
 *
 *  Nothing held behind a write leaves a failed channel: no update, no commitment_signed and no
 *  revoke_and_ack. A revoke_and_ack held now revokes the commitment before our latest durable one,
 *  which the monitor would broadcast: once failed we never revoke a commitment we may broadcast.
 *
 *  `error`: a violation by the peer is answered at once, whatever is in flight. When we decide
 *  (force_close, a deadline) the error leaves with the `force_close` write that makes our monitor
 *  broadcast: the peer hears of the failure only once our close is durable. Told, the peer fails too
 *  and broadcasts its own latest commitment; whichever confirms, each side gets its latest balance. */
export function failChannel (b: StepBuilder, err: ChannelError, error: 'now' | 'after_write' = 'after_write'): void {
  const s = b.state
  if (isFinal(s.phase)) return
  // A fundee before its channel is ready has nothing to broadcast for (funding-check.ts).
  if (nothingAtStake(s)) return abandon(b, err)
  const funded = s.localCommit !== undefined
  s.phase = 'failed'
  s.outbox = s.outbox.filter(o => o.effect.kind === 'emit')
  s.holding = []
  // Stored first: after a restart the channel must still know it failed (and the monitor must close).
  if (funded) b.persist({ kind: 'force_close', reason: err.reason })
  if (s.link !== 'down') {
    const msg = { type: 'error' as const, channel_id: s.channelId, data: text(err) }
    if (error === 'now') b.urgent({ kind: 'send', msg })
    else b.send(msg)
  }
  b.emit({ type: 'channel_failed', error: err, broadcastOurCommitment: funded })
}

/** A local command refused: nothing changes, the host is told why. */
export function onCommandError (b: StepBuilder, command: string, err: ChannelError): void {
  b.emit({ type: 'command_failed', command, error: err })
}

/** What the force_close command does to a channel in this state (hosts read it to report a typed
 *  result; the command itself follows it). */
export type ForceCloseOutcome =
  /** The channel fails now: `error` to the peer, nothing held leaves, `force_close` is stored, and the
   *  monitor broadcasts our latest commitment once that write is durable. */
  | { kind: 'failing' }
  /** Never funded: the channel fails and is forgotten; nothing is on-chain. */
  | { kind: 'unfunded' }
  /** Failed before: its `force_close` update is stored (or being stored); nothing more to do. */
  | { kind: 'already_failed' }
  /** Refused: our commitment must not be broadcast, or the channel is closing by other means. */
  | { kind: 'refused'; error: ChannelError }

export function forceCloseOutcome (s: ChannelState): ForceCloseOutcome {
  switch (s.phase) {
    case 'failed': return s.localCommit === undefined ? { kind: 'unfunded' } : { kind: 'already_failed' }
    // Data-loss protection: our commitment may be revoked; only the peer may close with its own.
    case 'awaiting_remote_close': return {
      kind: 'refused',
      error: channelError('we_are_behind', 'we lost state: our commitment may be revoked, only the peer may close', 'ignore'),
    }
    case 'closing': return {
      kind: 'refused', error: channelError('unexpected_message', 'a mutual close was agreed (or a commitment is on-chain)', 'ignore'),
    }
    case 'closed': return { kind: 'refused', error: channelError('unexpected_message', 'the channel is closed', 'ignore') }
    default: return s.localCommit === undefined ? { kind: 'unfunded' } : { kind: 'failing' }
  }
}

/** Command force_close: fail the channel first; the broadcast follows from its durable `force_close`
 *  monitor update. `reason` says who decided and why (the operator, the application, a deadline). */
export function commandForceClose (b: StepBuilder, reason: string): void {
  const outcome = forceCloseOutcome(b.state)
  switch (outcome.kind) {
    case 'refused': return onCommandError(b, 'force_close', outcome.error)
    case 'already_failed': return
    case 'unfunded':
      if (b.state.phase === 'failed') return
      return failChannel(b, channelError('force_close', reason))
    case 'failing': return failChannel(b, channelError('force_close', reason))
  }
}
