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

/** The log's root: the latest hash and how many entries it covers (what a transaction would carry to
 *  commit to the log on-chain). */
export interface AuditRoot { readonly hash: string; readonly count: number }

export const EMPTY_ROOT: AuditRoot = { hash: GENESIS_HASH, count: 0 }

const encoder = new TextEncoder()

/** sha256(prev ‖ canonical) for a record already in canonical JSON. */
function hashCanonical (prev: string, canonical: string): string {
  // At most 3 UTF-8 bytes per UTF-16 code unit: encode straight into the hash input, no copy.
  const buf = new Uint8Array(32 + canonical.length * 3)
  buf.set(hexToBytes(prev))
  const { written } = encoder.encodeInto(canonical, buf.subarray(32))
  return bytesToHex(sha256(buf.subarray(0, 32 + written)))
}

export function entryHash (prev: string, record: unknown): string {
  return hashCanonical(prev, canonicalJson(record))
}

export function nextEntry (root: AuditRoot, record: unknown): AuditEntry {
  return nextEntryWithJson(root, record).entry
}

/** The next entry, and its JSON as stored (built around the record's canonical JSON, so the record is
 *  serialised once for both the hash and the store). */
export function nextEntryWithJson (root: AuditRoot, record: unknown): { entry: AuditEntry; json: string } {
  const canonical = canonicalJson(record)
  const hash = hashCanonical(root.hash, canonical)
  return {
    entry: { n: root.count, prev: root.hash, hash, record },
    json: `{"n":${root.count},"prev":"${root.hash}","hash":"${hash}","record":${canonical}}`,
  }
}
