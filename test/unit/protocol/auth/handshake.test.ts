// The authentication handshake, pure (DESIGN.md "Authentication"; scenario 19 at the protocol level).
import t from 'tap'
import fc from 'fast-check'
import { randomBytes } from 'node:crypto'
import {
  clientReceive, hubReceive, startClientHandshake, startHubHandshake,
  type ClientHandshake, type HubHandshake,
} from '../../../../protocol/auth/handshake.ts'
import { authDigest, isValidNodeId, nodeIdOf, signAuth, verifyAuth } from '../../../../protocol/auth/signature.ts'
import type { ClientAuth, HubAuth, HubHello } from '../../../../protocol/auth/messages.ts'
import type { NodeId } from '../../../../protocol/types.ts'
import { bytesToHex } from '../../../../protocol/types.ts'
import { nobleCurve, setDefaultCurve } from '../../../../protocol/crypto/index.ts'
import { tinyCurve } from '../../../../protocol/crypto/tiny.ts'

const key = (): { secret: Uint8Array; id: NodeId } => {
  const secret = randomBytes(32)
  return { secret, id: nodeIdOf(secret) }
}
const fresh = () => ({ challenge: randomBytes(32), auxRand: randomBytes(32) })

/** Runs the hub's side up to hub_hello. */
function hello (hub: { secret: Uint8Array; id: NodeId }): { state: HubHandshake; msg: HubHello } {
  const { state, send } = startHubHandshake(hub.id, randomBytes(32))
  return { state, msg: send }
}

/** The client answers a hub_hello; returns its state and client_auth. */
function answer (
  client: { secret: Uint8Array; id: NodeId }, msg: HubHello, expectedHubId?: NodeId,
): { state: ClientHandshake; auth: ClientAuth } {
  const r = clientReceive(startClientHandshake(client.id, expectedHubId), msg, client.secret, fresh())
  if (!r.ok || r.send?.type !== 'client_auth') throw new Error(`client refused hub_hello: ${JSON.stringify(r)}`)
  return { state: r.state, auth: r.send }
}

t.test('happy path: both sides end authenticated, each knowing the other\'s proven id', async t => {
  const hub = key(); const client = key()
  const h = hello(hub)
  t.equal(h.msg.hub_id, hub.id)
  t.match(h.msg.challenge, /^[0-9a-f]{64}$/)
  const c = answer(client, h.msg, hub.id)
  t.equal(c.auth.client_id, client.id)
  t.match(c.auth.signature, /^[0-9a-f]{128}$/)

  const h2 = hubReceive(h.state, c.auth, hub.secret, randomBytes(32))
  if (!h2.ok) return t.fail(h2.error.detail)
  t.equal(h2.state.phase, 'awaiting_auth_ok')
  t.equal(h2.send?.type, 'hub_auth')

  const c2 = clientReceive(c.state, h2.send!, client.secret, fresh())
  if (!c2.ok) return t.fail(c2.error.detail)
  t.same(c2.state, { phase: 'authenticated', clientId: client.id, hubId: hub.id })
  t.same(c2.send, { type: 'auth_ok' })

  const h3 = hubReceive(h2.state, c2.send!, hub.secret, randomBytes(32))
  if (!h3.ok) return t.fail(h3.error.detail)
  t.same(h3.state, { phase: 'authenticated', hubId: hub.id, clientId: client.id })
})

t.test('client_auth with a forged signature (signed by another key, claiming the victim\'s id) fails', async t => {
  const hub = key(); const victim = key(); const attacker = key()
  const h = hello(hub)
  const forged = answer(attacker, h.msg).auth
  const r = hubReceive(h.state, { ...forged, client_id: victim.id }, hub.secret, randomBytes(32))
  t.equal(r.ok, false)
  if (!r.ok) t.same([r.error.action, r.error.reason], ['disconnect', 'bad_signature'])
  t.match(!r.ok && r.error.detail, /client_auth\.signature/)
})

