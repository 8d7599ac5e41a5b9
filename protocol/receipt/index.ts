export {
  RECEIPT_TAG, RECEIPT_VERSION, paymentRecordSchema, receiptDigest, receiptOf, receiptSchema, receiptSignatureValid,
  recordOfReceipt, signReceipt, type PaymentAuditRecord, type Receipt,
} from './receipt.ts'
export {
  checkReceiptProof, proofAnchorSchema, proofEntrySchema, receiptProofSchema, type ProofCheck, type ProofInput,
  type ProofFailureReason, type ReceiptProof,
} from './proof.ts'
