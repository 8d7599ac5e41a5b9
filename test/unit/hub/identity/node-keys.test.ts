// The hub's node keys on disk and in memory (hub/identity/node-keys.ts, key-files.ts): a rotation's key
// and state are durable (0600) before it is announced; a restart loads the same keys and grace; a
// refused rotation leaves no key behind; only the sessions under the key on its way out are told; the
// end of the grace is reported once; a key file that is not the key named is refused at start.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { nodeIdOf } from '../../../../protocol/auth/signature.ts'
import { rotationSignatureFailure } from '../../../../protocol/node-key/announcement.ts'
import type { NodeId } from '../../../../protocol/types.ts'
import type { NodeKeyRotationMessage } from '../../../../protocol/wire/index.ts'
import { HubNodeKeys } from '../../../../hub/identity/node-keys.ts'
import { NODE_KEYS_DIR, ROTATION_FILE } from '../../../../hub/identity/key-files.ts'

interface Setup {
  dir: string
  height: { now: number }
  open: () => HubNodeKeys
  events: { announced: NodeKeyRotationMessage[]; retired: NodeId[] }
}

function setup (t: { teardown: (f: () => void) => void }): Setup {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-keys-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const height = { now: 100 }
  const events = { announced: [] as NodeKeyRotationMessage[], retired: [] as NodeId[] }
  const open = (): HubNodeKeys => {
    const k = HubNodeKeys.open(dir, () => height.now)
    k.attach({ announce: m => events.announced.push(m), retired: id => events.retired.push(id), log: () => {} })
    return k
  }
  return { dir, height, open, events }
}

t.test('a rotation is durable and announced, signed by both keys; a restart keeps the grace', async t => {
  const { dir, height, open, events } = setup(t)
  const keys = open()
  const K0 = keys.currentId
  t.same(keys.servedIds(), [K0], 'one key before any rotation')
  const r = keys.rotate(10)
  if (!r.ok) throw new Error(r.error.detail)
  const K1 = r.value.current
  t.not(K1, K0)
  t.equal(fs.statSync(path.join(dir, NODE_KEYS_DIR, `${K1}.hex`)).mode & 0o777, 0o600, 'the new key file is 0600')
  t.equal(fs.statSync(path.join(dir, ROTATION_FILE)).mode & 0o777, 0o600, 'the rotation state is 0600')
  t.equal(events.announced.length, 1, 'announced once')
  const a = events.announced[0]!
  t.same([a.kind, a.old_id, a.new_id, a.grace_until_height, a.seq], ['rotate', K0, K1, 110, 1])
  t.equal(rotationSignatureFailure(a), undefined, 'signed by both keys')
  t.same(keys.servedIds(), [K1, K0], 'both served in the grace')
  t.equal(keys.keyFor(K0).id, K0, 'a client asking for the old key gets it in the grace')
  t.equal(nodeIdOf(keys.keyFor(K0).secret), K0, 'with its secret')
  t.equal(keys.keyFor(undefined).id, K1, 'one asking for none gets the new key')
  t.equal(keys.announcementFor(K0), a, 'a session under the old key is told')
  t.equal(keys.announcementFor(K1), undefined, 'one under the new key is not')

  const restarted = open()
  t.equal(restarted.currentId, K1, 'a restart loads the new key as current')
  t.same(restarted.servedIds(), [K1, K0], 'and serves both until the grace ends')
  t.same(restarted.announcementFor(K0), a, 'with the same announcement')

  height.now = 110
  t.same(restarted.servedIds(), [K1], 'at grace_until only the new key')
  t.equal(restarted.keyFor(K0).id, K1, 'a client asking for the old key gets the new one (and refuses it)')
  t.equal(restarted.announcementFor(K0), undefined, 'nobody is told any more')
  restarted.onBlock()
  restarted.onBlock()
  t.same(events.retired, [K0], 'the end of the grace is reported once')

  // The operator destroys the retired key (node-key.hex here): the hub starts without it, makes no other.
  fs.rmSync(path.join(dir, 'node-key.hex'))
  const withoutOld = open()
  t.equal(withoutOld.currentId, K1, 'a restart after the grace needs only the current key')
  t.notOk(fs.existsSync(path.join(dir, 'node-key.hex')), 'and makes no new node-key.hex')
})

t.test('a refused rotation makes no key; rollback within the grace only', async t => {
  const { dir, height, open, events } = setup(t)
  const keys = open()
  const K0 = keys.currentId
  const bad = keys.rotate(0)
  t.equal(bad.ok ? undefined : bad.error.reason, 'bad_grace')
  t.notOk(fs.existsSync(path.join(dir, NODE_KEYS_DIR)), 'no key file made for a refused rotation')
  const noRollback = keys.rollback()
  t.equal(noRollback.ok ? undefined : noRollback.error.reason, 'not_in_grace')
  const r = keys.rotate(10)
  if (!r.ok) throw new Error(r.error.detail)
  const K1 = r.value.current
  const again = keys.rotate(10)
  t.equal(again.ok ? undefined : again.error.reason, 'grace_in_progress', 'a second rotation in the grace: refused')
  t.equal(fs.readdirSync(path.join(dir, NODE_KEYS_DIR)).length, 1, 'and no second key file')
  height.now = 105
  const back = keys.rollback()
  if (!back.ok) throw new Error(back.error.detail)
  t.same([back.value.phase, back.value.current, back.value.previous, back.value.grace_until_height], ['grace_rollback', K0, K1, 110])
  const a = events.announced.at(-1)!
  t.same([a.kind, a.old_id, a.new_id, a.seq], ['rollback', K1, K0, 2], 'the rollback announced K1 → K0')
  t.equal(rotationSignatureFailure(a), undefined, 'signed by both keys')
  t.equal(keys.announcementFor(K1), a, 'sessions under K1 are told')
  t.equal(open().currentId, K0, 'a restart after the rollback proves K0')
})

t.test('a key file that is not the key the state names is refused at start', async t => {
  const { dir, open } = setup(t)
  const r = open().rotate(10)
  if (!r.ok) throw new Error(r.error.detail)
  const file = path.join(dir, NODE_KEYS_DIR, `${r.value.current}.hex`)
  fs.writeFileSync(file, '11'.repeat(32) + '\n')
  t.throws(() => open(), { message: new RegExp(`is not the key of ${r.value.current}`) }, 'named in the error')
  fs.rmSync(file)
  t.throws(() => open(), { message: /missing/ }, 'a missing key file: refused, named')
})
