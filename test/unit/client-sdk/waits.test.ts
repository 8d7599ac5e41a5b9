// Every SDK call that waits ends (client-sdk/waits.ts, README "Timeouts"): connect() to a URL nobody
// answers, to a server that does not prove the hub's key, or to a hub on another chain; requestChannel()
// while the hub says nothing, or while nobody mines. Each rejects with a ClientError saying what it
// waited for; a wait on a channel is bounded by progress, so blocks that keep coming are not a stall.
// The client runs in-process against fake-hub.ts (the real HubClient, channel machine and handshake).
import t from 'tap'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { nodeIdOf } from '../../../protocol/auth/signature.ts'
import { ClientError, createNodeClient, wsSocketFactory, type SocketFactory } from '../../../client-sdk/node.ts'
import { FakeChain, FakeHub, until } from './fixtures/fake-hub.ts'

const random32 = (): Uint8Array => globalThis.crypto.getRandomValues(new Uint8Array(32))

/** A loopback port nobody listens on (bound, then released). */
async function closedPort (): Promise<number> {
  const server = net.createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>(resolve => server.close(() => resolve()))
  return port
}

function dataDir (t: Tap): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sdk-waits-'))
  t.teardown(() => { fs.rmSync(dir, { recursive: true, force: true }) })
  return dir
}
type Tap = { teardown: (fn: () => void | Promise<void>) => void }

async function failure (p: Promise<unknown>): Promise<ClientError> {
  const e = await p.then(() => undefined, (x: unknown) => x)
  if (!(e instanceof ClientError)) throw new Error(`expected a ClientError, got ${String(e)}`)
  return e
}

t.test('connect() to a URL nobody listens on: hub_unreachable after connectTimeoutMs, with the attempts and the last failure; then it stops trying', async t => {
  const port = await closedPort()
  let attempts = 0
  const counting: SocketFactory = async url => { attempts++; return await wsSocketFactory(url) }
  const client = await createNodeClient({
    nodeKey: random32(), hubUrl: `ws://127.0.0.1:${port}`, hubId: nodeIdOf(random32()), dataDir: dataDir(t), chain: new FakeChain(),
    socketFactory: counting, reconnectInitialMs: 50, reconnectMaxMs: 200, connectTimeoutMs: 1_500,
  })
  t.teardown(() => client.stop())
  const e = await failure(client.connect())
  t.equal(e.operation, 'connect', 'naming the call')
  t.equal(e.reason, 'hub_unreachable', 'the reason')
  t.match(
    e.detail, new RegExp(`^no connection to ws://127\\.0\\.0\\.1:${port} after 1\\.5 s: \\d+ attempts failed, the last: unreachable: `),
    `the detail says what it waited for, how long, and how the attempts failed (${e.detail})`,
  )
  t.match(e.cause, { reason: 'timeout', final: false }, 'the link\'s failure underneath')
  const after = attempts
  t.ok(after >= 2, `it retried meanwhile (${after} attempts)`)
  await new Promise(resolve => setTimeout(resolve, 800))
  t.equal(attempts, after, 'no attempt after connect() gave up')
  t.equal(client.connected, false, 'not connected')
})

t.test('connect({ timeoutMs }) overrides the client\'s timeout for one call', async t => {
  const port = await closedPort()
  const client = await createNodeClient({
    nodeKey: random32(), hubUrl: `ws://127.0.0.1:${port}`, hubId: nodeIdOf(random32()), dataDir: dataDir(t), chain: new FakeChain(),
    reconnectInitialMs: 50,
  })
  t.teardown(() => client.stop())
  const e = await failure(client.connect({ timeoutMs: 400 }))
  t.equal(e.reason, 'hub_unreachable')
  t.match(e.detail, /after 0\.4 s/, 'the call\'s own timeout')
})

t.test('connect() to a server that does not prove the expected hub id: hub_key_untrusted at once', async t => {
  const hub = new FakeHub()
  t.teardown(() => hub.cleanup())
  const client = await createNodeClient({
    nodeKey: random32(), hubUrl: 'ws://fake.hub.invalid', hubId: nodeIdOf(random32()), dataDir: dataDir(t), chain: hub.chain,
    socketFactory: hub.socketFactory,
  })
  t.teardown(() => client.stop())
  const e = await failure(client.connect())
  t.equal(e.operation, 'connect')
  t.equal(e.reason, 'hub_key_untrusted', 'retrying cannot help: the reason says so')
  t.match(e.detail, /options\.hubId/, 'and says what would: the hub id, from its operator')
  t.match(e.cause, { reason: 'auth', final: true }, 'the handshake\'s failure underneath')
})

t.test('connect() to a hub on another chain: wrong_chain, not a wait for the hub\'s policy', async t => {
  const hub = new FakeHub()
  t.teardown(() => hub.cleanup())
  class OtherChain extends FakeChain {
    override async getBlockHash (h: number) { return { ok: true as const, value: h === 0 ? 'ab'.repeat(32) : null } }
  }
  const client = await createNodeClient({
    nodeKey: random32(), hubUrl: 'ws://fake.hub.invalid', hubId: hub.hubId, dataDir: dataDir(t), chain: new OtherChain(),
    socketFactory: hub.socketFactory,
  })
  t.teardown(() => client.stop())
  const e = await failure(client.connect())
  t.equal(e.reason, 'wrong_chain')
  t.match(e.detail, /is not the chain our backend follows/, e.detail)
})

