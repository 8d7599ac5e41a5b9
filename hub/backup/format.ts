// The hub's backup file: one consistent snapshot of its store and the files a restore needs (node key,
// wallet seed and state, admin tokens, the effective configuration), as text:
//
//   line 1     the manifest (JSON): format, version, hub id, time, block height, counts, and the size
//              and SHA-256 of the body (every byte after the manifest's newline)
//   line 2...  the body: one JSON record a line, first the files {"f": name, "m": mode, "d": base64},
//              then the store's entries in key order {"k": key, "v": base64}
//
// The manifest comes first, so `head -1 FILE` says what a file is. Its checksum covers every byte of
// the body: a file cut short, or changed anywhere, is refused (BackupError) before anything is
// restored. Only the file names of BACKUP_FILES are accepted, so a forged backup cannot write outside
// the data directory it is restored into. The file holds the node key and the wallet seed: it is
// written with mode 0600, and kept like the seed itself.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { MAX_KEY_LENGTH } from '../../host/store/store.ts'
import { err, ok, type Result } from '../../protocol/result.ts'

export const BACKUP_FORMAT = 'micropayout-hub-backup'
export const BACKUP_VERSION = 1

/** The data directory's files a backup carries, each restored under the same name. The effective
 *  configuration is carried as CONFIG_FILE (its dataDir rewritten by the restore). */
export const CONFIG_FILE = 'hub-config.json'
export const BACKUP_FILES = [
  'node-key.hex', 'node-key-rotation.json', 'admin.token', 'read.token', 'wallet/wallet-seed.hex', 'wallet/wallet.json', CONFIG_FILE,
] as const
/** Each key a node-key rotation made (hub/identity/key-files.ts): node-keys/<node id>.hex. */
export const ROTATED_KEY_FILE = /^node-keys\/0[23][0-9a-f]{64}\.hex$/
/** Rotated keys one backup carries at most: the hub keeps every key it rotated to (one rotation per
 *  grace period, at least a block each), so this is generous; it bounds what a forged manifest can list. */
export const MAX_BACKUP_ROTATED_KEYS = 10_000
export type BackupFileName = typeof BACKUP_FILES[number] | `node-keys/${string}.hex`
const fileName = z.union([
  z.enum(BACKUP_FILES),
  z.string().regex(ROTATED_KEY_FILE, { error: 'must be a known file of the data directory' })
    .transform(s => s as `node-keys/${string}.hex`),
])

/** The longest line read back: a record is one store value (a channel's state with every HTLC in it
 *  is well under a megabyte) in base64, or one of the small files; this bounds what one corrupt line
 *  can make the reader hold in memory. */
export const MAX_BACKUP_LINE_BYTES = 64 * 1024 * 1024

const hex = (bytes: number) => z.string().regex(
  new RegExp(`^[0-9a-f]{${bytes * 2}}$`), { error: `must be ${bytes} bytes of lowercase hex` },
)
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)

export const manifestSchema = z.strictObject({
  format: z.literal(BACKUP_FORMAT),
  version: z.literal(BACKUP_VERSION, { error: `must be ${BACKUP_VERSION} (a backup written by another version of the hub)` }),
  /** The hub's node id (33-byte compressed key). */
  hub_id: hex(33),
  /** When the snapshot was taken (ISO 8601). */
  created_at: z.iso.datetime(),
  /** The chain height the hub had followed when the snapshot was taken. */
  height: count,
  store_entries: count,
  /** Channels in the store (chan-index entries). */
  channels: count,
  files: z.array(fileName).max(BACKUP_FILES.length + MAX_BACKUP_ROTATED_KEYS),
  body_bytes: count,
  body_sha256: hex(32),
})
export type BackupManifest = z.infer<typeof manifestSchema>
/** What the writer is told; the counts and the checksum it works out itself. */
export type ManifestHead = Pick<BackupManifest, 'hub_id' | 'created_at' | 'height'>

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, { error: 'must be base64' })
const fileRecord = z.strictObject({ f: fileName, m: z.number().int().min(0).max(0o777), d: base64 })
const entryRecord = z.strictObject({
  k: z.string().regex(/^[\x20-\x7e]+$/, { error: 'must be printable ASCII (a store key)' }).max(MAX_KEY_LENGTH), v: base64,
})

