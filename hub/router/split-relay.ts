// The hub's part in split payments (DESIGN.md "Splits"): it relays the split messages between a
// split's payer and its recipients, each scoped to the node ids of the HTLCs involved, and it checks
// what it can (the hub cannot open a sealed secret, nor sign for anyone):
//
//   split_leg_locked  from a recipient: relayed only to the payer of an HTLC the hub forwarded to that
//                     recipient with that payment hash, split id and leg index, and only if it is
//                     signed by the recipient for that payer (a peer cannot make the hub send its
//                     words to a node it has no payment with);
//   split_release     from a payer: relayed only to the recipient of one of the payer's own incoming
//                     HTLCs of that split, with that payment hash;
//   split_abort       from a payer, signed by it: relayed to every recipient of its legs of that split,
//                     and legs the hub still holds for an offline recipient fail back at once.
//
// Anything else is dropped with a log line; nothing here touches a channel but the held legs' fail.
import { committedIncoming, type Htlc } from '../../protocol/channel/index.ts'
import { abortDigest, legLockedDigest, verifyDigest } from '../../protocol/split/statements.ts'
import type { NodeId } from '../../protocol/types.ts'
import type { SplitAbort, SplitLegLocked, SplitRelease } from '../../protocol/wire/index.ts'
import type { ChannelManager, ManagedChannel, SplitMessage } from '../channels/manager.ts'
import type { CircuitStore } from './circuits.ts'
import type { Router } from './router.ts'

export interface SplitRelayOptions {
  manager: ChannelManager
  circuits: CircuitStore
  router: Pick<Router, 'abandonHeld'>
  log: (event: Record<string, unknown>) => void
}

export class SplitRelay {
  constructor (private readonly opts: SplitRelayOptions) {}

  /** ChannelListener: the relay needs no channel events. */
  event (): void {}

  splitMessage (peer: NodeId, msg: SplitMessage): void {
    switch (msg.type) {
      case 'split_leg_locked': return this.legLocked(peer, msg)
      case 'split_release': return this.release(peer, msg)
      case 'split_abort': return this.abort(peer, msg)
    }
  }

  private drop (peer: NodeId, msg: SplitMessage, why: string): void {
    this.opts.log({ event: 'split_message_dropped', peer, type: msg.type, split_id: msg.split_id, why })
  }

  private legLocked (recipient: NodeId, m: SplitLegLocked): void {
    for (const c of this.opts.circuits.all()) {
      if (c.state !== 'forwarding' || c.out.recipient !== recipient || c.in.paymentHash !== m.payment_hash) continue
      const chIn = this.opts.manager.get(c.in.channelId)
      const leg = chIn === undefined ? undefined : committedIncoming(chIn.state).find(h => h.id === c.in.htlcId)?.metadata?.split_leg
      if (chIn === undefined || leg === undefined || leg.split_id !== m.split_id || leg.index !== m.index) continue
      const digest = legLockedDigest({
        splitId: m.split_id, index: m.index, paymentHash: m.payment_hash, amountMsat: m.amount_msat, rHash: m.r_hash, payer: chIn.peer,
        recipient,
      })
      if (!verifyDigest(digest, m.signature, recipient)) return this.drop(recipient, m, 'not signed by the recipient for this payer')
      if (!this.opts.manager.send(chIn.peer, m)) this.drop(recipient, m, 'the payer is offline')
      return
    }
    this.drop(recipient, m, 'no HTLC of this split forwarded to this recipient with this payment hash and index')
  }

  private release (payer: NodeId, m: SplitRelease): void {
    const leg = this.legsOf(payer, m.split_id).find(({ htlc }) => htlc.paymentHash === m.payment_hash && htlc.recipient === m.recipient)
    if (leg === undefined) return this.drop(payer, m, 'names no leg of this payer\'s split')
    if (!this.opts.manager.send(m.recipient, m)) this.drop(payer, m, 'the recipient is offline')
  }

  private abort (payer: NodeId, m: SplitAbort): void {
    if (!verifyDigest(abortDigest(m.split_id, payer), m.signature, payer)) return this.drop(payer, m, 'not signed by the payer')
    const legs = this.legsOf(payer, m.split_id)
    for (const recipient of new Set(legs.map(l => l.htlc.recipient))) this.opts.manager.send(recipient, m)
    for (const { ch, htlc } of legs) this.opts.router.abandonHeld(ch, htlc.id, `the payer aborted split ${m.split_id}`)
  }

  /** The payer's incoming HTLCs of a split, on every channel of the payer. */
  private legsOf (payer: NodeId, splitId: string): Array<{ ch: ManagedChannel; htlc: Htlc }> {
    return this.opts.manager.channelsOf(payer).flatMap(ch => committedIncoming(ch.state)
      .filter(h => h.metadata?.split_leg?.split_id === splitId)
      .map(htlc => ({ ch, htlc })))
  }
}
