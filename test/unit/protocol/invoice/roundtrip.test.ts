// Our own invoices: encode → decode gives back every field (property test), and the reader rules
// that the spec examples do not exercise: `n`, non-minimal fields, expiry against `now`, network,
// the `h` commitment, unknown fields, duplicates; and decoding never throws on garbage.
import t from 'tap'
import fc from 'fast-check'
import { bech32 } from 'bech32'
import * as secp from '@noble/secp256k1'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes, type Msat } from '../../../../protocol/types.ts'
import {
  decodeInvoice, encodeInvoice, expiresAt, signingHash, DEFAULT_INVOICE_FEATURE_BITS, type InvoiceDraft,
} from '../../../../protocol/invoice/index.ts'
import { bytesToWords } from '../../../../protocol/invoice/words.ts'

const key = hexToBytes('e126f68f7eafcc8b74f54d269fe206be715000f94dac067d1c04a8ca3b2db734')
const nodeId = bytesToHex(secp.getPublicKey(key, true))
const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(bytesToHex)

const draftArb: fc.Arbitrary<InvoiceDraft> = fc.record({
  network: fc.constantFrom('bcrt' as const, 'bc' as const, 'tb' as const, 'tbs' as const),
  amountMsat: fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }).map(n => n as Msat), { nil: null }),
  timestamp: fc.integer({ min: 0, max: 2 ** 35 - 1 }),
  paymentHash: hex32,
  paymentSecret: hex32,
  desc: fc.oneof(fc.record({ description: fc.string({ unit: 'grapheme', maxLength: 120 }) }), fc.record({ descriptionHash: hex32 })),
  expirySeconds: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
  minFinalCltvExpiryDelta: fc.option(fc.integer({ min: 0, max: 0xffff }), { nil: undefined }),
  includeNodeId: fc.boolean(),
  metadataHex: fc.option(fc.uint8Array({ maxLength: 64 }).map(bytesToHex), { nil: undefined }),
  features: fc.uniqueArray(fc.constantFrom(8, 9, 14, 15, 17, 25, 48, 49, 99, 255), { maxLength: 6 })
    .map(extra => [...new Set([...DEFAULT_INVOICE_FEATURE_BITS, ...extra])].sort((a, b) => a - b)),
}).map(({ desc, expirySeconds, minFinalCltvExpiryDelta, metadataHex, ...rest }) => ({
  ...rest, ...desc,
  ...(expirySeconds !== undefined ? { expirySeconds } : {}),
  ...(minFinalCltvExpiryDelta !== undefined ? { minFinalCltvExpiryDelta } : {}),
  ...(metadataHex !== undefined ? { metadataHex } : {}),
}))

t.test('encode → decode returns every field, and the payee is the signing key', async t => {
  fc.assert(fc.property(draftArb, d => {
    const enc = encodeInvoice(d, key)
    if (!enc.ok) throw new Error(JSON.stringify(enc.error))
    const dec = decodeInvoice(enc.value, { network: d.network })
    if (!dec.ok) throw new Error(JSON.stringify(dec.error))
    const v = dec.value
    return v.network === d.network && v.amountMsat === (d.amountMsat ?? null) && v.timestamp === d.timestamp &&
      v.paymentHash === d.paymentHash && v.paymentSecret === d.paymentSecret &&
      v.description === (d.description ?? null) && v.descriptionHash === (d.descriptionHash ?? null) &&
      v.expirySeconds === (d.expirySeconds ?? null) && v.minFinalCltvExpiryDelta === (d.minFinalCltvExpiryDelta ?? null) &&
      v.metadataHex === (d.metadataHex ?? null) && JSON.stringify(v.features) === JSON.stringify(d.features) &&
      v.payee === nodeId && v.payeeFromN === (d.includeNodeId === true) && enc.value.startsWith(`ln${d.network}`)
  }), { numRuns: 150 })
  t.pass('150 random drafts round-trip')
})

t.test('a regtest invoice looks like one', async t => {
  const enc = encodeInvoice({
    network: 'bcrt', amountMsat: 2_500_000 as Msat, timestamp: 1_700_000_000, paymentHash: '00'.repeat(32), paymentSecret: '11'.repeat(32),
    description: 'coffee',
  }, key)
  t.ok(enc.ok && enc.value.startsWith('lnbcrt25u1'), enc.ok ? enc.value : '')
})

t.test('any single-character change is rejected', async t => {
  const enc = encodeInvoice(
    { network: 'bcrt', timestamp: 1, paymentHash: '00'.repeat(32), paymentSecret: '11'.repeat(32), description: 'x' }, key,
  )
  if (!enc.ok) { t.fail(); return }
  const s = enc.value
  fc.assert(fc.property(fc.nat(s.length - 1), fc.constantFrom(...'qpzry9x8gf2tvdw0s3jn54khce6mua7l'), (i, c) => {
    fc.pre(s[i] !== c && i > s.lastIndexOf('1'))
    return !decodeInvoice(s.slice(0, i) + c + s.slice(i + 1)).ok
  }), { numRuns: 200 })
  t.pass()
})

