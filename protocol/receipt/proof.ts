// A receipt's inclusion proof, pure: the audit entry that records the payment, its Merkle path, and
// the anchor whose root it leads to. What it checks: the entry says what the receipt says, the entry
// hashes to what it claims, the path leads from it to the anchor's root, and the anchor's commitment
// follows. What the chain says about that commitment (the transaction, its depth) the caller checks
// with a chain backend (client-sdk/receipts.ts). Every failure names the entry.
import { z } from 'zod'
import { canonicalJson } from '../audit/canonical-json.ts'
import { anchorCommitment } from '../audit/anchor.ts'
import { entryHash, type AuditEntry } from '../audit/entry.ts'
import { verifyMerklePath } from '../audit/merkle.ts'
import { MAX_MERKLE_PATH } from '../limits.ts'
import { recordOfReceipt, type Receipt } from './receipt.ts'

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, { error: 'must be 32 bytes of lowercase hex' })
const count = z.number().int({ error: 'must be an integer' }).min(0).max(Number.MAX_SAFE_INTEGER)

export const proofEntrySchema = z.strictObject({
  n: count, prev: hex32, hash: hex32, time_ms: count, height: count,
  // A plain object (the wire decoder gives objects without a prototype); fromEntries defines each key,
  // so a key named __proto__ stays a key.
  record: z.record(z.string(), z.unknown()).transform(r => Object.fromEntries(Object.entries(r))),
})
export const proofAnchorSchema = z.strictObject({
  prev_commitment: hex32, root: hex32, from: count, to: count, commitment: hex32, txid: hex32,
})
export const receiptProofSchema = z.strictObject({
  entry: proofEntrySchema,
  path: z.array(hex32).max(MAX_MERKLE_PATH),
  anchor: proofAnchorSchema,
})
export type ReceiptProof = z.infer<typeof receiptProofSchema>
/** A proof as checked: its entry any audit entry (the schema's is the narrower wire form). */
export type ProofInput = Omit<ReceiptProof, 'entry'> & { readonly entry: AuditEntry }

export type ProofFailureReason =
  /** The proof is about another entry than the receipt names. */
  | 'other_entry'
  /** The entry does not record this payment (rewritten, or another entry in its place). */
  | 'entry_rewritten'
  /** The entry's hash is not the hash of its contents. */
  | 'bad_entry_hash'
  /** The entry is not in the anchor's range, or its path does not lead to the anchor's root. */
  | 'not_in_anchor'
  /** The anchor's commitment is not the one its fields give. */
  | 'bad_commitment'

export type ProofCheck =
  | { readonly ok: true; readonly commitment: string; readonly txid: string }
  | { readonly ok: false; readonly entry: number; readonly reason: ProofFailureReason; readonly detail: string }

export function checkReceiptProof (receipt: Receipt, proof: ProofInput): ProofCheck {
  const n = receipt.entry
  const fail = (reason: ProofFailureReason, detail: string): ProofCheck => ({
    ok: false, entry: n, reason, detail: `entry ${n}: ${detail}`,
  })
  const e = proof.entry
  if (e.n !== n) return fail('other_entry', `the proof is about entry ${e.n}`)
  if (canonicalJson(e.record) !== canonicalJson(recordOfReceipt(receipt)) || e.time_ms !== receipt.time_ms) {
    return fail('entry_rewritten', 'the log\'s entry does not record this payment as the receipt says')
  }
  let h: string
  try {
    h = entryHash(e.prev, { time_ms: e.time_ms, height: e.height, record: e.record })
  } catch (err) {
    return fail('bad_entry_hash', (err as Error).message)
  }
  if (h !== e.hash) return fail('bad_entry_hash', `its contents hash to ${h}, it says ${e.hash}`)
  const a = proof.anchor
  if (n < a.from || n >= a.to) return fail('not_in_anchor', `outside the anchor's range ${a.from}..${a.to - 1}`)
  if (!verifyMerklePath(h, n - a.from, a.to - a.from, proof.path, a.root)) {
    return fail('not_in_anchor', `its path does not lead to the root ${a.root} anchored in ${a.txid}`)
  }
  const c = anchorCommitment(a)
  if (c !== a.commitment) return fail('bad_commitment', `the anchor's fields commit to ${c}, it says ${a.commitment}`)
  return { ok: true, commitment: c, txid: a.txid }
}
