// A split's secrets (protocol/split/secrets.ts) and signed statements (statements.ts): a leg's r_i
// opens only for its recipient and only with what the leg says in clear; the release opens only for
// that recipient's leg and gives its preimage; the statements verify only for their signer and kind.
// Both curve backends, fixed keys.
import t from 'tap'
import { sha256 } from '@noble/hashes/sha2.js'
import { nobleCurve } from '../../../../protocol/crypto/index.ts'
import { tinyCurve } from '../../../../protocol/crypto/tiny.ts'
import {
  legPaymentHash, legPreimage, openLeg, openRelease, rCommitment, sealLeg, sealRelease, type LegContext,
} from '../../../../protocol/split/secrets.ts'
import { abortDigest, legLockedDigest, signDigest, verifyDigest } from '../../../../protocol/split/statements.ts'
import { bytesToHex, hexToBytes } from '../../../../protocol/types.ts'
import { htlcMetadata } from '../../../../protocol/wire/channel-messages.ts'

const bytes = (tag: string): Uint8Array => sha256(new TextEncoder().encode(tag))
const x = bytes('split secret x')
const r0 = bytes('r0')
const r1 = bytes('r1')
const aliceKey = bytes('alice')
const bobKey = bytes('bob')
const payerKey = bytes('payer')

for (const curve of [nobleCurve, tinyCurve]) {
  const alice = curve.pubkey(aliceKey)
  const payer = bytesToHex(curve.pubkey(payerKey))
  const ctx = (o: Partial<LegContext> = {}): LegContext => ({
    paymentHash: legPaymentHash(x, r0), splitId: bytesToHex(bytes('split')), index: 0, count: 2, payer, releaseBy: 1_800_000_000,
    reference: 'sale 12', ...o,
  })

  t.test(`${curve.name}: the preimage of leg i is sha256(x ‖ r_i), different for every leg`, async t => {
    t.equal(legPreimage(x, r0), bytesToHex(sha256(new Uint8Array([...x, ...r0]))))
    t.equal(legPaymentHash(x, r0), bytesToHex(sha256(hexToBytes(legPreimage(x, r0)))))
    t.not(legPreimage(x, r0), legPreimage(x, r1), 'two legs never share a preimage')
  })

  t.test(`${curve.name}: r_i opens for its recipient, with the leg's context, and nothing else`, async t => {
    const sealed = sealLeg(r0, 7_000, alice, bytes('e1'), ctx(), curve)
    t.ok(htlcMetadata.safeParse({
      split_leg: { split_id: ctx().splitId, index: 0, count: 2, payer, release_by: 1_800_000_000, secret: sealed },
    }).success, 'fits the HTLC metadata schema')
    const opened = openLeg(sealed, aliceKey, ctx(), 7_000, curve)
    t.same(opened.ok && bytesToHex(opened.value.r), bytesToHex(r0), 'the recipient opens r_i')
    t.same(opened.ok && opened.value.amountMsat, 7_000)
    t.equal(openLeg(sealed, bobKey, ctx(), 7_000, curve).ok, false, 'another key does not open it')
    for (const [what, change] of [
      ['payment hash', { paymentHash: legPaymentHash(x, r1) }], ['split id', { splitId: bytesToHex(bytes('other')) }],
      ['index', { index: 1 }], ['count', { count: 3 }], ['payer', { payer: bytesToHex(curve.pubkey(bobKey)) }],
      ['release deadline', { releaseBy: 1_800_000_001 }], ['reference', { reference: 'sale 13' }],
    ] as const) {
      const r = openLeg(sealed, aliceKey, ctx(change), 7_000, curve)
      t.equal(!r.ok && r.error.reason, 'bad_seal', `a leg whose ${what} was changed on the way does not open`)
    }
    const short = openLeg(sealed, aliceKey, ctx(), 6_999, curve)
    t.equal(!short.ok && short.error.reason, 'amount_short', 'an HTLC carrying less than sealed is refused')
  })

  t.test(`${curve.name}: the release gives the recipient its leg's preimage, and only for its leg`, async t => {
    const split = ctx().splitId
    const release = sealRelease(x, alice, bytes('e2'), split, legPaymentHash(x, r0), curve)
    t.same(openRelease(release, aliceKey, split, legPaymentHash(x, r0), r0, curve), { ok: true, value: legPreimage(x, r0) })
    t.equal(openRelease(release, bobKey, split, legPaymentHash(x, r0), r0, curve).ok, false, 'another recipient cannot open it')
    t.equal(openRelease(release, aliceKey, split, legPaymentHash(x, r1), r1, curve).ok, false, 'it opens for no other leg')
    const wrong = sealRelease(bytes('not x'), alice, bytes('e3'), split, legPaymentHash(x, r0), curve)
    const r = openRelease(wrong, aliceKey, split, legPaymentHash(x, r0), r0, curve)
    t.match(!r.ok && r.error.detail, /does not give this leg's preimage/, 'a wrong x is refused: no fulfil with a wrong preimage')
  })

  t.test(`${curve.name}: leg_locked and abort verify for their signer and kind only`, async t => {
    const recipient = bytesToHex(alice)
    const l = {
      splitId: ctx().splitId, index: 0, paymentHash: legPaymentHash(x, r0), amountMsat: 7_000, rHash: rCommitment(r0), payer, recipient,
    }
    const sig = signDigest(legLockedDigest(l), aliceKey, bytes('aux'), curve)
    t.ok(verifyDigest(legLockedDigest(l), sig, recipient, curve), 'the recipient\'s leg_locked verifies')
    t.notOk(verifyDigest(legLockedDigest({ ...l, amountMsat: 7_001 }), sig, recipient, curve), 'not for another amount')
    t.notOk(verifyDigest(legLockedDigest({ ...l, index: 1 }), sig, recipient, curve), 'not for another leg')
    t.notOk(verifyDigest(legLockedDigest(l), sig, payer, curve), 'not as another node\'s')
    const abort = signDigest(abortDigest(l.splitId, payer), payerKey, bytes('aux'), curve)
    t.ok(verifyDigest(abortDigest(l.splitId, payer), abort, payer, curve), 'the payer\'s abort verifies')
    t.notOk(verifyDigest(abortDigest(bytesToHex(bytes('other')), payer), abort, payer, curve), 'not for another split')
    const forged = signDigest(abortDigest(l.splitId, payer), bobKey, bytes('aux'), curve)
    t.notOk(verifyDigest(abortDigest(l.splitId, payer), forged, payer, curve), 'an abort signed by another key (the hub) is refused')
    t.notOk(verifyDigest(legLockedDigest(l), abort, payer, curve), 'an abort is no leg_locked')
  })
}
