// The payer recovers the payee of every invoice it pays (BOLT #11, no `n` field). The SDK runs on the
// WASM curve (tiny-secp256k1), whose recovery must agree with noble's on every BOLT #11 example —
// including the high-S one — and on fresh invoices, and must refuse what noble refuses.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { decodeInvoice, encodeInvoice } from '../../../../protocol/invoice/index.ts'
import { nobleCurve, setDefaultCurve } from '../../../../protocol/crypto/index.ts'
import { tinyCurve } from '../../../../protocol/crypto/tiny.ts'
import { nodeIdOf } from '../../../../protocol/auth/signature.ts'
import { bytesToHex, hexToBytes, type Msat } from '../../../../protocol/types.ts'

const repoRoot = new URL('../../../../', import.meta.url).pathname
const vectors = JSON.parse(readFileSync(join(repoRoot, 'test', 'vectors', 'bolt11', 'examples.json'), 'utf8')) as {
  valid: Array<{ title: string; invoice: string; recovered_pubkey: string }>
  invalid: Array<{ title: string; invoice: string }>
}

const decodeWith = (curve: typeof tinyCurve, invoice: string): ReturnType<typeof decodeInvoice> => {
  setDefaultCurve(curve)
  return decodeInvoice(invoice)
}

t.test('tiny and noble recover the same payee from every BOLT #11 example', async t => {
  t.ok(vectors.valid.some(v => v.title.startsWith('Public-key recovery with high-S signature')), 'the high-S example is among them')
  let decoded = 0
  for (const v of vectors.valid) {
    const tiny = decodeWith(tinyCurve, v.invoice)
    const noble = decodeWith(nobleCurve, v.invoice)
    t.equal(tiny.ok, noble.ok, `both decode, or neither: ${v.title}`)
    t.same(tiny.ok && tiny.value.payee, noble.ok && noble.value.payee, v.title)
    if (tiny.ok) { decoded++; t.equal(tiny.value.payee, v.recovered_pubkey.toLowerCase()) }
  }
  t.ok(decoded >= 14, `${decoded} examples decoded`)
  for (const v of vectors.invalid) {
    const tiny = decodeWith(tinyCurve, v.invoice)
    const noble = decodeWith(nobleCurve, v.invoice)
    t.same(tiny.ok ? 'ok' : tiny.error.reason, noble.ok ? 'ok' : noble.error.reason, `invalid: ${v.title}`)
  }
})

t.test('fresh invoices: the recovered payee is the signer; a damaged signature recovers someone else or nothing', async t => {
  for (let i = 1; i <= 20; i++) {
    const key = hexToBytes(i.toString(16).padStart(2, '0').repeat(32))
    const enc = encodeInvoice({
      network: 'bcrt', amountMsat: (1000 * i) as Msat, timestamp: 1_700_000_000 + i, paymentHash: 'ab'.repeat(32),
      paymentSecret: 'cd'.repeat(32),
      description: `invoice ${i}`, expirySeconds: 600, minFinalCltvExpiryDelta: 18, includeNodeId: false,
    }, key)
    if (!enc.ok) { t.fail('encode'); continue }
    const tiny = decodeWith(tinyCurve, enc.value)
    t.equal(tiny.ok && tiny.value.payee, nodeIdOf(key), `invoice ${i}`)
    // Flip one character of the signature part (before the 6-character checksum) and fix the checksum:
    // bech32 data changes, so the signature (or recovery id) differs.
    const { bech32 } = await import('bech32')
    const dec = bech32.decode(enc.value, 2048)
    const words = [...dec.words]
    words[words.length - 5] = (words[words.length - 5]! + 1) % 32
    const damaged = bech32.encode(dec.prefix, words, 2048)
    const a = decodeWith(tinyCurve, damaged)
    const b = decodeWith(nobleCurve, damaged)
    t.same(
      a.ok ? bytesToHex(hexToBytes(a.value.payee)) : a.error.reason, b.ok ? b.value.payee : b.error.reason,
      `damaged ${i}: both curves agree`,
    )
    t.not(a.ok && a.value.payee, nodeIdOf(key), `damaged ${i}: not the signer`)
  }
})
