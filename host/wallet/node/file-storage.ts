// A wallet's storage in a data directory (Node): the seed in wallet-seed.hex (mode 0600, created
// exclusively and fsynced when absent), the state in wallet.json, replaced atomically (write a
// temporary file, fsync, rename, fsync the directory) after every change.
import fs from 'node:fs'
import path from 'node:path'
import { bytesToHex, hexToBytes } from '../../../protocol/types.ts'
import type { SeedResult, WalletStorage } from '../storage.ts'

export const SEED_FILE = 'wallet-seed.hex'
export const STATE_FILE = 'wallet.json'

/** The wallet's files in `dataDir` (created, mode 0700, if absent). */
export function fileWalletStorage (dataDir: string): WalletStorage {
  const stateFile = path.join(dataDir, STATE_FILE)
  return {
    stateName: stateFile,
    seed: fresh => seedFile(dataDir, fresh),
    readState: () => {
      if (!fs.existsSync(stateFile)) return { ok: true, json: null }
      try {
        return { ok: true, json: JSON.parse(fs.readFileSync(stateFile, 'utf8')) as unknown }
      } catch (e) {
        return { ok: false, detail: `${stateFile}: not JSON (${(e as Error).message})` }
      }
    },
    writeState: json => { replaceFile(dataDir, stateFile, json) },
  }
}

/**
 * Reads the seed, or creates it (exclusively, fsynced) when absent. A seed file readable by group or
 * others is refused rather than silently fixed: someone may already have copied it.
 */
function seedFile (dataDir: string, fresh: () => Uint8Array): SeedResult {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const file = path.join(dataDir, SEED_FILE)
  if (!fs.existsSync(file)) {
    const seed = fresh()
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
    try { fs.writeSync(fd, bytesToHex(seed) + '\n'); fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
    return { ok: true, seed, created: true }
  }
  const mode = fs.statSync(file).mode & 0o777
  if ((mode & 0o077) !== 0) {
    const detail = `${file} has mode ${mode.toString(8)}; expected 600 (chmod 600 it if nobody else could read it)`
    return { ok: false, error: { kind: 'seed_exposed', detail } }
  }
  const text = fs.readFileSync(file, 'utf8').trim()
  if (!/^[0-9a-f]{32,128}$/.test(text) || text.length % 2 !== 0) {
    return { ok: false, error: { kind: 'seed_unreadable', detail: `${file}: expected 16-64 bytes of lowercase hex` } }
  }
  return { ok: true, seed: hexToBytes(text), created: false }
}

function replaceFile (dataDir: string, file: string, text: string): void {
  const tmp = file + '.tmp'
  const fd = fs.openSync(tmp, 'w', 0o600)
  try { fs.writeSync(fd, text); fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
  fs.renameSync(tmp, file)
  const dir = fs.openSync(dataDir, 'r')
  try { fs.fsyncSync(dir) } finally { fs.closeSync(dir) }
}
