// The hub's first node key: secp256k1, 32 bytes as lowercase hex in <dataDir>/node-key.hex (mode
// 0600), created on the first start and read on every later one. It is the hub's identity until the
// operator rotates it: the keys made by rotations, and which one is current, are hub/identity/'s.
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { bytesToHex, hexToBytes } from '../protocol/types.ts'

/** The node key of the hub whose data directory is `dataDir`; created (and synced) if there is none. */
export function loadNodeKey (dataDir: string): Uint8Array {
  const file = path.join(dataDir, 'node-key.hex')
  if (!fs.existsSync(file)) {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600)
    try { fs.writeSync(fd, bytesToHex(randomBytes(32)) + '\n'); fs.fsyncSync(fd) } finally { fs.closeSync(fd) }
  }
  const text = fs.readFileSync(file, 'utf8').trim()
  if (!/^[0-9a-f]{64}$/.test(text)) throw new Error(`${file}: expected 32 bytes of lowercase hex`)
  return hexToBytes(text)
}
