// The monitor host (host/monitor/host.ts) on a real btcd: going on-chain with our
// own commitment is checked against DURABLE state, not against what the monitor was handed so far.
// When the monitor decides on its own (forceClose(), an HTLC deadline) the owner first fails the
// channel (failChannel, awaited before any broadcast), then every stored update is applied: the
// monitor broadcasts the newest durable local commitment, and nothing at all when the store says
// do_not_broadcast — even if those updates were never handed to it.
import t from 'tap'
import { txid } from '../../../protocol/tx/index.ts'
import { keys, put } from '../../../host/store/index.ts'
import type { MonitorUpdate } from '../../../protocol/channel/index.ts'
import { tipHeight, useBtcd } from '../../helpers/btcd.ts'
import { confirmedAt, fundedPair, heldCommitment, watch, type Watch } from './fixtures/channel.ts'
import type { KeyedPair, Side } from '../../../scripts/lib/keyed-pair.ts'

const btc = await useBtcd(t)

function payments (p: KeyedPair, h: number): void {
  for (const [from, amt] of [[p.a, 30_000_000], [p.a, 70_000_000], [p.b, 20_000_000]] as const) {
    const x = p.add(from, amt, h + 60); p.settle(); p.fulfill(p.other(from), x.id); p.settle()
  }
}

/** Every update of `s` is in the store (durable); the host is handed only the first `handed`. */
async function storedNotHanded (w: Watch, s: Side, updates: MonitorUpdate[], handed: number): Promise<void> {
  await w.store.write(updates.map(u => put(keys.monitorUpdate(s.state.channelId, u.seq), u)))
  await w.host.addUpdates(s.state.channelId, updates.slice(0, handed))
}

t.test('forceClose(): the channel is failed first, then the newest DURABLE local commitment is broadcast, not the last one handed in', async t => {
  const p = await fundedPair(btc, 81)
  const handedUpTo = p.a.monitor.length
  const older = txid(heldCommitment(p.a))
  payments(p, await tipHeight(btc))
  const newest = txid(heldCommitment(p.a))
  t.not(older, newest, 'the payments made newer commitments')
  const calls: Array<{ reason: string; broadcastsSoFar: number }> = []
  const w: Watch = await watch(btc, p.a, { failChannel: async reason => { calls.push({ reason, broadcastsSoFar: w.host.attempts.size }) } })
  await storedNotHanded(w, p.a, p.a.monitor, handedUpTo)
  t.ok(
    w.host.state(p.a.state.channelId)!.local!.number < p.a.state.localCommit!.index,
    'the monitor was handed only an older local commitment',
  )
  await w.host.forceClose(p.a.state.channelId, 'test')
  t.same(calls, [{ reason: 'test', broadcastsSoFar: 0 }], 'the owner was asked to fail the channel before anything was broadcast')
  await btc.mine(1)
  t.ok(await confirmedAt(btc, newest) !== undefined, 'the newest durable commitment confirmed')
  t.equal(await confirmedAt(btc, older), undefined, 'the older one (the last handed in, revoked since) never went out')
  await w.host.stop()
})

t.test('do_not_broadcast stored but not yet handed in: a force close broadcasts nothing', async t => {
  const p = await fundedPair(btc, 82)
  payments(p, await tipHeight(btc))
  const w = await watch(btc, p.a)
  const dnb: MonitorUpdate = {
    seq: p.a.monitor.length + 1, kind: 'do_not_broadcast', theirCurrentPoint: p.b.signer.perCommitmentPoint(p.b.state.localCommit!.index),
  }
  t.equal(p.a.monitor.at(-1)!.seq, p.a.monitor.length, 'update seqs are 1..n')
  await storedNotHanded(w, p.a, [...p.a.monitor, dnb], p.a.monitor.length)
  t.equal(w.host.state(p.a.state.channelId)!.doNotBroadcast, false, 'the monitor was not handed do_not_broadcast')
  await w.host.forceClose(p.a.state.channelId, 'test')
  t.equal(w.host.attempts.size, 0, 'nothing broadcast')
  t.equal(w.host.state(p.a.state.channelId)!.doNotBroadcast, true, 'it read do_not_broadcast from the store before deciding')
  await w.host.stop()
})
