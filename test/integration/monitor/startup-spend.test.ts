// The peer's commitment confirms while the hub is down. When the hub starts, its monitors find the
// spend while catching up, the channel fails on it (BOLT #5) and stores its `force_close` update; the
// monitor applies that update at once, though the hub's feed (ChannelManager `persisted`) reaches the
// monitors only once they have started: nothing the channel stored is left for a later restart. The
// hub is wired as hub/main.ts wires it, over a real btcd.
import t from 'tap'
import { txHex } from '../../../protocol/tx/index.ts'
import { bytesToHex } from '../../../protocol/types.ts'
import { AuditLog } from '../../../hub/audit/index.ts'
import { ChannelManager } from '../../../hub/channels/manager.ts'
import { HubMonitoring } from '../../../hub/channels/monitoring.ts'
import { channelIndexOp, channelStateKey } from '../../../host/channel/record.ts'
import { hubConfigSchema } from '../../../hub/config.ts'
import { CircuitStore } from '../../../hub/router/circuits.ts'
import { HoldStore } from '../../../hub/router/holds.ts'
import { PayerKeys } from '../../../hub/router/payer-keys.ts'
import { Router } from '../../../hub/router/router.ts'
import { MemoryStore, put } from '../../../host/store/index.ts'
import { tipHeight, useBtcd } from '../../helpers/btcd.ts'
import { DEPTH, FEERATE, confirmedAt, feed, fundedPair, heldCommitment, send, watch } from './fixtures/channel.ts'
import { CHAIN_HASH } from '../../../scripts/lib/keyed-pair.ts'

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

  const log: Array<Record<string, unknown>> = []
  const fatal: unknown[] = []
  const config = hubConfigSchema.parse({ dataDir: '/nonexistent' })
  let monitoring: HubMonitoring | undefined
  const height = await tipHeight(btc)
  const manager = new ChannelManager({
    store, audit: await AuditLog.open(store), config, chainHash: CHAIN_HASH, log: e => { log.push(e) },
    persisted: (cid, updates) => { monitoring?.persisted(cid, updates) },
    shutdownScript: () => '0014' + '33'.repeat(20), session: () => undefined, height: () => height,
    blocked: cid => monitoring?.stale.has(cid) === true, fatal: e => { fatal.push(e) },
  })
  const circuits = new CircuitStore(store)
  await circuits.load()
  const router = new Router({
    hubId: p.b.nodeId, manager, circuits, holds: new HoldStore(store), payerKeys: new PayerKeys(store), config, preimages: new Map(),
    height: () => height, log: e => { log.push(e) },
    fatal: e => { fatal.push(e) },
  })
  manager.listen(router)
  t.equal(await manager.load(), 1, 'the hub loaded its channel')
  const before = manager.get(id)!.state.monitorSeq
  monitoring = await HubMonitoring.start({
    store, chain: btc.chain, manager, router, circuits, sweepScript: w.sweep, depth: DEPTH, feeratePerKw: FEERATE,
    log: e => { log.push(e) }, fatal: (why, detail) => { fatal.push([why, detail]) },
  })
  const hub = monitoring
  t.teardown(() => hub.stop())

  const ch = manager.get(id)!
  t.equal(ch.state.phase, 'failed', 'the channel failed on the spend it found (BOLT #5)')
  t.ok(ch.state.monitorSeq > before, `and stored its force_close update (update ${ch.state.monitorSeq})`)
  t.equal(hub.host.lastSeq(id), ch.state.monitorSeq, 'the monitor applied every update the channel stored, in this start')
  t.match((await hub.host.inspect(id))?.forceClose, { reason: 'force_close' }, '… the force_close update among them')
  t.match(await hub.onChain(id), { spend: { txid: theirs, how: 'remote' } }, 'the monitor saw the peer\'s commitment')
  t.equal((await hub.onChain(id))?.forceClose, undefined, 'and reports no force close of ours: our commitment never went out')
  t.same(fatal, [], 'nothing fatal')
})
