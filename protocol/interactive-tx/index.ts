// Public surface of protocol/interactive-tx: BOLT #2 "Interactive Transaction Construction", pure.
// A negotiation is started with both sides' agreed parameters and our contribution, fed the peer's
// tx_* messages one by one (each answered with one of ours), and once both sent consecutive
// tx_complete yields the transaction, each side's fee, who signs first and the witness checks.
//
//   let r = startNegotiation(params, own)            // initiator: r.reply is its first message
//   r = receiveTxMessage(r.negotiation, msg)         // r.reply: our answer; r.negotiation.done: final
//   const built = buildTx(r.negotiation)             // sorted by serial id; built.txid, built.feeSat
//   weSignFirst(negotiation, nodeIds); checkWitnesses(negotiation, built, 'remote', msg.txid, msg.witnesses)
export type {
  Role, Side, SharedInput, SharedOutput, NegotiationParams, OwnInput, OwnOutput, OwnContribution, InputEntry,
  OutputEntry, Queued, Negotiation, BatchTerms,
} from './types.ts'
export { checkBatchComplete } from './batch.ts'
export {
  startNegotiation, receiveTxMessage, replyMessage, type Reply, type NegotiationStep, type TxConstructionMessage,
} from './negotiate.ts'
export { checkComplete, buildTx, type BuiltTx } from './complete.ts'
export { weSignFirst, signedInputs, checkWitnesses, withWitnesses } from './signatures.ts'
export { serialIds, hasParity } from './serial-ids.ts'
export { isSegwitProgram, isStandardOutputScript, scriptKind, spentOutput, type ScriptKind } from './scripts.ts'
export {
  COMMON_FIELDS_WEIGHT, INPUT_BASE_WEIGHT, FUNDING_INPUT_WITNESS_WEIGHT, P2WPKH_WITNESS_WEIGHT, P2TR_WITNESS_WEIGHT,
  inputWeight, outputWeight, weightOf, totalWeight, requiredFeeSat, paidFeeSat, batchPaidFeeSat,
} from './weight.ts'
