// What lets the hub restart with many channels (hub/channels/channel.ts, host/channel/record.ts, manager.ts): a
// restarted hub builds no channel driver until the channel is used, feeds blocks only to channels
// with HTLCs in flight (an idle channel gets the height before its next input), lists channels and
// preimages from indexes only, and holds sessions until it is ready.
import t from 'tap'
import { amountToOffer } from '../../../../protocol/forwarding.ts'
import type { ChannelId, NodeId } from '../../../../protocol/types.ts'
import type { PeerMessage } from '../../../../protocol/wire/index.ts'
import { AuditLog } from '../../../../hub/audit/index.ts'
import { ChannelManager } from '../../../../hub/channels/manager.ts'
import {
  channelIndexKey, channelIndexOp, loadChannelIndex, loadChannelRecords, loadPreimage, loadPreimages, preimageOps,
} from '../../../../host/channel/record.ts'
import { hubConfigSchema } from '../../../../hub/config.ts'
import { CircuitStore, type Circuit } from '../../../../hub/router/circuits.ts'
import { MemoryStore, put } from '../../../../host/store/index.ts'
import type { PeerSession } from '../../../../hub/transport/server.ts'
import { Client, InProcessHub, hubWithPlatformAndCreator } from '../fixtures/hub-harness.ts'

const FEES = { feeBaseMsat: 1_000, feePpm: 100 }

async function payAndSettle (hub: InProcessHub, platform: Client, creator: Client, amountMsat: number): Promise<string> {
  const inv = creator.invoice()
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: amountToOffer(amountMsat, FEES), paymentHash: inv.hash, cltvExpiry: hub.height + 100,
    recipient: creator.nodeId,
  })
  await hub.until(
    () => platform.events.some(e => e.type === 'htlc_fulfilled' && e.paymentHash === inv.hash) && platform.settled && creator.settled,
    'payment settled',
  )
  return inv.hash
}

t.test('a restarted hub builds drivers only for channels in use; blocks reach only channels with HTLCs; an idle channel catches up on the height first', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator()
  await payAndSettle(hub, platform, creator, 20_000)
  await hub.crash()

  hub.height = 150
  await hub.start()
  const chans = hub.manager.all()
  t.equal(chans.length, 2, 'both channels loaded')
  t.same(chans.map(c => c.running), [false, false], 'no driver is built at startup')
  t.same(chans.map(c => c.state.link), ['up', 'up'], 'the stored states are as written (link up when written)')
  await hub.manager.block(150)
  t.same(chans.map(c => c.running), [false, false], 'a block builds no driver for a channel without HTLCs')

  hub.connect(platform)
  const chP = hub.manager.get(platform.driver!.channelId)!
  const chC = hub.manager.get(creator.driver!.channelId)!
  await hub.until(() => chP.state.link === 'up' && platform.driver!.state.link === 'up', 'platform channel reestablished')
  t.equal(chP.running, true, "the connected peer's channel runs")
  t.equal(chC.running, false, "the other peer's channel still does not")
  t.equal(chP.state.height, 150, 'it was given the current height before its first input')

  hub.connect(creator)
  await hub.until(() => chC.state.link === 'up' && creator.driver!.state.link === 'up', 'creator channel reestablished')
  const before = creator.balanceMsat
  await payAndSettle(hub, platform, creator, 30_000)
  t.equal(creator.balanceMsat - before, 30_000, 'payments flow after the restart')

  // An HTLC in flight makes a channel height-dependent: the next block reaches it, and only it.
  hub.disconnect(creator)
  const inv = creator.invoice()
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: amountToOffer(10_000, FEES), paymentHash: inv.hash, cltvExpiry: hub.height + 100,
    recipient: creator.nodeId,
  })
  await hub.until(() => hub.log.events.some(e => e.event === 'payment_held'), 'the payment held for the offline creator')
  hub.height = 151
  await hub.manager.block(151)
  t.equal(chP.state.height, 151, 'the channel with an HTLC in flight got the block')
  t.equal(chC.state.height, 150, 'the idle channel did not')
  void chC.driver // a read of the driver hands it the height it missed
  await hub.until(() => chC.state.height === 151, 'the idle channel catches up when used')
  t.pass('the idle channel caught up when used')
})

t.test('records: channels and preimages are read from the indexes only', async t => {
  const store = new MemoryStore()
  const id = 'ab'.repeat(32)
  const peer = ('02' + 'cd'.repeat(32)) as NodeId
  const hash = 'ef'.repeat(32)
  const preimage = '12'.repeat(32)
  const update = { seq: 1, kind: 'preimage' as const, paymentHash: hash, preimage }
  await store.write([
    put(`chan/${id}/monitor/0000000000000001`, update),
    put(`chan/${id}/state`, { v: 1, peer, seed: '34'.repeat(32), state: { phase: 'normal', channelId: id } }),
  ])
  t.equal(await loadPreimage(store, hash), undefined, 'a preimage without its index entry is not found (no scan of monitor updates)')
  t.same(await loadChannelIndex(store), [], 'a channel record without its index entry is not listed (no scan of chan/)')
  // The entries as the persist batch writes them (host/channel/persist.ts), in the batch of the write that makes them true.
  await store.write([channelIndexOp(id, peer), ...preimageOps([update])])
  t.same(await loadChannelIndex(store), [{ channelId: id, peer }], 'the channel is listed from its index entry')
  t.equal(await loadPreimage(store, hash), preimage, 'the preimage is found through its index entry')
  t.same([...(await loadPreimages(store)).entries()], [[hash, preimage]], 'loadPreimages reads the index')
  const records = await loadChannelRecords(store)
  t.same(records.map(r => [r.state.channelId, r.peer]), [[id, peer]], 'records are read through the index')
  // An entry without a state is a corrupt store.
  await store.write([put(channelIndexKey('77'.repeat(32)), { v: 1, peer })])
  await t.rejects(loadChannelRecords(store), /indexed but has no state/, 'an index entry without a state refuses to start')
})

