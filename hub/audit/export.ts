// The audit log as JSON lines (GET /audit/export?from&to): one line per entry n, from ≤ n < to, as
// stored ({n, prev, hash, time_ms, height, record}), then one line per anchor ({"anchor": {...}}:
// range, root, commitment, the commitment it builds on, status, carrier transactions). That is all
// hub/audit/verify-export.ts needs, with a chain backend, to check the log against the chain.
import { MAX_AUDIT_EXPORT_ENTRIES } from '../../protocol/limits.ts'
import type { AnchorRecord, Anchoring } from './anchoring.ts'
import type { AuditLog } from './log.ts'

/** An anchor as exported: the record without our own transaction's bytes (the chain has them). */
export type ExportedAnchor = Omit<AnchorRecord, 'tx_hex'>

export async function exportAuditLog (audit: AuditLog, anchoring: Anchoring | undefined, from: number, to?: number): Promise<string> {
  const durable = (await audit.root()).count
  const end = Math.min(to ?? durable, durable, from + MAX_AUDIT_EXPORT_ENTRIES)
  const lines = from < end ? await audit.range(from, end) : []
  for (const a of anchoring?.list() ?? []) {
    const { tx_hex: _, ...exported } = a
    lines.push(JSON.stringify({ anchor: exported satisfies ExportedAnchor }))
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n'
}
