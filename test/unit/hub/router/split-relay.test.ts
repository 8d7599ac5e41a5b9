// The hub's relay of split messages (hub/router/split-relay.ts), in-process over the hub harness: a
// split leg forwarded platform → hub → creator, held by the creator. Each message goes only where the
// HTLCs involved say: a leg locked only from the leg's recipient, signed by it, to the leg's payer; a
// release only from the payer, for its own leg, to that leg's recipient; an abort only signed by the
// payer, to the recipients of its legs. Anything else is dropped with a log line.
import t from 'tap'
import { amountToOffer } from '../../../../protocol/forwarding.ts'
import { legLockedDigest, abortDigest, signDigest } from '../../../../protocol/split/statements.ts'
import type { Msat, NodeId } from '../../../../protocol/types.ts'
import type { PeerMessage } from '../../../../protocol/wire/index.ts'
import { SplitRelay } from '../../../../hub/router/split-relay.ts'
import { Client, hubWithPlatformAndCreator, seed } from '../fixtures/hub-harness.ts'

const FEES = { feeBaseMsat: 1_000, feePpm: 100 }
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex')

t.test('split messages are relayed only between the node ids of the split\'s HTLCs, and only when signed by who must sign', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator()
  hub.manager.listen(new SplitRelay({
    manager: hub.manager, circuits: hub.circuits, router: hub.router, log: e => { hub.log.events.push(e) },
  }))
  const stranger = new Client()
  hub.connect(stranger)
  await stranger.open(hub, 1_000_000, 0)

  const inv = creator.invoice()
  creator.hold.add(inv.hash)
  const splitId = hex(seed('split'))
  const secret = { ephemeral_point: `02${'11'.repeat(32)}`, ciphertext: '22'.repeat(40), tag: '33'.repeat(32) }
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: amountToOffer(10_000, FEES), paymentHash: inv.hash, cltvExpiry: hub.height + 100,
    recipient: creator.nodeId,
    metadata: { split_leg: { split_id: splitId, index: 0, count: 1, payer: platform.nodeId, release_by: 1_900_000_000, secret } },
  })
  await hub.until(() => creator.events.some(e => e.type === 'htlc_received' && e.htlc.paymentHash === inv.hash), 'the leg at the creator')

  const got = (c: Client, type: string): PeerMessage[] => c.received.filter(m => m.type === type)
  const dropped = (why: RegExp): boolean => hub.log.events.some(e => e.event === 'split_message_dropped' && why.test(String(e.why)))
  const lockedBy = (key: Uint8Array, o: { index?: number; hash?: string } = {}): PeerMessage => {
    const l = {
      splitId, index: o.index ?? 0, paymentHash: o.hash ?? inv.hash, amountMsat: 10_000, rHash: '44'.repeat(32), payer: platform.nodeId,
      recipient: creator.nodeId,
    }
    return {
      type: 'split_leg_locked', split_id: splitId, index: l.index, payment_hash: l.paymentHash, amount_msat: 10_000 as Msat,
      r_hash: l.rHash, signature: signDigest(legLockedDigest(l), key, seed('aux')),
    }
  }

  // leg locked
  stranger.hubSend(lockedBy(stranger.key))
  t.ok(dropped(/no HTLC of this split forwarded to this recipient/), 'from a node the leg is not for: dropped')
  creator.hubSend(lockedBy(stranger.key))
  t.ok(dropped(/not signed by the recipient/), 'signed by another key: dropped')
  creator.hubSend(lockedBy(creator.key, { index: 1 }))
  t.equal(got(platform, 'split_leg_locked').length, 0, 'another leg index: not relayed')
  creator.hubSend(lockedBy(creator.key))
  t.equal(got(platform, 'split_leg_locked').length, 1, 'the recipient\'s own, signed: relayed to the payer')
  t.equal(got(stranger, 'split_leg_locked').length, 0, 'and to nobody else')

  // release
  const release = (recipient: NodeId, hash = inv.hash): PeerMessage => ({
    type: 'split_release', split_id: splitId, recipient, payment_hash: hash,
    secret: { ephemeral_point: `02${'55'.repeat(32)}`, ciphertext: '66'.repeat(32), tag: '77'.repeat(32) },
  })
  stranger.hubSend(release(creator.nodeId))
  t.ok(dropped(/names no leg of this payer's split/), 'from a node that is not the payer: dropped')
  platform.hubSend(release(stranger.nodeId))
  t.equal(got(stranger, 'split_release').length, 0, 'to a node that is not the leg\'s recipient: not relayed')
  platform.hubSend(release(creator.nodeId))
  t.equal(got(creator, 'split_release').length, 1, 'the payer\'s, for its leg: relayed to the recipient')

  // abort
  const abort = (key: Uint8Array, payer: NodeId): PeerMessage => ({
    type: 'split_abort', split_id: splitId, signature: signDigest(abortDigest(splitId, payer), key, seed('aux')),
  })
  platform.hubSend(abort(creator.key, platform.nodeId))
  t.ok(dropped(/not signed by the payer/), 'an abort not signed by the payer: dropped')
  stranger.hubSend(abort(stranger.key, stranger.nodeId))
  t.equal(got(creator, 'split_abort').length, 0, 'another node\'s own abort of the split id: reaches no recipient of the split')
  platform.hubSend(abort(platform.key, platform.nodeId))
  t.equal(got(creator, 'split_abort').length, 1, 'the payer\'s signed abort: relayed to the leg\'s recipient')
  t.same(hub.log.fatal, [], 'nothing fatal')
})
