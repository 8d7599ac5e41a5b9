// Figures the host layer reports as it works, for the operator's metrics (the hub's /metrics sets the
// observer; nothing here knows Prometheus): how long each durable batch took to reach the disk (the
// store's group commit, one fsync each) and how each btcd RPC call went. Without an observer they
// cost a function call.

/** ok, refused (btcd's JSON-RPC error, for the caller to interpret) or the ChainFailure's kind. */
export type RpcOutcome = 'ok' | 'refused' | 'unavailable' | 'bad_reply' | 'rpc_error'

export interface HostObserver {
  /** A synced batch of `ops` operations committed in `ms`. */
  storeCommit (ms: number, ops: number): void
  /** A btcd RPC call (all its attempts) ended after `ms`. */
  rpcCall (method: string, ms: number, outcome: RpcOutcome): void
}

const none: HostObserver = { storeCommit () {}, rpcCall () {} }
let current: HostObserver = none

/** The observer of this process. */
export const observer = (): HostObserver => current

/** Sets the process's observer (one at a time); returns a function that removes it. */
export function setHostObserver (o: HostObserver): () => void {
  current = o
  return () => { if (current === o) current = none }
}
