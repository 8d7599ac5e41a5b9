// Resource exhaustion, before and after authentication, against the real hub process (scenario 20):
// what costs the attacker nothing must cost the hub a bounded amount, and never keep honest clients
// out. After each attack the hub process is up and the honest platform and creator (a channel each)
// pay each other, their channels moved by exactly the payment.
//   - a payee that accepts the hub's channel and never signs its funding: the coins set aside for it
//     are free again at the funding-signature deadline (channels.fundingSignedTimeoutMs);
//   - TCP connections that never send a request, or send it a byte at a time, from one address and
//     from forty: the hub holds at most its handshake caps of them (the oldest closed past a cap, all
//     at the handshake timeout), so its file descriptors stay bounded; a peer with a channel
//     reconnects from the flood's own address;
//   - WebSocket handshakes that stall (never answer hub_hello): the strangers' caps refuse the excess,
//     known peers keep their kept slots, the stalls are closed at the handshake timeout;
//   - authenticated strangers up to the cap on strangers' connections: the next is refused, a known
//     peer is not;
//   - after authentication: a message flood (warned, then cut with 4006), garbage frames (warned, then
//     cut), a peer that asks for large pongs and never reads them (a few answered per ping interval,
//     cut at the ping timeout; the memory of peers that never read is measured in
//     test/e2e/transport/flood.test.ts);
//   - request_channel spam (one identity, then many): one channel per identity, the hub's budget of
//     idle hub funds across identities;
//   - open_channel spam: the per-peer and overall caps on unconfirmed channels; the slots free when the
//     spammers go.
import t, { type Test } from 'tap'
import path from 'node:path'
import net from 'node:net'
import fs from 'node:fs'
import { WebSocket } from 'ws'
import { ConnectError } from '../../client-sdk/transport/index.ts'
import { CLOSE } from '../../protocol/auth/close-codes.ts'
import { MAX_PONG_BYTES } from '../../protocol/limits.ts'
import { useBtcd } from '../helpers/btcd.ts'
import { fundHub, requestHubChannel, startClient, startHub, tempDir, waitFor } from '../helpers/hub.ts'
import { Attacker, until } from './fixtures/attacker.ts'
import { honestParties } from './fixtures/honest.ts'
import { hubChannels } from './fixtures/hub-view.ts'
import { admin, tipHeight } from './fixtures/chain-view.ts'

const MAX_UNAUTH = 32
const MAX_UNAUTH_PER_IP = 8
const MAX_STRANGERS = 40
const HANDSHAKE_TIMEOUT_MS = 3_000
const MAX_UNCONFIRMED_PER_PEER = 2
const MAX_UNCONFIRMED = 6
const FUNDING_SAT = 500_000
const FUNDING_SIGNED_TIMEOUT_MS = 3_000
const PING_INTERVAL_MS = 5_000
const PONG_TIMEOUT_MS = 5_000

const btc = await useBtcd(t)
const dir = tempDir('adv-exhaustion')
const hub = await startHub({
  dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc,
  config: {
    transport: {
      maxUnauthenticated: MAX_UNAUTH, maxUnauthenticatedPerIp: MAX_UNAUTH_PER_IP, maxConnections: MAX_STRANGERS,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS, maxBadFrames: 5, maxConnectsPerIp: 100_000, pingIntervalMs: PING_INTERVAL_MS,
      pongTimeoutMs: PONG_TIMEOUT_MS,
    },
    channels: {
      maxUnconfirmedPerPeer: MAX_UNCONFIRMED_PER_PEER, maxUnconfirmed: MAX_UNCONFIRMED, fundingSat: FUNDING_SAT,
      fundingSignedTimeoutMs: FUNDING_SIGNED_TIMEOUT_MS,
    },
    hubFunded: { maxIdleSat: 3 * FUNDING_SAT },
  },
}, t)
// One coin: a funding the hub built and holds back locks it whole.
await fundHub(btc, hub, 4_000_000)
const honest = await honestParties(btc, hub, dir, t)
let height = await tipHeight(btc)
// A peer with a channel: the one the floods must not keep out.
const insider = await Attacker.connect(hub, { height: () => height })
t.teardown(() => { insider.close() })
await insider.fundedChannel(btc, 200_000)
height = await tipHeight(btc)

