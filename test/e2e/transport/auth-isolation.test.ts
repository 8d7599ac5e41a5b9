// Scenario 19 over real sockets: a connection acts only for the node id it proved; forged, replayed
// and misdirected handshakes fail.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { connect, ConnectError } from '../../../client-sdk/node.ts'
import { CLOSE } from '../../../protocol/auth/close-codes.ts'
import type { ChannelId } from '../../../protocol/types.ts'
import type { PeerMessage } from '../../../protocol/wire/index.ts'
import { newKey, RawClient, startHub, type HubEvent } from './fixtures/helpers.ts'

const chan = (): ChannelId => randomBytes(32).toString('hex') as ChannelId
const stfu = (channel_id: ChannelId): PeerMessage => ({ type: 'stfu', channel_id, initiator: true })

t.test('scenario 19: SDK connect authenticates both ways; the hub sees the client\'s proven id', async t => {
  const { hub, rec, key: hubKey } = await startHub()
  t.teardown(() => hub.close())
  const a = newKey()
  const conn = await connect(hub.url, a.secret, { expectedHubId: hubKey.id })
  t.teardown(() => conn.close())
  t.equal(conn.hubId, hubKey.id, 'the client learned the hub id the hub proved')
  t.equal(conn.nodeId, a.id)
  const opened = await rec.wait(e => e.kind === 'opened')
  t.equal(opened.nodeId, a.id, 'the hub opened a session for the id the client proved')
  t.equal(hub.session(a.id)?.nodeId, a.id)
})

t.test('scenario 19: a connection that proved A cannot act as B', async t => {
  const { hub, rec } = await startHub()
  t.teardown(() => hub.close())
  const a = newKey(); const b = newKey()
  const connB = await connect(hub.url, b.secret)
  t.teardown(() => connB.close())
  const rawA = await RawClient.open(hub.url)
  t.teardown(() => rawA.ws.terminate())
  await rawA.authenticate(a)
  await rec.wait(e => e.kind === 'opened' && e.nodeId === a.id)

  const channelOfB = chan()
  // 1. Messages carry no sender id: whatever A sends about B's channel arrives as A's.
  rawA.send(stfu(channelOfB))
  const m = await rec.wait((e): e is Extract<HubEvent, { kind: 'message' }> => e.kind === 'message')
  t.equal(m.nodeId, a.id, 'delivered with the id A proved')
  t.same(m.msg, stfu(channelOfB))

  // 2. A field naming another node is not part of any message: the frame is refused, naming it.
  rawA.sendText(JSON.stringify({ ...stfu(channelOfB), node_id: b.id }))
  const w = await rawA.next('warning')
  t.match(w.data, /invalid_field: stfu\.node_id: unknown field/)

  // 3. A second handshake on the same connection, as B (with B's real key, even), changes nothing.
  const bHello = { type: 'client_auth', client_id: b.id, signature: '00'.repeat(64), client_challenge: '11'.repeat(32) } as PeerMessage
  rawA.send(bHello)
  const w2 = await rawA.next('warning')
  t.match(w2.data, /unexpected_message: client_auth after the handshake/)

  // 4. Still A, and B's own session is untouched.
  rawA.send(stfu(channelOfB))
  await rec.wait(e => e.kind === 'message' && e !== m)
  const fromSockets = rec.events.filter(e => e.kind === 'message')
  t.same(fromSockets.map(e => e.nodeId), [a.id, a.id], 'every message from A\'s socket was attributed to A')
  t.ok(hub.session(b.id)?.open, 'B\'s session is still open')
  t.equal(hub.session(a.id)?.nodeId, a.id)

  // 5. B's messages are B's.
  connB.send(stfu(channelOfB))
  const mb = await rec.wait(e => e.kind === 'message' && e.nodeId === b.id)
  t.equal(mb.nodeId, b.id)
})