t.test('decoding never throws on arbitrary or mutated input', async t => {
  const enc = encodeInvoice(
    { network: 'bcrt', timestamp: 1, paymentHash: '00'.repeat(32), paymentSecret: '11'.repeat(32), description: 'x' }, key,
  )
  if (!enc.ok) { t.fail(); return }
  const inputs = fc.oneof(
    fc.string({ maxLength: 400 }),
    fc.anything(),
    // Well-formed bech32 with random words: exercises every field reader past the checksum.
    fc.tuple(
      fc.constantFrom('lnbcrt', 'lnbc', 'lnbc1m', 'lnbc1p', 'lnbc10p', 'lntb', 'lnxx'),
      fc.array(fc.integer({ min: 0, max: 31 }), { maxLength: 600 }),
    )
      .map(([p, w]) => bech32.encode(p, w, 10_000)),
  )
  fc.assert(fc.property(inputs, x => { decodeInvoice(x); return true }), { numRuns: 2000 })
  t.pass('2000 inputs, no throw')
})

/** Sign arbitrary data words as an invoice, to build invoices our encoder would refuse to write. */
function rawInvoice (hrp: string, dataWords: number[], opts: { highS?: boolean } = {}): string {
  const hash = signingHash(hrp, dataWords)
  const rec = secp.sign(hash, key, { prehash: false, format: 'recovered' })
  const sig = new Uint8Array(65)
  sig.set(rec.subarray(1)); sig[64] = rec[0]!
  if (opts.highS === true) {
    const s = BigInt('0x' + bytesToHex(sig.subarray(32, 64)))
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    sig.set(hexToBytes((n - s).toString(16).padStart(64, '0')), 32)
    sig[64] = sig[64]! ^ 1 // negating s flips R's parity, so the same key is recovered
  }
  return bech32.encode(hrp, [...dataWords, ...bech32.toWords(sig)], 10_000)
}
const fld = (type: number, data: number[]): number[] => [type, data.length >> 5, data.length & 31, ...data]
const ts = [0, 0, 0, 0, 0, 0, 1]
const P = fld(1, bytesToWords(new Uint8Array(32)))
const S = fld(16, bytesToWords(new Uint8Array(32).fill(0x11)))
const D = fld(13, bytesToWords(new TextEncoder().encode('x')))
const N = fld(19, bytesToWords(secp.getPublicKey(key, true)))

t.test('reader rules', async t => {
  const reason = (s: string): string | undefined => { const r = decodeInvoice(s); return r.ok ? undefined : r.error.reason }
  t.equal(reason(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...D])), undefined, 'the base invoice is valid')
  t.equal(reason(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...D, ...fld(6, [0, 1])])), 'non_minimal', 'x with a leading zero')
  t.equal(reason(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...D, ...fld(24, [0, 18])])), 'non_minimal', 'c with a leading zero')
  t.equal(reason(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...D, ...fld(5, [0, 1])])), 'non_minimal', '9 with a leading zero')
  t.equal(reason(rawInvoice('lnbcrt', [...ts, ...S, ...D])), 'missing_payment_hash')
  t.equal(reason(rawInvoice('lnbcrt', [...ts, ...P, ...S])), 'description', 'neither d nor h')
  t.equal(
    reason(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...D, ...fld(23, bytesToWords(new Uint8Array(32)))])), 'description', 'both d and h',
  )
  t.equal(
    reason(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...D, ...fld(19, bytesToWords(new Uint8Array(33).fill(2)).slice(0, 52))])),
    'field_length', 'n of 52 words',
  )
  t.equal(reason(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...D, 6, 0, 9, 1])), 'field_truncated', 'data_length past the end')
  t.equal(
    reason(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...D, ...fld(5, [0b00010, 0, 0, 0])])), 'missing_feature_dependency',
    'basic_mpp (bit 16) without payment_secret',
  )
  t.equal(reason(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...fld(13, [31, 31])])), 'field_invalid', 'd with non-zero padding')
  t.equal(
    reason(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...fld(13, bytesToWords(Uint8Array.of(0xff, 0xfe)))])), 'field_invalid', 'd not UTF-8',
  )
  t.equal(
    reason(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...D, ...fld(9, [0, ...bytesToWords(new Uint8Array(7))])])), 'field_invalid',
    'witness v0 program of 7 bytes',
  )
  t.equal(reason(rawInvoice('lnbcrt0', [...ts, ...P, ...S, ...D])), 'invalid_amount', 'amount 0')
  t.equal(reason(rawInvoice('lnbcrt010u', [...ts, ...P, ...S, ...D])), 'invalid_amount', 'leading zero')
  t.equal(reason(rawInvoice('lnbcrt99999999999m', [...ts, ...P, ...S, ...D])), 'amount_too_large')
  t.equal(reason(rawInvoice('lnxy', [...ts, ...P, ...S, ...D])), 'unknown_prefix')
  t.equal(reason('x'.repeat(20_000)), 'too_long')
})

