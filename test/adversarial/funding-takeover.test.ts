// Another node's funding outpoint over the hub's real protocol, with a real btcd: the attacker reads a
// platform's funding transaction off the chain and names its outpoint in its own funding_created. The
// channel id is the victim's, so the hub must refuse it: the victim's channel keeps working, and its
// stored record (owner, key seed), index entry and monitor updates are exactly what they were, also
// after a hub restart.
import t from 'tap'
import path from 'node:path'
import type { Txid } from '../../protocol/types.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, openFundedChannel, requestHubChannel, startClient, startHub, tempDir } from '../helpers/hub.ts'
import { Attacker, connectedLink } from './fixtures/attacker.ts'
import { hubChannels, storedChannel } from './fixtures/hub-view.ts'

const CAPACITY = 500_000

t.test('funding_created naming a platform\'s funding outpoint is refused; the victim\'s channel, record, index, seed and monitor updates are untouched, also after a restart', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('adv-takeover')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
  await fundHub(btc, hub, 3_000_000)
  const victim = await startClient({ hub, btc, dataDir: path.join(dir, 'victim'), role: 'platform' }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)
  await openFundedChannel(btc, victim, CAPACITY)
  await requestHubChannel(btc, creator)
  const victimChannel = victim.channels()[0]!
  let n = 0
  const victimPays = async (label: string): Promise<void> => {
    await victim.untilReestablished()
    await creator.untilReestablished()
    const inv = await creator.createInvoice({ amountMsat: 10_000 + n++, memo: label })
    const r = await victim.pay(inv.invoice)
    t.ok(r.ok, `${label}: the victim pays${r.ok ? '' : ` (${r.reason}: ${r.detail})`}`)
  }
  await victimPays('before')

  // What the hub stored of the victim's channel (the hub stopped: LevelDB has one owner).
  await hub.stop()
  const before = await storedChannel(hub, victimChannel.channelId)
  t.equal(before?.peer, victim.nodeId, 'stored as the victim\'s')
  await hub.restart()

  // The public outpoint: the output of the victim's funding tx that holds the channel's capacity.
  const funding = await btc.chain.getRawTransaction(victimChannel.fundingTxid!)
  if (!funding.ok || funding.value === null) throw new Error('no funding tx')
  const outputIndex = funding.value.tx.outputs.findIndex(o => o.value === CAPACITY)
  const link = await connectedLink(hub.url, hub.hubId)
  const attacker = new Attacker(link, { chainHash: link.chainHash })
  t.teardown(() => { attacker.close() })
  const ch = await attacker.open({ capacitySat: CAPACITY, funding: { txid: victimChannel.fundingTxid as Txid, outputIndex } })
  t.equal(ch.channelId, victimChannel.channelId, 'the attacker\'s channel id is the victim\'s')
  t.match(ch.refusal, /^channel_id_in_use/, 'refused: channel_id_in_use')
  t.notOk(ch.received.some(m => m.type === 'funding_signed'), 'the hub signed nothing for it')

  await victimPays('after the attempt')
  const listed = (await hubChannels(hub)).filter(c => c.channel_id === victimChannel.channelId)
  t.same(listed.map(c => c.peer), [victim.nodeId], 'the hub lists the channel once, as the victim\'s')

  await hub.stop()
  const after = await storedChannel(hub, victimChannel.channelId)
  t.equal(after?.peer, victim.nodeId, 'the stored record is still the victim\'s')
  t.equal(after?.seed, before?.seed, 'with the same key seed')
  t.equal(after?.indexPeer, victim.nodeId, 'the index entry is the victim\'s')
  const changed = [...before!.monitor].filter(([k, v]) => after?.monitor.get(k) !== v).map(([k]) => k)
  t.same(changed, [], 'every monitor update stored before the attempt is unchanged')
  await hub.restart()
  await victimPays('after a restart')
  t.same(
    (await hubChannels(hub)).filter(c => c.channel_id === victimChannel.channelId).map(c => c.peer), [victim.nodeId],
    'after the restart the channel is the victim\'s',
  )
})
