// The backup file (hub/backup/format.ts): the manifest first, the body's size and SHA-256 in it, every
// record read back as written; a file cut short, changed, extended, mislabelled or forged is refused
// with its reason, before a single record is handed out.
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  BACKUP_FORMAT, readBackupFile, verifyBackupFile, writeBackupFile, type BackupRecord,
} from '../../../../hub/backup/format.ts'

const HUB_ID = '02' + 'ab'.repeat(32)
const enc = new TextEncoder()

function records (): BackupRecord[] {
  return [
    { kind: 'file', name: 'node-key.hex', mode: 0o600, data: enc.encode('11'.repeat(32) + '\n') },
    { kind: 'file', name: 'wallet/wallet.json', mode: 0o600, data: enc.encode('{"v":1}') },
    { kind: 'entry', key: 'chan-index/' + 'cd'.repeat(32), value: enc.encode('{"peer":"x"}') },
    { kind: 'entry', key: 'chan/' + 'cd'.repeat(32) + '/state', value: new Uint8Array([0, 1, 2, 255, 10, 13]) },
    { kind: 'entry', key: 'mon-tip', value: new Uint8Array(0) },
  ]
}

async function * each<T> (xs: T[]): AsyncGenerator<T> { for (const x of xs) yield x }

async function written (t: Test): Promise<{ file: string; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-format-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'b.jsonl')
  await writeBackupFile(file, { hub_id: HUB_ID, created_at: '2026-12-07T17:00:00.000Z', height: 321 }, each(records()))
  return { file, dir }
}

/** Rewrites the file's body with `change`, keeping (or recomputing) the manifest's checksum. */
function rewrite (file: string, change: (body: string) => string, recompute: boolean): void {
  const text = fs.readFileSync(file, 'utf8')
  const nl = text.indexOf('\n')
  const manifest = JSON.parse(text.slice(0, nl)) as Record<string, unknown>
  const body = change(text.slice(nl + 1))
  if (recompute) {
    manifest.body_bytes = Buffer.byteLength(body)
    manifest.body_sha256 = createHash('sha256').update(body).digest('hex')
  }
  fs.writeFileSync(file, JSON.stringify(manifest) + '\n' + body)
}

t.test('written: the manifest first, with the body\'s size and SHA-256; mode 0600; records read back as written', async t => {
  const { file, dir } = await written(t)
  t.equal(fs.statSync(file).mode & 0o777, 0o600, 'mode 0600: it holds the node key and the seed')
  t.same(fs.readdirSync(dir), ['b.jsonl'], 'no partial file left')
  const text = fs.readFileSync(file, 'utf8')
  const nl = text.indexOf('\n')
  const manifest = JSON.parse(text.slice(0, nl)) as Record<string, unknown>
  const body = text.slice(nl + 1)
  t.match(manifest, {
    format: BACKUP_FORMAT, version: 1, hub_id: HUB_ID, created_at: '2026-12-07T17:00:00.000Z', height: 321, store_entries: 3, channels: 1,
    files: ['node-key.hex', 'wallet/wallet.json'], body_bytes: Buffer.byteLength(body),
  })
  t.equal(manifest.body_sha256, createHash('sha256').update(body).digest('hex'), 'the checksum is the body\'s SHA-256')
  const back: BackupRecord[] = []
  const r = await readBackupFile(file, async x => { back.push(x) })
  t.ok(r.ok, 'it verifies')
  t.same(back, records(), 'every record, bytes and order as written')
  async function * failing (): AsyncGenerator<BackupRecord> { yield records()[0]!; throw new Error('the store closed') }
  await t.rejects(writeBackupFile(path.join(dir, 'c.jsonl'), { hub_id: HUB_ID, created_at: '2026-12-07T17:00:00.000Z', height: 1 },
    failing()), /the store closed/, 'a failure while reading the store rejects')
  t.same(fs.readdirSync(dir), ['b.jsonl'], 'and leaves no part of the failed backup')
  await t.rejects(writeBackupFile(file, { hub_id: HUB_ID, created_at: '2026-12-07T17:00:00.000Z', height: 1 }, each([])), /exists already/,
    'never written over')
})

t.test('refused with its reason, and no record handed out, when the file is cut, changed, extended, mislabelled or forged', async t => {
  const cases: Array<[string, (file: string) => void, string, RegExp]> = [
    ['cut short', f => { fs.truncateSync(f, fs.statSync(f).size - 7) }, 'truncated', /cut short/],
    ['cut inside the manifest', f => { fs.truncateSync(f, 40) }, 'not_a_backup', /no manifest line/],
    ['one byte of the body changed', f => {
      rewrite(f, b => b.replace('"mon-tip"', '"mon-tiq"'), false)
    }, 'corrupt', /SHA-256 .* the file was changed/],
    ['bytes appended', f => { fs.appendFileSync(f, '{"k":"x","v":""}\n') }, 'corrupt', /body bytes, the manifest says/],
    ['a count changed in the manifest', f => {
      const text = fs.readFileSync(f, 'utf8')
      fs.writeFileSync(f, text.replace('"store_entries":3', '"store_entries":4'))
    }, 'bad_manifest', /the manifest says 4/],
    ['a record writing outside the data directory, checksum recomputed', f => {
      rewrite(f, b => b.replace('"f":"wallet/wallet.json"', '"f":"../../evil"'), true)
    }, 'corrupt', /record 2: f: /],
    ['a store key that is not printable ASCII, checksum recomputed', f => {
      rewrite(f, b => b.replace('"k":"mon-tip"', '"k":"mon\\u0000tip"'), true)
    }, 'corrupt', /record 5: /],
    ['another version', f => {
      const text = fs.readFileSync(f, 'utf8')
      fs.writeFileSync(f, text.replace('"version":1', '"version":2'))
    }, 'bad_manifest', /version: must be 1/],
    ['a file of something else', f => { fs.writeFileSync(f, 'hello\nworld\n') }, 'not_a_backup', /not a JSON manifest/],
    ['no file', f => { fs.rmSync(f) }, 'unreadable', /no such file/],
  ]
  for (const [what, damage, reason, message] of cases) {
    const { file } = await written(t)
    damage(file)
    let handed = 0
    const r = await readBackupFile(file, async () => { handed++ })
    t.equal(r.ok ? 'ok' : r.error.reason, reason, `${what}: ${reason}`)
    if (!r.ok) t.match(r.error.message, message, `${what}: ${r.error.message}`)
    t.equal(handed, 0, `${what}: no record handed out`)
    const v = await verifyBackupFile(file)
    t.equal(v.ok ? 'ok' : v.error.reason, reason, `${what}: verify says the same`)
  }
})
