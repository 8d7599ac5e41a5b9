export { AuditLog } from './log.ts'
export { verifyAuditLog, type AuditVerifyResult, type AuditVerifyReason } from './verify.ts'
export { GENESIS_HASH, EMPTY_ROOT, entryHash, type AuditEntry, type AuditRoot } from './chain.ts'
export { canonicalJson } from './canonical-json.ts'