t.test('requestChannel() while the hub says nothing: hub_not_responding, naming open_channel', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client({ options: { progressTimeoutMs: 600 } })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  const e = await failure(client.requestChannel())
  t.equal(e.operation, 'requestChannel')
  t.equal(e.reason, 'hub_not_responding')
  t.match(e.detail, /^waiting for the hub's open_channel for 0\.6 s$/, e.detail)
})

t.test('stop() while requestChannel() waits: it ends at once with client_stopped, not at its timeout', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client({ options: { progressTimeoutMs: 600_000 } })
  t.teardown(() => { hub.cleanup() })
  const requesting = failure(client.requestChannel())
  await client.stop()
  const e = await requesting
  t.same([e.operation, e.reason], ['requestChannel', 'client_stopped'])
})

t.test('stop() while close() waits for a hub that went away: it ends at once with client_stopped', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client({ options: { progressTimeoutMs: 600_000 } })
  t.teardown(() => { hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 400_000_000 })
  hub.refuseConnections = true
  hub.disconnect()
  const closing = failure(client.close())
  await client.stop()
  const e = await closing
  t.same([e.operation, e.reason], ['close', 'client_stopped'])
})

t.test('requestChannel() while nobody mines: funding_not_confirmed, naming the confirmations and the idle tip; called again, it waits for that channel', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client({ options: { fundingConfirmations: 2 } })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  const asked = client.requestChannel({ timeoutMs: 800 })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 0, confirm: false })
  const e = await failure(asked)
  t.equal(e.reason, 'funding_not_confirmed')
  t.match(e.detail, new RegExp(
    '^waiting for 2 confirmations of the funding [0-9a-f]{64}:0 of channel [0-9a-f]{64}, chain tip 200 has not moved for 0\\.8 s — on ' +
    'regtest, mine blocks$',
  ), e.detail)
  t.match(e.cause, { phase: 'awaiting_funding_depth' })
  const again = client.requestChannel({ timeoutMs: 5_000 })
  await hub.mineFunding(1)
  await hub.mineFunding(2)
  const ready = await again
  t.equal(ready.phase, 'normal', 'the same channel became ready')
  t.equal(client.channels().length, 1, 'no second channel was asked for')
})

t.test('requestChannel(): blocks that keep coming are progress, even past the timeout in total', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client({ options: { fundingConfirmations: 4 } })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  const asked = client.requestChannel({ timeoutMs: 1_000 })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 0, confirm: false })
  const started = Date.now()
  for (let depth = 1; depth <= 4; depth++) {
    await new Promise(resolve => setTimeout(resolve, 500))
    await hub.mineFunding(depth)
  }
  const ready = await asked
  t.equal(ready.phase, 'normal')
  t.ok(Date.now() - started > 1_000, 'the wait took longer than its timeout in total')
})

t.test('timeouts are checked like every argument: a TypeError naming the field', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client()
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  await t.rejects(client.requestChannel({ timeoutMs: 5 }), { name: 'TypeError', message: /requestChannel\.timeoutMs: .*>=100/ })
  await t.rejects(
    client.openChannel({ capacitySat: 100_000, timeoutMs: 1.5 }),
    { name: 'TypeError', message: /openChannel\.timeoutMs: must be an integer \(ms\)/ },
  )
  await t.rejects(client.connect({ timeoutMs: 86_400_001 }), { name: 'TypeError', message: /connect\.timeoutMs/ })
  await t.rejects(client.close({ timeoutMs: -1 }), { name: 'TypeError', message: /close\.timeoutMs/ })
  await t.rejects(client.untilReestablished({ timeoutMs: 0 }), { name: 'TypeError', message: /untilReestablished\.timeoutMs/ })
  await t.rejects(createNodeClient({
    nodeKey: random32(), hubUrl: 'ws://x.invalid', hubId: hub.hubId, dataDir: dataDir(t), chain: hub.chain, progressTimeoutMs: 10,
  }),
    { name: 'TypeError', message: /options\.progressTimeoutMs/ })
})

// A client whose hub link is down for good answers untilReestablished() within its timeout.
t.test('untilReestablished() while the hub is gone: hub_unreachable after the timeout', async t => {
  const hub = new FakeHub()
  const { client } = await hub.client()
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  await hub.openChannel(client, { capacitySat: 1_000_000, pushMsat: 0 })
  hub.refuseConnections = true
  hub.disconnect()
  await until(() => !client.connected, 'the client noticed')
  const e = await failure(client.untilReestablished({ timeoutMs: 500 }))
  t.equal(e.operation, 'untilReestablished')
  t.equal(e.reason, 'hub_unreachable')
  t.match(e.detail, /^not connected to ws:\/\/fake\.hub\.invalid after 0\.5 s$/, e.detail)
})