export type BackupRecord =
  | { readonly kind: 'file'; readonly name: BackupFileName; readonly mode: number; readonly data: Uint8Array }
  | { readonly kind: 'entry'; readonly key: string; readonly value: Uint8Array }

export type BackupErrorReason =
  | 'unreadable'        // the file cannot be opened or read
  | 'not_a_backup'      // no manifest line, or one that is not this format (a file of something else)
  | 'truncated'         // fewer body bytes than the manifest says: the file was cut short
  | 'corrupt'           // the body's checksum, or a record, does not match: the file was changed
  | 'bad_manifest'      // the manifest does not parse (a field named), or disagrees with the body's counts

export class BackupError extends Error {
  override readonly name = 'BackupError'
  constructor (readonly reason: BackupErrorReason, readonly file: string, detail: string) {
    super(`${file}: ${reason}: ${detail}`)
  }
}

const NL = 0x0a
/** Bytes gathered before a write: few syscalls without holding much. */
const WRITE_CHUNK_BYTES = 256 * 1024

function recordLine (r: BackupRecord): string {
  const b64 = (d: Uint8Array): string => Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64')
  return JSON.stringify(r.kind === 'file' ? { f: r.name, m: r.mode, d: b64(r.data) } : { k: r.key, v: b64(r.value) }) + '\n'
}

/**
 * Writes `records` as a backup file at `out`, atomically: the body goes to a temporary file (hashed on
 * the way), then the manifest and the body to `out`.partial, synced, renamed to `out`, and the
 * directory synced. `out` must not exist. Resolves with the manifest once the file is durable.
 */
export async function writeBackupFile (out: string, head: ManifestHead, records: AsyncIterable<BackupRecord>): Promise<BackupManifest> {
  if (fs.existsSync(out)) throw new Error(`${out}: exists already`)
  const bodyFile = `${out}.body.partial`
  const partial = `${out}.partial`
  try {
    return await writeParts(out, bodyFile, partial, head, records)
  } catch (e) {
    // A backup that failed half-way (the store closed under it, a full disk) leaves no part behind.
    for (const f of [bodyFile, partial]) await fs.promises.rm(f, { force: true })
    throw e
  }
}

async function writeParts (
  out: string, bodyFile: string, partial: string, head: ManifestHead, records: AsyncIterable<BackupRecord>,
): Promise<BackupManifest> {
  const hash = createHash('sha256')
  let bodyBytes = 0
  let entries = 0
  let channels = 0
  const files: BackupFileName[] = []
  const body = await fs.promises.open(bodyFile, 'wx', 0o600)
  try {
    let chunk: string[] = []
    let chunkBytes = 0
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return
      const buf = Buffer.from(chunk.join(''), 'utf8')
      chunk = []
      chunkBytes = 0
      hash.update(buf)
      bodyBytes += buf.length
      await body.write(buf)
    }
    for await (const r of records) {
      if (r.kind === 'file') files.push(r.name)
      else {
        entries++
        if (r.key.startsWith('chan-index/')) channels++
      }
      const line = recordLine(r)
      chunk.push(line)
      chunkBytes += line.length
      if (chunkBytes >= WRITE_CHUNK_BYTES) await flush()
    }
    await flush()
    await body.sync()
  } finally {
    await body.close()
  }
  const manifest: BackupManifest = manifestSchema.parse({
    format: BACKUP_FORMAT, version: BACKUP_VERSION, ...head, store_entries: entries, channels, files,
    body_bytes: bodyBytes, body_sha256: hash.digest('hex'),
  })
  const target = await fs.promises.open(partial, 'wx', 0o600)
  try {
    await target.write(JSON.stringify(manifest) + '\n')
    const source = await fs.promises.open(bodyFile, 'r')
    try {
      const buf = Buffer.allocUnsafe(WRITE_CHUNK_BYTES)
      for (;;) {
        const { bytesRead } = await source.read(buf, 0, buf.length, null)
        if (bytesRead === 0) break
        await target.write(buf.subarray(0, bytesRead))
      }
    } finally {
      await source.close()
    }
    await target.sync()
  } finally {
    await target.close()
  }
  await fs.promises.rename(partial, out)
  await fs.promises.rm(bodyFile)
  const dir = await fs.promises.open(path.dirname(out), 'r')
  try { await dir.sync() } finally { await dir.close() }
  return manifest
}

