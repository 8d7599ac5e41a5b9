// BOLT #2 "Message Retransmission": what a disconnection undoes.
import type { ChannelError } from '../errors.ts'
import type { StepBuilder } from './effects.ts'
import type { HeldUpdate } from './state.ts'
import { spliceLinkDown } from './splice/quiescence.ts'

/** The link went down while we were running: the peer disconnected, or we dropped it for a
 *  `violation` of the protocol. A commitment_signed of ours still held behind its write is withdrawn
 *  first; then the uncommitted updates of both sides are undone. */
export function onLinkDown (b: StepBuilder, violation?: ChannelError): void {
  withdrawUnsentCommitment(b)
  dropUncommitted(b, violation)
}

/** Our commitment_signed is held behind the write that stores its commitment (commit.ts); while that
 *  write is not acknowledged, the message never reached the transport, so the peer holds no signature
 *  for the commitment and will not expect it: BOLT #2 (channel_reestablish) has us resend only "the
 *  last `commitment_signed` message the receiving node has sent". Its updates go back to unsigned
 *  (ours are then undone like any unsigned update, the peer's are signed again later), so an add in
 *  it is handed back to the host instead of being offered again at every reconnection.
 *  The withdrawal is stored before anything it releases (add_rolled_back) reaches the host: after a
 *  crash before that write, the stored state still has the commitment and resends it, as it must.
 *  Not applied after a restart (onRestored): every stored write counts as acknowledged then, so a
 *  commitment that may have left is never withdrawn. */
function withdrawUnsentCommitment (b: StepBuilder): void {
  const s = b.state
  const next = s.nextRemoteCommit
  if (next?.writeId === undefined || s.link === 'down' || s.writes.acked >= next.writeId) return
  s.nextRemoteCommit = undefined
  s.localChanges.proposed = [...s.localChanges.signed, ...s.localChanges.proposed]
  s.localChanges.signed = []
  s.remoteChanges.acked = [...s.remoteChanges.signed, ...s.remoteChanges.acked]
  s.remoteChanges.signed = []
  b.persist({ kind: 'remote_commitment_withdrawn', number: next.commit.index })
}

/** BOLT #2: "upon disconnection: MUST reverse any uncommitted updates sent by the other side (i.e.
 *  all messages beginning with `update_` for which no `commitment_signed` has been received)."
 *  The peer does the same with ours, so our own unsigned updates are undone too: our adds are handed
 *  back to the host (add_rolled_back, their ids reused), our fulfills, fails and fee updates are kept
 *  in the holding list and sent again after reestablish. Held sends are dropped: reestablish
 *  regenerates every message the peer may have missed. */
export function dropUncommitted (b: StepBuilder, violation?: ChannelError): void {
  const s = b.state
  s.link = 'down'
  for (const u of s.remoteChanges.proposed) {
    if (u.kind !== 'add') continue
    s.nextRemoteHtlcId--
    s.autoFail = s.autoFail.filter(a => a.id !== u.htlc.id) // judged again if it is sent again
  }
  s.remoteChanges.proposed = []
  const requeue: HeldUpdate[] = []
  for (const u of s.localChanges.proposed) {
    if (u.kind === 'add') {
      s.nextLocalHtlcId--
      b.emit({ type: 'add_rolled_back', htlc: u.htlc, ...(violation !== undefined ? { violation } : {}) })
    } else requeue.push(u)
  }
  s.localChanges.proposed = []
  s.holding = [...requeue, ...s.holding]
  s.outbox = s.outbox.filter(o => o.effect.kind === 'emit')
  // BOLT #2 closing_signed: "UNLESS it has since reconnected" — fee negotiation starts over after
  // reestablish (shutdown is retransmitted first).
  if (s.phase === 'negotiating_close') s.phase = 'shutting_down'
  s.closing.lastSentFeeSat = undefined
  s.closing.lastReceivedFeeSat = undefined
  s.closing.ourRange = undefined
  spliceLinkDown(b)
}
