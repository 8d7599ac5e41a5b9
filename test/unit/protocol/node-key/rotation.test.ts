// The hub's node-key rotation state machine (protocol/node-key/rotation.ts): stage, grace, commit by
// height, rollback within the grace only, one change at a time, and what each announces.
import t from 'tap'
import type { NodeId } from '../../../../protocol/types.ts'
import {
  inGrace, initialNodeKeyState, phaseAt, rollback, rotate, servedIds, type NodeKeyState,
} from '../../../../protocol/node-key/rotation.ts'
import { MAX_NODE_KEY_GRACE_BLOCKS } from '../../../../protocol/limits.ts'

const K0 = ('02' + '00'.repeat(31) + '01') as NodeId
const K1 = ('02' + '00'.repeat(31) + '02') as NodeId
const K2 = ('02' + '00'.repeat(31) + '03') as NodeId

function must<T> (r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r.error)}`)
  return r.value
}

t.test('rotate: the new key is current, the old one served beside it until grace_until, then alone', async t => {
  const s0 = initialNodeKeyState(K0)
  t.equal(phaseAt(s0, 100), 'single')
  t.same(servedIds(s0, 100), [K0])
  const { state, statement } = must(rotate(s0, K1, 100, 10))
  t.same(statement, { kind: 'rotate', seq: 1, oldId: K0, newId: K1, graceUntilHeight: 110 }, 'announced: K0 → K1 until 110')
  t.equal(state.current, K1)
  t.equal(phaseAt(state, 109), 'grace_rotate', 'in grace at 109')
  t.same(servedIds(state, 109), [K1, K0], 'both keys served, the new one first')
  t.equal(phaseAt(state, 110), 'single', 'the grace ends at grace_until')
  t.same(servedIds(state, 110), [K1], 'only the new key after the grace')
})

t.test('rotate is refused during a grace, with a bad grace, or to a key in use', async t => {
  const { state } = must(rotate(initialNodeKeyState(K0), K1, 100, 10))
  const again = rotate(state, K2, 105, 10)
  t.equal(again.ok ? undefined : again.error.reason, 'grace_in_progress', 'a second rotation within the grace: refused')
  t.ok(must(rotate(state, K2, 110, 10)).state.current === K2, 'after the grace: a new rotation goes ahead')
  for (const g of [0, MAX_NODE_KEY_GRACE_BLOCKS + 1, 1.5]) {
    const r = rotate(initialNodeKeyState(K0), K1, 100, g)
    t.equal(r.ok ? undefined : r.error.reason, 'bad_grace', `grace ${g}: refused`)
  }
  const same = rotate(initialNodeKeyState(K0), K0, 100, 10)
  t.equal(same.ok ? undefined : same.error.reason, 'key_in_use', 'rotating to the current key: refused')
  const back = rotate(state, K0, 110, 10)
  t.equal(back.ok ? undefined : back.error.reason, 'key_in_use', 'rotating back to the key just retired: refused')
})

t.test('rollback within the grace: the old key current again, the new one served until the same height', async t => {
  const { state } = must(rotate(initialNodeKeyState(K0), K1, 100, 10))
  const r = must(rollback(state, 105))
  t.same(r.statement, { kind: 'rollback', seq: 2, oldId: K1, newId: K0, graceUntilHeight: 110 }, 'announced: K1 → K0, same grace_until')
  t.equal(r.state.current, K0)
  t.equal(phaseAt(r.state, 105), 'grace_rollback')
  t.same(servedIds(r.state, 109), [K0, K1], 'K1 still served: its clients learn of the rollback under it')
  t.same(servedIds(r.state, 110), [K0], 'only K0 after the grace')
  const twice = rollback(r.state, 106)
  t.equal(twice.ok ? undefined : twice.error.reason, 'already_rolled_back', 'a rollback of a rollback: refused')
  const rotateAgain = rotate(r.state, K2, 106, 10)
  t.equal(rotateAgain.ok ? undefined : rotateAgain.error.reason, 'grace_in_progress', 'a rotation during the rollback\'s grace: refused')
})

t.test('rollback outside a grace is refused', async t => {
  const none = rollback(initialNodeKeyState(K0), 100)
  t.equal(none.ok ? undefined : none.error.reason, 'not_in_grace', 'never rotated: refused')
  const { state } = must(rotate(initialNodeKeyState(K0), K1, 100, 10))
  const late = rollback(state, 110)
  t.equal(late.ok ? undefined : late.error.reason, 'not_in_grace', 'at grace_until: refused (the rotation is committed)')
  t.ok(inGrace(state, 109) && !inGrace(state, 110), 'the grace is [rotation height, grace_until)')
})

t.test('seq counts every change, in order', async t => {
  let s: NodeKeyState = initialNodeKeyState(K0)
  s = must(rotate(s, K1, 0, 5)).state
  s = must(rollback(s, 1)).state
  s = must(rotate(s, K2, 5, 5)).state
  t.equal(s.seq, 3, 'rotate, rollback, rotate: seq 3')
  t.equal(s.previous?.id, K0, 'the last rotation retired K0')
})