/** The lines of `file`: the manifest's first, then the body's, each with its bytes (without the
 *  newline). The body's bytes are also handed to `body` exactly as they are in the file. */
async function * lines (file: string, body: (bytes: Buffer) => void): AsyncGenerator<{ line: Buffer; first: boolean }> {
  const stream = fs.createReadStream(file)
  let pending: Buffer[] = []
  let pendingBytes = 0
  let first = true
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let at = 0
      if (!first) body(chunk)
      while (at < chunk.length) {
        const nl = chunk.indexOf(NL, at)
        if (nl === -1) {
          pending.push(chunk.subarray(at))
          pendingBytes += chunk.length - at
          if (pendingBytes > MAX_BACKUP_LINE_BYTES) throw new BackupError(
            'corrupt', file, `a line longer than ${MAX_BACKUP_LINE_BYTES} bytes`,
          )
          break
        }
        const line = Buffer.concat([...pending, chunk.subarray(at, nl)])
        pending = []
        pendingBytes = 0
        const wasFirst = first
        if (first) {
          first = false
          body(chunk.subarray(nl + 1))
        }
        at = nl + 1
        yield { line, first: wasFirst }
      }
    }
  } catch (e) {
    if (e instanceof BackupError) throw e
    throw new BackupError('unreadable', file, (e as Error).message)
  } finally {
    stream.destroy()
  }
  if (pendingBytes > 0) {
    if (first) throw new BackupError('not_a_backup', file, 'no manifest line')
    yield { line: Buffer.concat(pending), first: false }
  }
}

function parseManifest (file: string, line: Buffer): BackupManifest {
  let json: unknown
  try { json = JSON.parse(line.toString('utf8')) } catch {
    throw new BackupError('not_a_backup', file, 'the first line is not a JSON manifest')
  }
  if (typeof json !== 'object' || json === null || (json as { format?: unknown }).format !== BACKUP_FORMAT) {
    throw new BackupError('not_a_backup', file, `the first line is not a ${BACKUP_FORMAT} manifest`)
  }
  const r = manifestSchema.safeParse(json)
  if (!r.success) throw new BackupError('bad_manifest', file, r.error.issues.map(i => `${i.path.join('.')}: ${i.message}`).join('; '))
  return r.data
}

function parseRecord (file: string, n: number, line: Buffer): BackupRecord {
  let json: unknown
  try { json = JSON.parse(line.toString('utf8')) } catch { throw new BackupError('corrupt', file, `record ${n}: not JSON`) }
  const isFile = typeof json === 'object' && json !== null && 'f' in json
  const r = isFile ? fileRecord.safeParse(json) : entryRecord.safeParse(json)
  if (!r.success) {
    throw new BackupError(
      'corrupt', file, `record ${n}: ${r.error.issues.map(i => `${i.path.join('.') || 'record'}: ${i.message}`).join('; ')}`,
    )
  }
  const v = r.data
  return 'f' in v
    ? { kind: 'file', name: v.f, mode: v.m, data: new Uint8Array(Buffer.from(v.d, 'base64')) }
    : { kind: 'entry', key: v.k, value: new Uint8Array(Buffer.from(v.v, 'base64')) }
}