t.test('scenario 19: a forged client_auth (claims B, signed by A) is refused and the socket closed', async t => {
  const { hub, rec } = await startHub()
  t.teardown(() => hub.close())
  const a = newKey(); const b = newKey()
  const raw = await RawClient.open(hub.url)
  const hello = await raw.next('hub_hello')
  // Sign as A over the right challenge, then claim to be B.
  const { clientReceive, startClientHandshake } = await import('../../../protocol/auth/handshake.ts')
  const r = clientReceive(startClientHandshake(a.id), hello, a.secret, { challenge: randomBytes(32), auxRand: randomBytes(32) })
  if (!r.ok || r.send?.type !== 'client_auth') return t.fail('client_auth')
  raw.send({ ...r.send, client_id: b.id })
  const err = await raw.next('error')
  t.match(err.data, /auth_failed: client_auth\.signature/)
  t.equal((await raw.closed).code, CLOSE.auth_failed)
  t.equal(rec.events.filter(e => e.kind === 'opened').length, 0, 'no session was opened')
  t.equal(hub.session(b.id), undefined)
})

t.test('scenario 19: a client_auth replayed from an earlier connection is refused', async t => {
  const { hub, rec } = await startHub()
  t.teardown(() => hub.close())
  const a = newKey()
  const first = await RawClient.open(hub.url)
  const { hello: firstHello, clientAuth: recorded } = await first.authenticate(a)
  await rec.wait(e => e.kind === 'opened')
  first.ws.close()
  await first.closed
  await rec.wait(e => e.kind === 'closed')

  const second = await RawClient.open(hub.url)
  const hello = await second.next('hub_hello')
  t.not(hello.challenge, firstHello.challenge, 'the new connection has a fresh challenge')
  second.send(recorded)
  const err = await second.next('error')
  t.match(err.data, /auth_failed: client_auth\.signature/)
  t.equal((await second.closed).code, CLOSE.auth_failed)
  t.equal(rec.events.filter(e => e.kind === 'opened').length, 1, 'only the original connection ever had a session')
})

t.test('scenario 19: a message before authentication ends the connection; no session, no delivery', async t => {
  const { hub, rec } = await startHub()
  t.teardown(() => hub.close())
  const raw = await RawClient.open(hub.url)
  await raw.next('hub_hello')
  raw.send(stfu(chan()))
  const err = await raw.next('error')
  t.match(err.data, /expected client_auth, got stfu/)
  t.equal((await raw.closed).code, CLOSE.auth_failed)
  t.same(rec.events, [], 'nothing reached the hub\'s logic')
})

t.test('scenario 19: a client pinned to hub A refuses hub B, and B never sees a session', async t => {
  const { hub: hubB, rec } = await startHub()
  t.teardown(() => hubB.close())
  const hubA = newKey(); const client = newKey()
  const e = await connect(hubB.url, client.secret, { expectedHubId: hubA.id }).then(() => undefined, (err: unknown) => err)
  t.ok(e instanceof ConnectError)
  if (e instanceof ConnectError) {
    t.equal(e.failure.reason, 'auth')
    t.match(e.failure, { failure: 'hub_id_mismatch', final: true })
  }
  t.equal(rec.events.filter(ev => ev.kind === 'opened').length, 0)
})

t.test('scenario 19: an impostor hub that claims A\'s id but holds B\'s key is refused by the client', async t => {
  const hubA = newKey(); const client = newKey()
  // A server that relays A's id in hub_hello but can only sign with its own key.
  const { WebSocketServer } = await import('ws')
  const { encodeMessage, decodeFrame } = await import('../../../protocol/wire/index.ts')
  const { hubReceive, startHubHandshake } = await import('../../../protocol/auth/handshake.ts')
  const impostorKey = newKey()
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await new Promise(resolve => wss.once('listening', resolve))
  t.teardown(() => new Promise(resolve => wss.close(resolve)))
  wss.on('connection', ws => {
    let { state, send } = startHubHandshake(hubA.id, randomBytes(32))
    ws.send(encodeMessage(send))
    ws.on('message', (data: Buffer) => {
      const d = decodeFrame(data)
      if (!d.ok) return
      const r = hubReceive(state, d.value, impostorKey.secret, randomBytes(32))
      if (!r.ok) return
      state = r.state
      if (r.send !== undefined) ws.send(encodeMessage(r.send))
    })
  })
  const port = (wss.address() as { port: number }).port
  const e = await connect(`ws://127.0.0.1:${port}`, client.secret, { expectedHubId: hubA.id }).then(() => undefined, (err: unknown) => err)
  t.ok(e instanceof ConnectError)
  if (e instanceof ConnectError) t.match(e.failure, { reason: 'auth', failure: 'bad_signature' })
})
