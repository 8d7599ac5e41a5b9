// The SDK's HubLink over real sockets: it reconnects after the hub goes away, gives up when retrying
// cannot help, and notices a hub that stopped answering pings.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { WebSocketServer } from 'ws'
import { HubLink, connect } from '../../../client-sdk/node.ts'
import type { CloseInfo, ConnectFailure } from '../../../client-sdk/node.ts'
import { CLOSE } from '../../../protocol/auth/close-codes.ts'
import { hubReceive, startHubHandshake } from '../../../protocol/auth/handshake.ts'
import { decodeFrame, encodeMessage } from '../../../protocol/wire/index.ts'
import { HubTransport } from '../../../hub/transport/server.ts'
import { newKey, Recorder, startHub } from './fixtures/helpers.ts'

const fastBackoff = { initialMs: 20, maxMs: 100 }

t.test('HubLink reconnects after the hub restarts on the same address', async t => {
  const hubKey = newKey()
  const first = await startHub({}, hubKey)
  const port = first.hub.port
  const k = newKey()
  const link = new HubLink(first.hub.url, k.secret, { expectedHubId: hubKey.id, backoff: fastBackoff })
  t.teardown(() => link.stop())
  const conn1 = await link.start()
  t.equal(conn1.hubId, hubKey.id)
  const disconnected = new Promise<CloseInfo>(resolve => link.once('disconnected', resolve))
  const failures: ConnectFailure[] = []
  link.on('attempt_failed', f => failures.push(f))
  const reconnected = new Promise(resolve => link.once('connected', resolve))

  await first.hub.close()
  t.equal((await disconnected).code, CLOSE.going_away, 'the hub said it was going away')
  t.notOk(link.connected)
  t.notOk(
    link.send({ type: 'stfu', channel_id: randomBytes(32).toString('hex') as never, initiator: true }),
    'nothing is queued while disconnected',
  )

  // Let at least one attempt fail against the closed port, then bring the hub back.
  await new Promise<void>(resolve => link.once('attempt_failed', () => resolve()))
  const rec = new Recorder()
  const second = await HubTransport.start({ nodeKey: hubKey.secret, handler: rec, config: { port } })
  t.teardown(() => second.close())
  await reconnected
  t.ok(link.connected)
  t.ok(failures.length >= 1, `${failures.length} failed attempt(s) while the hub was down`)
  t.equal(failures[0]?.reason, 'unreachable')
  t.equal((await rec.wait(e => e.kind === 'opened')).nodeId, k.id, 'the restarted hub sees the same node id')
})

t.test('HubLink gives up after maxAttempts failures in a row', async t => {
  // A port that was just free: nothing listens there.
  const { hub } = await startHub()
  const url = hub.url
  await hub.close()
  const link = new HubLink(url, newKey().secret, { backoff: { ...fastBackoff, maxAttempts: 3 } })
  t.teardown(() => link.stop())
  let attempts = 0
  link.on('attempt_failed', () => attempts++)
  const err = await link.start().then(() => undefined, (e: unknown) => e)
  t.ok(err instanceof Error, 'start() rejects')
  t.equal(attempts, 3)
})

t.test('HubLink does not fight a newer connection of the same node id (replaced is final)', async t => {
  const { hub } = await startHub()
  t.teardown(() => hub.close())
  const k = newKey()
  const link = new HubLink(hub.url, k.secret, { backoff: fastBackoff })
  t.teardown(() => link.stop())
  await link.start()
  const gaveUp = new Promise<unknown>(resolve => link.once('gave_up', resolve))
  const other = await connect(hub.url, k.secret)
  t.teardown(() => other.close())
  t.match(await gaveUp, { code: CLOSE.replaced })
  t.ok(other.open, 'the newer connection keeps its session')
  t.notOk(link.connected)
})

t.test('HubLink gives up at once when the hub fails to prove the pinned key', async t => {
  const { hub } = await startHub()
  t.teardown(() => hub.close())
  const link = new HubLink(hub.url, newKey().secret, { expectedHubId: newKey().id, backoff: fastBackoff })
  t.teardown(() => link.stop())
  let attempts = 0
  link.on('attempt_failed', () => attempts++)
  await link.start().then(() => t.fail('must not connect'), () => {})
  t.equal(attempts, 1, 'no retry: the same hub would fail the same way')
})

