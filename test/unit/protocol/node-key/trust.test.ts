// What a client trusts after a hub's node-key announcements (protocol/node-key/trust.ts): only the key
// it trusts as current can hand over; once, in order; the old key trusted until grace_until after a
// rotation, not at all after a rollback; every key kept for receipts.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { nodeIdOf } from '../../../../protocol/auth/signature.ts'
import { signRotation } from '../../../../protocol/node-key/announcement.ts'
import { decideAnnouncement, initialTrust, trustedIds, type HubTrust } from '../../../../protocol/node-key/trust.ts'
import { MAX_REMEMBERED_HUB_KEYS } from '../../../../protocol/limits.ts'

const key = (): Uint8Array => new Uint8Array(randomBytes(32))
const aux = (): [Uint8Array, Uint8Array] => [key(), key()]
const k0 = key()
const k1 = key()
const [K0, K1] = [nodeIdOf(k0), nodeIdOf(k1)]
const rotation = signRotation({ kind: 'rotate', seq: 1, oldId: K0, newId: K1, graceUntilHeight: 200 }, k0, k1, aux())
const back = signRotation({ kind: 'rollback', seq: 2, oldId: K1, newId: K0, graceUntilHeight: 200 }, k1, k0, aux())

function accepted (d: ReturnType<typeof decideAnnouncement>): HubTrust {
  if (d.kind !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(d)}`)
  return d.trust
}

t.test('a rotation signed by our key: the new key current, the old one trusted until grace_until', async t => {
  const tr = accepted(decideAnnouncement(initialTrust(K0), rotation))
  t.equal(tr.current, K1)
  t.same(trustedIds(tr, 199), [K1, K0], 'both trusted before grace_until, the new one first')
  t.same(trustedIds(tr, 200), [K1], 'only the new key from grace_until on')
  t.same(tr.known, [K0, K1], 'both known (receipts of either verify)')
  t.same(decideAnnouncement(tr, rotation), { kind: 'ignored', why: 'already_taken' }, 'the same announcement again: ignored')
})

t.test('a rollback: the key rotated out trusted again, alone', async t => {
  const tr = accepted(decideAnnouncement(accepted(decideAnnouncement(initialTrust(K0), rotation)), back))
  t.equal(tr.current, K0)
  t.same(trustedIds(tr, 100), [K0], 'K1 no longer trusted, even within the grace')
  t.same([...tr.known].sort(), [K0, K1].sort(), 'both still known (receipts of either verify)')
  t.same(decideAnnouncement(initialTrust(K0), back), { kind: 'ignored', why: 'already_current' },
    'a client that never switched: nothing to do')
})

t.test('never an announcement not signed by the key we trust', async t => {
  const thief = key()
  const T = nodeIdOf(thief)
  const forged = signRotation({ kind: 'rotate', seq: 5, oldId: T, newId: nodeIdOf(key()), graceUntilHeight: 9 }, thief, key(), aux())
  const d = decideAnnouncement(initialTrust(K0), forged)
  t.equal(d.kind, 'refused', 'a statement of another key: refused')
  const claimed = { ...forged, old_id: K0 }
  const c = decideAnnouncement(initialTrust(K0), claimed)
  t.same(c.kind === 'refused' ? c.why : c.kind, 'bad_old_signature', 'naming our key without its signature: refused')
  // A rotation by the previous key (trusted in its grace) must not hand over: only the current may.
  const inGrace = accepted(decideAnnouncement(initialTrust(K0), rotation))
  const k2 = key()
  const byOld = signRotation({ kind: 'rotate', seq: 2, oldId: K0, newId: nodeIdOf(k2), graceUntilHeight: 300 }, k0, k2, aux())
  const o = decideAnnouncement(inGrace, byOld)
  t.same(o.kind === 'refused' ? o.why : o.kind, 'not_our_key', 'the key in its grace cannot rotate again: refused')
})

t.test('at most MAX_REMEMBERED_HUB_KEYS keys are remembered, the oldest forgotten', async t => {
  let secret = k0
  let tr = initialTrust(K0)
  for (let i = 1; i <= MAX_REMEMBERED_HUB_KEYS + 2; i++) {
    const next = key()
    tr = accepted(decideAnnouncement(tr, signRotation(
      { kind: 'rotate', seq: i, oldId: nodeIdOf(secret), newId: nodeIdOf(next), graceUntilHeight: i }, secret, next, aux(),
    )))
    secret = next
  }
  t.equal(tr.known.length, MAX_REMEMBERED_HUB_KEYS)
  t.notOk(tr.known.includes(K0), 'the first key forgotten')
  t.equal(tr.known.at(-1), tr.current, 'the newest is the current one')
})