/** Reads the whole file once: the manifest, every record parsed, the body's size and checksum and the
 *  manifest's counts checked. `each` (if given) sees each record as it is read; it runs before the
 *  checksum is known, so a caller that acts on records verifies first (verifyBackupFile) and reads
 *  again. */
async function scan (file: string, each?: (r: BackupRecord) => Promise<void>): Promise<BackupManifest> {
  if (!fs.existsSync(file)) throw new BackupError('unreadable', file, 'no such file')
  // The size first: a file cut short is named so, not by the record it cuts in half.
  let head: { manifest: BackupManifest; bytes: number } | undefined
  for await (const { line } of lines(file, () => {})) { head = { manifest: parseManifest(file, line), bytes: line.length + 1 }; break }
  if (head === undefined) throw new BackupError('not_a_backup', file, 'empty file')
  const size = fs.statSync(file).size - head.bytes
  if (size < head.manifest.body_bytes) {
    throw new BackupError('truncated', file, `${Math.max(0, size)} of ${head.manifest.body_bytes} body bytes: the file was cut short`)
  }
  if (size > head.manifest.body_bytes) {
    throw new BackupError('corrupt', file, `${size} body bytes, the manifest says ${head.manifest.body_bytes}`)
  }
  const hash = createHash('sha256')
  let bodyBytes = 0
  let manifest: BackupManifest | undefined
  let n = 0
  let entries = 0
  let channels = 0
  const files: string[] = []
  for await (const { line, first } of lines(file, b => { hash.update(b); bodyBytes += b.length })) {
    if (first) { manifest = parseManifest(file, line); continue }
    // A record past the size the manifest gives is checked by the size below, not parsed.
    if (bodyBytes > manifest!.body_bytes) break
    const r = parseRecord(file, ++n, line)
    if (r.kind === 'file') files.push(r.name)
    else {
      entries++
      if (r.key.startsWith('chan-index/')) channels++
    }
    await each?.(r)
  }
  if (manifest === undefined) throw new BackupError('not_a_backup', file, 'empty file')
  if (bodyBytes < manifest.body_bytes) {
    throw new BackupError('truncated', file, `${bodyBytes} of ${manifest.body_bytes} body bytes: the file was cut short`)
  }
  if (bodyBytes > manifest.body_bytes) {
    throw new BackupError('corrupt', file, `${bodyBytes} body bytes, the manifest says ${manifest.body_bytes}`)
  }
  const digest = hash.digest('hex')
  if (digest !== manifest.body_sha256) {
    throw new BackupError('corrupt', file, `body SHA-256 ${digest}, the manifest says ${manifest.body_sha256}: the file was changed`)
  }
  if (entries !== manifest.store_entries || channels !== manifest.channels || files.join() !== manifest.files.join()) {
    throw new BackupError('bad_manifest', file,
      `the body holds ${entries} entries, ${channels} channels and files [${files.join(', ')}]; ` +
      `the manifest says ${manifest.store_entries}, ${manifest.channels} and [${manifest.files.join(', ')}]`)
  }
  return manifest
}

/** Checks a backup file without acting on it: its manifest, its size and checksum, every record. */
export async function verifyBackupFile (file: string): Promise<Result<BackupManifest, BackupError>> {
  try {
    return ok(await scan(file))
  } catch (e) {
    if (e instanceof BackupError) return err(e)
    throw e
  }
}

/** Verifies `file`, then hands each record to `each`, in file order (files, then entries in key order). */
export async function readBackupFile (
  file: string, each: (r: BackupRecord) => Promise<void>,
): Promise<Result<BackupManifest, BackupError>> {
  const verified = await verifyBackupFile(file)
  if (!verified.ok) return verified
  try {
    return ok(await scan(file, each))
  } catch (e) {
    if (e instanceof BackupError) return err(e)
    throw e
  }
}
