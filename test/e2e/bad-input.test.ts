// Bad input over a real, authenticated socket: malformed JSON, an oversize frame, an unknown message
// type, a message for a channel that belongs to another node id, and commitment messages out of order
// on the sender's own channel. Each time the sender gets an error or warning naming what was wrong
// (or, for the oversize frame, its connection closed with 1009), the hub process stays up, and another
// pair of parties keeps paying through it. The channel the attacker named as its own is untouched:
// phase, balances, HTLCs and commitment numbers on both sides, and the hub's stored record.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../helpers/btcd.ts'
import {
  HUB_STORE_DIR, fundHub, injector, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor,
} from '../helpers/hub.ts'
import { MAX_FRAME_BYTES } from '../../protocol/limits.ts'
import { LevelStore } from '../../host/store/node/level-store.ts'
import { loadChannelRecords } from '../../host/channel/record.ts'

const CONNECTION_LEVEL = '00'.repeat(32)
type Row = {
  channel_id: string; peer: string; phase: string; link: string; local_msat: number; remote_msat: number; htlcs: number;
  local_commitment_index: number; remote_commitment_index: number
}

t.test('bad input over the socket: the peer is told, the hub stays up, other channels keep working', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('e2e-bad-input')
  const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
  await fundHub(btc, hub, 3_000_000)
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform' }, t)
  const creator = await startClient({ hub, btc, dataDir: path.join(dir, 'creator'), role: 'creator' }, t)
  const inj = injector()
  const mallory = await startClient({ hub, btc, dataDir: path.join(dir, 'mallory'), role: 'platform', socketFactory: inj.factory }, t)
  await openFundedChannel(btc, platform, 500_000)
  await openFundedChannel(btc, mallory, 200_000)
  await requestHubChannel(btc, creator)
  const victimChannel = platform.channels()[0]!.channelId
  const malloryChannel = mallory.channels()[0]!.channelId
  let hubExited = false
  void hub.exited().then(() => { hubExited = true })

  let n = 0
  const othersStillWork = async (label: string): Promise<void> => {
    t.notOk(hubExited, `${label}: the hub process is still up`)
    await platform.untilReestablished()
    const inv = await creator.createInvoice({ amountMsat: 15_000 + n++, memo: label })
    const r = await platform.pay(inv.invoice)
    t.ok(r.ok, `${label}: platform → creator still pays${r.ok ? '' : ` (${r.reason})`}`)
  }
  /** The first error or warning the sender got since the last clear(): the hub's answer. */
  const answer = async (label: string): Promise<Record<string, unknown> | undefined> => {
    const isNotice = (m: Record<string, unknown>): boolean => m.type === 'error' || m.type === 'warning'
    return await waitFor(() => inj.received.some(isNotice), `${label}: an answer`).then(() => inj.received.find(isNotice), () => undefined)
  }
  const admin = async (): Promise<Row[]> => await (await hub.adminFetch('/channels')).json() as Row[]
  /** The victim's channel as the platform and the hub see it. */
  const victim = async (): Promise<unknown> => {
    const c = platform.channels()[0]!
    const row = (await admin()).find(r => r.channel_id === victimChannel)!
    return {
      platform: { phase: c.phase, link: c.link, localMsat: c.localMsat, remoteMsat: c.remoteMsat, inFlightMsat: c.inFlightMsat },
      hub: {
        peer: row.peer, phase: row.phase, link: row.link, local_msat: row.local_msat, remote_msat: row.remote_msat, htlcs: row.htlcs,
        local_commitment_index: row.local_commitment_index, remote_commitment_index: row.remote_commitment_index,
      },
    }
  }

  inj.clear()
  inj.sendRaw('{"type": "update_add_htlc", "channel_id": ')
  t.match(
    await answer('malformed JSON'), { type: 'warning', channel_id: CONNECTION_LEVEL, data: /^malformed_frame: frame: / },
    'malformed JSON: a warning naming it',
  )
  await othersStillWork('malformed JSON')

  inj.clear()
  inj.sendRaw('{"type":"make_me_rich","amount_msat":1}')
  t.match(
    await answer('unknown message type'),
    { type: 'warning', channel_id: CONNECTION_LEVEL, data: /^unknown_message: type: unknown message type \(got "make_me_rich"\)/ },
    'unknown type: a warning naming it',
  )
  await othersStillWork('unknown message type')

  await platform.untilReestablished()
  await waitFor(() => platform.channels()[0]!.settled, 'the victim channel settled')
  const before = await victim()
  inj.clear()
  inj.sendRaw(JSON.stringify({
    type: 'update_add_htlc', channel_id: victimChannel, id: 0, amount_msat: 1_000, payment_hash: '11'.repeat(32), cltv_expiry: 500,
    recipient: mallory.nodeId,
  }))
  t.match(await answer('a message for a channel that is not yours'), {
    type: 'error', channel_id: victimChannel,
    data: new RegExp(`^not_your_channel: channel ${victimChannel} does not belong to this node id`),
  },
    'a message on another node\'s channel: an error naming it')
  t.same(
    await victim(), before,
    'the victim channel is untouched: phase, link, balances, HTLCs and commitment numbers at the platform and at the hub',
  )
  await othersStillWork('not your channel')

  inj.clear()
  await mallory.untilReestablished()
  inj.sendRaw(JSON.stringify({
    type: 'revoke_and_ack', channel_id: malloryChannel, per_commitment_secret: '22'.repeat(32),
    next_per_commitment_point: '02' + '33'.repeat(32),
  }))
  t.match(
    await answer('revoke_and_ack out of order'),
    { channel_id: malloryChannel, data: /^unexpected_revocation: revoke_and_ack without an outstanding commitment_signed/ },
    'revoke_and_ack out of order: named',
  )
  await othersStillWork('revoke_and_ack out of order')

  inj.clear()
  await mallory.untilReestablished()
  inj.sendRaw(JSON.stringify({ type: 'commitment_signed', channel_id: malloryChannel, signature: '44'.repeat(64), htlc_signatures: [] }))
  t.match(
    await answer('commitment_signed with nothing to sign'),
    { channel_id: malloryChannel, data: /^empty_commitment: commitment_signed without any update/ },
    'commitment_signed with nothing to sign: named',
  )
  await othersStillWork('commitment_signed out of order')

  const closesBefore = inj.closes.length
  inj.sendRaw(JSON.stringify({ type: 'warning', channel_id: '00'.repeat(32), data: 'x'.repeat(MAX_FRAME_BYTES) }))
  await waitFor(() => inj.closes.length > closesBefore, 'the oversize frame closes the connection')
  t.equal(inj.closes[closesBefore], 1009, 'oversize frame: closed with 1009 (message too big)')
  await othersStillWork('oversize frame')
  t.equal(platform.channels()[0]!.phase, 'normal', 'the other channels never left normal')
  t.equal(creator.channels()[0]!.phase, 'normal', 'the payee channel never left normal')

  // The hub's stored record of the victim's channel is the victim's, and agrees with it to the msat.
  await waitFor(() => platform.channels()[0]!.settled, 'the victim channel settled')
  const final = platform.channels()[0]!
  const finalRow = (await admin()).find(r => r.channel_id === victimChannel)!
  await hub.stop()
  const store = await LevelStore.open(HUB_STORE_DIR(hub))
  const records = await loadChannelRecords(store).finally(() => store.close())
  const stored = records.find(r => r.state.channelId === victimChannel)
  t.equal(stored?.peer, platform.nodeId, 'the stored record belongs to the platform')
  t.same(
    [stored?.state.localCommit?.spec.toRemoteMsat, stored?.state.localCommit?.spec.toLocalMsat], [final.localMsat, final.remoteMsat],
    'the stored balances are the platform\'s',
  )
  t.same(
    [stored?.state.localCommit?.index, stored?.state.remoteCommit?.index],
    [finalRow.local_commitment_index, finalRow.remote_commitment_index], 'the stored commitment numbers are the hub\'s last',
  )
  t.same(
    records.filter(r => r.peer === mallory.nodeId).map(r => r.state.channelId), [malloryChannel],
    'mallory has its own channel record and no other',
  )
})
