// The node-key rotation announcement (protocol/node-key/announcement.ts, its wire schema
// protocol/wire/node-key-messages.ts): both signatures cover every field; a signature by the wrong
// key, a changed field, an announcement of one key to itself or a malformed field is refused.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { nodeIdOf } from '../../../../protocol/auth/signature.ts'
import { signAuth } from '../../../../protocol/auth/signature.ts'
import {
  rotationDigest, rotationSignatureFailure, signRotation, type RotationStatement,
} from '../../../../protocol/node-key/announcement.ts'
import { receiptDigest } from '../../../../protocol/receipt/receipt.ts'
import { decodeFrame, encodeMessage, type NodeKeyRotationMessage } from '../../../../protocol/wire/index.ts'

const key = (): Uint8Array => new Uint8Array(randomBytes(32))
const aux = (): [Uint8Array, Uint8Array] => [key(), key()]
const oldKey = key()
const newKey = key()
const statement: RotationStatement = { kind: 'rotate', seq: 1, oldId: nodeIdOf(oldKey), newId: nodeIdOf(newKey), graceUntilHeight: 1_000 }

t.test('a rotation signed by both keys verifies and survives the wire', async t => {
  const m = signRotation(statement, oldKey, newKey, aux())
  t.equal(rotationSignatureFailure(m), undefined, 'both signatures hold')
  const decoded = decodeFrame(encodeMessage(m))
  t.ok(decoded.ok, 'the message decodes')
  if (decoded.ok) t.same(decoded.value, m, 'unchanged by the wire')
})

t.test('every field is covered by the signatures', async t => {
  const m = signRotation(statement, oldKey, newKey, aux())
  const other = nodeIdOf(key())
  const changed: Array<[string, NodeKeyRotationMessage]> = [
    ['kind', { ...m, kind: 'rollback' }],
    ['seq', { ...m, seq: 2 }],
    ['grace_until_height', { ...m, grace_until_height: 1_001 as never }],
    ['new_id', { ...m, new_id: other }],
  ]
  for (const [field, bad] of changed) t.equal(
    rotationSignatureFailure(bad), 'bad_old_signature', `${field} changed: the old key's signature fails`,
  )
  t.equal(rotationSignatureFailure({ ...m, old_id: other }), 'bad_old_signature', 'another old_id: its signature fails')
})

t.test('a thief with only one of the keys cannot make an announcement', async t => {
  const thief = key()
  // The new key is the thief's: the old key never signed it.
  const forged = signRotation({ ...statement, newId: nodeIdOf(thief) }, thief, thief, aux())
  t.equal(rotationSignatureFailure({ ...forged, old_id: statement.oldId }), 'bad_old_signature', 'not signed by the old key: refused')
  // The old key signed, but the new key's signature is someone else's.
  const m = signRotation(statement, oldKey, newKey, aux())
  const byThief = signRotation(statement, oldKey, thief, aux())
  t.equal(rotationSignatureFailure({ ...m, new_signature: byThief.new_signature }), 'bad_new_signature',
    'the new key did not sign: refused (no announcing a key nobody holds)')
  t.equal(rotationSignatureFailure({ ...m, new_signature: m.old_signature }), 'bad_new_signature', 'the old signature twice: refused')
  t.equal(rotationSignatureFailure(signRotation({ ...statement, newId: statement.oldId }, oldKey, oldKey, aux())), 'same_key',
    'a key announced to itself: refused')
})

t.test('the digest is tagged: no other signature of the hub stands in for it', async t => {
  const d = rotationDigest(statement)
  const receipt = receiptDigest({
    v: 1, hub_id: statement.oldId, payment_hash: '00'.repeat(32), amount_msat: 1, fee_msat: 0, payer: statement.oldId,
    payee: statement.newId, reference: null, time_ms: 0, entry: 0,
  })
  t.not(Buffer.from(d).toString('hex'), Buffer.from(receipt).toString('hex'), 'differs from a receipt digest')
  const m = signRotation(statement, oldKey, newKey, aux())
  const handshake = Buffer.from(signAuth('hub', new Uint8Array(32), statement.oldId, statement.newId, oldKey, key())).toString('hex')
  t.equal(rotationSignatureFailure({ ...m, old_signature: handshake }), 'bad_old_signature', 'a handshake signature is refused')
})

t.test('the wire schema refuses malformed fields, naming them', async t => {
  const m = signRotation(statement, oldKey, newKey, aux())
  const bad: Array<[string, Record<string, unknown>]> = [
    ['seq', { ...m, seq: 0 }], ['kind', { ...m, kind: 'commit' }], ['old_id', { ...m, old_id: '04' + '11'.repeat(32) }],
    ['grace_until_height', { ...m, grace_until_height: -1 }], ['new_signature', { ...m, new_signature: 'ab' }],
  ]
  for (const [field, v] of bad) {
    const r = decodeFrame(JSON.stringify(v))
    t.notOk(r.ok, `${field}: refused`)
    if (!r.ok) t.match(r.error.detail, field, `the error names ${field}`)
  }
  t.notOk(decodeFrame(JSON.stringify({ ...m, extra: 1 })).ok, 'an unknown field is refused')
})
