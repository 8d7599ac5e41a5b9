// Scenario 20 before the upgrade request, over real sockets: TCP connections that say nothing (or
// dribble a request that never ends) are bounded per address and overall, the oldest closed to make
// room, and all closed at the handshake timeout (hub/transport/pre-request.ts). Seen from the client
// side: a socket the hub closed is closed at our end.
import t from 'tap'
import net from 'node:net'
import { newKey, RawClient, startHub, tick } from './fixtures/helpers.ts'

interface Silent { socket: net.Socket; closed: boolean }

/** A TCP connection to the hub that never sends its request (`slow`: sends an unfinished one, a
 *  header byte every 100 ms). Resolves once connected. */
async function silent (url: string, localAddress: string, slow = false): Promise<Silent> {
  const u = new URL(url)
  const s: Silent = { socket: net.connect({ host: u.hostname, port: Number(u.port), localAddress }), closed: false }
  s.socket.on('error', () => {})
  s.socket.once('close', () => { s.closed = true })
  await new Promise<void>(resolve => { s.socket.once('connect', resolve); s.socket.once('close', () => resolve()) })
  if (slow) {
    s.socket.write('GET / HTTP/1.1\r\nHost: hub\r\nX')
    const drip = setInterval(() => { if (s.closed) clearInterval(drip); else s.socket.write('a') }, 100)
  }
  return s
}

/** Polls until `cond` holds; the deadline only turns a hang into a failure. */
async function until (cond: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await tick(10)
  }
}

const open = (socks: Silent[]): Silent[] => socks.filter(s => !s.closed)

t.test('scenario 20: silent sockets from one address: at most maxUnauthenticatedPerIp held, each new one closes that address\'s oldest; a client from the same address still connects', async t => {
  const { hub } = await startHub({ maxUnauthenticatedPerIp: 4, maxUnauthenticated: 100, handshakeTimeoutMs: 60_000 })
  const socks: Silent[] = []
  t.teardown(async () => { for (const s of socks) s.socket.destroy(); await hub.close() })
  for (let i = 0; i < 20; i++) socks.push(await silent(hub.url, '127.0.0.5', i % 2 === 1))
  await until(() => open(socks).length <= 4, 'the hub to close all but 4 of them', 10_000)
  t.same(open(socks), socks.slice(-4), 'the 4 newest are the ones left open')
  t.equal(hub.preRequest.count, 4)
  const other = await silent(hub.url, '127.0.0.6')
  t.teardown(() => { other.socket.destroy() })
  t.equal(open(socks).length, 4, 'another address\'s socket closes none of them')
  // The same address as the flood: the client's socket pushes out the oldest silent one and its
  // request arrives within a round trip.
  const c = await RawClient.open(hub.url, { localAddress: '127.0.0.5' })
  t.teardown(() => { c.ws.terminate() })
  await c.authenticate(newKey())
  t.pass('a client from the flood\'s address connects and authenticates')
  t.same(open(socks), socks.slice(-3), 'its socket closed the oldest of them')
  t.equal(hub.preRequest.count, 4, 'its own socket left the count when its request arrived (3 silent + the other address\'s)')
})

t.test('scenario 20: silent sockets from many addresses: at most maxUnauthenticated held, the oldest closed; a client from a fresh address connects', async t => {
  const { hub } = await startHub({ maxUnauthenticatedPerIp: 8, maxUnauthenticated: 16, handshakeTimeoutMs: 60_000 })
  const socks: Silent[] = []
  t.teardown(async () => { for (const s of socks) s.socket.destroy(); await hub.close() })
  for (let a = 0; a < 10; a++) for (let i = 0; i < 4; i++) socks.push(await silent(hub.url, `127.0.1.${a + 1}`))
  await until(() => open(socks).length <= 16, 'the hub to close all but 16 of them', 10_000)
  t.same(open(socks), socks.slice(-16), 'the 16 newest are the ones left open')
  const c = await RawClient.open(hub.url, { localAddress: '127.0.2.1' })
  t.teardown(() => { c.ws.terminate() })
  await c.authenticate(newKey())
  t.pass('a client from a fresh address connects and authenticates')
  t.same(
    hub.preRequest.closed, { per_ip: 0, overall: 40 - 16 + 1, timeout: 0 }, 'closed by the overall cap, the client\'s socket counted too',
  )
})

t.test('scenario 20: a socket that sends no request, or never finishes it, is closed at the handshake timeout', async t => {
  const { hub } = await startHub({ handshakeTimeoutMs: 500 })
  const socks = [await silent(hub.url, '127.0.0.7'), await silent(hub.url, '127.0.0.7', true)]
  t.teardown(async () => { for (const s of socks) s.socket.destroy(); await hub.close() })
  await until(() => open(socks).length === 0, 'the hub to close both', 20_000)
  t.pass('both closed by the hub')
  t.same(hub.preRequest.closed, { per_ip: 0, overall: 0, timeout: 2 })
  t.equal(hub.preRequest.count, 0)
})
