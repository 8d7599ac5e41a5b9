// What the hub's channel manager admits while peers open channels they fund (hub/channels/opening.ts):
// caps on unconfirmed channels per peer and overall, counted from open_channel until the channel is
// ready (scenario 20); the funding deadline after which a channel whose funding never came is
// abandoned and forgotten (memory, store, no more lookups); a wrong funding output forgets it at once;
// and one channel id, one channel: a funding_created naming a known outpoint is refused, the victim's
// channel, record, index and seed untouched, also after a restart. In-process (../fixtures/hub-harness.ts), with the
// attacker of test/adversarial/fixtures over a fake session; funding txids are made up.
import t from 'tap'
import { nodeIdOf } from '../../../../protocol/auth/signature.ts'
import { amountToOffer } from '../../../../protocol/forwarding.ts'
import { bytesToHex, type NodeId, type Txid } from '../../../../protocol/types.ts'
import { channelIdFromFunding } from '../../../../protocol/channel/index.ts'
import { AuditLog, verifyAuditLog } from '../../../../hub/audit/index.ts'
import { channelIndexKey, claimChannelOp } from '../../../../host/channel/record.ts'
import { parseJsonValue, put } from '../../../../host/store/index.ts'
import { Attacker } from '../../../adversarial/fixtures/attacker.ts'
import { agreedFunding } from '../../../helpers/funding.ts'
import { CHAIN_HASH, InProcessHub, hubWithPlatformAndCreator, seed } from '../fixtures/hub-harness.ts'

const FEES = { feeBaseMsat: 1_000, feePpm: 100 }

function attacker (hub: InProcessHub, key = seed('attacker')): Attacker {
  return new Attacker(hub.link(nodeIdOf(key)), { chainHash: CHAIN_HASH, height: () => hub.height })
}
const madeUp = (): { txid: Txid; outputIndex: number } => ({ txid: bytesToHex(seed('txid')) as Txid, outputIndex: 0 })

/** Every stored key (and value) under a prefix. */
async function stored (hub: InProcessHub, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for await (const [k, v] of hub.inner.iterate(prefix)) out.set(k, new TextDecoder().decode(v))
  return out
}
const channelKeys = async (hub: InProcessHub, id: string): Promise<string[]> => [
  ...(await stored(hub, `chan/${id}/`)).keys(), ...(await stored(hub, `chan-index/${id}`)).keys()
]

t.test('scenario 20: a peer\'s channels count from open_channel until ready, funding_created included: the third is refused', async t => {
  const hub = new InProcessHub()
  await hub.start()
  const a = attacker(hub)
  const first = await a.open({ capacitySat: 100_000, funding: madeUp() })
  const second = await a.open({ capacitySat: 100_000, funding: madeUp() })
  t.equal(first.state.phase, 'awaiting_funding_depth', 'the first was signed (funding_signed)')
  t.equal(second.state.phase, 'awaiting_funding_depth', 'the second too')
  const third = await a.open({ capacitySat: 100_000, funding: madeUp() })
  t.match(third.refusal, /^too_many_unconfirmed_channels: at most 2 per peer/, 'the third is refused by the default cap of 2')
  t.equal(hub.manager.channelsOf(a.nodeId).length, 2, 'the hub holds two channels of this peer')
  // They stay counted across a reconnection (they are stored).
  a.close()
  const again = new Attacker(hub.link(a.nodeId), { chainHash: CHAIN_HASH })
  const fourth = await again.open({ capacitySat: 100_000, funding: madeUp() })
  t.match(fourth.refusal, /^too_many_unconfirmed_channels/, 'still refused after reconnecting')
})

t.test('scenario 20: the overall cap counts every peer\'s unconfirmed channels; a confirmed one frees its slot', async t => {
  const hub = new InProcessHub({ channels: { maxUnconfirmed: 3 } } as never)
  await hub.start()
  const x = attacker(hub)
  const y = attacker(hub)
  const z = attacker(hub)
  await x.open({ capacitySat: 100_000, funding: madeUp() })
  await x.open({ capacitySat: 100_000, funding: madeUp() })
  const y1 = await y.open({ capacitySat: 100_000, funding: madeUp() })
  t.equal(y1.state.phase, 'awaiting_funding_depth', 'the third overall is accepted')
  const z1 = await z.open({ capacitySat: 100_000, funding: madeUp() })
  t.match(
    z1.refusal, /^too_many_unconfirmed_channels: the hub is waiting for 3 fundings already/,
    'a new peer is refused while the hub waits for 3',
  )
  // y's funding confirms as agreed: its channel is ready and no longer counts.
  const hubSide = hub.manager.get(y1.channelId)!.driver
  await hubSide.chain(agreedFunding(hubSide.state.setup, 3))
  await y1.lieReady(3)
  await hub.until(() => hubSide.state.phase === 'normal', 'y normal')
  const z2 = await z.open({ capacitySat: 100_000, funding: madeUp() })
  t.equal(z2.state.phase, 'awaiting_funding_depth', 'the slot is free again')
})

