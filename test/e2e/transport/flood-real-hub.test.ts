// Scenario 20 with the real hub process: the hub knows which node ids have a channel (its channel
// manager, wired in hub/main.ts) and keeps handshake slots for them. A platform with a channel, after
// a hub restart, reconnects and reestablishes while 40 addresses × 8 half-open sockets hold every
// stranger's handshake slot; a new client without a channel is refused meanwhile.
import t from 'tap'
import path from 'node:path'
import { useBtcd } from '../../helpers/btcd.ts'
import { openFundedChannel, startClient, startHub, tempDir, waitFor } from '../../helpers/hub.ts'
import { type SocketFactory, type SocketLike } from '../../../client-sdk/transport/socket.ts'
import { wsSocketFactory } from '../../../client-sdk/node/socket.ts'
import { RawClient } from './fixtures/helpers.ts'

t.test('scenario 20: after a hub restart, a platform with a channel reconnects and reestablishes through a flood of half-open sockets', async t => {
  const btc = await useBtcd(t)
  const dir = tempDir('flood-hub')
  // The defaults of a deployed hub for the caps under attack (the helper raises the per-IP ones for
  // tests that open many clients from 127.0.0.1); the half-open sockets must outlive the test.
  const hub = await startHub({
    dataDir: path.join(dir, 'hub'), btcd: btc.node.rpc,
    config: { transport: { maxUnauthenticated: 256, maxUnauthenticatedPerIp: 8, handshakeTimeoutMs: 120_000 } },
  }, t)
  // The platform's sockets, so the test can cut the current one.
  let current: (SocketLike & { terminate?: () => void }) | undefined
  const socketFactory: SocketFactory = async url => { current = await wsSocketFactory(url); return current }
  const platform = await startClient({ hub, btc, dataDir: path.join(dir, 'platform'), role: 'platform', socketFactory }, t)
  await openFundedChannel(btc, platform, 300_000)
  t.equal(platform.channels()[0]!.phase, 'normal')

  await hub.kill()
  await hub.restart()
  await platform.untilReestablished()

  const flood: RawClient[] = []
  t.teardown(() => { for (const c of flood) c.ws.terminate() })
  let refused = 0
  for (let a = 0; a < 40; a++) {
    for (let i = 0; i < 8; i++) {
      const c = await RawClient.open(hub.url, { localAddress: `127.0.0.${a + 2}` }).catch(() => undefined)
      if (c === undefined) refused++
      else flood.push(c)
    }
  }
  t.equal(flood.length, 256, 'the flood holds every stranger\'s handshake slot')
  t.equal(refused, 64, 'the rest of it is refused')
  const stranger = await RawClient.open(hub.url).then(c => { c.ws.terminate(); return 'admitted' }, (e: { status?: number }) => e.status)
  t.equal(stranger, 429, 'a stranger is refused while the flood runs')

  // Cut the platform's connection: it reconnects (with its admission token) and reestablishes.
  const before = current
  before?.terminate?.()
  // The bound is half the flood's handshake timeout: a reconnect after it would only show that the
  // flood's sockets had timed out.
  const reconnected = await waitFor(
    () => current !== before && platform.connected, 'the platform reconnected', 60_000,
  ).then(() => true, () => false)
  t.ok(reconnected, 'the platform reconnected')
  t.equal(flood.filter(c => c.ws.readyState === c.ws.OPEN).length, 256, 'while the flood still holds its sockets')
  if (!reconnected) return
  await platform.untilReestablished()
  t.equal(platform.channels()[0]!.phase, 'normal', 'the platform\'s channel is reestablished')
})
