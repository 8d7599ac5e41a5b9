export {
  StoreError, StoreConflict, jsonValue, parseJsonValue, put, putJsonText, del, create, type Store, type StoreOp, type StoreErrorReason,
  type IterateOptions,
} from './store.ts'
export { MemoryStore } from './memory-store.ts'
export { GroupCommitter, MAX_BATCH_OPS, type GroupCommitStats } from './group-commit.ts'
export { keys, counter } from './keys.ts'
