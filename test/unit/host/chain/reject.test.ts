// btcd v0.26.2 reject messages (as sendrawtransaction returns them) → RejectReason. The same strings
// are produced by real transactions in test/integration/chain/broadcast-errors.test.ts; this table
// also covers the variants that are hard to provoke (priority, orphan-in-block wording, RBF limits).
import t from 'tap'
import { mapRejectReason } from '../../../../host/chain/reject.ts'

const TX = 'e61ae5348bca850b92a838ecba292a0827486003a87a7494cb5fffed7e4a5485'
const cases: Array<[number, string, string]> = [
  [-25, `TX rejected: orphan transaction ${TX} references outputs of unknown or fully-spent transaction ${TX}`, 'missing_inputs'],
  [
    -26, `TX rejected: output ${TX}:0 referenced from transaction ${TX}:0 either does not exist or has already been spent`,
    'missing_inputs',
  ],
  [-26, `TX rejected: already have transaction in mempool ${TX}`, 'already_in_mempool'],
  [-27, 'TX rejected: transaction already exists in blockchain', 'already_in_chain'],
  [-27, 'TX rejected: something new about a tx in the chain', 'already_in_chain'],
  [-26, `TX rejected: output already spent in mempool: output=${TX}:0, tx=${TX}`, 'conflict'],
  [-26, `TX rejected: ${TX}: replacement transaction has an insufficient fee rate: needs more than 181818, has 90909`, 'conflict'],
  [-26, `TX rejected: ${TX}: replacement transaction has an insufficient absolute fee: needs 30000, has 20000`, 'conflict'],
  [-26, `TX rejected: ${TX}: replacement transaction evicts more transactions than permitted: max is 100, evicts 101`, 'conflict'],
  [-26, 'TX rejected: transaction\'s sequence locks on inputs not met', 'sequence_locks_not_met'],
  [-26, `TX rejected: transaction ${TX} is not standard: transaction is not finalized`, 'non_final'],
  [-26, `TX rejected: transaction ${TX} has 0 fees which is under the required amount of 141`, 'insufficient_fee'],
  [-26, `TX rejected: transaction ${TX} has insufficient priority (5 <= 5.76e+07)`, 'insufficient_fee'],
  [-26, `TX rejected: transaction ${TX} has been rejected by the rate limiter due to low fees`, 'insufficient_fee'],
  [-26, `TX rejected: transaction ${TX} is not standard: transaction version 3 is not in the valid range of 1-2`, 'other'],
  [-22, 'TX decode failed: unexpected EOF', 'other']
]

for (const [code, msg, reason] of cases) {
  t.equal(mapRejectReason(code, msg), reason, `${reason}: ${msg.slice(13, 80)}`)
}
