// The payer's split machine (protocol/split/payer.ts): it releases only once it holds a valid
// leg_locked of every leg, before release_by, and persists that before any release leaves; it aborts
// on a failed leg or the deadline while locking, and never once released; claims that are not the
// recipient's own are refused.
import t from 'tap'
import { sha256 } from '@noble/hashes/sha2.js'
import { nobleCurve } from '../../../../protocol/crypto/index.ts'
import { step, isOver, type PayerSplit, type LegLockedClaim } from '../../../../protocol/split/payer.ts'
import { legPaymentHash, rCommitment } from '../../../../protocol/split/secrets.ts'
import { legLockedDigest, signDigest } from '../../../../protocol/split/statements.ts'
import { bytesToHex } from '../../../../protocol/types.ts'

const bytes = (tag: string): Uint8Array => sha256(new TextEncoder().encode(tag))
const x = bytes('x')
const keys = [bytes('alice'), bytes('bob'), bytes('carol')]
const rs = [bytes('r0'), bytes('r1'), bytes('r2')]
const payer = bytesToHex(nobleCurve.pubkey(bytes('payer')))
const RELEASE_BY = 1_800_000_000

const fresh = (): PayerSplit => ({
  splitId: bytesToHex(bytes('split')), payer, releaseBy: RELEASE_BY, phase: 'locking',
  legs: keys.map((k, i) => ({
    to: bytesToHex(nobleCurve.pubkey(k)), amountMsat: 1_000 * (i + 1), paymentHash: legPaymentHash(x, rs[i]!), rHash: rCommitment(rs[i]!),
  })),
})
const claim = (s: PayerSplit, i: number, o: { key?: Uint8Array; amountMsat?: number; rHash?: string } = {}): LegLockedClaim => {
  const leg = s.legs[i]!
  const c = { index: i, paymentHash: leg.paymentHash, amountMsat: o.amountMsat ?? leg.amountMsat, rHash: o.rHash ?? leg.rHash }
  const digest = legLockedDigest({ splitId: s.splitId, ...c, payer, recipient: leg.to })
  return { ...c, signature: signDigest(digest, o.key ?? keys[i]!, bytes('aux')) }
}
const now = RELEASE_BY - 10

t.test('released once every leg is locked, persisted before the releases', async t => {
  let s = fresh()
  for (const i of [2, 0]) {
    const r = step(s, { kind: 'leg_locked', claim: claim(s, i), nowSec: now })
    t.same(r.effects, [{ kind: 'persist' }], `leg ${i} locked: stored, nothing sent`)
    t.equal(r.split.phase, 'locking')
    s = r.split
  }
  const last = step(s, { kind: 'leg_locked', claim: claim(s, 1), nowSec: now })
  t.equal(last.split.phase, 'released')
  t.same(last.effects, [{ kind: 'persist' }, { kind: 'send_release', index: 0 }, { kind: 'send_release', index: 1 },
    { kind: 'send_release', index: 2 }], 'the release decision is stored first, then x goes to every leg')
  s = last.split
  t.same(step(s, { kind: 'leg_failed', index: 1, reason: 'x' }).effects, [{ kind: 'persist' }], 'a released split never aborts')
  t.equal(step(s, { kind: 'leg_failed', index: 1, reason: 'x' }).split.phase, 'released')
  t.same(step(s, { kind: 'leg_locked', claim: claim(s, 1), nowSec: RELEASE_BY + 100 }).effects, [{ kind: 'send_release', index: 1 }],
    'a leg_locked again (the recipient restarted) is answered with its release, even past release_by')
  for (const i of [0, 1, 2]) s = step(s, { kind: 'leg_fulfilled', index: i }).split
  t.ok(isOver(s), 'over once every leg has its outcome')
})

t.test('aborted when a leg fails or the deadline passes before every leg is locked', async t => {
  let s = fresh()
  s = step(s, { kind: 'leg_locked', claim: claim(s, 0), nowSec: now }).split
  const failed = step(s, { kind: 'leg_failed', index: 1, reason: 'recipient_offline' })
  t.equal(failed.split.phase, 'aborted')
  t.same(failed.effects, [{ kind: 'persist' }, { kind: 'send_abort' }])
  t.same(step(failed.split, { kind: 'leg_locked', claim: claim(s, 2), nowSec: now }).effects, [{ kind: 'send_abort' }],
    'a leg locked after the abort is told the abort, never released')
  const late = step(fresh(), { kind: 'tick', nowSec: RELEASE_BY + 1 })
  t.equal(late.split.phase, 'aborted', 'release_by passed while locking')
  t.same(step(fresh(), { kind: 'tick', nowSec: RELEASE_BY }).effects, [], 'not before')
  let almost = fresh()
  almost = step(almost, { kind: 'leg_locked', claim: claim(almost, 0), nowSec: now }).split
  almost = step(almost, { kind: 'leg_locked', claim: claim(almost, 1), nowSec: now }).split
  t.equal(step(almost, { kind: 'leg_locked', claim: claim(almost, 2), nowSec: RELEASE_BY + 1 }).split.phase, 'aborted',
    'the last leg_locked arriving after release_by aborts instead of releasing')
})

t.test('claims that are not the recipient\'s own leg_locked are refused', async t => {
  const s = fresh()
  const refused = (c: LegLockedClaim): string => {
    const r = step(s, { kind: 'leg_locked', claim: c, nowSec: now })
    t.equal(r.split, s, 'the split is unchanged')
    return r.effects[0]?.kind === 'refused' ? r.effects[0].detail : 'accepted'
  }
  t.match(refused(claim(s, 0, { key: keys[1] })), /signature is not the recipient's/)
  t.match(refused(claim(s, 0, { key: bytes('the hub') })), /signature is not the recipient's/)
  t.match(refused(claim(s, 0, { amountMsat: 999 })), /names 999 msat/)
  t.match(refused(claim(s, 0, { rHash: rCommitment(bytes('swapped')) })), /another leg secret/)
  t.match(refused({ ...claim(s, 0), index: 5 }), /has 3 legs/)
  t.match(refused({ ...claim(s, 0), paymentHash: s.legs[1]!.paymentHash }), /another payment hash/)
})
