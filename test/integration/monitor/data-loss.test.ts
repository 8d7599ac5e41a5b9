// Scenarios 5 and 6 on a real btcd.
// 5: a party restarted from an old backup learns at reconnection that it is behind; it never
//    broadcasts its (revoked) commitment, the peer closes, and it recovers its balance from the
//    peer's commitment, which its monitor never saw.
// 6: the hub starts with a channel state older than its monitor's: its own startup check
//    (HubMonitoring) finds it, never runs the channel, and the monitor closes with the newest
//    commitment it holds; nothing is lost but fees.
import t from 'tap'
import { startHubSide } from './fixtures/hub-start.ts'
import { txid } from '../../../protocol/tx/index.ts'
import { bytesToHex } from '../../../protocol/types.ts'
import { channelIndexOp, channelStateKey } from '../../../host/channel/record.ts'
import { MemoryStore, put } from '../../../host/store/index.ts'
import { tipHeight, useBtcd } from '../../helpers/btcd.ts'
import { confirmedAt, feed, fundedPair, heldCommitment, mineUntil, sweptTo, watch } from './fixtures/channel.ts'
import type { KeyedPair } from '../../../scripts/lib/keyed-pair.ts'

const btc = await useBtcd(t)

/** A few payments both ways; returns the index of a snapshot of A's store taken after the first. */
function payments (p: KeyedPair, h: number): number {
  const pay = (from: typeof p.a, amt: number): void => {
    const x = p.add(from, amt, h + 60); p.settle(); p.fulfill(p.other(from), x.id); p.settle()
  }
  pay(p.a, 30_000_000)
  const backup = p.a.snapshots.length - 1
  pay(p.a, 70_000_000)
  pay(p.b, 20_000_000)
  return backup
}

t.test('scenario 5: restored from an old backup, A never broadcasts; B closes; A recovers its balance', async t => {
  const p = await fundedPair(btc, 51)
  const backup = payments(p, await tipHeight(btc))
  const latestA = Math.floor(p.a.state.localCommit!.spec.toLocalMsat / 1000)
  const staleCommitment = txid(heldCommitment({ ...p.a, monitor: p.a.monitor.slice(0, p.a.snapshots[backup]!.monitorCount) }))
  p.restoreFromBackup(p.a, backup)
  t.ok(p.a.monitor.some(u => u.kind === 'do_not_broadcast'), 'A learned it is behind (do_not_broadcast stored)')
  t.ok(p.b.monitor.some(u => u.kind === 'force_close'), 'B fails the channel and will close it')
  const a = await watch(btc, p.a)
  const b = await watch(btc, p.b)
  await feed(a)
  const from = await tipHeight(btc)
  await a.host.forceClose(p.a.state.channelId)
  t.equal(a.host.attempts.size, 0, 'A broadcasts nothing, even when asked to force close')
  await feed(b) // B's force_close update: B's monitor broadcasts its latest commitment
  await btc.mine(1)
  const theirs = txid(heldCommitment(p.b))
  t.ok(await confirmedAt(btc, theirs) !== undefined, 'B\'s latest commitment confirmed')
  t.equal(await confirmedAt(btc, staleCommitment), undefined, 'A\'s stale commitment never went out')
  await mineUntil(btc, () => a.events.some(e => e.kind === 'closed') && b.events.some(e => e.kind === 'closed'), 60)
  const sa = await sweptTo(btc, a.sweep, from)
  const sb = await sweptTo(btc, b.sweep, from)
  // B's commitment: A (the opener) pays its fee out of A's balance.
  const commitFee = 1_000_000 - heldCommitment(p.b).outputs.reduce((n, o) => n + o.valueSat, 0)
  t.equal(
    sa.received + sa.fees, latestA - commitFee,
    `A recovers its latest balance ${latestA} − commitment fee ${commitFee}: ${sa.received} + sweep fee ${sa.fees}`,
  )
  t.equal(sb.received + sb.fees, Math.floor(p.b.state.localCommit!.spec.toLocalMsat / 1000), 'B recovers its balance after the delay')
  await a.host.stop(); await b.host.stop()
})

t.test('scenario 6: the hub finds a channel state older than its monitor at startup and closes from the monitor; nothing lost but fees', async t => {
  const p = await fundedPair(btc, 61)
  const backup = payments(p, await tipHeight(btc))
  const id = p.a.state.channelId
  // The hub's store: A's monitor has applied every update (its checkpoint is stored when it stops)…
  const store = new MemoryStore()
  const w = await watch(btc, p.a, { store })
  await feed(w)
  const monitorSeq = w.host.state(id)!.lastSeq
  await w.host.stop()
  const latest = txid(heldCommitment(p.a))
  const latestA = Math.floor(p.a.state.localCommit!.spec.toLocalMsat / 1000)
  // …and the channel record is restored from an older backup: behind its monitor.
  const stale = p.a.snapshots[backup]!.state
  t.ok(
    stale.monitorSeq < monitorSeq, `the restored channel state (update ${stale.monitorSeq}) is behind its monitor (update ${monitorSeq})`,
  )
  await store.write([
    put(channelStateKey(id), { v: 1, peer: p.b.nodeId, seed: bytesToHex(p.a.seed), state: stale }), channelIndexOp(id, p.b.nodeId),
  ])

  // The hub starts over that store as hub/main.ts does: channels, router, then its monitors, whose
  // startup check is what must find the stale channel.
  // The monitor keeps the sweep script it was created with (the hub's wallet script).
  const sweep = w.sweep
  const from = await tipHeight(btc)
  const { monitoring: hub, loaded, log, fatal } = await startHubSide(t, { store, btc, hubId: p.b.nodeId, sweepScript: sweep })
  t.equal(loaded, 1, 'the hub loaded the restored channel')
  t.ok(hub.stale.has(id), 'the hub marked the channel stale: it will not run it')
  t.match(
    log.find(e => e.event === 'channel_stale'), { channel_id: id, state_seq: stale.monitorSeq, monitor_seq: monitorSeq }, 'and logged why',
  )
  t.equal((await hub.onChain(id))?.stale, true, 'the admin view says so')
  await btc.mine(1)
  t.ok(await confirmedAt(btc, latest) !== undefined, 'the monitor\'s (newest) commitment confirmed, not the stale channel\'s')
  await mineUntil(btc, async () => (await sweptTo(btc, sweep, from)).txids.length > 0 && (await hub.onChain(id))?.closed === true, 60)
  const sa = await sweptTo(btc, sweep, from)
  const commitFee = 1_000_000 - heldCommitment(p.a).outputs.reduce((n, o) => n + o.valueSat, 0)
  t.equal(
    sa.received + sa.fees, latestA - commitFee,
    `the hub gets A's newest balance minus the commitment fee ${commitFee} and sweep fee ${sa.fees}`,
  )
  t.same(fatal, [], 'nothing fatal')
})
