// BOLT #2 "Message Retransmission": what a disconnection undoes.
import type { StepBuilder } from './effects.ts'
import type { HeldUpdate } from './state.ts'

/** BOLT #2: "upon disconnection: MUST reverse any uncommitted updates sent by the other side (i.e.
 *  all messages beginning with `update_` for which no `commitment_signed` has been received)."
 *  The peer does the same with ours, so our own unsigned updates are undone too: our adds are handed
 *  back to the host (add_rolled_back, their ids reused), our fulfills, fails and fee updates are kept
 *  in the holding list and sent again after reestablish. Held sends are dropped: reestablish
 *  regenerates every message the peer may have missed. */
export function dropUncommitted (b: StepBuilder): void {
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
    if (u.kind === 'add') { s.nextLocalHtlcId--; b.emit({ type: 'add_rolled_back', htlc: u.htlc }) } else requeue.push(u)
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
}
