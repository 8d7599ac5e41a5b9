// The hash chain itself, pure: entry n's hash = sha256(hash of entry n-1 ‖ canonical JSON of record n),
// with 32 zero bytes before the first entry. Shared by the log (writing) and the verifier (reading).
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '../../protocol/types.ts'
import { canonicalJson } from './canonical-json.ts'

export const GENESIS_HASH = '00'.repeat(32)

export interface AuditEntry {
  readonly n: number
  /** Hash of entry n-1 (GENESIS_HASH for n = 0). */
  readonly prev: string
  readonly hash: string
  readonly record: unknown
}

/** What settlement transactions anchor on-chain: the latest hash and how many entries it covers. */
export interface AuditRoot { readonly hash: string; readonly count: number }

export const EMPTY_ROOT: AuditRoot = { hash: GENESIS_HASH, count: 0 }

export function entryHash (prev: string, record: unknown): string {
  const body = new TextEncoder().encode(canonicalJson(record))
  const buf = new Uint8Array(32 + body.length)
  buf.set(hexToBytes(prev))
  buf.set(body, 32)
  return bytesToHex(sha256(buf))
}

export function nextEntry (root: AuditRoot, record: unknown): AuditEntry {
  return { n: root.count, prev: root.hash, hash: entryHash(root.hash, record), record }
}
