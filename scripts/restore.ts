// `npm run restore -- --backup FILE --data-dir DIR [--chain-from OLD_DIR]`: a new data directory for
// the hub from a backup file (hub/backup/restore.ts), while the hub is down. `--verify-only` checks the
// file (manifest, size, checksum, every record) and writes nothing. The hub started on DIR treats every
// restored channel as possibly behind until its peer proves it current (README "Backup and restore").
//
// Exit codes: 0 restored (or verified), 2 bad command line, 3 the backup file is refused (unreadable,
// not a backup, truncated, corrupt), 4 the target directory is refused (not empty, a restore left over).
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { verifyBackupFile } from '../hub/backup/format.ts'
import { restoreBackup } from '../hub/backup/restore.ts'

const USAGE = `usage: npm run restore -- --backup FILE --data-dir DIR [--chain-from OLD_DIR] [--verify-only]

  --backup FILE       a backup (hubctl backup, POST /backup)
  --data-dir DIR      the data directory to create (must not exist, or be empty)
  --chain-from DIR    copy the managed regtest chain (btcd/, btcd-rpc.json) from this data directory
  --verify-only       check the file and say what it holds; write nothing`

export async function main (argv: string[], out: (s: string) => void, errOut: (s: string) => void): Promise<number> {
  let values: { backup?: string; 'data-dir'?: string; 'chain-from'?: string; 'verify-only'?: boolean; help?: boolean }
  try {
    values = parseArgs({
      args: argv, strict: true, allowPositionals: false,
      options: {
        backup: { type: 'string' }, 'data-dir': { type: 'string' }, 'chain-from': { type: 'string' },
        'verify-only': { type: 'boolean' }, help: { type: 'boolean' },
      },
    }).values
  } catch (e) {
    errOut(`restore: ${(e as Error).message}\n${USAGE}`)
    return 2
  }
  if (values.help === true) { out(USAGE); return 0 }
  if (values.backup === undefined) { errOut(`restore: --backup: required\n${USAGE}`); return 2 }
  if (values['verify-only'] === true) {
    const v = await verifyBackupFile(values.backup)
    if (!v.ok) { errOut(`restore: ${v.error.message}`); return 3 }
    out(JSON.stringify({ event: 'backup_verified', file: values.backup, manifest: v.value }))
    return 0
  }
  if (values['data-dir'] === undefined) { errOut(`restore: --data-dir: required\n${USAGE}`); return 2 }
  const r = await restoreBackup({
    backup: values.backup, dataDir: values['data-dir'], now: () => Date.now(),
    ...(values['chain-from'] !== undefined ? { chainFrom: values['chain-from'] } : {}),
  })
  if (!r.ok) {
    if (r.error.kind === 'backup') { errOut(`restore: ${r.error.error.message}; nothing was written`); return 3 }
    errOut(`restore: ${r.error.detail}; nothing was written`)
    return 4
  }
  out(JSON.stringify({
    event: 'restored', data_dir: r.value.dataDir, hub_id: r.value.manifest.hub_id, created_at: r.value.manifest.created_at,
    height: r.value.manifest.height, store_entries: r.value.manifest.store_entries, channels_held: r.value.channels.length,
    config: `${r.value.dataDir}/hub-config.json`,
  }))
  return 0
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2), s => process.stdout.write(s + '\n'), s => process.stderr.write(s + '\n'))
}
