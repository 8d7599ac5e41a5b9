// Each channel's last activity height (hub/settlement/activity.ts): a channel write that changes what
// the channel holds (ready, an HTLC added, settled or failed, a new funding outpoint) carries the
// height, in the same batch; a write that changes nothing of it (an update_fee, a reconnection)
// carries nothing; at start the stored heights are loaded, a channel without one counts from the
// start height (written once), and records of channels gone are deleted.
import t from 'tap'
import type { ChannelState } from '../../../../protocol/channel/index.ts'
import { keys } from '../../../../host/store/keys.ts'
import { MemoryStore } from '../../../../host/store/memory-store.ts'
import { parseJsonValue, put, type StoreOp } from '../../../../host/store/store.ts'
import { ChannelActivity, holdings } from '../../../../hub/settlement/activity.ts'
import { Pair, type Party } from '../../protocol/channel/fixtures/harness.ts'
import { PAYMENT_FLOW, reversed } from '../../protocol/channel/fixtures/flow.ts'

/** A pair whose party A's writes each go through `activity.carry`, as the hub's manager does; the
 *  ops each write carried are collected. */
function carried (p: Pair, activity: ChannelActivity): StoreOp[][] {
  const out: StoreOp[][] = []
  const commit = p.commitWrite.bind(p)
  p.commitWrite = (party: Party, e) => {
    if (party === p.a) out.push(activity.carry({ channelId: e.state.channelId, state: e.state }))
    commit(party, e)
  }
  return out
}

const heightOf = (ops: StoreOp[]): number | undefined => {
  const op = ops.find(o => o.type === 'put' && o.key.startsWith(keys.channelActivityPrefix))
  return op !== undefined && op.type === 'put' ? parseJsonValue(op.value) as number : undefined
}

t.test('the open carries the ready height; a payment carries the height of each change; update_fee carries nothing', async t => {
  let height = 100
  const activity = new ChannelActivity(new MemoryStore(), () => height)
  const p = new Pair()
  const ops = carried(p, activity)
  p.open()
  const id = p.a.state.channelId
  t.equal(p.a.state.phase, 'normal')
  t.equal(activity.lastActivityHeight(id), 100, 'ready at 100: the channel counts from there')
  t.ok(ops.some(o => heightOf(o) === 100), 'carried in a channel write')

  height = 150
  ops.length = 0
  for (const a of PAYMENT_FLOW) a.run(p)
  t.equal(activity.lastActivityHeight(id), 150, 'a payment out of A: activity at 150')
  t.ok(ops.length >= 4, 'the payment made channel writes')
  t.ok(ops.some(o => heightOf(o) === 150), 'the height rides on them')
  t.ok(ops.every(o => o.length <= 1), 'at most one op per write, no write of its own')

  height = 170
  for (const a of reversed(PAYMENT_FLOW)) a.run(p)
  t.equal(activity.lastActivityHeight(id), 170, 'a payment into A: activity at 170')

  const htlc = p.add(p.a, 5_000_000)
  p.settle()
  height = 180
  p.fail(p.b, htlc.id)
  p.settle()
  t.equal(p.a.state.localCommit!.spec.htlcs.length, 0, 'the HTLC is failed back')
  t.equal(activity.lastActivityHeight(id), 180, 'a failed payment is activity too')

  height = 200
  ops.length = 0
  p.run(p.a, { kind: 'command', cmd: { type: 'update_fee', feeratePerKw: 500 } })
  p.sign(p.a)
  p.flush()
  p.settle()
  t.ok(ops.length > 0, 'the fee update made channel writes')
  t.same(ops.filter(o => o.length > 0), [], 'none carries activity')
  t.equal(activity.lastActivityHeight(id), 180, 'update_fee moves no payment: still 180')

  p.disconnect()
  p.reconnect()
  p.flush()
  t.equal(activity.lastActivityHeight(id), 180, 'a reconnection is not activity')
})

t.test('holdings: what changes it and what does not', async t => {
  const p = new Pair()
  p.open()
  const s = p.a.state
  const base = holdings(s)
  const spec = s.localCommit!.spec
  const withSpec = (x: Partial<typeof spec>): ChannelState => ({ ...s, localCommit: { ...s.localCommit!, spec: { ...spec, ...x } } })
  t.not(holdings(withSpec({ toLocalMsat: (spec.toLocalMsat - 1000) as typeof spec.toLocalMsat })), base, 'a balance')
  t.not(
    holdings({ ...s, setup: { ...s.setup, funding: { txid: 'ab'.repeat(32) as never, outputIndex: 0 } } }), base,
    'a new funding (a splice)',
  )
  t.not(holdings({ ...s, phase: 'awaiting_funding_depth' }), base, 'ready or not')
  t.equal(holdings(withSpec({ feeratePerKw: spec.feeratePerKw + 1 })), base, 'not the feerate')
  t.equal(holdings({ ...s, link: 'down' }), base, 'not the link')
})

t.test('at start: stored heights load, a channel without one counts from the start height (written once), a gone one is deleted', async t => {
  const store = new MemoryStore()
  const p = new Pair()
  p.open()
  const known = p.a.state.channelId
  const q = new Pair({ seed: 7 })
  q.open()
  const fresh = q.a.state.channelId
  const gone = 'cd'.repeat(32)
  await store.write([put(keys.channelActivity(known), 120), put(keys.channelActivity(gone), 90)])
  const activity = new ChannelActivity(store, () => 300)
  await activity.load([{ channelId: known, state: p.a.state }, { channelId: fresh, state: q.a.state }])
  t.equal(activity.lastActivityHeight(known), 120, 'the stored height')
  t.equal(activity.lastActivityHeight(fresh), 300, 'no record: the start height (an idle close can only come later)')
  t.equal(parseJsonValue((await store.get(keys.channelActivity(fresh)))!), 300, 'written, so the next start counts from it too')
  t.equal(await store.get(keys.channelActivity(gone)), undefined, 'a channel the hub no longer has: its record deleted')
  t.same(activity.carry({ channelId: known, state: p.a.state }), [], 'a write of the loaded state changes nothing')

  // A crash loses no activity: the height is in the same batch as the state, so a restart that finds
  // the state also finds its height (here: the write carrying 350 is stored, then the hub restarts).
  let height = 350
  const live = new ChannelActivity(store, () => height)
  await live.load([{ channelId: known, state: p.a.state }])
  const ops = carried(p, live)
  for (const a of PAYMENT_FLOW) a.run(p)
  for (const o of ops) if (o.length > 0) await store.write(o)
  height = 400
  const restarted = new ChannelActivity(store, () => height)
  await restarted.load([{ channelId: known, state: p.a.durable! }])
  t.equal(restarted.lastActivityHeight(known), 350, 'after a restart: the payment\'s height, not the restart\'s')
})
