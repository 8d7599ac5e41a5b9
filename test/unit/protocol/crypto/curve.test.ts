// The two Curve backends: a BIP-340 vector, agreement with each other on every operation, low-S.
import t from 'tap'
import fc from 'fast-check'
import { CURVE_ORDER, bigIntTo32Bytes, bytesToBigInt } from '../../../../protocol/crypto/curve.ts'
import { equalBytes } from '../../../../protocol/crypto/hash.ts'
import { nobleCurve } from '../../../../protocol/crypto/noble.ts'
import { tinyCurve } from '../../../../protocol/crypto/tiny.ts'
import { bytesToHex, hexToBytes } from '../../../../protocol/types.ts'
import { curves } from '../../../fixtures/bolt3-vectors.ts'

// BIP-340 test vector 1 (bip-0340/test-vectors.csv).
const bip340 = {
  secret: 'b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef',
  pubkey: 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
  aux: '0000000000000000000000000000000000000000000000000000000000000001',
  msg: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
  sig: '6896bd60eeae296db48a229ff71dfe071bde413e6d43f917dc8dcf8c78de33418906d11ac976abccb20b091292bff4ea897efcb639ea871cfa95f6de339e4b0a',
}

for (const c of curves) {
  t.test(`BIP-340 vector 1 (${c.name})`, async t => {
    t.equal(bytesToHex(c.xOnlyPubkey(hexToBytes(bip340.secret))), bip340.pubkey)
    t.equal(bytesToHex(c.schnorrSign(hexToBytes(bip340.msg), hexToBytes(bip340.secret), hexToBytes(bip340.aux))), bip340.sig)
    t.ok(c.schnorrVerify(hexToBytes(bip340.sig), hexToBytes(bip340.msg), hexToBytes(bip340.pubkey)))
    const bad = hexToBytes(bip340.sig); bad[63]! ^= 1
    t.notOk(c.schnorrVerify(bad, hexToBytes(bip340.msg), hexToBytes(bip340.pubkey)))
  })

  t.test(`high-S ECDSA signatures are never produced and never accepted (${c.name})`, async t => {
    const priv = new Uint8Array(32).fill(3)
    const h = new Uint8Array(32).fill(9)
    const sig = c.sign(h, priv)
    const s = bytesToBigInt(sig.subarray(32))
    t.ok(s <= CURVE_ORDER / 2n, 'low S')
    const high = new Uint8Array(64); high.set(sig.subarray(0, 32)); high.set(bigIntTo32Bytes(CURVE_ORDER - s), 32)
    t.notOk(c.verify(high, h, c.pubkey(priv)), 'the high-S twin is rejected')
    t.ok(c.verify(sig, h, c.pubkey(priv)))
  })
}

const privArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter(k => nobleCurve.isPrivkey(k))

t.test('noble and tiny agree on every operation', async t => {
  fc.assert(fc.property(privArb, privArb, fc.uint8Array({ minLength: 32, maxLength: 32 }), (a, b, h) => {
    const [n, w] = [nobleCurve, tinyCurve]
    const A = n.pubkey(a), B = n.pubkey(b)
    return equalBytes(A, w.pubkey(a)) &&
      equalBytes(n.pointAdd(A, B), w.pointAdd(A, B)) && equalBytes(n.pointAdd(A, B), n.pubkey(n.privAdd(a, b))) &&
      equalBytes(n.pointMul(A, b), w.pointMul(A, b)) && equalBytes(n.pointMul(A, b), n.pubkey(n.privMul(a, b))) &&
      equalBytes(n.pointAddTweak(A, b), w.pointAddTweak(A, b)) &&
      equalBytes(n.privAdd(a, b), w.privAdd(a, b)) &&
      equalBytes(n.sign(h, a), w.sign(h, a)) && w.verify(n.sign(h, a), h, A) && n.verify(w.sign(h, b), h, B) &&
      !n.verify(n.sign(h, a), h, B) &&
      equalBytes(n.xOnlyPubkey(a), w.xOnlyPubkey(a)) && w.schnorrVerify(n.schnorrSign(h, a, h), h, n.xOnlyPubkey(a))
  }), { numRuns: 25 })
  t.pass('property held')
  t.notOk(nobleCurve.isPubkey(new Uint8Array(33)), 'not a point')
  t.notOk(tinyCurve.isPubkey(new Uint8Array(33)))
  t.notOk(nobleCurve.isPrivkey(bigIntTo32Bytes(CURVE_ORDER)), 'n is not a private key')
  t.notOk(tinyCurve.isPrivkey(bigIntTo32Bytes(CURVE_ORDER)))
})
