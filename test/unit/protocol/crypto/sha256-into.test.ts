// SHA-256 into a caller's buffer (protocol/crypto/sha256-into.ts): the same digest as @noble/hashes for
// every message length across the block and padding boundaries, from any offset, into any offset.
import t from 'tap'
import fc from 'fast-check'
import { sha256 } from '@noble/hashes/sha2.js'
import { sha256Into } from '../../../../protocol/crypto/sha256-into.ts'
import { bytesToHex } from '../../../../protocol/types.ts'

const digestOf = (msg: Uint8Array, start: number, len: number): string => {
  const out = new Uint8Array(32)
  sha256Into(msg, start, len, out, 0)
  return bytesToHex(out)
}

t.test('every length from 0 to 300 bytes gives noble\'s digest (one, two and more blocks; padding in its own block)', async t => {
  const msg = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff)
  for (let len = 0; len <= 300; len++) {
    t.equal(digestOf(msg, 0, len), bytesToHex(sha256(msg.subarray(0, len))), `${len} bytes`)
  }
})

t.test('property: any range of any buffer, written at any offset, even over the message itself', async t => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat(), fc.nat(), fc.nat(), (buf, a, b, c) => {
    const start = buf.length === 0 ? 0 : a % buf.length
    const len = (buf.length - start) === 0 ? 0 : b % (buf.length - start + 1)
    const want = bytesToHex(sha256(buf.subarray(start, start + len)))
    const at = c % 33
    const out = new Uint8Array(32 + at)
    sha256Into(buf, start, len, out, at)
    if (bytesToHex(out.subarray(at, at + 32)) !== want) return false
    if (buf.length < 32) return true
    const copy = buf.slice()
    sha256Into(copy, start, len, copy, 0)
    return bytesToHex(copy.subarray(0, 32)) === want
  }), { numRuns: 500 })
  t.pass('checked')
})

t.test('a range outside either buffer is refused, nothing written', async t => {
  const out = new Uint8Array(32)
  t.throws(() => { sha256Into(new Uint8Array(10), 5, 6, out, 0) }, RangeError)
  t.throws(() => { sha256Into(new Uint8Array(10), -1, 2, out, 0) }, RangeError)
  t.throws(() => { sha256Into(new Uint8Array(10), 0, 10, out, 1) }, RangeError)
  t.same(out, new Uint8Array(32))
})