t.test('a funding that never comes: abandoned at fundingTimeoutBlocks, forgotten (memory and store), its slot free', async t => {
  const hub = new InProcessHub({ channels: { fundingTimeoutBlocks: 6 } } as never)
  await hub.start()
  const a = attacker(hub)
  const ch = await a.open({ capacitySat: 100_000, funding: madeUp() })
  const id = ch.channelId
  t.ok((await channelKeys(hub, id)).length > 0, 'stored at funding_created')
  hub.height += 5
  await hub.manager.block(hub.height)
  await hub.until(() => hub.manager.get(id)?.driver.pending === 0, 'block stepped')
  t.equal(hub.manager.get(id)?.state.phase, 'awaiting_funding_depth', 'one block before the deadline it still waits')
  hub.height += 1
  await hub.manager.block(hub.height)
  await hub.until(
    () => hub.manager.get(id) === undefined && hub.log.events.some(e => e.event === 'channel_forgotten' && e.channel_id === id),
    'forgotten',
  )
  t.equal(hub.manager.all().length, 0, 'no longer in the manager: no block, lookup or message reaches it')
  t.same(await channelKeys(hub, id), [], 'its record, index entry and monitor updates are deleted')
  t.match(ch.refusal, /^funding_timeout/, 'the peer was told')
  const next = await a.open({ capacitySat: 100_000, funding: madeUp() })
  const after = await a.open({ capacitySat: 100_000, funding: madeUp() })
  t.equal(next.state.phase, 'awaiting_funding_depth')
  t.equal(after.state.phase, 'awaiting_funding_depth', 'both slots are free again')
  await hub.crash()
  await hub.start()
  t.equal(hub.manager.get(id), undefined, 'not back after a restart')
})

t.test('a wrong funding output seen on the chain: abandoned and forgotten at once', async t => {
  const hub = new InProcessHub()
  await hub.start()
  const a = attacker(hub)
  const ch = await a.open({ capacitySat: 100_000, funding: madeUp() })
  const id = ch.channelId
  const hubSide = hub.manager.get(id)!.driver
  const agreed = agreedFunding(hubSide.state.setup, 6)
  await hubSide.chain({ ...agreed, output: { ...agreed.output!, valueSat: 1_000 } })
  await hub.until(() => hub.log.events.some(e => e.event === 'channel_forgotten' && e.channel_id === id), 'forgotten')
  t.equal(hub.manager.get(id), undefined, 'not in the manager')
  t.same(await channelKeys(hub, id), [], 'nothing of it is left in the store')
  t.match(ch.refusal, /^funding_output_mismatch/)
  t.notOk(ch.received.some(m => m.type === 'channel_ready'), 'the hub never sent channel_ready')
})

t.test('an abandoned channel stored before a crash (not yet deleted) is deleted at startup', async t => {
  const hub = new InProcessHub()
  await hub.start()
  const a = attacker(hub)
  const ch = await a.open({ capacitySat: 100_000, funding: madeUp() })
  const id = ch.channelId
  await hub.until(() => hub.manager.get(id)?.driver.pending === 0, 'stored')
  await hub.crash()
  // The state as the abandoning write leaves it, the deletion never done.
  const key = `chan/${id}/state`
  const record = parseJsonValue((await hub.inner.get(key))!) as { state: { phase: string } }
  record.state.phase = 'abandoned'
  await hub.inner.write([{ type: 'put', key, value: new TextEncoder().encode(JSON.stringify(record)) }])
  await hub.start()
  t.equal(hub.manager.get(id), undefined, 'not loaded')
  t.same(await channelKeys(hub, id), [], 'deleted')
  t.ok(hub.log.events.some(e => e.event === 'channel_forgotten' && e.channel_id === id && e.at === 'startup'))
})