t.test('the SDK closes a connection to a hub that stops answering its pings', async t => {
  // A hub that authenticates properly and then ignores everything.
  const hubKey = newKey()
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise(resolve => wss.once('listening', resolve))
  t.teardown(() => new Promise(resolve => wss.close(resolve)))
  wss.on('connection', ws => {
    let { state, send } = startHubHandshake(hubKey.id, randomBytes(32))
    ws.send(encodeMessage(send))
    ws.on('message', (data: Buffer) => {
      const d = decodeFrame(data)
      if (!d.ok || state.phase === 'authenticated') return
      const r = hubReceive(state, d.value, hubKey.secret, randomBytes(32))
      if (!r.ok) return
      state = r.state
      if (r.send !== undefined) ws.send(encodeMessage(r.send))
    })
  })
  const port = (wss.address() as { port: number }).port
  const conn = await connect(`ws://127.0.0.1:${port}`, newKey().secret, { expectedHubId: hubKey.id, pingIntervalMs: 30, pongTimeoutMs: 60 })
  const info = await new Promise<CloseInfo>(resolve => conn.on('close', resolve))
  t.same(info, { code: CLOSE.ping_timeout, reason: 'ping_timeout', byUs: true })
})

t.test('connect() refuses bad arguments, naming the field', async t => {
  const k = newKey()
  await t.rejects(connect('http://127.0.0.1:1', k.secret), /url: must be a ws:\/\/ or wss:\/\/ URL/)
  await t.rejects(connect('ws://127.0.0.1:1', new Uint8Array(31)), /nodeKey: must be a valid 32-byte/)
  await t.rejects(
    connect('ws://127.0.0.1:1', k.secret, { expectedHubId: '02' + '00'.repeat(32) as never }),
    /options\.expectedHubId: must be a 33-byte compressed/,
  )
  await t.rejects(connect('ws://127.0.0.1:1', k.secret, { pingIntervalMs: 0 }), /options\.pingIntervalMs/)
  t.throws(
    () => new HubLink('ws://127.0.0.1:1', k.secret, { backoff: { initialMs: 100, maxMs: 10 } }),
    /backoff\.maxMs: must be ≥ backoff\.initialMs/,
  )
})

t.test('HubLink sends an admission token: signed for the pinned hub id, or, unpinned, for the hub id its last connection proved', async t => {
  const { ADMISSION_PARAMS, parseAdmissionQuery, verifyAdmissionToken } = await import('../../../protocol/auth/admission-token.ts')
  const { wsSocketFactory } = await import('../../../client-sdk/node/socket.ts')
  const hubKey = newKey()
  const { hub } = await startHub({}, hubKey)
  t.teardown(() => hub.close())
  for (const pinned of [true, false]) {
    const urls: URL[] = []
    const k = newKey()
    const link = new HubLink(hub.url, k.secret, {
      ...(pinned ? { expectedHubId: hubKey.id } : {}), backoff: fastBackoff,
      socketFactory: async url => { urls.push(new URL(url)); return await wsSocketFactory(url) },
    })
    t.teardown(() => link.stop())
    const conn = await link.start()
    const again = new Promise(resolve => link.once('connected', resolve))
    conn.close(CLOSE.disconnected, 'test: drop')
    await again
    t.equal(urls.length, 2)
    const [first, second] = urls.map(u => parseAdmissionQuery(u.searchParams))
    if (pinned) t.ok(
      first?.ok && first.value !== undefined && verifyAdmissionToken(first.value, hubKey.id),
      'pinned: the first attempt carries a token for the hub',
    )
    else t.equal(urls[0]!.searchParams.get(ADMISSION_PARAMS.nodeId), null, 'unpinned: the first attempt knows no hub id to sign for')
    t.ok(
      second?.ok && second.value !== undefined && second.value.nodeId === k.id && verifyAdmissionToken(second.value, hubKey.id),
      `${pinned ? 'pinned' : 'unpinned'}: the reconnect carries a token of ours for the hub`,
    )
  }
})
