// The peer's commitment confirms while the hub is down. When the hub starts, its monitors find the
// spend while catching up, the channel fails on it (BOLT #5) and stores its `force_close` update; the
// monitor applies that update at once, though the hub's feed (ChannelManager `persisted`) reaches the
// monitors only once they have started: nothing the channel stored is left for a later restart. The
// hub is wired as hub/main.ts wires it, over a real btcd.
import t from 'tap'
import { startHubSide } from './fixtures/hub-start.ts'
import { txHex } from '../../../protocol/tx/index.ts'
import { bytesToHex } from '../../../protocol/types.ts'
import { channelIndexOp, channelStateKey } from '../../../host/channel/record.ts'
import { MemoryStore, put } from '../../../host/store/index.ts'
import { tipHeight, useBtcd } from '../../helpers/btcd.ts'
import { confirmedAt, feed, fundedPair, heldCommitment, send, watch } from './fixtures/channel.ts'

const btc = await useBtcd(t)

t.test('a spend found while catching up fails the channel, and its force_close update reaches the monitor in the same start', async t => {
  const p = await fundedPair(btc, 81)
  const h = await tipHeight(btc)
  const x = p.add(p.a, 50_000_000, h + 60); p.settle(); p.fulfill(p.b, x.id); p.settle()
  const id = p.a.state.channelId
  // The hub's store (side A): the channel as it is now, its monitor up to date with every update.
  const store = new MemoryStore()
  const w = await watch(btc, p.a, { store })
  await feed(w)
  await w.host.stop()
  await store.write([
    put(channelStateKey(id), { v: 1, peer: p.b.nodeId, seed: bytesToHex(p.a.seed), state: p.a.state }), channelIndexOp(id, p.b.nodeId),
  ])

  // While the hub is down, the peer closes with its latest commitment.
  const theirs = await send(btc, txHex(heldCommitment(p.b)))
  await btc.mine(1)
  t.ok(await confirmedAt(btc, theirs) !== undefined, 'the peer\'s commitment confirmed while the hub was down')

  let before = 0
  const { manager, monitoring: hub, loaded, fatal } = await startHubSide(t, {
    store, btc, hubId: p.b.nodeId, sweepScript: w.sweep, beforeMonitors: m => { before = m.get(id)!.state.monitorSeq },
  })
  t.equal(loaded, 1, 'the hub loaded its channel')

  const ch = manager.get(id)!
  t.equal(ch.state.phase, 'failed', 'the channel failed on the spend it found (BOLT #5)')
  t.ok(ch.state.monitorSeq > before, `and stored its force_close update (update ${ch.state.monitorSeq})`)
  t.equal(hub.host.lastSeq(id), ch.state.monitorSeq, 'the monitor applied every update the channel stored, in this start')
  t.match((await hub.host.inspect(id))?.forceClose, { reason: 'force_close' }, '… the force_close update among them')
  t.match(await hub.onChain(id), { spend: { txid: theirs, how: 'remote' } }, 'the monitor saw the peer\'s commitment')
  t.equal((await hub.onChain(id))?.forceClose, undefined, 'and reports no force close of ours: our commitment never went out')
  t.same(fatal, [], 'nothing fatal')
})
