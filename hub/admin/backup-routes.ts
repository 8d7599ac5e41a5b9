// POST /backup: an online backup of the hub (hub/backup/take.ts), written to <data-dir>/backups/ and
// answered with its path and manifest, or with {download: true} sent back as the file itself (hubctl
// backup --out FILE). A POST, so the admin token only: the file holds the node key and wallet seed.
// Its documentation joins ROUTES in hub/admin/server.ts; it runs as an extra route, behind the tokens.
import fs from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { z } from 'zod'
import type { Store } from '../../host/store/store.ts'
import { takeBackup } from '../backup/take.ts'
import type { ExtraRoute, RouteDoc } from './server.ts'

export const BACKUP_ROUTES: readonly RouteDoc[] = [
  {
    method: 'POST', path: '/backup', body: '{download?}',
    answer: '{path, manifest: {format, version, hub_id, created_at, height, store_entries, channels, files, body_bytes, body_sha256}}: '
      + 'a consistent snapshot of the store (one LevelDB snapshot, taken while the hub serves) with the node key, wallet and token '
      + 'files and the configuration, written to <data-dir>/backups/ (mode 0600); with download: true the file itself '
      + '(application/x-ndjson, its manifest in the X-Backup-Manifest header). Restore: npm run restore (README)',
  },
]

/** The body is one optional flag. */
const MAX_BACKUP_BODY = 1_024
const backupBody = z.strictObject({ download: z.boolean().optional() })

export interface BackupSource {
  store: Store
  dataDir: string
  hubId: string
  height: () => number
  config: unknown
  log: (e: Record<string, unknown>) => void
}

export function backupRoute (src: BackupSource): ExtraRoute {
  return async (req, res, path) => {
    if (path !== '/backup' || req.method !== 'POST') return false
    const body = await readBody(req)
    const parsed = body.ok ? backupBody.safeParse(body.json) : undefined
    if (parsed === undefined || !parsed.success) {
      const why = !body.ok ? body.error : parsed!.error!.issues.map(i => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')
      send(res, 400, { error: why })
      return true
    }
    const started = performance.now()
    const taken = await takeBackup({ store: src.store, dataDir: src.dataDir, hubId: src.hubId, height: src.height(), config: src.config,
      now: () => Date.now() })
    src.log({
      event: 'backup_taken', path: taken.path, height: taken.manifest.height, store_entries: taken.manifest.store_entries,
      channels: taken.manifest.channels, bytes: taken.manifest.body_bytes, ms: Math.round(performance.now() - started),
    })
    if (parsed.data.download !== true) { send(res, 200, taken); return true }
    const size = fs.statSync(taken.path).size
    res.writeHead(200, {
      'Content-Type': 'application/x-ndjson', 'Content-Length': size, 'X-Backup-Manifest': JSON.stringify(taken.manifest),
    })
    await new Promise<void>((resolve, reject) => {
      fs.createReadStream(taken.path).on('error', reject).on('end', resolve).pipe(res)
    })
    return true
  }
}

async function readBody (req: IncomingMessage): Promise<{ ok: true; json: unknown } | { ok: false; error: string }> {
  let size = 0
  const chunks: Buffer[] = []
  for await (const c of req) {
    size += (c as Buffer).length
    if (size > MAX_BACKUP_BODY) return { ok: false, error: `body: larger than ${MAX_BACKUP_BODY} bytes` }
    chunks.push(c as Buffer)
  }
  const text = Buffer.concat(chunks).toString('utf8')
  if (text === '') return { ok: true, json: {} }
  try { return { ok: true, json: JSON.parse(text) } } catch { return { ok: false, error: 'body: not JSON' } }
}

function send (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}