/** File descriptors the hub process holds (Linux /proc). */
const hubFds = (): number => fs.readdirSync(`/proc/${hub.pid}/fd`).length

/** The hub process is alive, answers its admin API and logged nothing fatal. */
async function hubUp (t: Test, label: string): Promise<void> {
  let alive = hub.pid !== undefined
  try { if (hub.pid !== undefined) process.kill(hub.pid, 0) } catch { alive = false }
  t.ok(alive && (await admin(hub, '/info')).status === 200 && !hub.lines.some(l => l.event === 'fatal'), `${label}: the hub stays up`)
}

/** The peer with a channel (the insider) opens a new session and its channel reestablishes. */
async function knownPeerReconnects (t: Test, label: string): Promise<void> {
  await insider.reconnect()
  await until(() => insider.channels[0]!.settled, 'the insider\'s channel reestablished', 30_000)
  t.pass(`${label}: a peer with a channel reconnects and reestablishes`)
}

const sessions = async (): Promise<number> => Number((await admin(hub, '/info')).body.sessions)

t.test('a payee that accepts the hub\'s channel and never signs its funding cannot hold the hub\'s coins: the channel is forgotten at the deadline, and another payee gets one', async t => {
  // The hub has one coin (the change of the creator's funding): the staller's funding sets it aside.
  const staller = await Attacker.connect(hub, { height: () => height })
  t.teardown(() => { staller.close() })
  staller.tamper = msg => msg.type === 'funding_signed' ? null : msg
  staller.send({ type: 'request_channel' })
  await until(
    () => staller.channels.length === 1 && staller.channels[0]!.received.some(m => m.type === 'funding_created'),
    'the hub\'s funding_created',
  )
  const ch = staller.channels[0]!
  t.equal(
    (await hubChannels(hub)).find(r => r.peer === staller.nodeId)?.phase, 'awaiting_funding_signed',
    'the hub waits for its funding signature, its coin set aside',
  )
  t.ok(Number((await admin(hub, '/info')).body.wallet.locked) > 0, 'its wallet holds the coin back')
  // The staller stays connected and silent.
  const notice = await ch.nextNotice(FUNDING_SIGNED_TIMEOUT_MS * 10)
  t.match(notice, /^error: funding_timeout: no funding_signed within 3000 ms/, 'at the deadline the hub gives up the channel and says so')
  await waitFor(async () => !(await hubChannels(hub)).some(r => r.peer === staller.nodeId), 'the channel to be forgotten')
  t.equal(Number((await admin(hub, '/info')).body.wallet.locked), 0, 'the coin is free again')
  const creator2 = await startClient({ hub, btc, dataDir: path.join(dir, 'creator2'), role: 'creator' }, t)
  await requestHubChannel(btc, creator2)
  t.equal(creator2.channels()[0]?.phase, 'normal', 'another payee gets a hub-funded channel from that coin')
  t.equal(staller.connected, true, 'all along the staller stayed connected')
  height = await tipHeight(btc)
  await hubUp(t, 'after the stalled funding')
  await honest.pays(t, 'after the stalled funding')
})

// More coins for the hub: from here on, budgets, not coins, are what limits hub-funded channels.
t.test('(the hub gets three more coins)', async t => {
  for (let i = 0; i < 3; i++) await fundHub(btc, hub, 1_000_000)
  height = await tipHeight(btc)
  t.pass()
})

