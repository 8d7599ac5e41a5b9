// An online backup of a running hub: its store as of one instant, with the files a restore needs,
// written to <dataDir>/backups/ (format.ts). The hub keeps serving while it is taken.
//
// Why it is consistent: the whole store is read through ONE LevelDB iterator, and an iterator reads
// from a snapshot taken when it is created (classic-level: "db.iterator() read[s] from a snapshot of
// the database, created synchronously at the time [it] was called"). Every write of the store is one
// atomic LevelDB batch (host/store/group-commit.ts), so the snapshot holds each batch whole or not at
// all: a channel's state with its monitor updates, a circuit with the channel write that created it,
// exactly as a crash at that instant would have left them on disk, which is what the hub is built to
// restart from. Writes go on while the snapshot is read; they are simply not in it. No lock is taken
// and no write waits.
//
// The files are read just before the snapshot: the node key, the seed and the tokens never change,
// and the wallet's state file is replaced atomically (host/wallet/node/file-storage.ts), so the copy is
// one whole version of it; the wallet catches up from the chain after a restore (it follows blocks
// from the tip its state names).
import fs from 'node:fs'
import path from 'node:path'
import type { Store } from '../../host/store/store.ts'
import { NODE_KEYS_DIR } from '../identity/key-files.ts'
import { BACKUP_FILES, CONFIG_FILE, ROTATED_KEY_FILE, writeBackupFile, type BackupManifest, type BackupRecord } from './format.ts'

/** Where a hub writes its backups, in its data directory. */
export const BACKUP_DIR = 'backups'

export interface TakeBackup {
  store: Store
  dataDir: string
  hubId: string
  height: number
  /** The hub's effective configuration, carried as CONFIG_FILE. */
  config: unknown
  now: () => number
}

/** The file name of a backup taken at `at` (ms): its UTC time, sortable. */
export function backupName (at: number, n = 0): string {
  const stamp = new Date(at).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')
  return `hub-backup-${stamp}${n > 0 ? `-${n}` : ''}.jsonl`
}

/** Takes a backup now; resolves with its path and manifest once the file is durable. */
export async function takeBackup (o: TakeBackup): Promise<{ path: string; manifest: BackupManifest }> {
  const dir = path.join(o.dataDir, BACKUP_DIR)
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  const at = o.now()
  let out = path.join(dir, backupName(at))
  for (let n = 1; fs.existsSync(out) || fs.existsSync(`${out}.partial`); n++) out = path.join(dir, backupName(at, n))
  async function * records (): AsyncGenerator<BackupRecord> {
    for (const name of BACKUP_FILES) {
      if (name === CONFIG_FILE) {
        yield { kind: 'file', name, mode: 0o600, data: new TextEncoder().encode(JSON.stringify(o.config, null, 2) + '\n') }
        continue
      }
      const file = path.join(o.dataDir, name)
      if (!fs.existsSync(file)) continue
      yield { kind: 'file', name, mode: fs.statSync(file).mode & 0o777, data: new Uint8Array(fs.readFileSync(file)) }
    }
    const keysDir = path.join(o.dataDir, NODE_KEYS_DIR)
    const rotated = fs.existsSync(keysDir) ? fs.readdirSync(keysDir).sort() : []
    for (const f of rotated) {
      const name = `${NODE_KEYS_DIR}/${f}`
      if (!ROTATED_KEY_FILE.test(name)) continue
      const file = path.join(keysDir, f)
      const mode = fs.statSync(file).mode & 0o777
      yield { kind: 'file', name: name as `node-keys/${string}.hex`, mode, data: new Uint8Array(fs.readFileSync(file)) }
    }
    // One iterator over every key: one snapshot (see above).
    for await (const [key, value] of o.store.iterate('')) yield { kind: 'entry', key, value }
  }
  const manifest = await writeBackupFile(out, { hub_id: o.hubId, created_at: new Date(at).toISOString(), height: o.height }, records())
  return { path: out, manifest }
}
