// Messages on another node's channel, over the hub's real protocol (scenario 19): an attacker — with a
// channel of its own at the hub, and as a stranger without one — sends every channel message type
// (BOLT #2 updates, commitment_signed, revoke_and_ack, shutdown, closing_signed, channel_reestablish,
// channel_ready, funding_signed, the splice and interactive-tx messages, error and warning) naming an
// honest party's channel id, also while that channel has a payment in flight. Each is refused with
// `not_your_channel` naming the channel; the victim's channel is untouched to the msat at both ends
// (balances, HTLCs, commitment numbers), its stored record, key seed, index entry and monitor updates
// are unchanged, and it keeps paying.
import t from 'tap'
import path from 'node:path'
import { MESSAGE_TYPES, type PeerMessage } from '../../protocol/wire/index.ts'
import { SAMPLES } from '../unit/protocol/wire/samples.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { Attacker, until } from './fixtures/attacker.ts'
import { honestParties } from './fixtures/honest.ts'
import { storedChannel } from './fixtures/hub-view.ts'
import { tipHeight } from './fixtures/chain-view.ts'

const btc = await useBtcd(t)
const dir = tempDir('adv-foreign')
const hub = await startHub({ dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc }, t)
await fundHub(btc, hub, 3_000_000)
const honest = await honestParties(btc, hub, dir, t)
const height = await tipHeight(btc)

// One attacker with a channel of its own (a known peer), one stranger with none.
const insider = await Attacker.connect(hub, { height: () => height })
t.teardown(() => { insider.close() })
await insider.fundedChannel(btc, 300_000)
const stranger = await Attacker.connect(hub, { height: () => height })
t.teardown(() => { stranger.close() })

/** Every message type that names a channel by its (real) channel id. */
const CHANNEL_TYPES = MESSAGE_TYPES.filter(type => 'channel_id' in SAMPLES[type])
/** Of those, what the hub sends and never accepts (payment_held: the hub holds a payer's payment;
 *  payout_proposal: the hub's terms of a payout batch). */
const HUB_SENDS_ONLY: ReadonlySet<string> = new Set(['payment_held', 'payout_proposal'])

/** `type`'s sample message, naming `channelId`. */
const naming = (
  type: (typeof MESSAGE_TYPES)[number], channelId: string,
): PeerMessage => ({ ...SAMPLES[type], channel_id: channelId }) as PeerMessage

/** Sends `msg` and resolves with the hub's answer (the next error or warning for that channel id). */
async function answer (a: Attacker, msg: PeerMessage, channelId: string): Promise<string> {
  const seen = a.other.length
  a.send(msg)
  await until(
    () => a.other.slice(seen).some(m => (m.type === 'error' || m.type === 'warning') && m.channel_id === channelId),
    `an answer to ${msg.type}`, 20_000,
  )
  const m = a.other.slice(seen).find(m => (m.type === 'error' || m.type === 'warning') && m.channel_id === channelId)!
  return m.type === 'error' || m.type === 'warning' ? `${m.type}: ${m.data}` : ''
}

const victims = (): Array<[string, string]> => [
  ['the platform\'s channel (it funded)', honest.platform.channels()[0]!.channelId],
  ['the creator\'s channel (the hub funded)', honest.creator.channels()[0]!.channelId],
]

