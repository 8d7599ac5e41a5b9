// Bad input over a real, authenticated socket: malformed JSON, an oversize frame, an unknown message
// type, a message for a channel that belongs to another node id, and commitment messages out of order
// on the sender's own channel. Each time the sender gets an error or warning (or, for the oversize
// frame, its connection closed with 1009), the hub process stays up, and another pair of parties keeps
// paying through it.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, injector, openFundedChannel, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { MAX_FRAME_BYTES } from '../../protocol/limits.ts'

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
  const answered = async (label: string, pred: (m: Record<string, unknown>) => boolean): Promise<void> => {
    await waitFor(() => inj.received.some(pred), `${label}: an answer`)
    const m = inj.received.find(pred)!
    t.ok(m, `${label}: the sender got ${String(m.type)}: ${String(m.data ?? '').slice(0, 80)}`)
  }
  const isNotice = (m: Record<string, unknown>): boolean => m.type === 'error' || m.type === 'warning'

  inj.clear()
  inj.sendRaw('{"type": "update_add_htlc", "channel_id": ')
  await answered('malformed JSON', isNotice)
  await othersStillWork('malformed JSON')

  inj.clear()
  inj.sendRaw('{"type":"make_me_rich","amount_msat":1}')
  await answered('unknown message type', m => isNotice(m) && /make_me_rich|unknown/.test(String(m.data)))
  await othersStillWork('unknown message type')

  inj.clear()
  inj.sendRaw(JSON.stringify({
    type: 'update_add_htlc', channel_id: victimChannel, id: 0, amount_msat: 1_000, payment_hash: '11'.repeat(32), cltv_expiry: 500,
    recipient: mallory.nodeId,
  }))
  await answered('a message for a channel that is not yours', m => isNotice(m) && m.channel_id === victimChannel || /not.?your|not_your_channel/.test(String(m.data)))
  t.equal(platform.channels()[0]!.phase, 'normal', 'the victim channel is untouched')
  await othersStillWork('not your channel')

  inj.clear()
  await mallory.untilReestablished()
  inj.sendRaw(JSON.stringify({ type: 'revoke_and_ack', channel_id: malloryChannel, per_commitment_secret: '22'.repeat(32), next_per_commitment_point: '02' + '33'.repeat(32) }))
  await answered('revoke_and_ack out of order', isNotice)
  await othersStillWork('revoke_and_ack out of order')

  inj.clear()
  await mallory.untilReestablished()
  inj.sendRaw(JSON.stringify({ type: 'commitment_signed', channel_id: malloryChannel, signature: '44'.repeat(64), htlc_signatures: [] }))
  await answered('commitment_signed with nothing to sign', isNotice)
  await othersStillWork('commitment_signed out of order')

  const closesBefore = inj.closes.length
  inj.sendRaw(JSON.stringify({ type: 'warning', channel_id: '00'.repeat(32), data: 'x'.repeat(MAX_FRAME_BYTES) }))
  await waitFor(() => inj.closes.length > closesBefore, 'the oversize frame closes the connection')
  t.equal(inj.closes[closesBefore], 1009, 'oversize frame: closed with 1009 (message too big)')
  await othersStillWork('oversize frame')
  t.equal(platform.channels()[0]!.phase, 'normal', 'the other channels never left normal')
  t.equal(creator.channels()[0]!.phase, 'normal', 'the payee channel never left normal')
})
