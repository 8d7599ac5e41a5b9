// The admin API's two bearer tokens, created on the hub's first start and read on every later one:
//   <data-dir>/admin.token   everything (GET and POST: closes channels, spends the wallet)
//   <data-dir>/read.token    GET routes only (monitoring, the dashboard, /metrics)
// Each is 32 random bytes as lowercase hex, in a file of mode 0600. A file readable by others is
// refused (as ssh refuses a private key readable by others): the token would not be a secret.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

export const ADMIN_TOKEN_FILE = 'admin.token'
export const READ_TOKEN_FILE = 'read.token'
/** The file where the hub writes its admin API's URL when it serves (for `hubctl --data-dir`). */
export const ADMIN_URL_FILE = 'admin.url'

export interface AdminTokens {
  /** Every route. */
  admin: string
  /** GET routes only. */
  read: string
}

const TOKEN = /^[0-9a-f]{64}$/

/** The tokens of the hub whose data directory is `dataDir`; each is created (and synced) if missing. */
export function loadAdminTokens (dataDir: string): AdminTokens {
  return { admin: loadToken(path.join(dataDir, ADMIN_TOKEN_FILE)), read: loadToken(path.join(dataDir, READ_TOKEN_FILE)) }
}

function loadToken (file: string): string {
  if (!fs.existsSync(file)) {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
    try { fs.writeSync(fd, randomBytes(32).toString('hex') + '\n'); fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
  }
  const mode = fs.statSync(file).mode & 0o777
  if ((mode & 0o077) !== 0) throw new Error(`${file}: mode ${mode.toString(8)} lets others read the token; chmod 600 it`)
  const text = fs.readFileSync(file, 'utf8').trim()
  if (!TOKEN.test(text)) throw new Error(`${file}: expected 32 bytes of lowercase hex`)
  return text
}

/** Writes the admin API's URL next to the tokens (mode 0600: it is no secret, but it says where to knock). */
export function writeAdminUrl (dataDir: string, url: string): void {
  fs.writeFileSync(path.join(dataDir, ADMIN_URL_FILE), url + '\n', { mode: 0o600 })
}
