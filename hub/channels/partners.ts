// Who counts as the hub's channel partner: the transport keeps handshake slots for them
// (hub/transport/admission.ts), so a flood of strangers cannot lock them out.
import type { Phase } from '../../protocol/channel/index.ts'
import type { NodeId } from '../../protocol/types.ts'
import type { ChannelManager } from './manager.ts'

/** Phases before a channel's funding has confirmed and channel_ready was exchanged. */
const ESTABLISHING: ReadonlySet<Phase> = new Set<Phase>([
  'awaiting_accept', 'awaiting_funding_tx', 'awaiting_funding_created', 'awaiting_funding_signed', 'awaiting_funding_depth',
])

/**
 * A peer with a channel here that became ready (its funding confirmed) and is not yet closed on-chain.
 * A channel still being opened does not count: opening one costs a stranger nothing until its funding
 * confirms.
 */
export function isChannelPartner (manager: Pick<ChannelManager, 'channelsOf'>, peer: NodeId): boolean {
  return manager.channelsOf(peer).some(ch => !ESTABLISHING.has(ch.state.phase) && ch.state.phase !== 'closed')
}
