// Scenario 20 over real sockets: frame size, handshake timeout, per-IP connection caps, ping
// timeout, per-peer send buffer, one session per node id, and bad frames that never take the hub down.
import t, { type Test } from 'tap'
import { randomBytes } from 'node:crypto'
import { connect } from '../../../client-sdk/node.ts'
import { CLOSE } from '../../../protocol/auth/close-codes.ts'
import { MAX_FRAME_BYTES, MAX_PING_IGNORED_BYTES } from '../../../protocol/limits.ts'
import type { ChannelId } from '../../../protocol/types.ts'
import type { PeerMessage } from '../../../protocol/wire/index.ts'
import { newKey, RawClient, startHub, tick, type HubEvent } from './fixtures/helpers.ts'

const stfu = (): PeerMessage => ({ type: 'stfu', channel_id: randomBytes(32).toString('hex') as ChannelId, initiator: false })

/** The hub still serves: a fresh client authenticates and a message of it is delivered. */
async function stillServes (
  t: Pick<Test, 'same'>, url: string, rec: { wait: (p: (e: HubEvent) => boolean) => Promise<HubEvent> },
): Promise<void> {
  const k = newKey()
  const c = await connect(url, k.secret)
  const msg = stfu()
  c.send(msg)
  const got = await rec.wait(e => e.kind === 'message' && e.nodeId === k.id)
  t.same(got.kind === 'message' && got.msg, msg, 'another peer is still served')
  c.close()
}

t.test('scenario 20: a frame over 64 KiB is refused with 1009; the hub keeps serving', async t => {
  const { hub, rec } = await startHub()
  t.teardown(() => hub.close())
  for (const authenticated of [false, true]) {
    const raw = await RawClient.open(hub.url)
    if (authenticated) await raw.authenticate(newKey())
    else await raw.next('hub_hello')
    raw.sendText(JSON.stringify({ type: 'warning', channel_id: '00'.repeat(32), data: 'x'.repeat(MAX_FRAME_BYTES) }))
    t.equal((await raw.closed).code, CLOSE.too_big, `closed with 1009 (${authenticated ? 'after' : 'before'} auth)`)
  }
  // Exactly at the limit is not "over": it is read and judged by the schema (data too long → warning).
  const raw = await RawClient.open(hub.url)
  await raw.authenticate(newKey())
  const filler = JSON.stringify({ type: 'warning', channel_id: '00'.repeat(32), data: '' })
  raw.sendText(filler.replace('"data":""', `"data":"${'x'.repeat(MAX_FRAME_BYTES - filler.length)}"`))
  t.match((await raw.next('warning')).data, /warning\.data: must be at most 1024 characters/)
  raw.ws.close()
  await stillServes(t, hub.url, rec)
})

t.test('scenario 20: a connection that does not authenticate in time is closed', async t => {
  const { hub, rec } = await startHub({ handshakeTimeoutMs: 150 })
  t.teardown(() => hub.close())
  const raw = await RawClient.open(hub.url)
  await raw.next('hub_hello')
  t.equal((await raw.closed).code, CLOSE.handshake_timeout)
  t.match((await raw.next('error')).data, /no proof of key in time/)
  t.same(hub.counts, { open: 0, unauthenticated: 0, sessions: 0 }, 'its slot is freed')
  t.same(rec.events, [])
})

t.test('scenario 20: too many connection attempts from one IP are refused with 429', async t => {
  const { hub, rec } = await startHub({ maxConnectsPerIp: 3, rateWindowMs: 60_000 })
  t.teardown(() => hub.close())
  const kept: RawClient[] = []
  for (let i = 0; i < 3; i++) kept.push(await RawClient.open(hub.url))
  const refused = await RawClient.open(hub.url).then(() => undefined, (e: { status?: number }) => e.status)
  t.equal(refused, 429, 'the 4th attempt within the window is refused before the upgrade')
  t.equal(hub.refused.rate_limited, 1)
  for (const c of kept) c.ws.terminate()
  t.same(rec.events, [])
})

t.test('scenario 20: too many unauthenticated connections from one IP are refused; an authenticated one frees its slot', async t => {
  const { hub, rec } = await startHub({ maxUnauthenticatedPerIp: 2 })
  t.teardown(() => hub.close())
  const a = await RawClient.open(hub.url)
  const b = await RawClient.open(hub.url)
  t.equal(await RawClient.open(hub.url).then(() => 200, (e: { status?: number }) => e.status), 429)
  t.equal(hub.refused.too_many_unauthenticated, 1)
  await a.authenticate(newKey())
  await rec.wait(e => e.kind === 'opened')
  const c = await RawClient.open(hub.url)
  t.ok(c, 'a slot freed by a completed handshake is usable again')
  t.same(hub.counts, { open: 3, unauthenticated: 2, sessions: 1 })
  for (const x of [a, b, c]) x.ws.terminate()
})

