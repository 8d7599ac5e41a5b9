// What a channel error does to the channel and the connection (protocol/errors.ts actions).
import type { ChannelError } from '../errors.ts'
import type { StepBuilder } from './effects.ts'
import { isFinal } from './phase.ts'
import { dropUncommitted } from './disconnect.ts'
import { abandon, nothingAtStake } from './funding-check.ts'

/** Applies a peer-caused error: the message that caused it was not applied to the state. */
export function onPeerError (b: StepBuilder, err: ChannelError): void {
  const s = b.state
  switch (err.action) {
    case 'ignore': return
    case 'warn':
      b.send({ type: 'warning', channel_id: s.channelId, data: `${err.reason}: ${err.detail}`.slice(0, 1000) })
      return
    case 'disconnect':
      b.send({ type: 'warning', channel_id: s.channelId, data: `${err.reason}: ${err.detail}`.slice(0, 1000) })
      b.out({ kind: 'disconnect' })
      dropUncommitted(b)
      return
    case 'close':
      failChannel(b, err)
  }
}

/** BOLT #1/#2 "fail the channel": send `error`, stop using the channel, and (once funded) have the
 *  monitor close it with our latest commitment. Before funding there is nothing on-chain. */
export function failChannel (b: StepBuilder, err: ChannelError): void {
  const s = b.state
  if (isFinal(s.phase)) return
  // A fundee before its channel is ready has nothing to broadcast for (funding-check.ts).
  if (nothingAtStake(s)) return abandon(b, err)
  const funded = s.localCommit !== undefined
  s.phase = 'failed'
  // Stored first: after a restart the channel must still know it failed (and the monitor must close).
  if (funded) b.persist({ kind: 'force_close', reason: err.reason })
  if (s.link !== 'down') b.send({ type: 'error', channel_id: s.channelId, data: `${err.reason}: ${err.detail}`.slice(0, 1000) })
  b.emit({ type: 'channel_failed', error: err, broadcastOurCommitment: funded })
}

/** A local command refused: nothing changes, the host is told why. */
export function onCommandError (b: StepBuilder, command: string, err: ChannelError): void {
  b.emit({ type: 'command_failed', command, error: err })
}
