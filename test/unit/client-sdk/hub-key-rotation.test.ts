// A real HubClient hearing node_key_rotation (client-sdk/hub-keys.ts, hub-client.ts) from a fake hub:
// one not signed by the key it trusts is refused with a warning and changes nothing; a good one is
// stored before the client acts on it (while the store holds the write, the client stays on its
// connection), then it reconnects asking for the new key (the upgrade request's hub_id) and still
// accepts the old one within the grace.
import t from 'tap'
import { nodeIdOf } from '../../../protocol/auth/signature.ts'
import { signRotation } from '../../../protocol/node-key/announcement.ts'
import { EXPECTED_HUB_ID_PARAM } from '../../../protocol/node-key/rotation.ts'
import { random32 } from '../../../host/random.ts'
import { keys } from '../../../host/store/keys.ts'
import { parseJsonValue } from '../../../host/store/index.ts'
import type { SocketFactory } from '../../../client-sdk/transport/socket.ts'
import { waitFor } from '../../../scripts/lib/wait.ts'
import { FakeHub } from './fixtures/fake-hub.ts'

t.test('node_key_rotation: forged refused; a good one stored first, then a reconnect under the new key', async t => {
  const hub = new FakeHub()
  const urls: string[] = []
  const counting: SocketFactory = async url => { urls.push(url); return await hub.socketFactory(url) }
  const { client, store, inner } = await hub.client({ options: { socketFactory: counting } })
  t.teardown(async () => { await client.stop(); hub.cleanup() })
  const warnings: string[] = []
  const changes: unknown[] = []
  client.on('warning', w => warnings.push(w))
  client.on('hub_key', e => changes.push(e))
  t.equal(new URL(urls[0]!).searchParams.get(EXPECTED_HUB_ID_PARAM), hub.hubId, 'the client asks for the key it trusts')

  // Forged: a thief's key hands over to another, naming our hub's key as old_id.
  const thief = random32()
  const stolen = random32()
  const forged = signRotation(
    { kind: 'rotate', seq: 1, oldId: hub.hubId, newId: nodeIdOf(stolen), graceUntilHeight: 10_000 }, thief, stolen,
    [random32(), random32()],
  )
  hub.sendToClient(forged)
  await waitFor(() => warnings.some(w => /node_key_rotation refused: bad_old_signature/.test(w)), 'the refusal')
  t.same(changes, [], 'no hub_key event')
  t.equal(await inner.get(keys.hubTrust), undefined, 'nothing stored')
  t.equal(urls.length, 1, 'no reconnect')

  // Good: signed by the hub's key and the new key. The store holds the write: nothing happens yet.
  const next = random32()
  const good = signRotation(
    { kind: 'rotate', seq: 1, oldId: hub.hubId, newId: nodeIdOf(next), graceUntilHeight: 10_000 }, hub.hubKey, next,
    [random32(), random32()],
  )
  store.stall()
  hub.sendToClient(good)
  await store.waitForStalled(1)
  await new Promise(resolve => setTimeout(resolve, 100))
  t.equal(urls.length, 1, 'while the trust is not durable, the client stays on its connection')
  t.same(changes, [], 'and says nothing')
  store.release()
  await waitFor(() => urls.length >= 2 && client.connected, 'the reconnect')
  const stored = parseJsonValue((await inner.get(keys.hubTrust))!) as { current: string; previous: { id: string } }
  t.same([stored.current, stored.previous.id], [nodeIdOf(next), hub.hubId], 'stored: the new key current, the old one in its grace')
  t.equal(new URL(urls[1]!).searchParams.get(EXPECTED_HUB_ID_PARAM), nodeIdOf(next), 'the reconnect asks for the new key')
  t.equal(client.connectedHubId, hub.hubId, 'the old key is still accepted within the grace (this hub only has it)')
  t.equal(changes.length, 1, 'one hub_key event')
})