t.test('scenario 20: the overall cap on unauthenticated connections holds whatever the per-IP cap', async t => {
  const { hub } = await startHub({ maxUnauthenticated: 2, maxUnauthenticatedPerIp: 100 })
  t.teardown(() => hub.close())
  const a = await RawClient.open(hub.url)
  const b = await RawClient.open(hub.url)
  t.equal(await RawClient.open(hub.url).then(() => 200, (e: { status?: number }) => e.status), 429)
  t.equal(hub.refused.too_many_unauthenticated, 1)
  a.ws.terminate()
  await a.closed
  // The hub frees the slot when it sees the socket close; retry until it has.
  let c: RawClient | undefined
  while (c === undefined) c = await RawClient.open(hub.url).catch(() => tick(20).then(() => undefined))
  t.same(hub.counts, { open: 2, unauthenticated: 2, sessions: 0 })
  for (const x of [b, c]) x.ws.terminate()
})

t.test('scenario 20: a peer that stops answering pings is disconnected', async t => {
  const { hub, rec } = await startHub({ pingIntervalMs: 50, pongTimeoutMs: 100 })
  t.teardown(() => hub.close())
  const k = newKey()
  const raw = await RawClient.open(hub.url)
  await raw.authenticate(k)
  const ping = await raw.next('ping')
  t.equal(ping.num_pong_bytes, 0)
  // Answer the first ping: the session survives it; then fall silent.
  raw.send({ type: 'pong', ignored: '' })
  await raw.next('ping')
  t.equal((await raw.closed).code, CLOSE.ping_timeout)
  const closed = await rec.wait(e => e.kind === 'closed')
  t.match(closed, { nodeId: k.id, reason: 'ping_timeout' })
  t.equal(hub.session(k.id), undefined)
})

t.test('scenario 20: the SDK answers pings, so a live client is never timed out', async t => {
  // A generous pong timeout: a loaded machine must not make a live client look dead.
  const { hub, rec } = await startHub({ pingIntervalMs: 20, pongTimeoutMs: 5_000 })
  t.teardown(() => hub.close())
  const k = newKey()
  const c = await connect(hub.url, k.secret)
  t.teardown(() => c.close())
  const opened = await rec.wait((e): e is Extract<HubEvent, { kind: 'opened' }> => e.kind === 'opened')
  while (opened.session.liveness.pongsReceived < 5) await new Promise(resolve => setTimeout(resolve, 20))
  t.ok(c.open)
  t.ok(opened.session.open, 'the same session is still open after 5 ping/pong rounds')
  t.equal(rec.events.filter(e => e.kind === 'closed').length, 0, 'no session closed')
})

t.test('scenario 20: the hub answers a peer\'s ping with a pong of the asked size', async t => {
  const { hub } = await startHub()
  t.teardown(() => hub.close())
  const raw = await RawClient.open(hub.url)
  await raw.authenticate(newKey())
  raw.send({ type: 'ping', num_pong_bytes: 5, ignored: '' })
  t.equal((await raw.next('pong')).ignored, '00'.repeat(5))
  raw.ws.close()
})

t.test('scenario 20: a peer that never reads is cut off at its send-buffer cap; hub memory stays bounded', async t => {
  const cap = 512 * 1024
  const { hub, rec } = await startHub({ maxSendBufferBytes: cap })
  t.teardown(() => hub.close())
  const k = newKey()
  const raw = await RawClient.open(hub.url)
  await raw.authenticate(k)
  const opened = await rec.wait((e): e is Extract<HubEvent, { kind: 'opened' }> => e.kind === 'opened')
  raw.ws.pause() // stop reading: the kernel buffers fill, then the hub's
  const big: PeerMessage = { type: 'ping', num_pong_bytes: 0, ignored: 'ab'.repeat(MAX_PING_IGNORED_BYTES) }
  let sent = 0; let maxBuffered = 0
  let result: string = 'sent'
  // Each send is a macrotask apart so the socket can flush what the kernel accepts.
  while (result === 'sent' && sent < 100_000) {
    result = opened.session.send(big)
    if (result === 'sent') sent++
    maxBuffered = Math.max(maxBuffered, opened.session.bufferedAmount)
    if (sent % 16 === 0) await new Promise(resolve => setImmediate(resolve))
  }
  t.equal(result, 'overflow', `cut off after ${sent} frames`)
  t.ok(maxBuffered <= cap, `never held more than the cap for it (max ${maxBuffered} ≤ ${cap})`)
  const closed = await rec.wait(e => e.kind === 'closed')
  t.match(closed, { nodeId: k.id, reason: 'send_buffer_full' })
  t.equal(opened.session.send(big), 'closed', 'later sends are refused')
  t.equal(hub.session(k.id), undefined)
  raw.ws.resume() // only a reading peer notices the cut
  await raw.closed
})

