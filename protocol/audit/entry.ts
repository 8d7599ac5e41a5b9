// The audit log's hash chain, pure (shared by the hub that writes it, the verifier of an export and the
// SDK that checks a receipt's entry): entry n's hash = sha256(hash of entry n-1 ‖ canonical JSON of
// {height, record, time_ms}), with 32 zero bytes before the first entry. The time (ms since 1970, the
// hub's clock) and the block height (the hub's chain tip) at which an entry was written are hashed with
// its record, so neither can be changed without breaking the chain and every anchor after it.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, hexToBytes } from '../types.ts'
import { canonicalJson } from './canonical-json.ts'

export const GENESIS_HASH = '00'.repeat(32)

export interface AuditEntry {
  readonly n: number
  /** Hash of entry n-1 (GENESIS_HASH for n = 0). */
  readonly prev: string
  readonly hash: string
  /** When the hub wrote the entry: ms since 1970 (its clock) and the height of its chain tip. */
  readonly time_ms: number
  readonly height: number
  readonly record: unknown
}

/** What an entry says besides its place in the chain. */
export interface AuditBody { readonly time_ms: number; readonly height: number; readonly record: unknown }

/** The log's root: the latest hash and how many entries it covers. */
export interface AuditRoot { readonly hash: string; readonly count: number }

export const EMPTY_ROOT: AuditRoot = { hash: GENESIS_HASH, count: 0 }

const encoder = new TextEncoder()

/** The canonical JSON of a body (keys sorted: height, record, time_ms). */
function bodyJson (b: AuditBody): { canonical: string; record: string } {
  const record = canonicalJson(b.record)
  if (!Number.isSafeInteger(b.time_ms) || b.time_ms < 0) throw new TypeError(`audit entry: time_ms ${b.time_ms} is not a time`)
  if (!Number.isSafeInteger(b.height) || b.height < 0) throw new TypeError(`audit entry: height ${b.height} is not a height`)
  return { canonical: `{"height":${b.height},"record":${record},"time_ms":${b.time_ms}}`, record }
}

/** sha256(prev ‖ canonical). */
function hashCanonical (prev: string, canonical: string): string {
  // At most 3 UTF-8 bytes per UTF-16 code unit: encode straight into the hash input, no copy.
  const buf = new Uint8Array(32 + canonical.length * 3)
  buf.set(hexToBytes(prev))
  const { written } = encoder.encodeInto(canonical, buf.subarray(32))
  return bytesToHex(sha256(buf.subarray(0, 32 + written)))
}

/** The hash of the entry with this body after `prev`. Throws on a record that is not plain JSON. */
export function entryHash (prev: string, body: AuditBody): string {
  return hashCanonical(prev, bodyJson(body).canonical)
}

export function nextEntry (root: AuditRoot, body: AuditBody): AuditEntry {
  return nextEntryWithJson(root, body).entry
}

/** The next entry, and its JSON as stored (built around the record's canonical JSON, so the record is
 *  serialised once for both the hash and the store). */
export function nextEntryWithJson (root: AuditRoot, body: AuditBody): { entry: AuditEntry; json: string } {
  const { canonical, record } = bodyJson(body)
  const hash = hashCanonical(root.hash, canonical)
  return {
    entry: { n: root.count, prev: root.hash, hash, time_ms: body.time_ms, height: body.height, record: body.record },
    json: `{"n":${root.count},"prev":"${root.hash}","hash":"${hash}","time_ms":${body.time_ms},"height":${body.height},"record":${record}}`,
  }
}
