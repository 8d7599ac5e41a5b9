// Checking an exported audit log, offline: every entry's index, link and hash, and optionally that it
// ends at a root anchored on-chain. The log comes from outside, so its shape is parsed first.
import { z } from 'zod'
import { entryHash, EMPTY_ROOT, type AuditEntry, type AuditRoot } from '../../protocol/audit/entry.ts'

const hex32 = z.string().regex(/^[0-9a-f]{64}$/)
const entrySchema = z.object({
  n: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  prev: hex32,
  hash: hex32,
  time_ms: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  height: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  record: z.unknown(),
}).strict()
const rootSchema = z.object({ hash: hex32, count: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) }).strict()

export const parseAuditRoot = (v: unknown): AuditRoot | null => {
  const r = rootSchema.safeParse(v)
  return r.success ? r.data : null
}

export type AuditVerifyReason = 'malformed' | 'bad_index' | 'bad_prev' | 'bad_hash' | 'root_mismatch'
export type AuditVerifyResult =
  | { readonly ok: true; readonly root: AuditRoot }
  | { readonly ok: false; readonly index: number; readonly reason: AuditVerifyReason; readonly detail: string }

/** Verify `entries` from the first; with `expected`, the log must end exactly at that root. With
 *  `start`, the entries continue a log at that root (an export of a range from start.count on). */
export function verifyAuditLog (entries: unknown, expected?: AuditRoot, start: AuditRoot = EMPTY_ROOT): AuditVerifyResult {
  if (!Array.isArray(entries)) return { ok: false, index: -1, reason: 'malformed', detail: 'not an array' }
  let root = start
  for (const [i, raw] of entries.entries()) {
    const p = entrySchema.safeParse(raw)
    if (!p.success) return {
      ok: false, index: start.count + i, reason: 'malformed',
      detail: p.error.issues.map(x => `${x.path.join('.')}: ${x.message}`).join('; '),
    }
    const e = p.data as AuditEntry
    const n = start.count + i
    if (e.n !== n) return { ok: false, index: n, reason: 'bad_index', detail: `entry ${n} says n = ${e.n}` }
    if (e.prev !== root.hash) return { ok: false, index: n, reason: 'bad_prev', detail: `prev ${e.prev} != ${root.hash}` }
    let h: string
    try {
      h = entryHash(e.prev, e) // throws on a record that is not plain JSON
    } catch (err) {
      return { ok: false, index: n, reason: 'malformed', detail: (err as Error).message }
    }
    if (h !== e.hash) return { ok: false, index: n, reason: 'bad_hash', detail: `computed ${h}, entry says ${e.hash}` }
    root = { hash: h, count: n + 1 }
  }
  if (expected !== undefined && (expected.hash !== root.hash || expected.count !== root.count)) {
    return {
      ok: false, index: root.count, reason: 'root_mismatch',
      detail: `log ends at ${root.count}/${root.hash}, expected ${expected.count}/${expected.hash}`,
    }
  }
  return { ok: true, root }
}