t.test('a signature with any single bit flipped fails', async t => {
  const hub = key(); const client = key()
  const h = hello(hub)
  const auth = answer(client, h.msg).auth
  fc.assert(fc.property(fc.integer({ min: 0, max: 511 }), bit => {
    const sig = Buffer.from(auth.signature, 'hex')
    sig[bit >> 3]! ^= 1 << (bit & 7)
    return !hubReceive(h.state, { ...auth, signature: bytesToHex(sig) }, hub.secret, randomBytes(32)).ok
  }), { numRuns: 64 })
  t.ok(hubReceive(h.state, auth, hub.secret, randomBytes(32)).ok, 'the unmodified signature still verifies')
})

t.test('wrong hub id: a client pinned to hub A refuses a hub_hello from hub B', async t => {
  const hubA = key(); const hubB = key(); const client = key()
  const h = hello(hubB)
  const r = clientReceive(startClientHandshake(client.id, hubA.id), h.msg, client.secret, fresh())
  t.equal(r.ok, false)
  if (!r.ok) t.equal(r.error.reason, 'hub_id_mismatch')
})

t.test('a client that accepts either of two hub keys (a node-key rotation\'s grace) takes both, and no third', async t => {
  const oldKey = key(); const newKey = key(); const other = key(); const client = key()
  for (const hub of [oldKey, newKey]) {
    const r = clientReceive(startClientHandshake(client.id, [newKey.id, oldKey.id]), hello(hub).msg, client.secret, fresh())
    t.ok(r.ok, `hub_hello proving ${hub === oldKey ? 'the old' : 'the new'} key: accepted`)
  }
  const r = clientReceive(startClientHandshake(client.id, [newKey.id, oldKey.id]), hello(other).msg, client.secret, fresh())
  t.equal(r.ok ? undefined : r.error.reason, 'hub_id_mismatch', 'a third key: refused')
  t.match(!r.ok && r.error.detail, `expected ${newKey.id} or ${oldKey.id}`, 'the error names both keys')
})

t.test('wrong hub id: a client_auth made for hub B is refused by hub A (relay by a man in the middle)', async t => {
  const hubA = key(); const hubB = key(); const client = key()
  const a = hello(hubA)
  // The man in the middle forwards hub A's challenge to the client but claims to be hub B.
  const relayed = answer(client, { ...a.msg, hub_id: hubB.id }).auth
  const r = hubReceive(a.state, relayed, hubA.secret, randomBytes(32))
  t.equal(r.ok, false)
  if (!r.ok) t.equal(r.error.reason, 'bad_signature')
})

t.test('wrong hub key: a hub_hello claiming hub A\'s id, answered by hub B\'s key, is refused by the client', async t => {
  const hubA = key(); const hubB = key(); const client = key()
  const b = hello(hubB)
  const c = answer(client, { ...b.msg, hub_id: hubA.id }, hubA.id)
  // Hub B plays A's part of the machine (it can verify the client: that needs no secret), but it
  // can only sign with its own key.
  const r = hubReceive({ ...b.state, hubId: hubA.id } as HubHandshake, c.auth, hubB.secret, randomBytes(32))
  if (!r.ok || r.send === undefined) return t.fail('hub B verifies the client\'s signature over A\'s id')
  const impostor: HubAuth = r.send
  const r2 = clientReceive(c.state, impostor, client.secret, fresh())
  t.equal(r2.ok, false)
  if (!r2.ok) t.equal(r2.error.reason, 'bad_signature')
})

