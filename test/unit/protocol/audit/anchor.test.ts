// The anchor's commitment and its OP_RETURN script (protocol/audit/anchor.ts): every field changes
// the commitment, the script is standard null data that parses back, and other null data is not an
// anchor.
import t from 'tap'
import { ANCHOR_TAG, GENESIS_COMMITMENT, anchorCommitment, anchorScript, commitmentOfScript } from '../../../../protocol/audit/anchor.ts'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '../../../../protocol/types.ts'

const root = 'ab'.repeat(32)
const claim = { prev_commitment: GENESIS_COMMITMENT, root, from: 0, to: 10 }

t.test('commitment = sha256(tag ‖ prev ‖ root ‖ u64 from ‖ u64 to)', async t => {
  const u64 = (n: number): number[] => [0, 0, 0, 0, 0, 0, 0, n]
  const expected = bytesToHex(sha256(new Uint8Array([
    ...ANCHOR_TAG, ...hexToBytes(GENESIS_COMMITMENT), ...hexToBytes(root), ...u64(0), ...u64(10)
  ])))
  t.equal(anchorCommitment(claim), expected)
})

t.test('every field changes the commitment', async t => {
  const c = anchorCommitment(claim)
  t.not(anchorCommitment({ ...claim, prev_commitment: '01'.repeat(32) }), c, 'prev')
  t.not(anchorCommitment({ ...claim, root: 'ac'.repeat(32) }), c, 'root')
  t.not(anchorCommitment({ ...claim, from: 1 }), c, 'from')
  t.not(anchorCommitment({ ...claim, to: 11 }), c, 'to')
  t.throws(() => anchorCommitment({ ...claim, from: 10 }), RangeError, 'an empty range is refused')
  t.throws(() => anchorCommitment({ ...claim, to: 2 ** 53 }), RangeError, 'a range past the safe integers is refused')
})

t.test('the script is OP_RETURN with 36 bytes (magic ‖ commitment) and parses back', async t => {
  const c = anchorCommitment(claim)
  const s = anchorScript(c)
  t.equal(s.length, 2 * 38)
  t.equal(s.slice(0, 4), '6a24', 'OP_RETURN, push 36')
  t.equal(s.slice(4, 12), bytesToHex(new TextEncoder().encode('MPA1')))
  t.equal(commitmentOfScript(s), c)
  t.equal(commitmentOfScript('6a24' + '00'.repeat(36)), null, 'other null data of the same length')
  t.equal(commitmentOfScript(s.slice(0, -2)), null, 'truncated')
  t.equal(commitmentOfScript('0014' + '11'.repeat(20)), null, 'a P2WPKH script')
  t.equal(commitmentOfScript('zz'.repeat(38)), null, 'not hex')
})
