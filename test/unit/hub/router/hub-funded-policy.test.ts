// Who gets a channel funded by the hub, and how much of the hub's coins such channels may lock before
// anyone pays through them (hub/funding/inbound.ts; config hubFunded). A payment for a payee without a
// channel, or the payee's request_channel, opens one only within the policy; otherwise the payment
// fails back at once (unknown_next_peer, saying why) and the request gets a connection-level error.
// In-process (../fixtures/hub-harness.ts): a hub-funded channel stays at funding_needed (no wallet), which is enough:
// it is opening, so it counts.
import t from 'tap'
import type { ChannelState } from '../../../../protocol/channel/index.ts'
import { amountToOffer } from '../../../../protocol/forwarding.ts'
import { idleHubFunded } from '../../../../hub/funding/inbound.ts'
import { Client, hubWithPlatformAndCreator, type InProcessHub } from '../fixtures/hub-harness.ts'

const FEES = { feeBaseMsat: 1_000, feePpm: 100 }
const SIZE = 100_000

/** The platform pays `payee` (online, no channel): resolves with the payment hash. */
async function payStranger (hub: InProcessHub, platform: Client, payee: Client): Promise<string> {
  const inv = payee.invoice()
  await platform.driver!.command({
    type: 'add_htlc', amountMsat: amountToOffer(5_000, FEES), paymentHash: inv.hash, cltvExpiry: hub.height + 100, recipient: payee.nodeId,
  })
  return inv.hash
}
const failures = (
  c: Client, hash: string,
): string[] => c.events.flatMap(e => e.type === 'htlc_failed' && e.paymentHash === hash ? [e.reason] : [])
const offered = (hub: InProcessHub, c: Client): boolean => c.received.some(m => m.type === 'open_channel')

/** Three payees online, none with a channel. */
function strangers (hub: InProcessHub): Client[] {
  const cs = [new Client(), new Client(), new Client()]
  for (const c of cs) hub.connect(c)
  return cs
}

t.test('the overall budget: hub-funded channels not used yet hold at most hubFunded.maxIdleSat; past it a payment fails back at once', async t => {
  const { hub, platform } = await hubWithPlatformAndCreator({
    channels: { fundingSat: SIZE }, hubFunded: { maxIdleSat: 2 * SIZE }, router: { holdMs: 600_000 },
  })
  const [a, b, c] = strangers(hub)
  const ha = await payStranger(hub, platform, a!)
  await hub.until(() => offered(hub, a!), 'a channel opened to the first payee')
  const hb = await payStranger(hub, platform, b!)
  await hub.until(() => offered(hub, b!), 'a channel opened to the second')
  const hc = await payStranger(hub, platform, c!)
  await hub.until(() => failures(platform, hc).length === 1, 'the third payment failed back')
  t.same(failures(platform, hc), ['unknown_next_peer'])
  t.notOk(offered(hub, c!), 'no channel was opened to the third payee')
  t.same([failures(platform, ha), failures(platform, hb)], [[], []], 'the first two are held for their channels')
  t.ok(
    hub.log.events.some(e => e.event === 'hub_funded_refused' && e.peer === c!.nodeId && String(e.detail).includes(`at most ${2 * SIZE}`)),
    'the refusal is logged with the budget',
  )
})

t.test('the per-identity budget: a channel larger than hubFunded.maxIdleSatPerPeer is not opened, on request or on payment', async t => {
  const { hub, platform } = await hubWithPlatformAndCreator({
    channels: { fundingSat: SIZE }, hubFunded: { maxIdleSatPerPeer: SIZE / 2 }, router: { holdMs: 600_000 },
  })
  const [a] = strangers(hub)
  a!.hubSend({ type: 'request_channel' })
  await hub.until(() => a!.received.some(m => m.type === 'error'), 'request answered')
  const refusal = a!.received.find(m => m.type === 'error')
  t.match(refusal?.type === 'error' ? refusal.data : '', /^request_channel refused: .*at most 50000/, 'a connection-level error says why')
  const h = await payStranger(hub, platform, a!)
  await hub.until(() => failures(platform, h).length === 1, 'failed back')
  t.same(failures(platform, h), ['unknown_next_peer'])
  t.notOk(offered(hub, a!), 'nothing opened')
})

