// A stream tick's reference and receipts (protocol/stream/tick.ts): a receipt verifies offline with the
// item, its proof, the tick and the payee's signature, and fails for any change to any of them.
import t from 'tap'
import fc from 'fast-check'
import { sha256 } from '@noble/hashes/sha2.js'
import { nobleCurve } from '../../../../protocol/crypto/index.ts'
import { tinyCurve } from '../../../../protocol/crypto/tiny.ts'
import {
  leafHash, merkleLevels, merkleProof, parseTickReference, receiptOf, signTick, tickReference, verifyStreamReceipt, type StreamItem,
  type TickStatement,
} from '../../../../protocol/stream/index.ts'
import { bytesToHex } from '../../../../protocol/types.ts'

const bytes = (tag: string): Uint8Array => sha256(new TextEncoder().encode(tag))
const payeeKey = bytes('payee')
const otherKey = bytes('other')
const aux = bytes('aux')

t.test('a tick reference reads back; other references are not ticks', async t => {
  const root = 'ab'.repeat(32)
  t.same(parseTickReference(tickReference(3, root)), { count: 3, root })
  t.equal(parseTickReference('order 7'), undefined)
  t.equal(parseTickReference(`stream:0:${root}`), undefined, 'no empty tick')
  t.equal(parseTickReference(`stream:16385:${root}`), undefined, 'no more than MAX_STREAM_TICK_ITEMS')
  t.equal(parseTickReference(`stream:3:${root.toUpperCase()}`), undefined)
})

for (const curve of [nobleCurve, tinyCurve]) {
  const payee = bytesToHex(curve.pubkey(payeeKey))
  const payer = bytesToHex(curve.pubkey(bytes('payer')))
  const build = (list: StreamItem[]): { tick: TickStatement; sig: string; levels: Uint8Array[][] } => {
    const levels = merkleLevels(list.map(leafHash))
    const tick: TickStatement = {
      payer, payee, paymentHash: bytesToHex(bytes('hash')), amountMsat: list.reduce((s, i) => s + i.amountMsat, 0), count: list.length,
      root: bytesToHex(levels[levels.length - 1]![0]!),
    }
    return { tick, sig: signTick(tick, payeeKey, aux, curve), levels }
  }

  t.test(`${curve.name}: property: every item of a tick has a receipt that verifies offline`, async t => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 40 }), amounts => {
      const list = amounts.map((a, i) => ({ id: `item-${i}`, amountMsat: a, memo: 'm' }))
      const { tick, sig, levels } = build(list)
      return list.every((it, i) => {
        const r = verifyStreamReceipt(JSON.parse(JSON.stringify(receiptOf(tick, sig, it, i, merkleProof(levels, i)))), payee, curve)
        return r.ok
      })
    }), { numRuns: 30 })
    t.pass('checked')
  })

  t.test(`${curve.name}: a receipt changed anywhere is refused with its reason`, async t => {
    const list = [1, 2, 3, 4, 5].map(i => ({ id: `i${i}`, amountMsat: i * 10, memo: '' }))
    const { tick, sig, levels } = build(list)
    const good = receiptOf(tick, sig, list[2]!, 2, merkleProof(levels, 2))
    t.ok(verifyStreamReceipt(good, payee, curve).ok)
    t.match(
      verifyStreamReceipt({ ...good, item: { ...good.item, amountMsat: 31 } }, payee, curve), { ok: false, error: { reason: 'bad_proof' } },
    )
    t.match(verifyStreamReceipt({ ...good, item: { ...good.item, id: 'i9' } }, payee, curve), { ok: false, error: { reason: 'bad_proof' } })
    t.match(verifyStreamReceipt({ ...good, index: 3 }, payee, curve), { ok: false, error: { reason: 'bad_proof' } })
    t.match(verifyStreamReceipt({ ...good, tick: { ...good.tick, count: 6 } }, payee, curve), { ok: false })
    t.match(verifyStreamReceipt({ ...good, tick: { ...good.tick, amountMsat: 1000 } }, payee, curve),
      { ok: false, error: { reason: 'bad_signature' } }, 'another amount: the payee did not sign that')
    t.match(verifyStreamReceipt({ ...good, tick: { ...good.tick, paymentHash: '00'.repeat(32) } }, payee, curve),
      { ok: false, error: { reason: 'bad_signature' } })
    const forged = signTick(tick, otherKey, aux, curve)
    t.match(verifyStreamReceipt({ ...good, signature: forged }, payee, curve), { ok: false, error: { reason: 'bad_signature' } },
      'signed by someone else')
    t.match(verifyStreamReceipt(good, bytesToHex(curve.pubkey(otherKey)), curve), { ok: false, error: { reason: 'wrong_payee' } })
    t.match(verifyStreamReceipt({ ...good, proof: 'x' }, payee, curve), { ok: false, error: { reason: 'malformed' } })
    t.match(verifyStreamReceipt({ ...good, extra: 1 }, payee, curve), { ok: false, error: { reason: 'malformed' } })
  })
}
