// Maps btcd's sendrawtransaction refusals to the closed RejectReason set. btcd has no machine-readable
// reject reason over RPC (codes -25/-26/-27 are coarse), so the message text is matched. Every
// pattern below is quoted from btcd v0.26.2 and each is produced by a real rejected transaction in
// test/integration/chain/broadcast-errors.test.ts.
import type { RejectReason } from './backend.ts'

/** ErrRPCTxAlreadyInChain (btcjson/jsonrpcerr.go). */
const RPC_TX_ALREADY_IN_CHAIN = -27

// Order matters: RBF refusals mention "insufficient fee", but they are conflicts.
const PATTERNS: Array<[RegExp, RejectReason]> = [
  // mempool.go checkPoolDoubleSpend: "output already spent in mempool: output=%v, tx=%v"
  [/output already spent in mempool/, 'conflict'],
  // mempool.go validateReplacement: "%v: replacement transaction has an insufficient fee rate / absolute
  // fee", "... evicts more transactions than permitted", "... spends parent transaction",
  // "replacement transaction spends new unconfirmed input"
  [/replacement transaction/, 'conflict'],
  // mempool.go maybeAcceptTransaction: "already have transaction in mempool %v"
  [/already have transaction/, 'already_in_mempool'],
  // mempool.go: "transaction already exists in blockchain" (btcd also answers code -27 for it)
  [/transaction already exists/, 'already_in_chain'],
  // mempool.go ProcessTransaction, orphans not allowed over RPC: "orphan transaction %v references
  // outputs of unknown or fully-spent transaction %v"; blockchain/validate.go: "output %v referenced
  // from transaction %s:%d either does not exist or has already been spent"
  [/orphan transaction .* references outputs of unknown or fully-spent/, 'missing_inputs'],
  [/either does not exist or has already been spent/, 'missing_inputs'],
  // mempool.go: "transaction's sequence locks on inputs not met"
  [/sequence locks on inputs not met/, 'sequence_locks_not_met'],
  // mempool/policy.go CheckTransactionStandard: "transaction is not finalized" (wrapped in
  // "transaction %v is not standard: ..."); needs --rejectnonstd, which node.ts always sets
  [/transaction is not finalized/, 'non_final'],
  // mempool.go validateRelayFeeMet: "transaction %v has %d fees which is under the required amount of
  // %d", "has insufficient priority", "has been rejected by the rate limiter due to low fees"
  [/fees which is under the required amount/, 'insufficient_fee'],
  [/has insufficient priority/, 'insufficient_fee'],
  [/rate limiter due to low fees/, 'insufficient_fee']
]

export function mapRejectReason (code: number, message: string): RejectReason {
  for (const [re, reason] of PATTERNS) if (re.test(message)) return reason
  if (code === RPC_TX_ALREADY_IN_CHAIN) return 'already_in_chain'
  return 'other'
}