t.test('TCP connections that never send a request, or send it a byte at a time (one address, then forty): at most the handshake caps held, the oldest closed; a known peer reconnects from the flood\'s address; honest clients pay; all closed at the timeout', async t => {
  const before = await honest.view()
  const fdsBefore = hubFds()
  const port = Number(new URL(hub.url).port)
  const socks: net.Socket[] = []
  const open = (localAddress: string, slow: boolean): void => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress })
    s.on('error', () => {})
    // A request that never ends: a header byte now and then, well within node's own header timeout.
    if (slow) {
      s.once('connect', () => { s.write('GET / HTTP/1.1\r\nHost: hub\r\nX') })
      const drip = setInterval(() => { if (s.writable) s.write('a'); else clearInterval(drip) }, 200)
      s.once('close', () => { clearInterval(drip) })
    }
    socks.push(s)
  }
  for (let a = 0; a < 40; a++) for (let i = 0; i < 10; i++) open(`127.0.0.${a + 2}`, i % 2 === 1)
  for (let i = 0; i < 300; i++) open('127.0.0.1', i % 2 === 1)
  await until(() => socks.every(s => s.readyState !== 'opening'), 'every socket connected or refused')
  // Closing is the hub's: wait until the sockets it holds are at most its cap (the client side sees each close).
  await until(
    () => socks.filter(s => !s.destroyed && s.readyState === 'open').length <= MAX_UNAUTH,
    `the hub to hold at most ${MAX_UNAUTH} of ${socks.length} sockets`, 30_000,
  )
  const held = hubFds() - fdsBefore
  t.ok(held <= MAX_UNAUTH + 10, `the hub holds ${held} more file descriptors (${socks.length} sockets opened; cap ${MAX_UNAUTH})`)
  t.ok(
    socks.filter(s => !s.destroyed && s.readyState === 'open' && s.localAddress === '127.0.0.1').length <= MAX_UNAUTH_PER_IP,
    `at most ${MAX_UNAUTH_PER_IP} from one address`,
  )
  await honest.untouched(t, before, 'during the flood')
  // The insider connects from 127.0.0.1, where the flood's newest sockets wait.
  await knownPeerReconnects(t, 'during the flood')
  await honest.pays(t, 'during the flood')
  await waitFor(
    () => socks.every(s => s.destroyed || s.readyState === 'closed'), 'the hub to close every silent or slow socket',
    HANDSHAKE_TIMEOUT_MS * 10,
  )
  t.pass('every silent or slow socket was closed by the hub')
  await hubUp(t, 'after the flood')
})

t.test('WebSocket handshakes that stall (never answer hub_hello): the strangers\' caps refuse the excess; a known peer reconnects; honest clients pay; the stalls are closed at the handshake timeout', async t => {
  // 'refused': closed before any answer (a socket past the cap on sockets without a request).
  const results = await Promise.all(Array.from({ length: MAX_UNAUTH_PER_IP + 4 }, () => new Promise<{
    ws: WebSocket; status: number | 'refused'
  }>(resolve => {
    const ws = new WebSocket(hub.url)
    ws.on('open', () => { resolve({ ws, status: 101 }) })
    ws.on('unexpected-response', (_req, res) => { resolve({ ws, status: res.statusCode ?? 0 }); ws.terminate() })
    ws.on('error', () => { resolve({ ws, status: 'refused' }) })
  })))
  const statuses = results.map(r => r.status)
  t.equal(statuses.filter(s => s === 101).length, MAX_UNAUTH_PER_IP, `${MAX_UNAUTH_PER_IP} stalled handshakes admitted from one address`)
  t.ok(
    statuses.every(s => s === 101 || s === 429 || s === 'refused'),
    `the rest refused, with 429 or before their request (${statuses.filter(s => s !== 101).join(', ')})`,
  )
  await knownPeerReconnects(t, 'while the stalls hold the address\'s slots')
  await honest.pays(t, 'while the stalls hold the address\'s slots')
  const closes = await Promise.all(results.filter(r => r.status === 101).map(r => new Promise<number>(resolve => {
    if (r.ws.readyState === WebSocket.CLOSED) resolve(-1)
    r.ws.on('close', code => { resolve(code) })
  })))
  t.ok(closes.every(c => c >= 4000), `each stalled handshake was closed by the hub (codes ${[...new Set(closes)].join(', ')})`)
  await hubUp(t, 'after the stalls')
})