t.test('`n`: verified instead of recovered; high S refused only with `n`', async t => {
  const withN = decodeInvoice(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...D, ...N]))
  t.ok(withN.ok && withN.value.payeeFromN && withN.value.payee === nodeId, 'valid n: payee from n')
  const other = secp.getPublicKey(hexToBytes('01'.repeat(32)), true)
  const wrongN = decodeInvoice(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...D, ...fld(19, bytesToWords(other))]))
  t.match(wrongN, { ok: false, error: { reason: 'bad_signature', field: 'signature' } }, 'n of another key')
  const highN = decodeInvoice(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...D, ...N], { highS: true }))
  t.match(highN, { ok: false, error: { reason: 'high_s_with_n' } })
  const highNoN = decodeInvoice(rawInvoice('lnbcrt', [...ts, ...P, ...S, ...D], { highS: true }))
  t.ok(highNoN.ok && highNoN.value.payee === nodeId, 'without n a high-S signature is accepted and recovers the signer')
})

t.test('unknown fields and unknown fallback versions are skipped; the first of a duplicate counts', async t => {
  const P2 = fld(1, bytesToWords(new Uint8Array(32).fill(0xaa)))
  const r = decodeInvoice(rawInvoice('lnbcrt', [...ts, ...P, ...P2, ...S, ...D, ...fld(2, [1, 2, 3]), ...fld(9, [19, 1, 2, 3, 4])]))
  if (!r.ok) { t.fail(JSON.stringify(r.error)); return }
  t.equal(r.value.paymentHash, '00'.repeat(32), 'first p')
  t.same(r.value.unknownFields, [{ type: 2, words: [1, 2, 3] }])
  t.same(r.value.fallbacks, [], 'f version 19 skipped')
  t.same(r.value.fieldOrder, ['p', 'p', 's', 'd', 'f'])
})

t.test('expiry, network and the description hash are checked when the caller asks', async t => {
  const description = 'One piece of chocolate cake, one icecream cone, one pickle'
  const enc = encodeInvoice({
    network: 'bcrt', timestamp: 1_000, expirySeconds: 60, paymentHash: '00'.repeat(32), paymentSecret: '11'.repeat(32),
    descriptionHash: bytesToHex(sha256(new TextEncoder().encode(description))),
  }, key)
  if (!enc.ok) { t.fail(); return }
  const d = decodeInvoice(enc.value)
  t.ok(d.ok && expiresAt(d.value) === 1_060)
  t.ok(decodeInvoice(enc.value, { now: 1_060 }).ok, 'valid up to timestamp + expiry')
  t.match(decodeInvoice(enc.value, { now: 1_061 }), { ok: false, error: { reason: 'expired' } })
  t.match(decodeInvoice(enc.value, { network: 'bc' }), { ok: false, error: { reason: 'wrong_network' } })
  t.ok(decodeInvoice(enc.value, { description }).ok, 'matching description')
  t.match(decodeInvoice(enc.value, { description: 'cake' }), { ok: false, error: { reason: 'description_hash_mismatch', field: 'h' } })
  const noX = encodeInvoice(
    { network: 'bcrt', timestamp: 1_000, paymentHash: '00'.repeat(32), paymentSecret: '11'.repeat(32), description: 'x' }, key,
  )
  t.ok(noX.ok && decodeInvoice(noX.value, { now: 4_600 }).ok && !decodeInvoice(noX.value, { now: 4_601 }).ok, 'default expiry is 3600 s')
})

t.test('the encoder refuses bad drafts, naming the field', async t => {
  const base = { network: 'bcrt' as const, timestamp: 1, paymentHash: '00'.repeat(32), paymentSecret: '11'.repeat(32), description: 'x' }
  t.match(encodeInvoice({ ...base, amountMsat: 0 as Msat }, key), { ok: false, error: { reason: 'invalid_draft', field: 'amountMsat' } })
  t.match(encodeInvoice({ ...base, paymentHash: 'zz' }, key), { ok: false, error: { field: 'paymentHash' } })
  t.match(encodeInvoice({ ...base, descriptionHash: '00'.repeat(32) }, key), { ok: false, error: { field: 'description' } })
  t.match(encodeInvoice({ ...base, description: 'é'.repeat(320) }, key), { ok: false, error: { field: 'description' } })
  t.match(encodeInvoice({ ...base, timestamp: 2 ** 35 }, key), { ok: false, error: { field: 'timestamp' } })
  t.match(encodeInvoice(base, new Uint8Array(32)), { ok: false, error: { field: 'payeeSecretKey' } })
})
