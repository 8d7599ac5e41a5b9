// `npm run restore` (scripts/restore.ts): its exit codes and what it prints. 0 verified or restored,
// 2 a bad command line, 3 a backup refused (with its reason), 4 a target directory refused.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { writeBackupFile } from '../../../hub/backup/format.ts'
import { main } from '../../../scripts/restore.ts'

async function run (argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, s => out.push(s), s => err.push(s))
  return { code, out: out.join('\n'), err: err.join('\n') }
}

t.test('verify-only, restore, and each refusal with its exit code', async t => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'restore-script-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const backup = path.join(dir, 'b.jsonl')
  async function * records (): AsyncGenerator<never> {}
  await writeBackupFile(backup, { hub_id: '02' + '11'.repeat(32), created_at: '2026-12-07T18:00:00.000Z', height: 9 }, records())

  const verified = await run(['--backup', backup, '--verify-only'])
  t.equal(verified.code, 0, 'a good file verifies: exit 0')
  t.match(JSON.parse(verified.out), { event: 'backup_verified', manifest: { height: 9, store_entries: 0 } }, 'and says what it holds')
  t.notOk(fs.existsSync(path.join(dir, 'hub')), 'verify-only writes nothing')

  const restored = await run(['--backup', backup, '--data-dir', path.join(dir, 'hub')])
  t.equal(restored.code, 0, `restored: exit 0 (${restored.err})`)
  t.match(JSON.parse(restored.out), { event: 'restored', height: 9, channels_held: 0 })
  t.ok(fs.existsSync(path.join(dir, 'hub', 'store')), 'the store is there')

  const again = await run(['--backup', backup, '--data-dir', path.join(dir, 'hub')])
  t.equal(again.code, 4, 'into a used directory: exit 4')
  t.match(again.err, /exists and is not empty.*nothing was written/)

  fs.appendFileSync(backup, 'x')
  const corrupt = await run(['--backup', backup, '--data-dir', path.join(dir, 'other')])
  t.equal(corrupt.code, 3, 'a changed file: exit 3')
  t.match(corrupt.err, /corrupt: .*nothing was written/, 'naming why')
  t.equal((await run(['--backup', backup, '--verify-only'])).code, 3, 'verify-only says the same')

  t.equal((await run(['--data-dir', dir])).code, 2, 'no --backup: exit 2')
  t.equal((await run(['--backup', backup])).code, 2, 'no --data-dir: exit 2')
  t.equal((await run(['--bogus'])).code, 2, 'an unknown flag: exit 2')
})