t.test('every channel message naming another node\'s channel is refused (not_your_channel); the victim is untouched', async t => {
  // What the hub stored of the victims (the hub stopped: LevelDB has one owner).
  await hub.stop()
  const stored = new Map<string, Awaited<ReturnType<typeof storedChannel>>>()
  for (const [, id] of victims()) stored.set(id, await storedChannel(hub, id))
  await hub.restart()
  await waitFor(() => honest.platform.connected && honest.creator.connected, 'the honest clients to reconnect')
  await insider.reconnect()
  const before = await honest.view()

  for (const [who, id] of victims()) {
    for (const [name, a] of [['a peer with a channel', insider], ['a stranger', stranger]] as const) {
      if (!a.connected) await a.reconnect()
      for (const type of CHANNEL_TYPES) {
        // A message only the hub sends is refused as such before any channel is looked up.
        const refusal = HUB_SENDS_ONLY.has(type)
          ? new RegExp(`^warning: unexpected_message: ${type} is not sent to the hub`)
          : new RegExp(`^error: not_your_channel: channel ${id} does not belong to this node id`)
        t.match(await answer(a, naming(type, id), id), refusal, `recv ${type} (${who}) from ${name}: refused, naming the channel`)
      }
    }
  }
  // accept_channel / funding_created look temporary ids up among the sender's own channels only.
  for (const type of ['accept_channel', 'funding_created'] as const) {
    const [, id] = victims()[0]!
    t.match(
      await answer(insider, { ...SAMPLES[type], temporary_channel_id: id } as PeerMessage, id),
      /^warning: unknown_channel: temporary_channel_id/,
      `recv ${type} (the platform's channel id as its temporary id): unknown to the sender, nothing touched`,
    )
  }
  await honest.untouched(t, before, 'after every message type')
  t.equal(hub.lines.filter(l => l.event === 'fatal').length, 0, 'the hub stays up')
  await honest.pays(t, 'after every message type')

  await hub.stop()
  for (const [who, id] of victims()) {
    const after = await storedChannel(hub, id)
    const was = stored.get(id)!
    t.same(
      [after?.peer, after?.seed, after?.indexPeer], [was?.peer, was?.seed, was?.indexPeer],
      `${who}: the stored record's owner, key seed and index entry are unchanged`,
    )
    t.same(
      [...was!.monitor].filter(([k, v]) => after?.monitor.get(k) !== v).map(([k]) => k), [],
      `${who}: every monitor update stored before is unchanged`,
    )
  }
  await hub.restart()
})

t.test('recv update_fulfill_htlc / update_fail_htlc / commitment_signed / revoke_and_ack on another node\'s channel while its payment is in flight: refused; the payment completes once', async t => {
  await honest.platform.untilReestablished()
  await honest.creator.untilReestablished()
  await insider.reconnect()
  const before = await honest.view()
  const amount = 77_000
  const inv = await honest.creator.createInvoice({ amountMsat: amount, memo: 'in flight' })
  const [, platformChannel] = victims()[0]!
  const [, creatorChannel] = victims()[1]!
  // The moment the payment is in flight, the attacker tries to settle it, fail it or sign for it, on
  // both channels at once.
  const forged = [platformChannel, creatorChannel].flatMap(id => [
    { type: 'update_fulfill_htlc', channel_id: id, id: 0, payment_preimage: '00'.repeat(32) },
    { type: 'update_fail_htlc', channel_id: id, id: 0, reason: 'temporary_channel_failure' },
    { type: 'commitment_signed', channel_id: id, signature: '11'.repeat(64), htlc_signatures: [] },
    { type: 'revoke_and_ack', channel_id: id, per_commitment_secret: '22'.repeat(32), next_per_commitment_point: '02' + '33'.repeat(32) },
  ] as PeerMessage[])
  const seen = insider.other.length
  const paying = honest.platform.pay(inv.invoice)
  await waitFor(
    () => honest.creator.channels()[0]!.inFlightMsat > 0 || honest.platform.channels()[0]!.inFlightMsat > 0, 'the payment in flight',
    30_000,
  )
  for (const m of forged) insider.send(m)
  await until(() => insider.other.length - seen >= forged.length, 'an answer to each forged message')
  const answers = insider.other.slice(seen).map(m => m.type === 'error' ? `${m.channel_id}: ${m.data.split(':')[0]}` : m.type)
  t.same(
    answers, forged.map(m => `${(m as { channel_id: string }).channel_id}: not_your_channel`),
    'each refused with not_your_channel, naming its channel',
  )
  const r = await paying
  t.ok(r.ok, 'the victim\'s payment completes')
  const after = await honest.view()
  t.same(
    [after.platform.localMsat, after.creator.localMsat],
    [before.platform.localMsat - amount - (r.ok ? r.feeMsat : 0), before.creator.localMsat + amount],
    'exactly once: the payer paid amount + fee, the payee received the amount',
  )
  t.equal(hub.lines.filter(l => l.event === 'fatal').length, 0, 'the hub stays up')
})