t.test('authenticated strangers fill the cap on strangers\' connections: the next is refused (429); a known peer reconnects; honest clients pay; the cap frees when they leave', async t => {
  const before = await honest.view()
  const idle: Attacker[] = []
  t.teardown(() => { for (const a of idle) a.close() })
  let refused: ConnectError | undefined
  while (refused === undefined && idle.length <= MAX_STRANGERS) {
    try { idle.push(await Attacker.connect(hub)) } catch (e) { if (e instanceof ConnectError) refused = e; else throw e }
  }
  t.ok(idle.length <= MAX_STRANGERS, `${idle.length} strangers connected (cap ${MAX_STRANGERS})`)
  t.match(refused?.failure, { reason: 'unreachable', detail: /429/ }, 'the next stranger is refused before its upgrade (429)')
  await knownPeerReconnects(t, 'while strangers hold every stranger\'s connection')
  await honest.untouched(t, before, 'while strangers hold every stranger\'s connection')
  await honest.pays(t, 'while strangers hold every stranger\'s connection')
  const open = await sessions()
  for (const a of idle) a.close()
  await waitFor(async () => await sessions() <= open - idle.length, 'their sessions to end')
  const late = await Attacker.connect(hub)
  t.ok(late.connected, 'once they left, a stranger connects again')
  late.close()
  await hubUp(t, 'after the strangers')
})

t.test('after authentication: a message flood is warned then cut (4006), garbage frames are warned then cut, a peer that never reads is cut at the ping timeout; honest clients keep paying', async t => {
  const before = await honest.view()
  // A flood of pings, as fast as it can write.
  const flooder = await Attacker.connect(hub)
  let sent = 0
  while (flooder.connected && sent < 100_000) {
    for (let i = 0; i < 1_000; i++) flooder.sendRaw('{"type":"ping","num_pong_bytes":0,"ignored":""}')
    sent += 1_000
    await new Promise(resolve => setImmediate(resolve))
  }
  t.equal(await flooder.untilDisconnected(60_000), 4006, `the flood is cut (4006) after ${sent} pings`)
  t.ok(flooder.other.some(m => m.type === 'warning' && m.data.startsWith('rate_limited')), 'after a rate_limited warning')
  // Garbage: warned each time, then cut once past maxBadFrames.
  const garbler = await Attacker.connect(hub)
  for (let i = 0; i < 10; i++) garbler.sendRaw(`{"type":"update_add_htlc","channel_id":${i}}`)
  const code = await garbler.untilDisconnected(60_000)
  t.ok(
    garbler.other.filter(m => m.type === 'warning' && m.data.startsWith('invalid_field')).length >= 5 && code >= 4000,
    `garbage frames: warned, then cut (${code})`,
  )
  // Never reads: within its message rate, it asks for the largest pongs, 16 MiB of them in all. The
  // hub answers a few per ping interval, so nothing piles up for it, and the hub's own ping goes
  // unanswered. (The attacker's own connection would give up on the hub's pong only after the SDK's
  // default 30 s + 20 s, later than this wait's deadline: the close is the hub's.)
  const open = await sessions()
  const sink = await Attacker.connect(hub)
  await waitFor(async () => await sessions() === open + 1, 'the sink\'s session')
  sink.stopReading()
  for (let i = 0; i < 500; i++) sink.sendRaw(`{"type":"ping","num_pong_bytes":${MAX_PONG_BYTES},"ignored":""}`)
  await waitFor(async () => await sessions() === open, 'the hub to cut the peer that never reads', 4 * (PING_INTERVAL_MS + PONG_TIMEOUT_MS))
  sink.resumeReading()
  t.equal(await sink.untilDisconnected(), CLOSE.ping_timeout, 'the peer that never reads is cut when it leaves the hub\'s ping unanswered')
  await honest.untouched(t, before, 'after the floods')
  await honest.pays(t, 'after the floods')
  await hubUp(t, 'after the floods')
})

