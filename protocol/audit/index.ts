export { canonicalJson } from './canonical-json.ts'
export {
  GENESIS_HASH, EMPTY_ROOT, entryHash, nextEntry, nextEntryWithJson, type AuditBody, type AuditEntry, type AuditRoot,
} from './entry.ts'
export { merkleLeaf, merklePath, merkleRoot, verifyMerklePath } from './merkle.ts'
export {
  ANCHOR_MAGIC, ANCHOR_TAG, GENESIS_COMMITMENT, anchorCommitment, anchorScript, commitmentOfScript, type AnchorClaim,
} from './anchor.ts'
