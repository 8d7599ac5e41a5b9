// The audit routes' handlers (hub/admin/audit-routes.ts): anchor now, the anchors, the export.
import type { AuditHandlers } from '../admin/audit-routes.ts'
import type { Anchoring } from './anchoring.ts'
import { exportAuditLog } from './export.ts'
import type { AuditLog } from './log.ts'

export function auditCommands (o: { audit: AuditLog; anchoring: Anchoring }): AuditHandlers {
  const view = (a: ReturnType<Anchoring['list']>[number]): Record<string, unknown> => {
    const { tx_hex: _, ...shown } = a
    return shown
  }
  return {
    anchorNow: async () => {
      const r = await o.anchoring.anchorNow()
      if (!r.ok) return { status: 409, body: { error: `${r.reason}: ${r.detail}` } }
      return { status: 200, body: { ...view(r.anchor), txid: r.anchor.txids[r.anchor.txids.length - 1] } }
    },
    anchors: async () => ({
      anchored_to: o.anchoring.anchoredCount(), entries: (await o.audit.root()).count, anchors: o.anchoring.list().map(view),
    }),
    exportLog: (from, to) => exportAuditLog(o.audit, o.anchoring, from, to),
  }
}
