// hubctl backup: an online backup of the running hub (POST /backup, hub/admin/backup-routes.ts). Without
// --out the hub keeps the file in <data-dir>/backups/ and hubctl prints where; with --out FILE the hub
// sends the file, hubctl writes it (mode 0600, atomically) and checks it (manifest, size, checksum)
// before saying it is there: a backup that would not restore is never reported as taken.
import fs from 'node:fs'
import path from 'node:path'
import { verifyBackupFile, type BackupManifest } from '../backup/format.ts'
import { AdminClient, CtlError, EXIT } from './client.ts'
import type { Out } from './commands.ts'
import { fields } from './table.ts'

function manifestText (where: string, m: BackupManifest): string {
  return fields([
    ['backup', where], ['hub id', m.hub_id], ['taken at', m.created_at], ['height', m.height], ['channels', m.channels],
    ['store entries', m.store_entries], ['files', m.files.join(', ')], ['bytes', m.body_bytes], ['sha256', m.body_sha256],
  ])
}

export async function backup (c: AdminClient, o: Out, out: string | undefined): Promise<void> {
  if (out === undefined) {
    const body = (await c.call('POST', '/backup', {})).body as { path: string; manifest: BackupManifest }
    o.print(o.json ? JSON.stringify(body, null, 2) : manifestText(body.path, body.manifest))
    return
  }
  const file = path.resolve(out)
  if (fs.existsSync(file)) throw new CtlError(EXIT.usage, `--out ${out}: exists already (a backup is never written over)`)
  const a = await c.call('POST', '/backup', { download: true })
  const partial = `${file}.partial`
  fs.writeFileSync(partial, a.text, { mode: 0o600, flag: 'wx' })
  const fd = fs.openSync(partial, 'r')
  try { fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
  const checked = await verifyBackupFile(partial)
  if (!checked.ok) {
    fs.rmSync(partial)
    throw new CtlError(
      EXIT.refused, `the backup the hub sent does not verify (${checked.error.reason}: ${checked.error.message}); nothing kept`,
    )
  }
  fs.renameSync(partial, file)
  o.print(o.json ? JSON.stringify({ path: file, manifest: checked.value }, null, 2) : manifestText(file, checked.value))
}
