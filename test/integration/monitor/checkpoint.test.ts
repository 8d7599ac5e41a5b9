// The host's checkpoints and unloaded monitors on a real btcd. A monitor's state is stored
// as a checkpoint, not after every update, and a monitor with nothing at stake is dropped from
// memory: nothing may be lost by either. A host killed between checkpoints replays the stored updates
// and still punishes a revoked commitment whose HTLCs it had dropped from memory; an idle monitor
// stays unloaded across blocks and restarts, is loaded when the store has updates it has not seen,
// and when its funding output is spent.
import t from 'tap'
import { parseMonitorState } from '../../../protocol/monitor/index.ts'
import { p2wpkh, txHex, txid } from '../../../protocol/tx/index.ts'
import { bytesToHex, hexToBytes } from '../../../protocol/types.ts'
import { FaultyStore } from '../../fixtures/faulty-store.ts'
import { keys, parseJsonValue, put, type Store } from '../../../host/store/index.ts'
import { LevelStore } from '../../../host/store/node/level-store.ts'
import { indexKey, parseSummary } from '../../../host/monitor/checkpoint.ts'
import { tipHeight, useBtcd } from '../../helpers/btcd.ts'
import { DELAY, DEPTH, confirmedAt, feed, fundedPair, heldCommitment, mineUntil, send, sweptTo, watch } from './fixtures/channel.ts'
import { tempDir } from '../../helpers/hub.ts'

const btc = await useBtcd(t)

async function storedSeq (store: Store, channelId: string): Promise<number> {
  const raw = await store.get(keys.monitorState(channelId))
  if (raw === undefined) return -1
  const parsed = parseMonitorState(parseJsonValue(raw))
  if (!parsed.ok) throw new Error(parsed.error)
  return parsed.value.lastSeq
}

t.test('a host killed between checkpoints replays the stored updates and punishes a revoked commitment whose HTLCs it dropped from memory', async t => {
  const p = await fundedPair(btc, 71)
  const id = p.a.state.channelId
  const dir = tempDir('monitor')
  const faulty = new FaultyStore(await LevelStore.open(dir))
  let hub = await watch(btc, p.a, { store: faulty, checkpointMs: 3_600_000 })
  await feed(hub) // the monitor is created, and stored once
  const created = await storedSeq(faulty, id)
  const h0 = await tipHeight(btc)
  const x = p.add(p.a, 60_000_000, h0 + 60)
  const y = p.add(p.b, 25_000_000, h0 + 60)
  p.settle()
  const old = heldCommitment(p.b) // the client's commitment with both HTLCs: revoked below
  p.fulfill(p.b, x.id); p.fulfill(p.a, y.id); p.settle()
  for (let i = 0; i < 5; i++) { const z = p.add(p.b, 1_000_000 + i, h0 + 60); p.settle(); p.fulfill(p.a, z.id); p.settle() }
  await feed(hub)
  const st = hub.host.state(id)!
  t.equal(st.lastSeq, p.a.monitor.length, 'the monitor applied every update')
  t.equal(await storedSeq(faulty, id), created, `its checkpoint was not rewritten per update (still at ${created})`)
  t.ok(st.remotes.every(r => r.number > st.revokedUpTo), 'no revoked commitment kept in memory')
  const live = new Set([
    ...st.local!.spec.htlcs, ...(st.previousLocal?.spec.htlcs ?? []), ...st.remotes.flatMap(r => r.htlcs)
  ].map(h => h.paymentHash))
  t.ok(
    Object.keys(st.preimages).every(h => live.has(h)) && Object.keys(st.preimages).length < 7,
    `only preimages of HTLCs in a commitment that can still confirm are kept in memory (${Object.keys(st.preimages).length} of 7)`,
  )

  // Kill: nothing the host writes from now on reaches the disk.
  faulty.stall()
  void hub.host.stop()
  await faulty.inner.close()

  const from = await tipHeight(btc)
  await send(btc, txHex(old))
  await btc.mine(1)
  const C = await tipHeight(btc)
  hub = await watch(btc, p.a, { dir, sweep: hub.sweep })
  t.equal(hub.host.lastSeq(id), p.a.monitor.length, 'after the restart the monitor replayed every stored update')
  t.ok(hub.host.state(id)!.seen.some(s => s.txid === txid(old)), 'and found the revoked commitment')
  await mineUntil(btc, () => hub.events.some(e => e.kind === 'closed'), 20)
  const swept = await sweptTo(btc, hub.sweep, from)
  t.equal(swept.txids.length, 1, 'one penalty tx')
  t.ok((await confirmedAt(btc, swept.txids[0]!))! < C + DELAY - 1, 'before the cheater could sweep')
  const total = old.outputs.reduce((n, o) => n + o.valueSat, 0)
  t.equal(old.outputs.length, 4, 'the revoked commitment has both HTLC outputs')
  t.equal(
    swept.received + swept.fees, total, `the hub takes every output, both HTLCs included (${total}): ${swept.received} + fee ${swept.fees}`,
  )
  await hub.host.stop(); await hub.store.close()
})

