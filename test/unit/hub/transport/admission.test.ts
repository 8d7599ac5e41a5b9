// The transport's admission decisions without sockets: kept handshake slots for known peers apart from
// the strangers' caps; tokens taken once, in order, within the window, for known peers only; the
// message rate limit's ok → warn → over → cut.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { nodeIdOf } from '../../../../protocol/auth/signature.ts'
import { signAdmissionToken } from '../../../../protocol/auth/admission-token.ts'
import type { NodeId } from '../../../../protocol/types.ts'
import { Admission } from '../../../../hub/transport/admission.ts'
import { AdmissionTokens } from '../../../../hub/transport/admission-tokens.ts'
import { MessageRate } from '../../../../hub/transport/message-rate.ts'
import { transportConfigSchema } from '../../../../hub/transport/config.ts'

const key = () => new Uint8Array(randomBytes(32))

t.test('strangers fill their caps; a known peer still gets its kept slots, at most maxHandshakesPerKnownPeer at once', async t => {
  const config = transportConfigSchema.parse({ maxUnauthenticated: 2, maxConnections: 3, maxHandshakesPerKnownPeer: 2 })
  const a = new Admission(config, () => 0)
  const strangers = [a.admit('10.0.0.1'), a.admit('10.0.0.2')]
  t.ok(strangers.every(s => s.ok))
  t.same(a.admit('10.0.0.3'), { ok: false, reason: 'too_many_unauthenticated' })
  const known = nodeIdOf(key()) as NodeId
  const k1 = a.admit('10.0.0.4', known)
  const k2 = a.admit('10.0.0.4', known)
  t.ok(k1.ok && k2.ok, 'a known peer is admitted while the strangers\' slots are full')
  t.same(a.admit('10.0.0.4', known), { ok: false, reason: 'too_many_handshakes_for_peer' })
  t.ok(a.admit('10.0.0.5', nodeIdOf(key()) as NodeId).ok, 'another known peer has slots of its own')
  if (!k1.ok || !k2.ok) return
  k1.ticket.handshakeEnded(known, true)
  k2.ticket.closed()
  k2.ticket.closed() // freeing twice frees once
  t.same(a.counts, { open: 4, unauthenticated: 2, known: 2, knownHandshakes: 1 })
  t.ok(a.admit('10.0.0.4', known).ok, 'its slot is free again')
})

t.test('a stranger whose handshake proves a known node id moves to the known peers\' count', async t => {
  const config = transportConfigSchema.parse({ maxConnections: 1 })
  const a = new Admission(config, () => 0)
  const s = a.admit('10.0.0.1')
  t.ok(s.ok)
  t.same(a.admit('10.0.0.2'), { ok: false, reason: 'too_many_connections' })
  if (!s.ok) return
  s.ticket.handshakeEnded(nodeIdOf(key()) as NodeId, true)
  t.same(a.counts, { open: 1, unauthenticated: 0, known: 1, knownHandshakes: 0 })
  t.ok(a.admit('10.0.0.2').ok, 'the strangers\' connection slot it held is free')
  s.ticket.closed()
  t.same(a.counts, { open: 1, unauthenticated: 1, known: 0, knownHandshakes: 0 })
})

t.test('the per-IP rate limit applies to known peers too', async t => {
  const config = transportConfigSchema.parse({ maxConnectsPerIp: 2, rateWindowMs: 1_000 })
  const a = new Admission(config, () => 0)
  const known = nodeIdOf(key()) as NodeId
  t.ok(a.admit('10.0.0.1').ok)
  t.ok(a.admit('10.0.0.1').ok)
  t.same(a.admit('10.0.0.1', known), { ok: false, reason: 'rate_limited' })
})

t.test('tokens: known peers only, within the window, each once and in order, signed by the node for this hub', async t => {
  const hubKey = key()
  const hub = nodeIdOf(hubKey)
  const client = key()
  const id = nodeIdOf(client)
  let now = 1_000_000_000
  const known = new Set([id])
  const tokens = new AdmissionTokens(() => [hub], n => known.has(n), 60_000, () => now)
  const at = (ms: number) => signAdmissionToken(hub, client, ms, new Uint8Array(32))
  t.same(tokens.check(signAdmissionToken(hub, key(), now, new Uint8Array(32))), { kind: 'ignored', why: 'unknown_peer' })
  t.same(tokens.check(at(now - 60_001)), { kind: 'ignored', why: 'stale' })
  t.same(tokens.check(at(now + 60_001)), { kind: 'ignored', why: 'stale' })
  t.same(tokens.check({ ...at(now), timeMs: now + 1 }), { kind: 'ignored', why: 'bad_signature' })
  t.same(
    tokens.check(signAdmissionToken(nodeIdOf(key()), client, now, new Uint8Array(32))), { kind: 'ignored', why: 'bad_signature' },
    'signed for another hub',
  )
  const first = at(now)
  t.same(tokens.check(first), { kind: 'known', nodeId: id })
  t.same(tokens.check(first), { kind: 'ignored', why: 'replayed' })
  t.same(tokens.check(at(now - 1)), { kind: 'ignored', why: 'replayed' }, 'an older token is refused once a newer one was taken')
  now += 5
  t.same(tokens.check(at(now)), { kind: 'known', nodeId: id })
  known.delete(id)
  t.same(tokens.check(at(now + 1)), { kind: 'ignored', why: 'unknown_peer' }, 'a peer whose channels are gone is a stranger again')
})

t.test('message rate: a full burst is ok; over it one warning, then over, then cut a burst later; refilling clears the warning', async t => {
  let now = 0
  const rate = new MessageRate(10, 5, () => now)
  const take = (n: number) => Array.from({ length: n }, () => rate.take())
  t.same(take(5), ['ok', 'ok', 'ok', 'ok', 'ok'])
  t.same(take(6), ['warn', 'over', 'over', 'over', 'over', 'cut'])
  now += 1_100 // 11 tokens: back to full (capped at 5)
  t.same(take(6), ['ok', 'ok', 'ok', 'ok', 'ok', 'warn'], 'warned again after the bucket was full again')
  now += 100 // one token: the balance stays below zero
  t.same(take(1), ['over'])
})
