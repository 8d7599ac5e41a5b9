// Restore: a new data directory from a backup file (format.ts), while the hub is down. The backup is
// verified whole first (manifest, size, checksum, every record), so a corrupt or truncated file
// writes nothing. The directory is built as <dir>.restoring and renamed into place at the end, so a
// restore that stops half-way leaves no data directory a hub could start from.
//
// The restored store is marked: restore/info names the backup, and every channel gets
// restore/pending/<channel id>. A hub that starts on it treats each such channel as possibly behind
// (hub/backup/restored.ts): its own commitment is never broadcast until the peer's channel_reestablish
// proves the channel current, or the peer proves it behind and closes with its own commitment.
import fs from 'node:fs'
import path from 'node:path'
import { LevelStore } from '../../host/store/node/level-store.ts'
import { MAX_BATCH_OPS } from '../../host/store/group-commit.ts'
import { keys } from '../../host/store/keys.ts'
import { put, type StoreOp } from '../../host/store/store.ts'
import { err, ok, type Result } from '../../protocol/result.ts'
import { CONFIG_FILE, readBackupFile, type BackupError, type BackupManifest } from './format.ts'

/** The store's directory in a data directory (hub/main.ts opens it there). */
export const STORE_DIR = 'store'
/** What the managed regtest node keeps in a data directory (hub/managed-btcd.ts): its chain. */
const CHAIN_ENTRIES = ['btcd', 'btcd-rpc.json'] as const

/** What restore/info holds. */
export interface RestoreInfo {
  backup: string
  hub_id: string
  created_at: string
  height: number
  restored_at: string
}

export interface RestoreOptions {
  /** The backup file. */
  backup: string
  /** The data directory to create: it must not exist, or be empty. */
  dataDir: string
  /** A data directory whose managed regtest chain (btcd/, btcd-rpc.json) is copied in: with the
   *  managed node the chain lives in the data directory, and a hub without it would find its funding
   *  gone (chain_wiped). Not needed with an external btcd. */
  chainFrom?: string
  now: () => number
}

export type RestoreRefusal =
  | { kind: 'backup'; error: BackupError }
  | { kind: 'target'; detail: string }

export interface Restored { manifest: BackupManifest; dataDir: string; channels: string[] }

export async function restoreBackup (o: RestoreOptions): Promise<Result<Restored, RestoreRefusal>> {
  const dataDir = path.resolve(o.dataDir)
  if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
    return err({ kind: 'target', detail: `${dataDir} exists and is not empty: restore into a new directory` })
  }
  const work = `${dataDir}.restoring`
  if (fs.existsSync(work)) {
    return err({ kind: 'target', detail: `${work} exists (a restore that did not finish?): remove it first` })
  }
  if (o.chainFrom !== undefined && !fs.existsSync(path.join(o.chainFrom, CHAIN_ENTRIES[0]))) {
    return err({ kind: 'target', detail: `--chain-from ${o.chainFrom}: no ${CHAIN_ENTRIES[0]}/ in it` })
  }
  fs.mkdirSync(work, { recursive: true, mode: 0o700 })
  const store = await LevelStore.open(path.join(work, STORE_DIR))
  const channels: string[] = []
  let read: Result<BackupManifest, BackupError>
  try {
    let batch: StoreOp[] = []
    read = await readBackupFile(o.backup, async r => {
      if (r.kind === 'file') {
        const file = path.join(work, r.name)
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
        const data = r.name === CONFIG_FILE ? withDataDir(r.data, dataDir) : r.data
        // Never wider than 0600: these are keys, seeds and tokens.
        fs.writeFileSync(file, data, { mode: r.mode & 0o600, flag: 'wx' })
        return
      }
      if (r.key.startsWith(keys.channelIndexPrefix)) channels.push(r.key.slice(keys.channelIndexPrefix.length))
      batch.push({ type: 'put', key: r.key, value: r.value })
      if (batch.length >= MAX_BATCH_OPS) { await store.write(batch); batch = [] }
    })
    if (read.ok) {
      const info: RestoreInfo = {
        backup: path.resolve(o.backup), hub_id: read.value.hub_id, created_at: read.value.created_at, height: read.value.height,
        restored_at: new Date(o.now()).toISOString(),
      }
      await store.write([
        ...batch, put(keys.restoreInfo, info), ...channels.map(id => put(keys.restorePending(id), { since: info.restored_at }))
      ])
    }
  } finally {
    await store.close()
  }
  if (!read.ok) {
    fs.rmSync(work, { recursive: true, force: true })
    return err({ kind: 'backup', error: read.error })
  }
  if (o.chainFrom !== undefined) {
    for (const name of CHAIN_ENTRIES) {
      const from = path.join(o.chainFrom, name)
      if (fs.existsSync(from)) fs.cpSync(from, path.join(work, name), { recursive: true })
    }
  }
  if (fs.existsSync(dataDir)) fs.rmdirSync(dataDir)
  fs.renameSync(work, dataDir)
  const parent = fs.openSync(path.dirname(dataDir), 'r')
  try { fs.fsyncSync(parent) } finally { fs.closeSync(parent) }
  return ok({ manifest: read.value, dataDir, channels })
}

/** The configuration carried in the backup, pointed at the restored data directory. */
function withDataDir (data: Uint8Array, dataDir: string): Uint8Array {
  const config = JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, unknown>
  return new TextEncoder().encode(JSON.stringify({ ...config, dataDir }, null, 2) + '\n')
}
