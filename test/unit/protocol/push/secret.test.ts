// A push payment's secret (protocol/push/secret.ts): sealed by the payer to the payee's node key, opened
// only by the payee, bound to the HTLC's payment hash and reference, and checked against the HTLC's
// amount. Runs on both curve backends; no node, no randomness (fixed keys).
import t from 'tap'
import { sha256 } from '@noble/hashes/sha2.js'
import { nobleCurve } from '../../../../protocol/crypto/index.ts'
import { tinyCurve } from '../../../../protocol/crypto/tiny.ts'
import { openPushSecret, sealPushSecret, type PushSecret } from '../../../../protocol/push/secret.ts'
import { bytesToHex } from '../../../../protocol/types.ts'
import { htlcMetadata } from '../../../../protocol/wire/channel-messages.ts'

const bytes = (tag: string): Uint8Array => sha256(new TextEncoder().encode(tag))
const payeeKey = bytes('payee node key')
const otherKey = bytes('someone else')
const preimage = bytes('the preimage')
const ephemeralSecret = bytes('ephemeral')

for (const curve of [nobleCurve, tinyCurve]) {
  const payee = curve.pubkey(payeeKey)
  const seal = (o: { amountMsat?: number; reference?: string; ephemeral?: Uint8Array } = {}): { paymentHash: string; secret: PushSecret } =>
    sealPushSecret({
      preimage, amountMsat: o.amountMsat ?? 25_000, payee, reference: o.reference ?? 'order 7',
      ephemeralSecret: o.ephemeral ?? ephemeralSecret,
    }, curve)
  const open = (secret: PushSecret, o: { key?: Uint8Array; hash?: string; amount?: number; reference?: string } = {}) =>
    openPushSecret({
      secret, nodeKey: o.key ?? payeeKey, paymentHash: o.hash ?? bytesToHex(sha256(preimage)),
      htlcAmountMsat: o.amount ?? 25_000, reference: o.reference ?? 'order 7',
    }, curve)

  t.test(`${curve.name}: the payee opens what the payer sealed: the preimage of the HTLC's hash and the amount`, async t => {
    const { paymentHash, secret } = seal()
    t.equal(paymentHash, bytesToHex(sha256(preimage)), 'the payment hash is sha256(preimage)')
    t.ok(htlcMetadata.safeParse({ reference: 'order 7', push: secret }).success, 'the secret fits the HTLC metadata schema')
    t.notOk(JSON.stringify(secret).includes(bytesToHex(preimage)), 'the preimage is not readable in the secret')
    t.same(open(secret), { ok: true, value: { preimage: bytesToHex(preimage), amountMsat: 25_000 } })
    t.same(open(secret, { amount: 26_000 }), { ok: true, value: { preimage: bytesToHex(preimage), amountMsat: 25_000 } },
      'an HTLC carrying more than sealed is accepted (the sealed amount is reported)')
    const again = seal({ ephemeral: bytes('another ephemeral') })
    t.not(again.secret.ciphertext, secret.ciphertext, 'another ephemeral key gives another ciphertext for the same preimage')
    t.ok(open(again.secret).ok, '... which opens to the same preimage')
  })

  t.test(`${curve.name}: nobody but the payee can open it (the hub holds only the payee's public key)`, async t => {
    const { secret } = seal()
    t.match(open(secret, { key: otherKey }), { ok: false, error: { reason: 'bad_tag' } }, 'another key: refused')
  })

  t.test(`${curve.name}: a secret changed on the way, or moved to another HTLC or reference, is refused`, async t => {
    const { secret } = seal()
    const flip = (hex: string, at = 0): string => hex.slice(0, at) + (hex[at] === '0' ? '1' : '0') + hex.slice(at + 1)
    t.match(open({ ...secret, ciphertext: flip(secret.ciphertext, 5) }), { ok: false, error: { reason: 'bad_tag' } }, 'ciphertext')
    t.match(open({ ...secret, tag: flip(secret.tag) }), { ok: false, error: { reason: 'bad_tag' } }, 'tag')
    t.match(open(secret, { hash: bytesToHex(bytes('another hash')) }), { ok: false, error: { reason: 'bad_tag' } }, 'another payment hash')
    t.match(open(secret, { reference: 'order 8' }), { ok: false, error: { reason: 'bad_tag' } }, 'another reference')
    const other = curve.pubkey(otherKey)
    t.match(open({ ...secret, ephemeral_point: bytesToHex(other) }), { ok: false, error: { reason: 'bad_tag' } }, 'another ephemeral point')
    t.match(
      open({ ...secret, ephemeral_point: '02' + 'ff'.repeat(32) }), { ok: false, error: { reason: 'bad_point' } }, 'not a curve point',
    )
  })

  t.test(`${curve.name}: an HTLC carrying less than the payer sealed is refused`, async t => {
    const { secret } = seal({ amountMsat: 25_000 })
    t.match(open(secret, { amount: 24_999 }), { ok: false, error: { reason: 'amount_short', detail: /24999 msat.*25000 msat/ } })
  })

  t.test(`${curve.name}: sealing refuses bad arguments (programmer errors)`, async t => {
    t.throws(() => seal({ amountMsat: 0 }), /amountMsat/)
    t.throws(
      () => sealPushSecret({ preimage: preimage.subarray(1), amountMsat: 1, payee, reference: '', ephemeralSecret }, curve), /32 bytes/,
    )
    t.throws(() => sealPushSecret({ preimage, amountMsat: 1, payee: payee.subarray(1), reference: '', ephemeralSecret }, curve), /payee/)
    t.throws(() => seal({ ephemeral: new Uint8Array(32) }), /ephemeral/)
  })
}

t.test('both curve backends seal and open the same bytes', async t => {
  const payee = nobleCurve.pubkey(payeeKey)
  const a = sealPushSecret({ preimage, amountMsat: 1, payee, reference: '', ephemeralSecret }, nobleCurve)
  const b = sealPushSecret({ preimage, amountMsat: 1, payee, reference: '', ephemeralSecret }, tinyCurve)
  t.same(a, b, 'identical secrets')
  t.ok(openPushSecret({ secret: a.secret, nodeKey: payeeKey, paymentHash: a.paymentHash, htlcAmountMsat: 1, reference: '' }, tinyCurve).ok)
})
