// A cooperative close on a real btcd, where the host stops between the agreement and the broadcast:
// nothing went out, and the restarted host finds the closing transaction in its stored state
// (host/channel/closing.ts pendingClose) and broadcasts it; the node accepts it and it confirms. Once
// the funding output is spent there is nothing left to resume, and a second broadcast is still success.
// The hub does this for every stored channel when it starts (hub/channels/closing.ts resume).
import t from 'tap'
import type { ChannelState } from '../../../protocol/channel/index.ts'
import type { NodeId } from '../../../protocol/types.ts'
import { broadcastClose, pendingClose } from '../../../host/channel/closing.ts'
import { CloseBroadcaster } from '../../../hub/channels/closing.ts'
import { useBtcd } from '../../helpers/btcd.ts'
import { fundedPair } from '../monitor/fixtures/channel.ts'

const btc = await useBtcd(t)

t.test('the host stops between closing_signed agreement and broadcast: after the restart it broadcasts the stored closing tx, which confirms', async t => {
  const p = await fundedPair(btc, 71)
  p.run(p.a, { kind: 'command', cmd: { type: 'shutdown' } })
  p.flush()
  t.equal(p.a.state.phase, 'closing', 'A agreed')
  t.equal(p.b.state.phase, 'closing', 'B agreed')
  // Neither host broadcast anything. A restarts from its store: its last durable snapshot.
  const stored = JSON.parse(JSON.stringify(p.a.snapshots.at(-1)!.state)) as ChannelState
  t.equal(stored.phase, 'closing', 'the agreement is stored')
  const pending = await pendingClose(btc.chain, stored)
  t.ok(pending.ok && pending.value !== undefined, 'the funding output is unspent: the stored closing tx is to broadcast')
  if (!pending.ok || pending.value === undefined) return
  const tx = pending.value
  const sent = await broadcastClose(btc.chain, tx)
  t.same(sent, { ok: true, value: { kind: 'sent', txid: tx.txid } }, 'the node accepts it')
  await btc.mine(1)
  const found = await btc.chain.getRawTransaction(tx.txid)
  t.ok(found.ok && found.value !== null && found.value.confirmations === 1, 'the closing tx confirmed')
  if (found.ok && found.value !== null) {
    const byValue = (x: number, y: number): number => x - y
    t.same(
      found.value.tx.outputs.map(o => o.value).sort(byValue), [tx.localSat, tx.remoteSat].filter(v => v > 0).sort(byValue),
      'paying what it said',
    )
  }
  const after = await pendingClose(btc.chain, stored)
  t.same(after, { ok: true, value: undefined }, 'funding spent: nothing to resume')
  const again = await broadcastClose(btc.chain, tx)
  t.same(
    again, { ok: true, value: { kind: 'already_out', reason: 'already_in_chain' } },
    'a second broadcast (the peer\'s, or ours again) is success',
  )
  t.equal(p.b.state.closing.signedTx?.txid, tx.txid, 'the peer holds the same transaction')
})

t.test('the hub restarts between closing_signed agreement and broadcast: resume broadcasts the stored closing tx once and records the close', async t => {
  const p = await fundedPair(btc, 72)
  const copy = (s: ChannelState): ChannelState => JSON.parse(JSON.stringify(s)) as ChannelState
  const normal = copy(p.a.state)
  p.run(p.a, { kind: 'command', cmd: { type: 'shutdown' } })
  p.flush()
  const stored = copy(p.a.snapshots.at(-1)!.state)
  const tx = stored.closing.signedTx
  t.ok(stored.phase === 'closing' && tx !== undefined, 'the stored state holds the agreement and its tx')
  if (tx === undefined) return
  const lines: Array<Record<string, unknown>> = []
  const closer = new CloseBroadcaster(btc.chain, l => { lines.push(l) })
  const peer = p.b.nodeId as NodeId
  type Stored = { channelId: ChannelState['channelId']; peer: NodeId; state: ChannelState }
  const channel = (state: ChannelState): Stored => ({ channelId: state.channelId, peer, state })

  await closer.resume([channel(normal)])
  t.same(lines, [], 'a channel that has not agreed a close: nothing to broadcast')
  t.equal(closer.closed.size, 0)

  await closer.resume([channel(stored)])
  t.match(
    lines, [{ event: 'closing_broadcast', channel_id: stored.channelId, ok: true, txid: tx.txid }], 'the stored closing tx is broadcast',
  )
  const recorded = { closingTxid: tx.txid, toLocalSat: tx.localSat, toRemoteSat: tx.remoteSat, agreedFeeSat: tx.agreedFeeSat }
  t.match(closer.closed.get(stored.channelId), recorded, 'and the close is recorded')
  const agreed = p.a.events.find(e => e.type === 'closing_agreed')
  t.ok(agreed !== undefined, 'the machine emitted closing_agreed')
  if (agreed !== undefined) closer.event(channel(stored), agreed)
  await btc.mine(1)
  const found = await btc.chain.getRawTransaction(tx.txid)
  t.ok(found.ok && found.value !== null && found.value.confirmations === 1, 'the node accepted it: it confirmed')
  t.equal(lines.length, 1, 'the same closing_agreed again (a restored channel\'s driver emits it once more): no second broadcast')

  lines.length = 0
  await closer.resume([channel(stored)])
  t.same(lines, [], 'the funding output is spent: a later restart broadcasts nothing')
})
