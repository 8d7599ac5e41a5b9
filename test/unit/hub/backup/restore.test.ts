// An online backup of a LevelDB store under a stream of atomic writes (hub/backup/take.ts), restored
// into a new data directory (hub/backup/restore.ts) that a hub would start from: the snapshot holds
// every batch whole or not at all, the files come back with mode 0600 and the configuration points at
// the new directory, every channel is held (hub/backup/restored.ts) until a `reestablished` event, and
// a bad backup or a used directory writes nothing.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { keys } from '../../../../host/store/keys.ts'
import { LevelStore } from '../../../../host/store/node/level-store.ts'
import { put } from '../../../../host/store/store.ts'
import { channelError } from '../../../../protocol/errors.ts'
import { restoreBackup, STORE_DIR } from '../../../../hub/backup/restore.ts'
import { RestoredChannels } from '../../../../hub/backup/restored.ts'
import { takeBackup } from '../../../../hub/backup/take.ts'

const HUB_ID = '03' + '5a'.repeat(32)
const CHANNELS = ['aa'.repeat(32), 'bb'.repeat(32)]

function tmp (t: { teardown (f: () => void): void }, name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), name))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

const ROTATED_KEY = `node-keys/02${'44'.repeat(32)}.hex`
const FILES = [
  'node-key.hex', 'node-key-rotation.json', 'admin.token', 'read.token', 'wallet/wallet-seed.hex', 'wallet/wallet.json', 'hub-config.json',
  ROTATED_KEY,
]

/** A hub data directory: the files a backup carries, and a store with two channels. */
async function hubDir (root: string): Promise<{ dir: string; store: LevelStore }> {
  const dir = path.join(root, 'hub')
  fs.mkdirSync(path.join(dir, 'wallet'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'node-key.hex'), '22'.repeat(32) + '\n', { mode: 0o600 })
  fs.writeFileSync(path.join(dir, 'admin.token'), 'cc'.repeat(32) + '\n', { mode: 0o600 })
  fs.writeFileSync(path.join(dir, 'read.token'), 'dd'.repeat(32) + '\n', { mode: 0o600 })
  fs.writeFileSync(path.join(dir, 'wallet', 'wallet-seed.hex'), 'ee'.repeat(32) + '\n', { mode: 0o600 })
  fs.writeFileSync(path.join(dir, 'wallet', 'wallet.json'), '{"tip":1}', { mode: 0o600 })
  // A node-key rotation's files (hub/identity/key-files.ts): its state and the key it made.
  fs.writeFileSync(path.join(dir, 'node-key-rotation.json'), '{"v":1}', { mode: 0o600 })
  fs.mkdirSync(path.join(dir, 'node-keys'))
  fs.writeFileSync(path.join(dir, ROTATED_KEY), '33'.repeat(32) + '\n', { mode: 0o600 })
  fs.writeFileSync(path.join(dir, 'node-keys', 'notes.txt'), 'not a key')
  const store = await LevelStore.open(path.join(dir, STORE_DIR))
  await store.write(CHANNELS.flatMap(id => [put(keys.channelIndex(id), { peer: id }), put(keys.channelState(id), { n: 0 })]))
  return { dir, store }
}

