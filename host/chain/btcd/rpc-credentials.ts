// The managed node's RPC credentials file (e.g. <hub data dir>/btcd-rpc.json, mode 0600): where other
// processes reach the node and how they log in, exactly the `btcdRpc` option of the client SDK:
//   {"host":"127.0.0.1","port":18443,"user":"hub","pass":"…"}
// Written (atomically, synced) each time the node starts; read at the next start, so the user,
// password and published port stay the same across restarts (the port only changes when another
// process took it meanwhile).
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { describeZodError } from './rpc.ts'

export const rpcCredentialsSchema = z.strictObject({
  host: z.string().min(1).max(253),
  port: z.number().int().min(1).max(65_535),
  /** Characters btcd's config file and HTTP basic auth both take as they are. */
  user: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1-64 letters, digits, ".", "_" or "-"' }),
  pass: z.string().regex(/^[A-Za-z0-9._-]{16,256}$/, { error: 'must be 16-256 letters, digits, ".", "_" or "-"' }),
})
export type RpcCredentials = z.infer<typeof rpcCredentialsSchema>

/** The stored credentials; null when there is no file yet. A file that is not valid is an error
 *  naming the field: someone edited it, and guessing what they meant could lock clients out. */
export function readRpcCredentials (file: string): { ok: true; value: RpcCredentials | null } | { ok: false; detail: string } {
  let text: string
  try { text = fs.readFileSync(file, 'utf8') } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, value: null }
    return { ok: false, detail: `${file}: ${(e as Error).message}` }
  }
  let json: unknown
  try { json = JSON.parse(text) } catch { return { ok: false, detail: `${file}: not JSON` } }
  const r = rpcCredentialsSchema.safeParse(json)
  if (!r.success) return { ok: false, detail: `${file}: ${describeZodError('credentials', r.error)}` }
  return { ok: true, value: r.data }
}

/** Replaces the file with these credentials, readable by its owner only (0600). */
export function writeRpcCredentials (file: string, c: RpcCredentials): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp`)
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o600)
  try {
    fs.fchmodSync(fd, 0o600)
    fs.writeSync(fd, JSON.stringify({ host: c.host, port: c.port, user: c.user, pass: c.pass }) + '\n')
    fs.fsyncSync(fd)
  } finally { fs.closeSync(fd) }
  fs.renameSync(tmp, file)
}