t.test('reflection: a signature made in one direction never verifies in the other', async t => {
  const k = key()
  const challenge = randomBytes(32)
  // The same key on both ends, the same challenge: only the direction tag differs.
  const hubSig = signAuth('hub', challenge, k.id, k.id, k.secret, randomBytes(32))
  t.ok(verifyAuth('hub', hubSig, challenge, k.id, k.id))
  t.notOk(verifyAuth('client', hubSig, challenge, k.id, k.id))
  const clientSig = signAuth('client', challenge, k.id, k.id, k.secret, randomBytes(32))
  t.notOk(verifyAuth('hub', clientSig, challenge, k.id, k.id))
  t.not(bytesToHex(authDigest('hub', challenge, k.id, k.id)), bytesToHex(authDigest('client', challenge, k.id, k.id)))
})

t.test('reflection over the machines: the hub\'s own hub_auth, sent back as client_auth for its id, fails', async t => {
  const hub = key(); const client = key()
  const victimConn = hello(hub)
  // The attacker, a real client, opens a second connection and sets client_challenge to the first
  // connection's challenge, so the hub signs that challenge for it.
  const second = hello(hub)
  const c = answer(client, second.msg)
  const h = hubReceive(second.state, { ...c.auth, client_challenge: victimConn.msg.challenge }, hub.secret, randomBytes(32))
  if (!h.ok || h.send === undefined) return t.fail('second connection should authenticate')
  // …then claims, on the first connection, to be the hub itself (or the client) with that signature.
  for (const claimed of [hub.id, client.id]) {
    const r = hubReceive(victimConn.state,
      { type: 'client_auth', client_id: claimed, signature: h.send.signature, client_challenge: bytesToHex(randomBytes(32)) },
      hub.secret, randomBytes(32))
    t.equal(r.ok, false, `claiming ${claimed === hub.id ? 'the hub id' : 'the client id'}`)
    if (!r.ok) t.equal(r.error.reason, 'bad_signature')
  }
})

t.test('replay: a client_auth recorded on an earlier connection fails on a new one', async t => {
  const hub = key(); const client = key()
  const first = hello(hub)
  const recorded = answer(client, first.msg).auth
  t.ok(hubReceive(first.state, recorded, hub.secret, randomBytes(32)).ok, 'valid on its own connection')
  const second = hello(hub)
  t.not(second.msg.challenge, first.msg.challenge)
  const r = hubReceive(second.state, recorded, hub.secret, randomBytes(32))
  t.equal(r.ok, false)
  if (!r.ok) t.equal(r.error.reason, 'bad_signature')
})

t.test('replay: a hub_auth recorded on an earlier connection fails on a new one', async t => {
  const hub = key(); const client = key()
  const first = hello(hub)
  const c1 = answer(client, first.msg)
  const h1 = hubReceive(first.state, c1.auth, hub.secret, randomBytes(32))
  if (!h1.ok) return t.fail('first connection')
  const second = hello(hub)
  const c2 = answer(client, second.msg)
  const r = clientReceive(c2.state, h1.send!, client.secret, fresh())
  t.equal(r.ok, false)
  if (!r.ok) t.equal(r.error.reason, 'bad_signature')
})

t.test('out-of-order and non-handshake messages are refused in every phase', async t => {
  const hub = key(); const client = key()
  const h = hello(hub)
  for (const m of [{ type: 'auth_ok' }, { type: 'hub_auth', signature: '00'.repeat(64) }, { type: 'ping' }, { type: 'update_add_htlc' }]) {
    const r = hubReceive(h.state, m, hub.secret, randomBytes(32))
    t.equal(!r.ok && r.error.reason, 'unexpected_message', `hub awaiting client_auth refuses ${m.type}`)
  }
  const c = answer(client, h.msg)
  const h2 = hubReceive(h.state, c.auth, hub.secret, randomBytes(32))
  if (!h2.ok) return t.fail('auth')
  const again = hubReceive(h2.state, c.auth, hub.secret, randomBytes(32))
  t.equal(!again.ok && again.error.reason, 'unexpected_message', 'a second client_auth is refused')
  const done = hubReceive(h2.state, { type: 'auth_ok' }, hub.secret, randomBytes(32))
  if (!done.ok) return t.fail('auth_ok')
  t.equal(!hubReceive(done.state, { type: 'auth_ok' }, hub.secret, randomBytes(32)).ok, true, 'nothing more after authenticated')

  const start = startClientHandshake(client.id)
  const r = clientReceive(start, h2.send!, client.secret, fresh())
  t.equal(!r.ok && r.error.reason, 'unexpected_message', 'client awaiting hub_hello refuses hub_auth')
  const r2 = clientReceive(c.state, h.msg, client.secret, fresh())
  t.equal(!r2.ok && r2.error.reason, 'unexpected_message', 'client awaiting hub_auth refuses a second hub_hello')
})