t.test('an idle monitor is dropped from memory, stays unloaded across blocks and a restart, and is loaded for updates it missed and when its funding output is spent', async t => {
  const p = await fundedPair(btc, 72)
  const id = p.a.state.channelId
  const dir = tempDir('monitor')
  let hub = await watch(btc, p.a, { dir, checkpointMs: 3_600_000 })
  await feed(hub)
  const h0 = await tipHeight(btc)
  const x = p.add(p.b, 70_000_000, h0 + 60); p.settle(); p.fulfill(p.a, x.id); p.settle()
  await feed(hub)
  await btc.mine(DEPTH) // the funding tx is deep and no HTLC is pending: nothing at stake
  const synced = await btc.chain.syncFollowers()
  if (!synced.ok) throw new Error(synced.error.detail)
  const summary = parseSummary(parseJsonValue((await hub.store.get(indexKey(id)))!))
  t.ok(summary.ok && summary.value.quiet, 'once its funding tx is deep, its stored summary says so (a restart need not load it)')
  t.ok(hub.host.state(id) !== undefined, 'loaded while it was busy')
  await hub.host.checkpoint() // a round with updates: it was busy
  await hub.host.checkpoint() // idle for a whole round: stored and dropped
  t.equal(hub.host.state(id), undefined, 'dropped from memory once idle')
  t.equal(hub.host.lastSeq(id), p.a.monitor.length, 'its updates are all accounted for')
  t.equal(await storedSeq(hub.store, id), p.a.monitor.length, 'its checkpoint holds every update')
  await btc.mine(2)
  t.equal(hub.host.state(id), undefined, 'blocks that do not touch its funding output do not load it')

  await hub.host.stop(); await hub.store.close()
  // While the host is down, the channel makes a payment: its updates are stored, never handed in.
  const y = p.add(p.b, 30_000_000, h0 + 60); p.settle(); p.fulfill(p.a, y.id); p.settle()
  {
    const store = await LevelStore.open(dir)
    await store.write(p.a.monitor.slice(hub.given).map(u => put(keys.monitorUpdate(id, u.seq), u)))
    await store.close()
  }
  hub = await watch(btc, p.a, { dir, sweep: hub.sweep, checkpointMs: 3_600_000 })
  t.equal(hub.host.state(id), undefined, 'not loaded at startup (its summary says nothing is at stake)')
  await hub.host.adoptAll([id])
  t.equal(hub.host.lastSeq(id), p.a.monitor.length, 'adopting it finds the updates past its checkpoint and replays them')

  const toA = heldCommitment(p.b) // B closes alone with its latest commitment
  const toRemote = toA.outputs.find(o => bytesToHex(o.script) === bytesToHex(p2wpkh(hexToBytes(p.a.keys.paymentBasepoint))))!
  await hub.host.checkpoint(); await hub.host.checkpoint()
  t.equal(hub.host.state(id), undefined, 'dropped from memory again')
  const from = await tipHeight(btc)
  await send(btc, txHex(toA))
  await btc.mine(1)
  t.ok(hub.host.state(id)?.seen.some(s => s.txid === txid(toA)) === true, 'the block spending its funding output loads it')
  await mineUntil(btc, () => hub.events.some(e => e.kind === 'closed'), 20)
  const swept = await sweptTo(btc, hub.sweep, from)
  t.equal(
    swept.received + swept.fees, toRemote.valueSat,
    `A sweeps its balance on B's commitment (${toRemote.valueSat}): ${swept.received} + fee ${swept.fees}`,
  )
  await hub.host.stop(); await hub.store.close()
})