t.test('scenario 20: a second connection with the same node id replaces the first cleanly', async t => {
  const { hub, rec } = await startHub()
  t.teardown(() => hub.close())
  const k = newKey()
  const first = await connect(hub.url, k.secret)
  const firstClosed = new Promise<{ code: number }>(resolve => first.on('close', resolve))
  const o1 = await rec.wait((e): e is Extract<HubEvent, { kind: 'opened' }> => e.kind === 'opened')
  const second = await connect(hub.url, k.secret)
  t.teardown(() => second.close())
  t.equal((await firstClosed).code, CLOSE.replaced, 'the old connection is told it was replaced')
  const o2 = await rec.wait((e): e is Extract<HubEvent, { kind: 'opened' }> => e.kind === 'opened' && e !== o1)
  t.same(rec.events.map(e => e.kind), ['opened', 'closed', 'opened'], 'the old session ends before the new one is announced')
  t.match(rec.events[1], { kind: 'closed', reason: 'replaced', nodeId: k.id })
  t.equal(hub.session(k.id), o2.session)
  t.equal(hub.sessionCount, 1)
  t.equal(o1.session.send(stfu()), 'closed', 'the old session can no longer send')
  t.notOk(first.send(stfu()), 'the old client connection is closed')
  const msg = stfu()
  t.ok(second.send(msg))
  const m = await rec.wait(e => e.kind === 'message')
  t.same(m, { kind: 'message', nodeId: k.id, msg })
})

t.test('scenario 20: malformed JSON, unknown types and schema violations get a warning naming the problem; repeated garbage disconnects', async t => {
  const { hub, rec } = await startHub({ maxBadFrames: 3 })
  t.teardown(() => hub.close())
  const k = newKey()
  const raw = await RawClient.open(hub.url)
  await raw.authenticate(k)
  raw.sendText('{not json')
  t.match((await raw.next('warning')).data, /^malformed_frame: frame: /)
  raw.sendText(JSON.stringify({ type: 'bogus_type' }))
  t.match((await raw.next('warning')).data, /^unknown_message: type: unknown message type \(got "bogus_type"\)/)
  raw.sendText(JSON.stringify({ type: 'ping', num_pong_bytes: -1, ignored: '' }))
  t.match((await raw.next('warning')).data, /^invalid_field: ping\.num_pong_bytes: must be ≥ 0/)
  // Still connected and served after three bad frames.
  const ok = stfu()
  raw.send(ok)
  t.same(
    await rec.wait(e => e.kind === 'message'), { kind: 'message', nodeId: k.id, msg: ok },
    'the bad frames never reached the hub\'s logic; the good one did',
  )
  await stillServes(t, hub.url, rec)
  // The fourth crosses maxBadFrames: an error saying why, then the connection is closed.
  raw.ws.send(Buffer.from([1, 2, 3]), { binary: true })
  t.match((await raw.next('error')).data, /too many bad frames; last: malformed_frame: binary frames/)
  t.equal((await raw.closed).code, CLOSE.bad_frames)
  t.match(await rec.wait(e => e.kind === 'closed' && e.nodeId === k.id), { reason: 'bad_frames' })
  await stillServes(t, hub.url, rec)
})

t.test('a handler that throws on one peer\'s message disconnects that peer only, and the host hears of it', async t => {
  const { HubTransport } = await import('../../../hub/transport/server.ts')
  const { Recorder } = await import('./fixtures/helpers.ts')
  const rec = new Recorder()
  const bugs: Array<[unknown, string]> = []
  const poison = randomBytes(32).toString('hex') as ChannelId
  const hub = await HubTransport.start({
    nodeKey: newKey().secret,
    config: { port: 0 },
    handler: {
      opened: s => rec.opened(s),
      closed: (s, r) => rec.closed(s, r),
      message: (id, msg) => {
        if (msg.type === 'stfu' && msg.channel_id === poison) throw new Error('bug')
        rec.message(id, msg)
      },
    },
    onHandlerError: (e, id) => { bugs.push([e, id]) },
  })
  t.teardown(() => hub.close())
  const k = newKey()
  const raw = await RawClient.open(hub.url)
  await raw.authenticate(k)
  raw.send({ type: 'stfu', channel_id: poison, initiator: true })
  t.equal((await raw.closed).code, CLOSE.disconnected)
  t.match(await rec.wait(e => e.kind === 'closed'), { nodeId: k.id, reason: 'disconnected' })
  t.equal(bugs.length, 1)
  t.match(bugs[0], [{ message: 'bug' }, k.id])
  await stillServes(t, hub.url, rec)
})
