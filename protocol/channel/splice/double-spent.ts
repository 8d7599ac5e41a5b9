// A splice transaction that can never confirm: one of its inputs other than the channel's funding
// output (a wallet coin one side contributed, or another channel's funding output in a batched
// settlement) is spent by another transaction in the chain. BOLT #2 (tx_abort receiver): "if they have
// already sent `tx_signatures` to the peer: MUST NOT forget the channel until any inputs to the
// negotiated tx have been spent." Once one is spent, the candidate is forgotten: the channel stays on
// its current funding output, whose commitments both sides hold (every update was signed for every
// funding), and nothing of the candidate's balance moves was ever spendable beyond what the current
// funding allows (protocol/channel/splice/state.ts specsForEveryFunding).
//
// The host reports the conflicting spend (chain input `splice_double_spent`) at each depth it sees;
// the candidate is marked at once and dropped when the host says the spend is final (its finality
// depth). Both sides drop it at their own final depth, so one may send a commitment_signed batch
// without it while the other still has it: a batch without a marked candidate drops it then
// (protocol/channel/splice/batch.ts), the peer having seen the same spend.
import { DROPPED_SPLICES_KEPT } from '../../limits.ts'
import type { Txid } from '../../types.ts'
import type { StepBuilder } from '../effects.ts'
import { isOperating } from '../phase.ts'
import { spliceOf } from './state.ts'

/** Chain input: candidate `txid`'s input `input` is spent by `spentBy`, confirmed; `final` once that
 *  spend is at the host's finality depth. */
export interface SpliceDoubleSpent { type: 'splice_double_spent'; txid: Txid; input: string; spentBy: Txid; final: boolean }

export function spliceDoubleSpent (b: StepBuilder, e: SpliceDoubleSpent): void {
  const s = b.state
  const sp = s.splice
  if (sp === undefined || !isOperating(s.phase)) return
  const c = sp.candidates.find(x => x.txid === e.txid)
  if (c === undefined) return
  if (e.final) return dropDoubleSpent(b, e.txid, { input: e.input, spentBy: e.spentBy })
  if (c.spentElsewhere?.spentBy === e.spentBy) return
  sp.candidates = sp.candidates.map(x => x.txid === e.txid ? { ...x, spentElsewhere: { input: e.input, spentBy: e.spentBy } } : x)
  b.persist()
}

/** Forgets candidate `txid` (it can never confirm): the monitor stops watching for it, a lock we
 *  announced for it is withdrawn from our state (it could not have reached depth), and the state
 *  remembers it among the last DROPPED_SPLICES_KEPT dropped, in the same write, for the hosts'
 *  accounting (a dropped splice's row is reversed). `note`: how we learnt it, if not from our host. */
export function dropDoubleSpent (b: StepBuilder, txid: Txid, spent: { input: string; spentBy: Txid }, note?: string): void {
  const sp = spliceOf(b.state)
  sp.candidates = sp.candidates.filter(x => x.txid !== txid)
  sp.dropped = [...(sp.dropped ?? []), { txid, input: spent.input, spentBy: spent.spentBy }].slice(-DROPPED_SPLICES_KEPT)
  if (sp.localLocked === txid) delete sp.localLocked
  if (sp.remoteLocked === txid) delete sp.remoteLocked
  b.persist({ kind: 'splice_dropped', txid })
  const reason = `its input ${spent.input} is spent by ${spent.spentBy}${note !== undefined ? ` (${note})` : ''}`
  b.emit({ type: 'splice_double_spent', txid, reason })
}