t.test('a hub still starting holds sessions (and their messages) until ready, in order', async t => {
  const store = new MemoryStore()
  const config = hubConfigSchema.parse({ dataDir: '/nonexistent' })
  const manager = new ChannelManager({
    store, audit: await AuditLog.open(store), config, chainHash: '00'.repeat(32), shutdownScript: () => '0014' + '33'.repeat(20),
    session: () => undefined, height: () => 100, fatal: e => { throw e }, holdSessionsUntilReady: true,
  })
  const sent: string[] = []
  const session = {
    nodeId: ('02' + '11'.repeat(32)) as NodeId, open: true,
    send: (m: PeerMessage) => { sent.push(m.type); return 'sent' },
    warn: (d: string) => { sent.push(`warning:${d.split(':')[0]}`); return 'sent' }, error: () => 'sent',
  } as unknown as PeerSession
  manager.opened(session)
  manager.message(
    session.nodeId, { type: 'update_fee', channel_id: '55'.repeat(32) as ChannelId, feerate_per_kw: 300 } as PeerMessage, session,
  )
  t.same(sent, [], 'nothing is handled before ready')
  manager.ready()
  t.same(sent, ['hub_policy', 'warning:unknown_channel'], 'then the session opens and its message is handled, in order')
  manager.message(
    session.nodeId, { type: 'update_fee', channel_id: '55'.repeat(32) as ChannelId, feerate_per_kw: 300 } as PeerMessage, session,
  )
  t.equal(sent.length, 3, 'after ready, messages are handled at once')
})

t.test('circuits by outgoing channel follow saves, outcome updates and removals', async t => {
  const store = new MemoryStore()
  const circuits = new CircuitStore(store)
  const mk = (inCh: string, id: number, outCh: string): Circuit => ({
    in: { channelId: inCh as ChannelId, htlcId: id, amountMsat: 2_000 as never, paymentHash: 'aa'.repeat(32), cltvExpiry: 200 },
    out: { channelId: outCh as ChannelId, amountMsat: 1_000 as never, cltvExpiry: 160, recipient: ('03' + '22'.repeat(32)) as NodeId },
    state: 'forwarding',
  })
  const a = mk('01'.repeat(32), 0, 'f1'.repeat(32))
  const b = mk('01'.repeat(32), 1, 'f2'.repeat(32))
  await circuits.save(a)
  await circuits.save(b)
  t.same(circuits.outgoing('f1'.repeat(32)), [a], 'one circuit out of f1')
  a.state = 'fulfilled'
  await circuits.save(a)
  t.same(circuits.outgoing('f1'.repeat(32)).map(c => c.state), ['fulfilled'], 'an outcome update replaces, never duplicates')
  await circuits.remove(a.in.channelId, a.in.htlcId)
  t.same(circuits.outgoing('f1'.repeat(32)), [], 'a removed circuit is gone from its outgoing channel')
  const reloaded = new CircuitStore(store)
  await reloaded.load()
  t.same(reloaded.outgoing('f2'.repeat(32)).map(c => c.in.htlcId), [1], 'a reload indexes by outgoing channel too')
})

t.test('peers reconnecting at once: the busiest channel is reestablished first, messages for a waiting channel wait with it', async t => {
  const hub = new InProcessHub()
  await hub.start()
  const platform = new Client()
  const creator = new Client()
  const idle = new Client()
  for (const c of [platform, creator, idle]) hub.connect(c)
  await platform.open(hub, 1_000_000, 0)
  await creator.open(hub, 1_000_000, 500_000_000)
  await idle.open(hub, 1_000_000, 0)
  await payAndSettle(hub, platform, creator, 20_000)
  await payAndSettle(hub, platform, creator, 20_000)
  await hub.crash()
  await hub.start()

  const order: string[] = []
  const names = new Map([[platform, 'platform'], [creator, 'creator'], [idle, 'idle']])
  for (const [c, name] of names) {
    const receive = c.receive.bind(c)
    c.receive = (msg: PeerMessage) => { if (msg.type === 'channel_reestablish') order.push(name); receive(msg) }
  }
  hub.connect(idle) // first to connect, and its own channel_reestablish arrives at once …
  hub.connect(creator)
  hub.connect(platform)
  await hub.until(
    () => [platform, creator, idle].every(c => c.driver!.state.link === 'up' && hub.manager.get(c.driver!.channelId)!.state.link === 'up'),
    'all reestablished',
  )
  t.equal(order.at(-1), 'idle', '… yet the idle channel is reestablished after the busy ones')
  t.same([...order].sort(), ['creator', 'idle', 'platform'], 'each channel once')
  const before = creator.balanceMsat
  await payAndSettle(hub, platform, creator, 5_000)
  t.equal(creator.balanceMsat - before, 5_000, 'and payments flow')
})
