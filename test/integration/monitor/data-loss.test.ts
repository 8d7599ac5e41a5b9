// Scenarios 5 and 6 on a real btcd.
// 5: a party restarted from an old backup learns at reconnection that it is behind; it never
//    broadcasts its (revoked) commitment, the peer closes, and it recovers its balance from the
//    peer's commitment, which its monitor never saw.
// 6: the channel state is older than the monitor's: the monitor closes with the newest commitment
//    it holds; nothing is lost but fees.
import t from 'tap'
import { txid } from '../../../protocol/tx/index.ts'
import { useBtcd } from '../../helpers/btcd.ts'
import { confirmedAt, feed, fundedPair, heldCommitment, mineUntil, sweptTo, tipHeight, watch } from './fixtures/channel.ts'
import type { KeyedPair } from '../../unit/monitor/fixtures/pair.ts'

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
  t.equal(sa.received + sa.fees, latestA - commitFee, `A recovers its latest balance ${latestA} − commitment fee ${commitFee}: ${sa.received} + sweep fee ${sa.fees}`)
  t.equal(sb.received + sb.fees, Math.floor(p.b.state.localCommit!.spec.toLocalMsat / 1000), 'B recovers its balance after the delay')
  await a.host.stop(); await b.host.stop()
})

t.test('scenario 6: channel state older than the monitor: close from the monitor, lose nothing but fees', async t => {
  const p = await fundedPair(btc, 61)
  const backup = payments(p, await tipHeight(btc))
  const a = await watch(btc, p.a)
  await feed(a) // the monitor has every update
  const latest = txid(heldCommitment(p.a))
  const latestA = Math.floor(p.a.state.localCommit!.spec.toLocalMsat / 1000)
  // The channel restarts from an older state than its monitor: how a host notices.
  const stale = p.a.snapshots[backup]!.state
  t.ok(stale.monitorSeq < a.host.state(p.a.state.channelId)!.lastSeq, 'the stored channel state is behind its monitor')
  const from = await tipHeight(btc)
  await a.host.forceClose(p.a.state.channelId, 'channel state older than its monitor')
  await btc.mine(1)
  t.ok(await confirmedAt(btc, latest) !== undefined, 'the monitor\'s (newest) commitment confirmed, not the stale channel\'s')
  await mineUntil(btc, () => a.events.some(e => e.kind === 'closed'), 60)
  const sa = await sweptTo(btc, a.sweep, from)
  const commitFee = 1_000_000 - heldCommitment(p.a).outputs.reduce((n, o) => n + o.valueSat, 0)
  t.equal(sa.received + sa.fees, latestA - commitFee, `A gets its newest balance minus the commitment fee ${commitFee} and sweep fee ${sa.fees}`)
  await a.host.stop()
})
