// Unconfirmed channels from one identity over the hub's real protocol, with a real btcd (scenario 20):
// channels whose funding names a transaction that does not exist get funding_signed (the hub cannot
// know yet), but count against the per-peer cap until they are ready, carry no HTLC, and are abandoned
// and forgotten at the funding deadline (protocol/limits.ts DEFAULT_FUNDING_TIMEOUT_BLOCKS): gone from
// the hub's channels and its store, their slots free again, not back after a restart.
import t from 'tap'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { DEFAULT_FUNDING_TIMEOUT_BLOCKS, DEFAULT_MAX_UNCONFIRMED_CHANNELS_PER_PEER } from '../../protocol/limits.ts'
import { bytesToHex, type Msat, type Txid } from '../../protocol/types.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { Attacker, AttackerChannel, connectedLink, until } from './fixtures/attacker.ts'
import { hubChannels, hubHeight, storesAnything } from './fixtures/hub-view.ts'

const nowhere = (): { txid: Txid; outputIndex: number } => ({ txid: bytesToHex(randomBytes(32)) as Txid, outputIndex: 0 })

t.test('scenario 20: fundings that never come hold at most the per-peer cap, carry no HTLC, and are forgotten at the deadline', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('adv-unconfirmed')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
  const key = randomBytes(32)
  const link = await connectedLink(hub.url, hub.hubId, key)
  const attacker = new Attacker(link, { chainHash: link.chainHash })
  t.teardown(() => { attacker.close() })

  const signed: AttackerChannel[] = []
  for (let i = 0; i < DEFAULT_MAX_UNCONFIRMED_CHANNELS_PER_PEER; i++) signed.push(await attacker.open({
    capacitySat: 100_000, funding: nowhere(),
  }))
  t.same(
    signed.map(c => c.refusal), signed.map(() => undefined), `${DEFAULT_MAX_UNCONFIRMED_CHANNELS_PER_PEER} channels get funding_signed`,
  )
  const over = await attacker.open({ capacitySat: 100_000, funding: nowhere() })
  t.match(over.refusal, /^too_many_unconfirmed_channels/, 'the next one is refused: they count from funding_created on')
  const ids: string[] = signed.map(c => c.channelId)
  t.same(
    (await hubChannels(hub)).filter(c => c.peer === attacker.nodeId).map(c => c.phase), ids.map(() => 'awaiting_funding_depth'),
    'the hub holds exactly those, waiting',
  )

  // No HTLC on a channel that is not ready: one sent anyway is refused (a warning, and the hub closes
  // the connection); the hub never sends channel_ready.
  attacker.send({
    type: 'update_add_htlc', channel_id: signed[0]!.channelId, id: 0, amount_msat: 50_000_000 as Msat, payment_hash: '22'.repeat(32),
    cltv_expiry: 500 as never, recipient: attacker.nodeId,
  })
  await until(() => signed[0]!.received.some(m => m.type === 'warning'), 'the hub refuses the HTLC')
  const warning = signed[0]!.received.find(m => m.type === 'warning')
  t.match(warning?.type === 'warning' ? warning.data : '', /^unexpected_message: update_add_htlc in phase awaiting_funding_depth/)
  t.notOk(signed.some(c => c.received.some(m => m.type === 'channel_ready')), 'the hub never sent channel_ready')

  const [last] = (await btc.mine(DEFAULT_FUNDING_TIMEOUT_BLOCKS - 1)).slice(-1)
  const tip = await btc.chain.getBlock(last!)
  await waitFor(async () => tip.ok && (await hubHeight(hub)) >= tip.value!.height, 'the hub to process the blocks')
  t.equal(
    (await hubChannels(hub)).filter(c => ids.includes(c.channel_id)).length, ids.length,
    'one block before the deadline they are still there',
  )
  await btc.mine(1)
  const forgotten = (): number => hub.lines.filter(l => l.event === 'channel_forgotten' && ids.includes(String(l.channel_id))).length
  await waitFor(() => forgotten() === ids.length, 'the hub to forget them (logged once deleted)')
  t.notOk((await hubChannels(hub)).some(c => ids.includes(c.channel_id)), 'the hub no longer has them')

  const again = new Attacker(await connectedLink(hub.url, hub.hubId, key), { chainHash: link.chainHash })
  t.teardown(() => { again.close() })
  const fresh = await again.open({ capacitySat: 100_000, funding: nowhere() })
  t.equal(fresh.refusal, undefined, 'its slots are free again')

  await hub.stop()
  for (const id of ids) t.notOk(await storesAnything(hub, id), `nothing of ${id.slice(0, 8)}… is left in the store`)
  await hub.restart()
  t.notOk((await hubChannels(hub)).some(c => ids.includes(c.channel_id)), 'not back after a restart')
  t.equal(hub.lines.filter(l => l.event === 'fatal').length, 0, 'the hub is up')
})