t.test('request_channel spam: one channel per identity, the hub\'s idle budget across identities; the rest refused; honest clients pay', async t => {
  // They never sign the hub's funding: nothing is broadcast, and the channels go when they leave.
  const unsigned = (a: Attacker): Attacker => { a.tamper = msg => msg.type === 'funding_signed' ? null : msg; return a }
  const spammer = unsigned(await Attacker.connect(hub, { height: () => height }))
  for (let i = 0; i < 20; i++) spammer.send({ type: 'request_channel' })
  // The hub handles a session's frames in order: once the warning for a bad frame sent after them is
  // back, it has handled all 20.
  spammer.sendRaw('{"type":"after_the_requests"}')
  await until(() => spammer.other.some(m => m.type === 'warning'), 'the warning after the requests')
  t.equal((await hubChannels(hub)).filter(r => r.peer === spammer.nodeId).length, 1, '20 requests from one identity: one channel')
  await until(() => spammer.channels.length === 1, 'the hub\'s open_channel')
  const others = await Promise.all([0, 1, 2].map(async () => {
    const a = unsigned(await Attacker.connect(hub, { height: () => height })); a.send({ type: 'request_channel' }); return a
  }))
  await until(() => others.every(a => a.channels.length === 1 || a.other.some(m => m.type === 'error')), 'an answer to each identity')
  const refused = others.filter(a => a.channels.length === 0)
  t.ok(refused.length >= 1 && refused.every(
    a => a.other.some(m => m.type === 'error' && m.data.startsWith('request_channel refused: the hub has'))
  ), `past the idle budget (3 channels of hub funds not used yet) the hub refuses, naming its budget (${refused.length} of 3 refused)`)
  t.ok(1 + others.filter(a => a.channels.length === 1).length <= 3, 'the spammers hold no more than the budget')
  await honest.pays(t, 'during the spam')
  for (const a of [spammer, ...others]) a.close()
  await waitFor(
    async () => !(await hubChannels(hub)).some(r => [spammer, ...others].some(a => a.nodeId === r.peer)),
    'their unsigned channels to be forgotten',
  )
  t.pass('the channels they never signed for are forgotten when they leave')
  await hubUp(t, 'after the spam')
})

t.test('open_channel spam: per identity and overall caps on unconfirmed channels; established channels keep paying; the slots free when the spammers leave', async t => {
  const before = await honest.view()
  const opens = (a: Attacker, n: number): void => {
    for (let i = 0; i < n; i++) a.send(a.openChannelMessage(100_000))
  }
  const answers = (a: Attacker): { accepted: number; refused: number } => ({
    accepted: a.other.filter(m => m.type === 'accept_channel').length,
    refused: a.other.filter(m => m.type === 'error' && m.data.startsWith('too_many_unconfirmed_channels')).length,
  })
  const first = await Attacker.connect(hub)
  opens(first, 50)
  await until(() => answers(first).accepted + answers(first).refused === 50, 'an answer to each open_channel')
  t.same(
    answers(first), { accepted: MAX_UNCONFIRMED_PER_PEER, refused: 50 - MAX_UNCONFIRMED_PER_PEER },
    `50 opens from one identity: ${MAX_UNCONFIRMED_PER_PEER} accepted, the rest refused`,
  )
  const more = await Promise.all([0, 1, 2].map(async () => {
    const a = await Attacker.connect(hub); opens(a, MAX_UNCONFIRMED_PER_PEER); return a
  }))
  await until(() => more.every(a => answers(a).accepted + answers(a).refused === MAX_UNCONFIRMED_PER_PEER), 'answers')
  const accepted = answers(first).accepted + more.reduce((n, a) => n + answers(a).accepted, 0)
  t.equal(accepted, MAX_UNCONFIRMED, `over all identities, at most ${MAX_UNCONFIRMED} unconfirmed channels`)
  await honest.untouched(t, before, 'during the spam')
  await honest.pays(t, 'during the spam')
  for (const a of [first, ...more]) a.close()
  const fresh = await Attacker.connect(hub)
  t.teardown(() => { fresh.close() })
  await waitFor(
    async () => !(await hubChannels(hub)).some(r => [first, ...more].some(a => a.nodeId === r.peer)),
    'their unfunded channels to be forgotten',
  )
  opens(fresh, 1)
  await until(() => answers(fresh).accepted + answers(fresh).refused === 1, 'an answer')
  t.equal(answers(fresh).accepted, 1, 'once they left, a new identity can open again')
  await hubUp(t, 'after the spam')
})