t.test('invalid node ids and malformed fields are refused without throwing', async t => {
  const hub = key(); const client = key()
  const h = hello(hub)
  const good = answer(client, h.msg).auth
  // x = 5 is not on secp256k1 (5³ + 7 = 132 is not a square mod p)
  const offCurve = ('02' + '00'.repeat(31) + '05') as NodeId
  t.notOk(isValidNodeId(offCurve))
  t.notOk(isValidNodeId('04' + client.id.slice(2)))
  t.ok(isValidNodeId(client.id))
  const cases: Array<[Partial<ClientAuth>, string]> = [
    [{ client_id: offCurve }, 'invalid_node_id'],
    [{ client_id: client.id.toUpperCase() as NodeId }, 'invalid_node_id'],
    [{ client_challenge: 'ab' }, 'bad_challenge'],
    [{ signature: 'zz'.repeat(64) }, 'bad_signature'],
    [{ signature: good.signature.slice(2) }, 'bad_signature'],
  ]
  for (const [patch, reason] of cases) {
    const r = hubReceive(h.state, { ...good, ...patch }, hub.secret, randomBytes(32))
    t.equal(!r.ok && r.error.reason, reason, JSON.stringify(patch))
  }
  const bad = clientReceive(startClientHandshake(client.id), { ...h.msg, hub_id: offCurve }, client.secret, fresh())
  t.equal(!bad.ok && bad.error.reason, 'invalid_node_id')
  const shortChallenge = clientReceive(startClientHandshake(client.id), { ...h.msg, challenge: '00' }, client.secret, fresh())
  t.equal(!shortChallenge.ok && shortChallenge.error.reason, 'bad_challenge')
})

t.test('a node whose key has odd y authenticates (BIP-340 uses the x-only key)', async t => {
  const hub = key()
  let client = key()
  while (!client.id.startsWith('03')) client = key()
  const h = hello(hub)
  const c = answer(client, h.msg)
  t.ok(hubReceive(h.state, c.auth, hub.secret, randomBytes(32)).ok)
})

t.test('the handshake is the same on both curve backends (noble and the WASM one), across them too', async t => {
  t.teardown(() => setDefaultCurve(nobleCurve))
  for (const [hubCurve, clientCurve] of [[tinyCurve, tinyCurve], [nobleCurve, tinyCurve], [tinyCurve, nobleCurve]] as const) {
    const label = `hub ${hubCurve.name}, client ${clientCurve.name}`
    setDefaultCurve(hubCurve)
    const hub = key(); const client = key(); const attacker = key()
    const h = hello(hub)
    setDefaultCurve(clientCurve)
    const c = answer(client, h.msg, hub.id)
    const forged = answer(attacker, h.msg, hub.id).auth
    setDefaultCurve(hubCurve)
    t.equal(hubReceive(h.state, { ...forged, client_id: client.id }, hub.secret, randomBytes(32)).ok, false, `${label}: forgery refused`)
    const h2 = hubReceive(h.state, c.auth, hub.secret, randomBytes(32))
    if (!h2.ok) return t.fail(label)
    setDefaultCurve(clientCurve)
    const c2 = clientReceive(c.state, h2.send!, client.secret, fresh())
    t.equal(c2.ok && c2.state.phase, 'authenticated', label)
  }
})
