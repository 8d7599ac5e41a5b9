export { AuditLog } from './log.ts'
export { verifyAuditLog, type AuditVerifyResult, type AuditVerifyReason } from './verify.ts'
export { GENESIS_HASH, EMPTY_ROOT, entryHash, type AuditEntry, type AuditRoot } from '../../protocol/audit/entry.ts'
export { canonicalJson } from '../../protocol/audit/canonical-json.ts'