t.test('the allow-list: only approved node ids get hub-funded channels; the operator is not limited', async t => {
  const probe = new Client()
  const { hub, platform } = await hubWithPlatformAndCreator({
    channels: { fundingSat: SIZE }, hubFunded: { allow: [probe.nodeId] }, router: { holdMs: 600_000 },
  })
  hub.connect(probe)
  const [stranger] = strangers(hub)
  const hs = await payStranger(hub, platform, stranger!)
  await hub.until(() => failures(platform, hs).length === 1, 'failed back')
  t.same(failures(platform, hs), ['unknown_next_peer'], 'a payee that is not approved gets no channel')
  stranger!.hubSend({ type: 'request_channel' })
  await hub.until(() => stranger!.received.some(m => m.type === 'error'), 'refused')
  t.notOk(offered(hub, stranger!))
  await payStranger(hub, platform, probe)
  await hub.until(() => offered(hub, probe), 'the approved payee gets its channel')
  const op = await hub.inbound.ensureChannel(stranger!.nodeId, SIZE, 'operator')
  t.notOk('error' in op, "the operator's own open is not limited")
  await hub.until(() => offered(hub, stranger!), 'opened by the operator')
})

t.test('a hub-funded channel counts while opening or open with no payment yet, not once used', async t => {
  const base = { setup: { isFunder: true }, phase: 'normal', localCommit: { index: 0 }, remoteCommit: { index: 0 } }
  const s = (o: object): ChannelState => ({ ...base, ...o }) as unknown as ChannelState
  t.ok(idleHubFunded(s({})), 'open, never used')
  t.ok(idleHubFunded(s({ phase: 'awaiting_funding_depth' })), 'opening')
  t.ok(idleHubFunded(s({ phase: 'awaiting_accept', localCommit: undefined, remoteCommit: undefined })), 'just asked for')
  t.notOk(idleHubFunded(s({ localCommit: { index: 3 }, remoteCommit: { index: 3 } })), 'a payment went through it')
  t.notOk(idleHubFunded(s({ setup: { isFunder: false } })), 'funded by the peer')
  t.notOk(idleHubFunded(s({ phase: 'closed' })), 'closed')
})

t.test('config: hubFunded fields are checked with the field named', async t => {
  const { parseHubConfig } = await import('../../../../hub/config.ts')
  const bad = (o: object): string => { const r = parseHubConfig({ dataDir: '/d', ...o }); return r.ok ? 'accepted' : r.error }
  t.match(bad({ hubFunded: { allow: ['02' + 'zz'.repeat(32)] } }), /^hubFunded\.allow\.0: must be a 33-byte compressed secp256k1 key/)
  t.match(bad({ hubFunded: { maxIdleSat: -1 } }), /^hubFunded\.maxIdleSat: /)
  t.match(bad({ hubFunded: { maxIdleSatPerPeer: 1.5 } }), /^hubFunded\.maxIdleSatPerPeer: must be an integer/)
  t.match(bad({ hubFunded: { budget: 1 } }), /^hubFunded: .*budget/, 'unknown fields are refused')
  const ok = parseHubConfig({ dataDir: '/d' })
  t.ok(
    ok.ok && ok.config.hubFunded.allow === undefined && ok.config.hubFunded.maxIdleSat === undefined,
    'absent by default: anyone, within the default budgets',
  )
  t.equal(
    bad({ hubFunded: { allow: [], maxIdleSat: 0, maxIdleSatPerPeer: 0 } }), 'accepted',
    'an empty allow-list and zero budgets (no hub-funded channels at all) are valid',
  )
})