t.test('taken while atomic writes go on: every batch whole or absent, a prefix of them; restored with the files and the marks', async t => {
  const root = tmp(t, 'backup-restore-')
  const { dir, store } = await hubDir(root)
  // A stream of atomic writes, each of two keys that must never be seen apart.
  let n = 0
  let stop = false
  const writing = (async () => {
    while (!stop) {
      const i = n++
      await store.write([put(`fwd/${String(i).padStart(6, '0')}`, { i }), put(`hold/${String(i).padStart(6, '0')}`, { i })])
    }
  })()
  while (n < 50) await new Promise(resolve => setTimeout(resolve, 5))
  const config = { dataDir: dir, adminPort: 0, btcd: { mode: 'managed' } }
  const taken = await takeBackup({ store, dataDir: dir, hubId: HUB_ID, height: 777, config, now: () => Date.parse('2026-12-07T18:00:00Z') })
  const during = n
  while (n < during + 50) await new Promise(resolve => setTimeout(resolve, 5))
  stop = true
  await writing
  await store.close()
  t.equal(path.dirname(taken.path), path.join(dir, 'backups'), 'written under <data-dir>/backups/')
  t.equal(taken.manifest.hub_id, HUB_ID)
  t.equal(taken.manifest.height, 777)
  t.equal(taken.manifest.channels, 2)
  t.same(taken.manifest.files, FILES, 'every file of the data directory a restore needs, the rotated node keys too, nothing else')

  const target = path.join(root, 'restored')
  const r = await restoreBackup({ backup: taken.path, dataDir: target, now: () => Date.parse('2026-12-07T18:05:00Z') })
  if (!r.ok) throw new Error(JSON.stringify(r.error))
  t.same(r.value.channels.sort(), CHANNELS, 'both channels restored')
  t.notOk(fs.existsSync(`${target}.restoring`), 'the work directory renamed into place')
  for (const f of FILES) {
    t.equal(fs.statSync(path.join(target, f)).mode & 0o777, 0o600, `${f}: mode 0600`)
  }
  t.equal(fs.readFileSync(path.join(target, 'node-key.hex'), 'utf8'), '22'.repeat(32) + '\n', 'the node key')
  t.equal(fs.readFileSync(path.join(target, ROTATED_KEY), 'utf8'), '33'.repeat(32) + '\n', 'the key a rotation made')
  t.notOk(fs.existsSync(path.join(target, 'node-keys', 'notes.txt')), 'no other file of node-keys/')
  t.same(JSON.parse(fs.readFileSync(path.join(target, 'hub-config.json'), 'utf8')), { ...config, dataDir: target },
    'the configuration, pointed at the restored directory')

  const restored = await LevelStore.open(path.join(target, STORE_DIR))
  t.teardown(() => restored.close())
  const seen = new Map<string, Set<number>>([['fwd/', new Set()], ['hold/', new Set()]])
  for (const [prefix, set] of seen) for await (const [, v] of restored.iterate(prefix)) set.add(
    (JSON.parse(new TextDecoder().decode(v)) as { i: number }).i
  )
  const fwd = [...seen.get('fwd/')!].sort((a, b) => a - b)
  t.same(fwd, [...seen.get('hold/')!].sort((a, b) => a - b), 'each atomic write whole: both of its keys, or neither')
  t.ok(fwd.length >= 50 && fwd.length <= during, `the writes done before the snapshot, none after the backup returned (${fwd.length})`)
  t.same(fwd, fwd.map((_, i) => i), 'a prefix of the writes, in their order: the store as of one instant')

  const logged: Array<Record<string, unknown>> = []
  const marks = await RestoredChannels.load(restored, e => { logged.push(e) })
  t.equal(marks.info?.hub_id, HUB_ID, 'restore/info names the backup')
  t.equal(marks.info?.height, 777)
  t.match(logged[0], { event: 'restored_from_backup', channels_unverified: 2 }, 'the start says it was restored')
  t.ok(CHANNELS.every(id => marks.held(id)), 'every restored channel held')
  marks.event(CHANNELS[0]!, { type: 'channel_failed', error: channelError('we_are_behind', 'proven'), broadcastOurCommitment: false })
  t.ok(marks.held(CHANNELS[0]!), 'proven behind: still held (its monitor never broadcasts our commitment anyway)')
  marks.event(CHANNELS[0]!, { type: 'reestablished', retransmitted: 0 })
  for (let i = 0; i < 100 && marks.held(CHANNELS[0]!); i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.notOk(marks.held(CHANNELS[0]!), 'in sync with its peer: released')
  t.ok(marks.held(CHANNELS[1]!), 'the other channel still held')
  t.equal(await restored.get(keys.restorePending(CHANNELS[0]!)), undefined, 'the release is stored')
  const again = await RestoredChannels.load(restored, () => {})
  t.same([again.held(CHANNELS[0]!), again.held(CHANNELS[1]!)], [false, true], 'and survives a restart')
  await again.releaseResolved([{ channelId: CHANNELS[1]!, phase: 'normal' }])
  t.ok(again.held(CHANNELS[1]!), 'an open channel stays held')
  await again.releaseResolved([{ channelId: CHANNELS[1]!, phase: 'closed' }])
  t.notOk(again.held(CHANNELS[1]!), 'a channel closed on-chain is released')
  t.same(again.view()?.channels_held, [], 'none held')
})

t.test('a corrupt backup, or a directory in use, writes nothing', async t => {
  const root = tmp(t, 'backup-refuse-')
  const { dir, store } = await hubDir(root)
  const taken = await takeBackup({ store, dataDir: dir, hubId: HUB_ID, height: 1, config: { dataDir: dir }, now: () => Date.now() })
  await store.close()
  const target = path.join(root, 'restored')
  const text = fs.readFileSync(taken.path, 'utf8')
  const bad = path.join(root, 'bad.jsonl')
  fs.writeFileSync(bad, text.slice(0, text.length - 10))
  const r = await restoreBackup({ backup: bad, dataDir: target, now: () => Date.now() })
  t.equal(r.ok ? 'ok' : r.error.kind === 'backup' ? r.error.error.reason : r.error.kind, 'truncated', 'a truncated backup refused')
  t.notOk(fs.existsSync(target) || fs.existsSync(`${target}.restoring`), 'nothing written')
  const used = await restoreBackup({ backup: taken.path, dataDir: dir, now: () => Date.now() })
  t.match(used.ok ? 'ok' : used.error, { kind: 'target', detail: /exists and is not empty/ }, 'an existing data directory refused')
  const noChain = await restoreBackup({ backup: taken.path, dataDir: target, chainFrom: root, now: () => Date.now() })
  t.match(noChain.ok ? 'ok' : noChain.error, { kind: 'target', detail: /no btcd\/ in it/ }, '--chain-from without a chain refused')
  fs.mkdirSync(path.join(dir, 'btcd', 'data'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'btcd', 'data', 'blocks'), 'chain')
  fs.writeFileSync(path.join(dir, 'btcd-rpc.json'), '{}')
  const withChain = await restoreBackup({
    backup: taken.path, dataDir: path.join(root, 'with-chain'), chainFrom: dir, now: () => Date.now(),
  })
  t.ok(withChain.ok, 'restored with --chain-from')
  t.equal(fs.readFileSync(path.join(root, 'with-chain', 'btcd', 'data', 'blocks'), 'utf8'), 'chain', 'the managed node\'s chain copied')
  t.ok(fs.existsSync(path.join(root, 'with-chain', 'btcd-rpc.json')), 'with its RPC login')
  fs.mkdirSync(`${target}.restoring`)
  const leftover = await restoreBackup({ backup: taken.path, dataDir: target, now: () => Date.now() })
  t.match(leftover.ok ? 'ok' : leftover.error, { kind: 'target', detail: /a restore that did not finish/ }, 'a left-over restore refused')
})