t.test('funding_created naming another channel\'s outpoint is refused; the victim\'s channel, record, index and seed are untouched, also after a restart', async t => {
  const { hub, platform, creator } = await hubWithPlatformAndCreator()
  const victimId = platform.driver!.channelId
  const victimHub = hub.manager.get(victimId)!
  const stateBefore = JSON.stringify(victimHub.driver.state)
  const storedBefore = await stored(hub, `chan/${victimId}/`)
  const indexBefore = await stored(hub, `chan-index/${victimId}`)
  const outpoint = platform.driver!.state.setup.funding!

  const a = attacker(hub)
  const ch = await a.open({ capacitySat: 1_000_000, funding: outpoint })
  t.match(ch.refusal, /^channel_id_in_use/, 'refused with channel_id_in_use')
  t.notOk(ch.received.some(m => m.type === 'funding_signed'), 'the hub signed nothing for it')
  t.equal(hub.manager.get(victimId), victimHub, "the channel id still leads to the victim's channel")
  t.equal(victimHub.peer, platform.nodeId)
  t.equal(JSON.stringify(victimHub.driver.state), stateBefore, "the victim's channel state is byte-identical")
  t.same(await stored(hub, `chan/${victimId}/`), storedBefore, 'its stored record (peer, seed, state) and monitor updates are unchanged')
  t.same(await stored(hub, `chan-index/${victimId}`), indexBefore, 'its index entry is unchanged')
  t.equal(hub.manager.channelsOf(a.nodeId).length, 0, 'the attacker has no channel at the hub')
  t.notOk(platform.received.some(m => m.type === 'error'), 'the victim saw no error')

  // The victim keeps paying, before and after a restart.
  const pay = async (): Promise<string> => {
    const inv = creator.invoice()
    await platform.driver!.command({
      type: 'add_htlc', amountMsat: amountToOffer(10_000, FEES), paymentHash: inv.hash, cltvExpiry: hub.height + 100,
      recipient: creator.nodeId,
    })
    await hub.until(() => platform.events.some(e => e.type === 'htlc_fulfilled' && e.paymentHash === inv.hash) && platform.settled, 'paid')
    return inv.hash
  }
  await pay()
  await hub.crash()
  await hub.start()
  hub.connect(platform)
  hub.connect(creator)
  await hub.until(
    () => [platform, creator].every(c => c.driver!.state.link === 'up' && hub.manager.get(c.driver!.channelId)?.state.link === 'up'),
    'reestablished',
  )
  t.equal(hub.manager.get(victimId)?.peer, platform.nodeId, 'after the restart the channel is still the victim\'s')
  t.equal(hub.manager.get(victimId)?.seed, victimHub.seed, 'with its own key seed')
  await pay()
  t.pass('the victim pays after the restart')
})

t.test('two peers name the same new outpoint at once: one channel gets it, the other is refused, one record', async t => {
  const hub = new InProcessHub()
  await hub.start()
  const x = attacker(hub)
  const y = attacker(hub)
  const outpoint = madeUp()
  const [cx, cy] = await Promise.all([
    x.open({ capacitySat: 100_000, funding: outpoint }), y.open({ capacitySat: 100_000, funding: outpoint }),
  ])
  const winners = [cx, cy].filter(c => c.refusal === undefined)
  const losers = [cx, cy].filter(c => c.refusal !== undefined)
  t.equal(winners.length, 1, 'one channel')
  t.match(losers[0]?.refusal, /^channel_id_in_use/, 'the other refused')
  const id = winners[0]!.channelId
  const index = await stored(hub, `chan-index/${id}`)
  const winner = winners[0] === cx ? x : y
  t.same([...index.values()].map(v => (JSON.parse(v) as { peer: NodeId }).peer), [winner.nodeId], 'one index entry, the winner\'s')
  t.equal(hub.manager.get(id)?.peer, winner.nodeId)
})

t.test('the store refuses a new channel over a stored one even when the manager does not know it; the audit chain stays whole', async t => {
  const hub = new InProcessHub()
  await hub.start()
  const outpoint = madeUp()
  const id = channelIdFromFunding(outpoint.txid, outpoint.outputIndex)
  // A channel the manager's memory does not hold (as if written by another code path): its index entry.
  const owner = nodeIdOf(seed('owner'))
  await hub.inner.write([put(channelIndexKey(id), { v: 1, peer: owner })])
  const a = attacker(hub)
  const other = attacker(hub)
  // Another channel's write in the same turn: its audit entry must chain correctly around the refusal.
  const [ch, fine] = await Promise.all([
    a.open({ capacitySat: 100_000, funding: outpoint }), other.open({ capacitySat: 100_000, funding: madeUp() }),
  ])
  t.match(ch.refusal, /^channel_id_in_use/, 'refused by the store (create-only claim)')
  t.notOk(ch.received.some(m => m.type === 'funding_signed'), 'nothing signed')
  t.equal(fine.state.phase, 'awaiting_funding_depth', 'the other channel opened')
  t.same((await stored(hub, `chan-index/${id}`)).get(`chan-index/${id}`), JSON.stringify({ v: 1, peer: owner }), 'the entry is untouched')
  t.same(await stored(hub, `chan/${id}/`), new Map(), 'no record was written for the refused channel')
  t.ok(
    hub.log.events.some(e => e.event === 'open_refused' && e.reason === 'channel_id_in_use' && e.key === `chan-index/${id}`),
    'logged with the key',
  )
  t.equal(hub.log.fatal.length, 0, 'the hub carries on')
  const audit = await AuditLog.open(hub.inner)
  const verified = verifyAuditLog(await audit.export(), await audit.root())
  t.equal(verified.ok ? 'ok' : `${verified.reason}: ${verified.detail}`, 'ok', 'the audit log verifies')
})

t.test('a claim whose channel never wrote its record (crash between the two writes) is deleted at startup', async t => {
  const hub = new InProcessHub()
  await hub.start()
  const id = 'ab'.repeat(32)
  await hub.crash()
  await hub.inner.write([claimChannelOp(id, nodeIdOf(seed('p')))])
  await hub.start()
  t.same(await stored(hub, `chan-index/${id}`), new Map(), 'the unfinished claim is gone')
  t.equal(hub.manager.get(id), undefined)
})
